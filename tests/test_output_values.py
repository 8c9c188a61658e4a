"""No value printed as None, 0.0 of an unknown, or a word that misnames what it shows.

Each test reproduces a line a user saw (issue: the first five minutes)."""

from __future__ import annotations

import argparse
import json

from trtdiag.core.finding import Finding, Report, Severity
from trtdiag.render.terminal import terminal

from tests.conftest import run_cli
from tests.test_engine_config_numbers import _engine


def test_an_unknown_evidence_value_is_left_out_not_printed_as_none():
    """What a user saw: `commit: None` under TensorRT-LLM's finding."""
    f = Finding("TRT004", Severity.WARNING, "TensorRT-LLM 0.9.0", "a message", evidence={"path": "/x", "commit": None,
                                                                                      "more": {"a": 1, "b": None}})
    out = terminal(Report(command="check", findings=[f]), verbose=True, width=160)
    assert "None" not in out and "path: /x" in out and "a: 1" in out


def test_exec_names_a_command_it_does_not_know_as_written():
    """What a user saw: `checking the launch of exit` for `sh -c 'exit 7'`."""
    from trtdiag.app.commands.exec import describe

    args = argparse.Namespace(engine_dir="/engines/x", model_repo=None)
    line = describe({"kind": "other", "program": "exit"}, args, ["sh", "-c", "exit 7"])
    assert line == "checking the launch of `sh -c 'exit 7'` (engine /engines/x)"
    long = describe({"kind": "other"}, args, ["/usr/local/bin/run-it", *["--flag"] * 30])
    assert long.startswith("checking the launch of `run-it --flag") and long.endswith("…` (engine /engines/x)")


def test_plan_names_the_card_it_was_given(tmp_path):
    """What a user saw: "What fits on this GPU" for `--gpu A10G` (no GPU was looked at)."""
    eng = _engine(tmp_path, 8)
    titles = {}
    for opt in (["--gpu", "A10G"], ["--gpu", "H100"], ["--gpu-memory", "24GiB"]):
        p = run_cli("plan", "--engine-dir", str(eng), *opt, "--json")
        rep = json.loads(p.stdout)
        titles[opt[1]] = next(f["title"] for f in rep["findings"] if f["id"] == "PLAN002")
    assert titles == {"A10G": "What fits on an A10G (22.5 GiB)", "H100": "What fits on an H100-80GB (79.6 GiB)",
                      "24GiB": "What fits in 24 GiB of GPU memory"}


def test_an_unfilled_placeholder_is_not_shown_as_a_value():
    """What a user saw: `tokenizer_dir: ${tokenizer_dir}` as the evidence of a passing check."""
    f = Finding("TOK003", Severity.OK, "preprocessing: model.py loads the tokenizer", evidence={"tokenizer_dir": "${tokenizer_dir}"})
    out = terminal(Report(command="check", findings=[f]), verbose=True, width=160)
    assert "tokenizer_dir: not set (the template's ${tokenizer_dir} is unfilled)" in out


def test_checks_documentation_wraps_to_the_terminal_and_keeps_its_paragraphs():
    """`trtdiag checks ID` at 80 columns: wrapped, "Why:" and "Fix:" still start their own lines."""
    p = run_cli("checks", "TRT001", env={"COLUMNS": "80"})
    lines = p.stdout.splitlines()
    assert all(len(ln) <= 80 for ln in lines), [ln for ln in lines if len(ln) > 80]
    assert any(ln.startswith("Why: ") for ln in lines) and any(ln.startswith("Fix: ") for ln in lines)


def test_a_number_stays_with_its_unit_when_wrapped():
    """What a user saw at 80 columns: `at 524,288` / `B per token`, `(CUDA` / `13)`."""
    from trtdiag.render.terminal import wrap

    lines = wrap("the KV cache gets 10,176 tokens at 524,288 B per token; install it for CUDA 13 here", 40, "", "")
    assert not any(ln.endswith(("524,288", "CUDA")) for ln in lines), lines
    assert any("524,288 B" in ln for ln in lines) and any("CUDA 13" in ln for ln in lines)


def test_explain_at_80_columns_reflows_the_cause_and_keeps_the_command_whole():
    """What a user saw at 80 columns: the knowledge base's hard line breaks left ragged lines
    (`gpt_model_path parameter` / `(${engine_dir}).  The path …`), and the confirm command broke
    (`--model-repo` / `MODEL_REPO`)."""
    from tests.conftest import DATA

    p = run_cli("explain", str(DATA / "logs" / "backend-207_engine-dir.log"), env={"COLUMNS": "80", "NO_COLOR": "1"})
    lines = p.stdout.splitlines()
    assert "        trtdiag check --only TRI003 --model-repo MODEL_REPO" in lines
    assert "        gpt_model_path parameter" not in lines
    step = next(i for i, ln in enumerate(lines) if ln.startswith("          1. "))
    assert lines[step + 1].startswith("             ") and not lines[step + 1].startswith("              ")


def test_mpi005_says_nothing_when_no_world_size_is_known():
    """What a user saw: `✓ World size None [MPI005]` for a lone plan file (no config.json, no launch)."""
    from tests.conftest import PLANS, run_json

    code, rep = run_json("check", "--engine-dir", str(PLANS / "trt8.6.1.6_hackathon2023_model.plan"), "--only", "MPI005")
    assert not [f for f in rep["findings"] if f["id"] == "MPI005"]
    assert "MPI005" in rep["not_applicable"]


def test_tri001_count_agrees_with_the_names_it_introduces(tmp_path):
    """What a user saw: `holds 4 template placeholder(s); ${a}, ${b}, ${c} stop model …` (three
    names: the fourth placeholder is optional)."""
    from tests.conftest import run_json
    from tests.triton_helpers import copy_templates

    repo = copy_templates(tmp_path / "repo")
    code, rep = run_json("check", "--model-repo", str(repo), "--only", "TRI001")
    msgs = {f["subject"] if "subject" in f else f["title"]: f["message"] for f in rep["findings"] if f["id"] == "TRI001"}
    pre = next(m for m in msgs.values() if m.startswith("preprocessing/config.pbtxt"))
    assert pre.startswith("preprocessing/config.pbtxt still holds 4 template placeholder(s), of which "
                          "${preprocessing_instance_count}, ${tokenizer_dir}, ${triton_max_batch_size} stop model 'preprocessing'")
    post = next(m for m in msgs.values() if m.startswith("postprocessing/config.pbtxt"))
    assert post.startswith("postprocessing/config.pbtxt still holds 3 template placeholder(s); ${postprocessing_instance_count}, "
                           "${tokenizer_dir}, ${triton_max_batch_size} stop model")


def test_a_path_parameter_with_a_nul_byte_is_read_not_a_crash(tmp_path):
    """Found by the fuzzer once its seeds (the v0.9.0 templates) were in the repository:
    `string_value: "\\x00{engine_dir}"` in gpt_model_path raised ValueError (embedded null byte)."""
    from trtdiag.probes import triton

    d = tmp_path / "tensorrt_llm"
    d.mkdir()
    (d / "config.pbtxt").write_bytes(b'name: "tensorrt_llm"\nbackend: "tensorrtllm"\nparameters: {\n  key: "gpt_model_path"\n'
                                     b'  value: {\n    string_value: "\x00{engine_dir}"\n  }\n}\n')
    m = triton.read_model(str(d))
    assert "\x00" in m["parameters"]["gpt_model_path"]
    assert m["paths"]["gpt_model_path"]["exists"] is False and "NUL" in m["paths"]["gpt_model_path"]["error"]
