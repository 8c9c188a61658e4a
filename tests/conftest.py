"""Shared test helpers.

Everything here is real: real files from tests/data (each folder names its sources), real processes, real sockets.  Where a
test double is unavoidable (the GPU behind NVML, trtllm-build), the test says so by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Every check the suite runs (in process and in child processes, which inherit it) also runs the
# rules of the areas whose gate said "nothing to look at" and fails if one of them finds anything
# (trtdiag/engine/run.py): the gates are verified on every scenario the tests build.
os.environ.setdefault("TRTDIAG_CHECK_GATES", "1")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# Real files the tests read, all kept in the repository (each folder's README names the source).
GPU_DATA = DATA / "gpu"  # recorded NVML / nvidia-smi readings of a real H100
PLANS = DATA / "engines" / "plans"  # real TensorRT plan files from public repositories
TEMPLATES_V090 = DATA / "triton" / "templates_v0.9.0"  # the real tensorrtllm_backend v0.9.0 config.pbtxt templates
TRT_RUNTIME = DATA / "trt_runtime"  # what the real TensorRT runtime said
H100_NVML = GPU_DATA / "h100-80gb_nvml_torch-holding-10GiB.json"


def cli_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("FORCE_COLOR", None)
    env.update(extra or {})
    return env


def run_cli(*args: str, env: dict | None = None, input: str | None = None, cwd: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m trtdiag ARGS` as a real child process (the way users run it)."""
    return subprocess.run(
        [sys.executable, "-m", "trtdiag", *args],
        capture_output=True, text=True, env=cli_env(env), input=input, cwd=cwd, timeout=timeout,
    )


def run_json(*args: str, **kw) -> tuple[int, dict]:
    p = run_cli(*args, "--json", **kw)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, json.loads(p.stdout)


@pytest.fixture
def cli(capsys):
    """Call trtdiag's main() in-process; returns (exit code, stdout, stderr)."""
    from trtdiag.app.main import main

    def call(*args: str):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return call


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """No test writes trtdiag's journal or its library-answer cache into the real home directory,
    and no test sees another's cached answers."""
    monkeypatch.setenv("TRTDIAG_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("TRTDIAG_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def h100_inventory() -> dict:
    """A recorded NVML inventory of a real H100 (tests/data/gpu), as a stand-in for the
    live GPU, which CI does not have."""
    rec = json.loads(H100_NVML.read_text())
    return rec


_SHIPPED: tuple | None = None  # (the entries, their Matcher): built once, forked for each use


def shipped_matcher():
    """A Matcher of the knowledge base and catalogue as shipped, with no hits.  Building one
    compiles every signature (0.2 s); the parametrized tests that scan one line each take a fork
    of one built per session (``Matcher._fork``: the same signatures, fresh hits)."""
    global _SHIPPED
    from trtdiag.core import kb
    from trtdiag.logscan.matcher import Matcher

    entries = kb.all_entries()
    if _SHIPPED is None or _SHIPPED[0] is not entries:
        _SHIPPED = (entries, Matcher(entries))
    return _SHIPPED[1]._fork()


def explain_text(text: str):
    """The ranked hits of explain's matcher on ``text``, with the knowledge base and catalogue as shipped."""
    import io

    from trtdiag.logscan.matcher import rank

    m = shipped_matcher()
    m.scan(io.BytesIO(text.encode()), "log")
    return rank(m.hits.values())


def assert_names_first(line: str, expect: str, fields: dict | None = None):
    """explain on the one ``line`` names ``expect`` first, with these named values; the ranked hits."""
    ranked = explain_text(line + "\n")
    assert ranked and ranked[0].entry_id == expect, [h.entry_id for h in ranked]
    for k, v in (fields or {}).items():
        assert ranked[0].fields.get(k) == v, ranked[0].fields
    return ranked


def explain_ids(text: str) -> list[str]:
    """The entry ids :func:`explain_text` ranks, first the cause explain names."""
    return [h.entry_id for h in explain_text(text)]

