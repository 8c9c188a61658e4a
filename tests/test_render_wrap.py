"""Terminal output is wrapped to the terminal's width with a hanging indent, never breaking a
word, an id, a path or a `command`; files and pipes get whole lines; under mpirun no colour
unless asked."""

from __future__ import annotations

import re

from trtdiag.core.finding import Finding, Fix, Report, Severity
from trtdiag.render.terminal import terminal, wrap

LONG = ("Raise the locked-memory limit: docker run --ulimit memlock=-1 --ulimit stack=67108864 … or in Kubernetes "
        "set it in the pod spec; then run `trtdiag fix --apply --model-repo /models/triton_model_repo_with_a_long_name` "
        "again from /opt/tritonserver/backends/tensorrtllm/very/long/path/to/somewhere")


def _report() -> Report:
    f = Finding("CTR002", Severity.WARNING, "memlock is limited to 8 MiB, far below what NCCL and the TensorRT-LLM runtime pin", LONG,
                evidence={"soft limit": "8 MiB", "path": "/opt/tritonserver/backends/tensorrtllm/libtriton_tensorrtllm_common.so"},
                area="container")
    f.fix = Fix("ctr-memlock", "add --ulimit memlock=-1 to the docker run command line of the serving container")
    return Report("check", [f])


def _words(text: str) -> set[str]:
    return set(re.findall(r"\S+", text))


def test_every_line_fits_and_no_token_is_broken():
    for width in (80, 160):
        out = terminal(_report(), width=width)
        for ln in out.splitlines():
            toks = re.sub(r"`[^`]*`", "CMD", ln).split()  # a `command` is one unbreakable token
            assert len(ln) <= width or len(toks) <= 1, (width, ln)  # only a single unbreakable token may overrun
        for tok in ("memlock=-1", "[CTR002]", "/opt/tritonserver/backends/tensorrtllm/libtriton_tensorrtllm_common.so"):
            assert tok in _words(out), (width, tok)
        assert "`trtdiag fix --apply --model-repo /models/triton_model_repo_with_a_long_name`" in out


def test_no_width_means_whole_lines():
    out = terminal(_report())
    assert LONG in out


def test_hanging_indent():
    lines = wrap("a " * 60, 40, "    ", "      ")
    assert lines[0].startswith("    a") and all(ln.startswith("      a") for ln in lines[1:])


def test_no_colour_under_mpirun_even_on_a_terminal(monkeypatch):
    import argparse

    from trtdiag.app.main import use_color

    class Tty:
        def isatty(self):
            return True

    args = argparse.Namespace(no_color=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert use_color(args, Tty())
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "0")
    assert not use_color(args, Tty())
