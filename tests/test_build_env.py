"""Build environment checks BLD001 (memory/cores vs build jobs) and BLD002 (free disk), and the
host probes.

Real: this machine's /proc/meminfo, cores and statvfs through the CLI.  Constructed (said so in
each test): host resources and free space set as facts to reach the numbers of a 64-core/16 GiB
builder or a full disk; a directory laid out like a TensorRT-LLM checkout; engine facts (the
engine area's contract).
"""

from __future__ import annotations

import os

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import Facts
from trtdiag.core.finding import Severity

import json

from tests.conftest import run_cli, run_json

GiB = 1024**3


def run_check(cid, facts):
    registry.load_all()
    return engine_run.run_one(registry.CHECKS[cid], facts)


def by_id(rep, cid):
    return [f for f in rep["findings"] if f["id"] == cid]


def json_with_launch(opts, launch, cwd):
    """`trtdiag check OPTS --json -- LAUNCH` (the launch command after --, as users give it)."""
    p = run_cli("check", *opts, "--json", "--", *launch, cwd=str(cwd))
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, json.loads(p.stdout)


def host(mem_gib, cores, swap_gib=0, limit=None):
    return {"mem_total": mem_gib * GiB, "mem_available": mem_gib * GiB, "swap_total": swap_gib * GiB, "swap_free": swap_gib * GiB,
            "cgroup_memory_limit": limit, "cores": cores, "cpu_count": cores, "euid": 0}


def test_real_host_probe_reads_memory_and_cores():
    h = Facts()["host.resources"]
    assert h["mem_total"] > 256 * 1024**2 and h["cores"] >= 1 and h["mem_available"] <= h["mem_total"]


def test_no_source_build_in_view_means_no_build_finding(tmp_path):
    code, rep = run_json("check", "--only", "build", cwd=str(tmp_path))
    assert rep["findings"] == [] and {"BLD001", "BLD002"} <= set(rep["not_applicable"])


def test_too_many_jobs_for_memory_real_host(tmp_path):
    """Real /proc/meminfo: 4096 jobs × 2.5 GB cannot fit on any machine that runs these tests."""
    code, rep = json_with_launch(["--only", "BLD001"], ["python3", "scripts/build_wheel.py", "--trt_root", "/usr/local/tensorrt", "-j", "4096"], tmp_path)
    (f,) = by_id(rep, "BLD001")
    assert f["severity"] == "warning" and f["kb"] == "build-oom-killed"
    rec = f["evidence"]["recommended -j"]
    assert 1 <= rec <= os.cpu_count()
    argv = f["fix"]["changes"][0]["argv"]
    assert argv == ["python3", "scripts/build_wheel.py", "-j", str(rec), "--trt_root", "/usr/local/tensorrt"]


def test_jobs_that_fit_pass_with_numbers(tmp_path):
    code, rep = json_with_launch(["--only", "BLD001"], ["python3", "scripts/build_wheel.py", "-j1"], tmp_path)
    (f,) = by_id(rep, "BLD001")
    assert f["severity"] == "ok" and f["evidence"]["jobs"] == "1"


def test_default_jobs_on_a_64_core_16_gib_builder():
    """Constructed host numbers; build_wheel.py's default is one job per CPU."""
    f = Facts({"launch_argv": ["python3", "scripts/build_wheel.py"]})
    f.set("host.resources", host(16, 64))
    (out,) = run_check("BLD001", f)
    assert out.severity == Severity.WARNING and out.evidence["recommended -j"] == 6  # 16 / 2.5
    assert out.fix.preview == "$ python3 scripts/build_wheel.py -j 6"
    # swap counts, and a container's cgroup limit caps what /proc/meminfo says
    f.set("host.resources", host(16, 64, swap_gib=200))
    assert run_check("BLD001", f)[0].severity == Severity.OK
    f.set("host.resources", host(512, 64, limit=32 * GiB))
    (out,) = run_check("BLD001", f)
    assert out.severity == Severity.WARNING and out.evidence["recommended -j"] == 12


def test_a_tensorrt_llm_checkout_as_working_directory(tmp_path, monkeypatch):
    """Constructed checkout layout: scripts/build_wheel.py and cpp/tensorrt_llm."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "build_wheel.py").write_text("")
    (tmp_path / "cpp" / "tensorrt_llm").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    f = Facts()
    f.set("host.resources", host(8, 32))
    (out,) = run_check("BLD001", f)
    assert out.severity == Severity.WARNING and out.fix.changes[0].argv == ["python3", "scripts/build_wheel.py", "-j", "3"]
    f.set("host.disk", {"cwd": {"path": str(tmp_path), "free": 10 * GiB, "total": 100 * GiB}})
    (out,) = run_check("BLD002", f)
    assert out.severity == Severity.WARNING and "10.0 GiB free" in out.title


def test_disk_for_an_engine_rebuild():
    """Engine facts and free space set directly (a full disk is constructed, not made)."""
    f = Facts({"engine_dir": "/engines/llama/tp1"})
    f.set("engine.info", {"path": "/engines/llama/tp1", "normalized": {}, "ranks": [{"rank": 0, "path": "/e/rank0.engine", "size": 13 * GiB}]})
    f.set("host.disk", {"engine_dir": {"path": "/engines", "free": 5 * GiB, "total": 100 * GiB}})
    (out,) = run_check("BLD002", f)
    assert out.severity == Severity.ERROR and out.kb == "disk-space-low" and "14.3 GiB needed" in out.title
    f.set("host.disk", {"engine_dir": {"path": "/engines", "free": 50 * GiB, "total": 100 * GiB}})
    assert run_check("BLD002", f)[0].severity == Severity.OK


def test_real_statvfs_beside_an_engine_dir(tmp_path):
    from trtdiag.probes.host import free_space

    d = free_space(str(tmp_path / "not" / "yet" / "there"))
    assert d["path"] == str(tmp_path) and 0 < d["free"] <= d["total"]


def test_an_engine_of_unknown_size_gets_no_rebuild_figure():
    """What a user saw: `✓ 74.6 GiB free beside the engine (0.0 GiB) [BLD002]` with `needed for a
    rebuild: 0.0 GiB` for an engine whose rank files are Git LFS pointers (133 bytes, no plan)."""
    f = Facts({"engine_dir": "/engines/llama/tp1"})
    f.set("engine.info", {"path": "/engines/llama/tp1", "normalized": {},
                          "ranks": [{"rank": 0, "path": "/e/rank0.engine", "size": 133, "header": {"kind": "lfs-pointer"}}]})
    f.set("host.disk", {"engine_dir": {"path": "/engines", "free": 80 * GiB, "total": 100 * GiB}})
    assert run_check("BLD002", f) == []
    # a small real plan: its size in a unit that shows it, never 0.0 GiB
    f.set("engine.info", {"path": "/engines/llama/tp1", "normalized": {},
                          "ranks": [{"rank": 0, "path": "/e/model.plan", "size": 3228, "header": {"kind": "plan"}}]})
    (out,) = run_check("BLD002", f)
    import re

    assert out.severity == Severity.OK and not re.search(r"(?<![\d.])0\.0 GiB", out.title + str(out.evidence))
    assert out.title == "80.0 GiB free beside the engine; a rebuild needs 3.5 KiB"
