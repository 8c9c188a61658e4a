"""ENG checks and --engine-dir input handling, on real plans (tests/data/engines/plans) and on
small engine directories written like the real layouts (tests/data/engines/README.md cites each)."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core.facts import Facts
from trtdiag.core import catalogue as registry

from tests.conftest import DATA, run_cli, run_json
from tests.test_plan_header import ENGINES
from tests.test_trt_probe import install_fake_trtllm, lean_lib_dir, make_venv  # noqa: F401  (session fixture)

CONFIGS = DATA / "engines"


def make_plan(path: Path, version: tuple[int, int, int, int] = (8, 6, 1, 6), size: int = 4096, size_field: int | None = None, tag: int = 0) -> Path:
    """An 'ftrt' plan header laid out as the real TensorRT 8.6.1.6 plan's (version at 24..27, size
    at 16, platform tag at 28), padded to ``size`` bytes."""
    head = b"ftrt" + b"\0" * 4 + struct.pack("<Q", 1) + struct.pack("<Q", size if size_field is None else size_field)
    head += bytes(version) + struct.pack("<I", tag) + b"NGNE"
    path.write_bytes(head + b"\0" * (size - len(head)))
    return path


def engine_dir(tmp_path: Path, layout: str, ranks=None, version=(8, 6, 1, 6), name: str = "engine") -> Path:
    """Copy a config from tests/data/engines and write its rank files."""
    d = tmp_path / name
    d.mkdir()
    shutil.copy(CONFIGS / layout / "config.json", d / "config.json")
    cfg = json.loads((d / "config.json").read_text())
    if "builder_config" in cfg:
        ws = cfg["builder_config"]["tensor_parallel"] * cfg["builder_config"]["pipeline_parallel"]
        names = [f"{cfg['builder_config']['name']}_{cfg['builder_config']['precision']}_tp{ws}_rank{r}.engine" for r in range(ws)]
    else:
        ws = cfg["pretrained_config"]["mapping"]["world_size"]
        names = [f"rank{r}.engine" for r in range(ws)]
    for r, n in enumerate(names):
        if ranks is None or r in ranks:
            make_plan(d / n, version)
    return d


def findings(rep: dict) -> dict[str, dict]:
    return {f["id"]: f for f in rep["findings"]}


# ------------------------------------------------------------------ versions recorded in real layouts
def test_trtllm_build_layout_reports_recorded_versions(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG")
    f = findings(rep)
    assert f["ENG001"]["evidence"]["built_with"] == "8.6.1.6"
    assert f["ENG002"]["evidence"]["engine_trtllm_version"] == "0.9.0"
    assert f["ENG006"]["severity"] == "ok" and f["ENG006"]["evidence"]["world_size"] == 2


def test_legacy_layout_reports_tensorrt_from_builder_config(tmp_path):
    d = engine_dir(tmp_path, "legacy-0.7.1_chatglm3-6b_tp1", version=(9, 2, 0, 5))
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG")
    f = findings(rep)
    # the plan's bytes 24..27 (the release in every ftrt plan) and config.json agree
    assert f["ENG001"]["evidence"]["built_with"] == "9.2.0.5"
    assert f["ENG001"]["evidence"]["recorded_in"].startswith("plan header")
    assert f["ENG002"]["evidence"]["engine_trtllm_version"] == "not recorded"
    assert f["ENG006"]["evidence"]["found"] == ["chatglm3_6b_float16_tp1_rank0.engine"]


MANIFEST = {  # tests/data/engines/plans/MANIFEST.json
    "trt8.6.1.6_hackathon2023_model.plan": ("8.6.1.6", None),
    "ptrt_jetson2021_ppo_model.trt": ("7.1.3.0", None),  # the release its archive records
    "lfs-pointer_model.plan": ("unknown", "Git LFS pointer"),
}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_every_shared_plan_reports_its_manifest_version_or_unknown_with_reason(name):
    assert sorted(p.name for p in ENGINES.iterdir() if not p.name.endswith((".json", ".md"))) == sorted(MANIFEST)
    code, rep = run_json("check", "--engine-dir", str(ENGINES / name), "--only", "ENG001")
    ev = findings(rep)["ENG001"]["evidence"]
    version, reason = MANIFEST[name]
    assert ev["built_with"] == version
    if reason:
        assert reason in ev["plans"][name] and ev["plans"][name].startswith("unknown:")


def test_shared_lfs_pointer_plan_is_an_error_with_git_lfs_fix():
    code, rep = run_json("check", "--engine-dir", str(ENGINES / "lfs-pointer_model.plan"), "--only", "ENG")
    f = findings(rep)
    assert code == 1 and f["ENG004"]["severity"] == "error" and "git lfs pull" in f["ENG004"]["message"]
    assert f["ENG004"]["kb"] == "engine-lfs-pointer"
    # one finding for the pointer: no "complete" engine file (ENG005), no "version unknown" (ENG001)
    assert "ENG005" not in f and "ENG001" not in f, sorted(f)


# ------------------------------------------------------------------ ENG001: TensorRT of the plan vs the runtime
def test_plan_from_8_6_under_the_11_4_runtime_is_one_error_naming_both(lean_lib_dir):
    code, rep = run_json("check", "--engine-dir", str(ENGINES / "trt8.6.1.6_hackathon2023_model.plan"),
                         env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    # CI has no GPU: GPU001 rightly says so; apart from that, the engine mismatch is the one error
    errors = [f for f in rep["findings"] if f["severity"] == "error" and f["area"] not in ("gpu", "memory")]
    assert code == 1 and [f["id"] for f in errors] == ["ENG001"]
    e = errors[0]
    assert "8.6.1.6" in e["title"] and "11.4.0.106" in e["title"]
    assert "old deserialization call on a newer plan file" in e["message"]  # what 11.4 says (trt_runtime fixture)
    assert e["kb"] == "trt-engine-version-mismatch"


def test_legacy_engine_built_by_9_2_under_11_4_names_versions_and_rebuild(tmp_path, lean_lib_dir):
    d = engine_dir(tmp_path, "legacy-0.7.1_chatglm3-6b_tp1", version=(9, 2, 0, 5))
    code, rep = run_json("check", "--engine-dir", str(d), env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    e = findings(rep)["ENG001"]
    assert code == 1 and e["severity"] == "error" and "9.2.0.5" in e["title"] and "11.4.0.106" in e["title"]
    assert "build.py" in e["message"]  # the legacy rebuild command, shown


def test_matching_versions_exit_0(tmp_path):
    """Facts set directly: a plan header and a runtime of the same version (no 8.6 runtime exists on CI)."""
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    facts = Facts({"engine_dir": str(d)})
    facts.set("trt.installed", {"version": "8.6.1.6", "source": "test", "path": "/x/libnvinfer.so.8", "kind": "nvinfer"})
    facts.set("trtllm.installed", {"version": "0.9.0", "commit": None, "path": "/x/tensorrt_llm"})
    out, _ = engine_run.run(registry.select(["ENG"]), facts)
    assert {f.severity.value for f in out} <= {"ok", "info"}
    assert [f for f in out if f.check == "ENG001"][0].severity.value == "ok"


# ------------------------------------------------------------------ ENG002: TensorRT-LLM recorded vs installed
@pytest.fixture(scope="module")
def venv_trtllm(tmp_path_factory):
    return make_venv(tmp_path_factory.mktemp("venv") / "v")


def test_other_trtllm_release_is_an_error_with_rebuild(tmp_path, venv_trtllm):
    install_fake_trtllm(venv_trtllm, "0.10.0")
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    code, rep = run_json("check", "--engine-dir", str(d), "--python", str(venv_trtllm), "--only", "ENG002")
    e = findings(rep)["ENG002"]
    assert code == 1 and e["severity"] == "error" and "0.9.0" in e["title"] and "0.10.0" in e["title"]
    assert "trtllm-build" in e["message"] or "--checkpoint-dir" in e["message"]


def test_same_release_other_dev_build_is_a_warning_naming_gemm_plugin_assertion(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    cfg = json.loads((d / "config.json").read_text())
    cfg["version"] = "0.10.0.dev2024041600"
    (d / "config.json").write_text(json.dumps(cfg))
    facts = Facts({"engine_dir": str(d)})
    facts.set("trt.installed", {"version": None})
    facts.set("trtllm.installed", {"version": "0.10.0.dev2024043000", "commit": None, "path": None})
    out, _ = engine_run.run(registry.select(["ENG002"]), facts)
    assert out[0].severity.value == "warning" and "gemmPlugin.cpp:156" in out[0].message


# ------------------------------------------------------------------ other engine checks, must / must not trigger
def test_missing_rank_file_is_a_finding_not_an_input_error(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2", ranks=[0])
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG006")
    e = findings(rep)["ENG006"]
    assert code == 1 and e["severity"] == "error" and e["evidence"]["missing"] == [str(d / "rank1.engine")]


def test_truncated_and_empty_rank_files_are_findings(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    make_plan(d / "rank0.engine", size=4096, size_field=8192)
    (d / "rank1.engine").write_bytes(b"")
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG005")
    e = findings(rep)["ENG005"]
    assert code == 1 and e["severity"] == "error" and len(e["evidence"]["files"]) == 2
    assert "8,192" in e["evidence"]["files"][0] and "empty" in e["evidence"]["files"][1]


def test_lfs_pointers_in_engine_dir_and_checkpoint(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    shutil.copy(ENGINES / "lfs-pointer_model.plan", d / "rank1.engine")
    ck = tmp_path / "checkpoint"
    ck.mkdir()
    (ck / "config.json").write_text("{}")
    shutil.copy(ENGINES / "lfs-pointer_model.plan", ck / "rank0.safetensors")
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG004")
    e = findings(rep)["ENG004"]
    assert e["severity"] == "error" and str(d / "rank1.engine") in e["evidence"]["pointers"]
    assert str(ck / "rank0.safetensors") in e["evidence"]["pointers"]


def test_foreign_platform_tag_is_an_error(tmp_path):
    p = make_plan(tmp_path / "model.plan", tag=7)
    code, rep = run_json("check", "--engine-dir", str(p), "--only", "ENG003")
    assert code == 1 and findings(rep)["ENG003"]["severity"] == "error"


def test_healthy_engine_dir_triggers_none_of_the_file_checks(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.11.0_llama-7b_tp1")
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG003,ENG004,ENG005,ENG006")
    assert code == 0 and all(f["severity"] == "ok" for f in rep["findings"])


def test_compute_capability_not_recorded_says_nothing_and_two_gpu_kinds_warn(tmp_path):
    """The GPUs are an NVML inventory set as a fact (a stand-in for the live GPU: none on CI).
    These crafted plans hold no device structure: nothing to act on, so ENG007 is silent (real
    plans record it: tests/test_engine_verdicts.py)."""
    d = engine_dir(tmp_path, "trtllm-build-0.11.0_llama-7b_tp1")
    facts = Facts({"engine_dir": str(d)})
    inv = {"nvml_error": None, "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "cc": [9, 0]}]}
    facts.set("gpu.inventory", inv)
    out, _ = engine_run.run(registry.select(["ENG007"]), facts)
    assert out == []
    inv["gpus"].append({"index": 1, "name": "NVIDIA A100", "cc": [8, 0]})
    facts2 = Facts({"engine_dir": str(d)})
    facts2.set("gpu.inventory", inv)
    out, _ = engine_run.run(registry.select(["ENG007"]), facts2)
    assert out[0].severity.value == "warning"


# ------------------------------------------------------------------ inputs named directly: exit 2, one line
def _bad(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nope"
    if kind == "empty":
        p = tmp_path / "e.engine"
        p.write_bytes(b"")
        return p
    if kind == "truncated":
        return make_plan(tmp_path / "t.engine", size=4096, size_field=100000)
    if kind == "short":
        p = tmp_path / "s.engine"
        p.write_bytes(b"ftrt\0\0\0\0")
        return p
    if kind == "random":
        p = tmp_path / "r.engine"
        p.write_bytes(b"\x13\x37" + os.urandom(5000))
        return p
    if kind == "dir-as-engine":
        d = engine_dir(tmp_path, "trtllm-build-0.11.0_llama-7b_tp1")
        (d / "rank0.engine").unlink()
        (d / "rank0.engine").mkdir()
        return d
    if kind == "bad-config":
        d = tmp_path / "d"
        d.mkdir()
        (d / "config.json").write_text("{not json")
        return d
    if kind == "hf-model-dir":
        d = tmp_path / "hf"
        d.mkdir()
        (d / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
        return d
    if kind == "not-engine-dir":
        d = tmp_path / "empty_dir"
        d.mkdir()
        return d
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated", "short", "random", "dir-as-engine", "bad-config", "hf-model-dir", "not-engine-dir"])
def test_unreadable_engine_input_is_one_line_and_exit_2(tmp_path, kind):
    p = run_cli("check", "--engine-dir", str(_bad(tmp_path, kind)))
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert p.stderr.startswith("trtdiag: error: ")


def test_one_rank_file_named_directly_reads_its_directory_config(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    code, rep = run_json("check", "--engine-dir", str(d / "rank0.engine"), "--only", "ENG001,ENG002")
    f = findings(rep)
    assert f["ENG002"]["evidence"]["engine_trtllm_version"] == "0.9.0"
    assert f["ENG001"]["evidence"]["built_with"] == "8.6.1.6"


def test_snapshot_taken_here_gives_the_same_engine_findings_elsewhere(tmp_path, lean_lib_dir):
    """`trtdiag collect` on the serving machine, `check --from` anywhere: ENG001 reads facts only."""
    snap = tmp_path / "snap.json"
    env = {"LD_LIBRARY_PATH": str(lean_lib_dir)}
    p = run_cli("collect", "--engine-dir", str(ENGINES / "trt8.6.1.6_hackathon2023_model.plan"), "-o", str(snap), env=env)
    assert p.returncode == 0, p.stderr
    code, rep = run_json("check", "--from", str(snap), "--only", "ENG001")
    e = findings(rep)["ENG001"]
    assert code == 1 and "8.6.1.6" in e["title"] and "11.4.0.106" in e["title"]


def test_header_release_of_a_10_x_plan_is_read_and_compared(tmp_path, lean_lib_dir):
    """Bytes 24..27 hold the release in 10.x plans too (real 10.3/10.6/10.15 plans): a 10.0.1.6 plan
    in front of the 11.4 runtime is an error naming both."""
    p = make_plan(tmp_path / "model.plan", version=(10, 0, 1, 6))
    code, rep = run_json("check", "--engine-dir", str(p), "--only", "ENG001", env={"LD_LIBRARY_PATH": str(lean_lib_dir)})
    e = findings(rep)["ENG001"]
    assert code == 1 and e["severity"] == "error" and "10.0.1.6" in e["title"] and "11.4.0.106" in e["title"]
    assert e["evidence"]["built_with"] == "10.0.1.6"


def test_rank_files_of_different_tensorrt_versions_are_named(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    make_plan(d / "rank1.engine", version=(8, 6, 1, 7))  # a stand-in second 8.6 build
    code, rep = run_json("check", "--engine-dir", str(d), "--only", "ENG001")
    assert findings(rep)["ENG001"]["evidence"]["built_with"] == "8.6.1.6 and 8.6.1.7"


def test_files_that_are_no_plan_get_one_finding_not_a_version_unknown_too(tmp_path):
    """Rank files of zeros (a failed copy): ENG005 says they are no plans; ENG001 adds no
    'version unknown' beside it, but still answers when run alone."""
    from tests.triton_helpers import make_engine

    eng = make_engine(tmp_path / "engine", tp=2)
    code, rep = run_json("check", "--engine-dir", str(eng), "--only", "ENG")
    f = findings(rep)
    assert f["ENG005"]["severity"] == "error" and "ENG001" not in f
    code, rep = run_json("check", "--engine-dir", str(eng), "--only", "ENG001")
    assert findings(rep)["ENG001"]["evidence"]["built_with"] == "unknown"
