"""Numbers read from files that no build writes (issue 20, High 3 and Low): a huge world_size in
an engine's config.json (directly, and through a model repository's gpt_model_path) never makes
check/fix/report/exec loop; exec's time budget never ends in an unchecked launch; integers over
4,300 digits, 1e400 and deep JSON are exit 2; TOK006 on token contents of the wrong type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, REPO, cli_env, run_cli
from tests.triton_helpers import copy_templates, make_engine

PY = sys.executable


def huge_engine(d: Path, world_size) -> Path:
    make_engine(d, tp=1)
    cfg = json.loads((d / "config.json").read_text())
    cfg["pretrained_config"]["mapping"]["world_size"] = world_size
    (d / "config.json").write_text(json.dumps(cfg))
    return d


def timed(*args, **kw):
    t0 = time.monotonic()
    p = run_cli(*args, timeout=60, **kw)
    return p, time.monotonic() - t0


@pytest.mark.parametrize("command", ["check", "fix", "report"])
def test_huge_world_size_is_a_finding_not_a_loop(tmp_path, command):
    eng = huge_engine(tmp_path / "eng", 10**12)
    p, took = timed(command, "--engine-dir", str(eng), "--json")
    assert took < 30 and "Traceback" not in p.stderr and p.returncode in (0, 1), p.stderr[-1500:]
    if command == "check":
        rep = json.loads(p.stdout)
        (f,) = [f for f in rep["findings"] if f["id"] == "ENG008"]
        assert f["severity"] == "error" and "world_size=1000000000000" in f["title"]


def test_huge_world_size_through_the_repositorys_gpt_model_path(tmp_path):
    eng = huge_engine(tmp_path / "eng", 10**12)
    repo = copy_templates(tmp_path / "repo")
    cfg = repo / "tensorrt_llm" / "config.pbtxt"
    cfg.write_text(cfg.read_text().replace("${engine_dir}", str(eng)))
    p, took = timed("check", "--model-repo", str(repo), "--json")
    assert took < 30 and "Traceback" not in p.stderr and p.returncode in (0, 1), p.stderr[-1500:]
    assert any(f["id"] == "ENG008" for f in json.loads(p.stdout)["findings"])


def test_the_largest_32_bit_world_size_is_counted_not_iterated(tmp_path):
    from trtdiag.probes import engine as probe

    eng = huge_engine(tmp_path / "eng", 2**31 - 1)
    t0 = time.monotonic()
    info = probe.engine_directory(str(eng), None) if hasattr(probe, "engine_directory") else None
    assert time.monotonic() - t0 < 5
    if info is not None:
        miss = [p for p in info["problems"] if p["kind"] == "missing-rank"]
        assert len(miss) == probe.MISSING_LISTED and miss[0]["missing_count"] == 2**31 - 2


def test_exec_with_a_huge_world_size_does_not_launch(tmp_path):
    """Five errors would normally stop the launch; the impossible value must not turn into a run
    past the budget and an unchecked launch."""
    eng = huge_engine(tmp_path / "eng", 10**12)
    marker = tmp_path / "launched"
    p, took = timed("exec", "--timeout", "20", "--engine-dir", str(eng), "--", PY, "-c", f"open({str(marker)!r}, 'w').close()")
    assert took < 30 and "Traceback" not in p.stderr, p.stderr[-1500:]
    assert p.returncode == 1 and not marker.exists(), p.stderr[-1500:]
    assert "ENG008" in p.stderr


SLOW_WITH_ERROR = """
import sys
from trtdiag import proc
from trtdiag.core.finding import error, ok
from trtdiag.core.catalogue import rule

@rule("CTR988", area="container", title="a check that finds an error, for the time-budget test")
def bad(facts):
    "Test only."
    yield error("an error found before the budget ran out")

@rule("CTR990", area="container", title="a check made slow for the time-budget test")
def slow(facts):
    "Test only: starts a child that sleeps, the way a hung probe would."
    proc.run(["sleep", "57"], timeout=120)
    yield ok("never reached")

from trtdiag.app.main import main
sys.exit(main(sys.argv[1:]))
"""


def _exec(tmp_path, *opts):
    launcher = tmp_path / "launcher.py"
    launcher.write_text(SLOW_WITH_ERROR)
    marker = tmp_path / "launched"
    p = subprocess.run([PY, str(launcher), "exec", *opts, "--timeout", "1.5", "--", PY, "-c", f"open({str(marker)!r}, 'w').close()"],
                       capture_output=True, text=True, env=cli_env(), timeout=60)
    return p, marker


def test_exec_budget_runs_out_into_the_fail_on_decision_not_an_unchecked_launch(tmp_path):
    p, marker = _exec(tmp_path, "--only", "CTR988,CTR990")
    assert "Traceback" not in p.stderr
    assert p.returncode == 1 and not marker.exists(), p.stderr
    assert "did not finish within 1.5s" in p.stderr and "Not checked: CTR990" in p.stderr and "an error found" in p.stderr


def test_exec_budget_with_nothing_found_launches_saying_what_was_not_checked(tmp_path):
    p, marker = _exec(tmp_path, "--only", "CTR990")
    assert p.returncode == 0 and marker.exists(), p.stderr
    assert "Not checked: CTR990" in p.stderr
    marker.unlink()
    p, marker = _exec(tmp_path, "--only", "CTR990", "--fail-on", "warning")
    assert p.returncode == 1 and not marker.exists(), p.stderr


# ----------------------------------------------------------------------------- Low
def test_integer_over_4300_digits_in_engine_config_is_exit_2(tmp_path):
    eng = make_engine(tmp_path / "eng")
    (eng / "config.json").write_text((eng / "config.json").read_text().replace('"world_size": 1', '"world_size": ' + "7" * 5000))
    p = run_cli("check", "--engine-dir", str(eng))
    assert p.returncode == 2 and "Traceback" not in p.stderr and "4300 digits" in p.stderr, p.stderr


def test_1e400_in_engine_config_is_exit_2(tmp_path):
    eng = make_engine(tmp_path / "eng")
    (eng / "config.json").write_text((eng / "config.json").read_text().replace('"world_size": 1', '"world_size": 1e400'))
    p = run_cli("check", "--engine-dir", str(eng))
    assert p.returncode == 2 and "out of range" in p.stderr, p.stderr


@pytest.mark.parametrize("opt", [["--gpu-memory", "1e400"], ["--gpu-memory", "24GiB", "--params", "1e400"]])
def test_plan_1e400_is_a_usage_error(opt):
    p = run_cli("plan", "--model-config", str(DATA / "engines" / "trtllm-build-0.9.0_llama-7b_tp2" / "config.json"), *opt)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr


def test_json_nested_400_deep_in_a_tokenizer_dir_is_not_exit_3(tmp_path):
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer_config.json").write_text("[" * 400 + "]" * 400)
    (tok / "tokenizer.json").write_text('{"version": "1.0"}')
    p = run_cli("check", "--tokenizer-dir", str(tok))
    assert p.returncode in (0, 1, 2) and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    assert "nested" in p.stdout + p.stderr


def test_tok006_with_list_content_and_nested_eos_dict(tmp_path):
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer_config.json").write_text(json.dumps({"eos_token": {"content": {"a": 1}}, "pad_token": ["x"]}))
    (tok / "tokenizer.json").write_text(json.dumps({"version": "1.0", "added_tokens": [{"id": 0, "content": ["x"], "special": True}]}))
    p = run_cli("check", "--tokenizer-dir", str(tok), "--json")
    assert "Traceback" not in p.stderr
    assert not [f for f in json.loads(p.stdout)["findings"] if f["title"].startswith("Check crashed")]


def test_report_from_a_snapshot_with_wrong_shaped_facts_is_exit_2(tmp_path):
    snap = json.loads((DATA / "memory" / "snapshot_qwen7b_fp16_24gib.json").read_text())
    snap["facts"]["gpu.inventory"] = {"gpus": True, "driver": "x"}
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snap))
    p = run_cli("report", "--from", str(path))
    assert p.returncode in (0, 1, 2) and "internal error" not in p.stderr and "Traceback" not in p.stderr, p.stderr
