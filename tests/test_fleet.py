"""FLT checks across ranks: unit tests on snapshot dicts, `check --from` with several files, and
real `mpirun -n 2..4` on localhost (Open MPI + mpi4py), one rank given a different environment."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import Facts
from trtdiag.core.finding import Severity, error

from tests.conftest import REPO, cli_env, run_cli
from tests.fleet_helpers import inventory, snapshot, write


def fleet_findings(snaps: list[dict], only: str) -> list:
    facts = Facts({}, snapshot=snaps[0])
    facts.set("fleet.snapshots", snaps)
    spec = registry.load_all()[only]
    return engine_run.run_one(spec, facts)


def bad(findings):
    return [f for f in findings if f.severity.rank >= Severity.WARNING.rank]


# --- FLT000 ranks gathered --------------------------------------------------------------------

def test_flt000_counts_ranks_and_hosts():
    snaps = [snapshot(r, host="node-a" if r < 2 else "node-b") for r in range(4)]
    (f,) = fleet_findings(snaps, "FLT000")
    assert f.severity == Severity.INFO and "4 ranks on 2 hosts" in f.title
    assert "rank 3 (node-b) gpu 3" in f.evidence["per rank"]


def test_ranks_follow_the_order_of_the_snapshots_when_recorded_ranks_collide():
    snaps = [snapshot(0, host=f"pod-{i}", engine_ranks=[0, 1]) for i in range(2)]  # each pod collected alone, as rank 0
    for s in snaps:
        s["options"] = {}
    (f,) = fleet_findings(snaps, "FLT000")
    assert f.evidence["per rank"] == ["rank 0 (pod-0)", "rank 1 (pod-1)"]
    assert [x.severity for x in fleet_findings(snaps, "FLT004")] == [Severity.OK]


def test_flt000_silent_on_one_machine():
    assert engine_run.run_one(registry.load_all()["FLT000"], Facts({})) == []


# --- FLT001 / FLT002 / FLT003 versions ---------------------------------------------------------

def test_flt001_names_the_rank_with_another_tensorrt():
    snaps = [snapshot(r, host=f"node-{r}") for r in range(4)]
    snaps[2]["facts"]["trt.installed"]["version"] = "10.1.0.27"
    (f,) = fleet_findings(snaps, "FLT001")
    assert f.severity == Severity.ERROR
    assert "rank 2 (node-2)" in f.title and "10.1.0.27" in f.title and "10.0.1.6" in f.title
    assert f.evidence["rank 2 (node-2)"] == "10.1.0.27" and f.kb == "fleet-rank-version-skew"
    assert "node-2" in f.fix.summary and "tensorrt==10.0.1.6" in f.fix.summary


def test_flt001_ok_when_all_ranks_agree():
    (f,) = fleet_findings([snapshot(r) for r in range(3)], "FLT001")
    assert f.severity == Severity.OK and "10.0.1.6 on all 3 ranks" in f.title


def test_flt002_trtllm_and_flt003_driver_skew():
    snaps = [snapshot(r, host=f"n{r}") for r in range(3)]
    snaps[1]["facts"]["trtllm.installed"]["version"] = "0.10.0"
    snaps[0]["facts"]["gpu.inventory"]["driver"] = "550.54.15"
    (f,) = fleet_findings(snaps, "FLT002")
    assert f.severity == Severity.ERROR and "rank 1 (n1)" in f.title
    (g,) = fleet_findings(snaps, "FLT003")
    assert g.severity == Severity.WARNING and "rank 0 (n0)" in g.title and "580.159.04" in g.title


def test_version_checks_silent_when_not_recorded():
    snaps = [snapshot(r) for r in range(2)]
    for s in snaps:
        del s["facts"]["trt.installed"]
    assert fleet_findings(snaps, "FLT001") == []


# --- FLT004 engine files ------------------------------------------------------------------------

def test_flt004_names_the_rank_missing_its_engine_file():
    snaps = [snapshot(r, host="node-a" if r < 2 else "node-b", engine_ranks=[0, 1, 2, 3]) for r in range(4)]
    snaps[3]["facts"]["engine.info"]["ranks"] = snaps[3]["facts"]["engine.info"]["ranks"][:3]  # rank3.engine not copied
    fs = bad(fleet_findings(snaps, "FLT004"))
    assert len(fs) == 1 and fs[0].severity == Severity.ERROR
    assert "rank 3 (node-b)" in fs[0].title and "rank3.engine not found" in fs[0].evidence["rank 3 (node-b)"]
    assert "node-b" in fs[0].fix.summary and fs[0].kb == "engine-rank-files-missing"


def test_flt004_names_the_rank_with_another_build():
    snaps = [snapshot(r, engine_ranks=[0, 1, 2, 3]) for r in range(4)]
    snaps[1]["facts"]["engine.info"]["normalized"]["dtype"] = "bfloat16"
    fs = bad(fleet_findings(snaps, "FLT004"))
    assert len(fs) == 1 and "rank 1" in fs[0].title and "bfloat16" in fs[0].title


def test_flt004_ok_with_complete_engine_dirs():
    fs = fleet_findings([snapshot(r, engine_ranks=[0, 1, 2, 3]) for r in range(4)], "FLT004")
    assert [f.severity for f in fs] == [Severity.OK]


# --- FLT005 world size --------------------------------------------------------------------------

def test_flt005_world_size_mismatch():
    snaps = [snapshot(r, engine_ranks=[0, 1, 2, 3], tp=2, pp=2) for r in range(3)]
    (f,) = fleet_findings(snaps, "FLT005")
    assert f.severity == Severity.ERROR and "3 ranks launched, the engine needs 4" in f.title
    assert "mpirun -n 4" in f.fix.summary and f.kb == "world-size-mismatch"
    (g,) = fleet_findings([snapshot(r, engine_ranks=[0, 1, 2, 3], tp=2, pp=2) for r in range(4)], "FLT005")
    assert g.severity == Severity.OK


# --- FLT006 free memory (gpu.inventory from the recorded H100: NVML stand-in) --------------------

def test_flt006_recorded_h100_rank_with_less_free_memory_is_named():
    inv = inventory(4, busy_index=1)  # GPU 1 held 10 GiB by a PyTorch process in the recording
    snaps = [snapshot(r, host="node-a", inv=inv) for r in range(4)]
    fs = bad(fleet_findings(snaps, "FLT006"))
    assert len(fs) == 1 and fs[0].severity == Severity.WARNING
    f = fs[0]
    assert f.title.startswith("rank 1 (node-a): GPU 1 has 68.7 GiB free")
    assert f.evidence["free bytes"] == 73727672320 and "pid 422" in f.fix.summary


def test_flt006_two_ranks_on_one_gpu():
    snaps = [snapshot(r, host="node-a", gpu_index=0) for r in range(2)]
    fs = bad(fleet_findings(snaps, "FLT006"))
    assert len(fs) == 1 and fs[0].severity == Severity.ERROR and "share one GPU on node-a" in fs[0].title


def test_flt006_ok_when_alike():
    fs = fleet_findings([snapshot(r) for r in range(4)], "FLT006")
    assert [f.severity for f in fs] == [Severity.OK]


# --- FLT007 reachability ------------------------------------------------------------------------

def test_flt007_reports_pairs_that_fail():
    snaps = [snapshot(r, host=f"n{r}") for r in range(2)]
    snaps[0]["facts"]["fleet.reach"] = {"peers": [{"rank": 1, "host": "n1", "addr": "10.0.0.2", "port": 4000, "resolved": None,
                                                   "resolve_error": "[Errno -2] Name or service not known", "connect": "ok"}]}
    snaps[1]["facts"]["fleet.reach"] = {"peers": [{"rank": 0, "host": "n0", "addr": "10.0.0.1", "port": 4001, "resolved": "10.0.0.1",
                                                   "resolve_error": None, "connect": "ConnectionRefusedError: [Errno 111] Connection refused"}]}
    (f,) = fleet_findings(snaps, "FLT007")
    assert f.severity == Severity.ERROR and "2 of 2 rank pairs" in f.title
    assert "cannot resolve n1" in f.evidence["rank 0 (n0) → rank 1 (n1)"]
    assert "Connection refused" in f.evidence["rank 1 (n1) → rank 0 (n0)"]


def test_flt007_silent_without_reachability_data():
    assert fleet_findings([snapshot(r) for r in range(2)], "FLT007") == []


# --- FLT008 launch environment ------------------------------------------------------------------

def test_flt008_names_the_rank_with_another_library_path():
    snaps = [snapshot(r, host="node-a") for r in range(4)]
    snaps[2]["facts"]["env.vars"]["LD_LIBRARY_PATH"] = "/opt/TensorRT-9.3.0.1/lib"
    snaps[3]["facts"]["env.vars"]["CUDA_VISIBLE_DEVICES"] = "3"  # per rank by design: never compared
    fs = bad(fleet_findings(snaps, "FLT008"))
    assert len(fs) == 1 and fs[0].title == "LD_LIBRARY_PATH differs on rank 2 (node-a)"
    assert fs[0].evidence["rank 2 (node-a)"] == "/opt/TensorRT-9.3.0.1/lib"
    assert "mpirun -x LD_LIBRARY_PATH=/usr/local/tensorrt/lib" in fs[0].fix.summary


# --- FLT009 findings on other ranks -------------------------------------------------------------

def test_flt009_reports_a_local_finding_of_another_rank(monkeypatch):
    def needs_tokenizer(facts):
        if (facts.get("env.summary") or {}).get("hostname") == "node-b":
            yield error("Tokenizer directory missing", "…", evidence={"path": "/models/tok"})

    registry.load_all()
    monkeypatch.setitem(registry.CHECKS, "TST950", registry.Rule("TST950", "tokenizer", "tokenizer dir", needs_tokenizer))
    snaps = [snapshot(0, host="node-a"), snapshot(1, host="node-b")]
    fs = bad(fleet_findings(snaps, "FLT009"))
    assert len(fs) == 1 and fs[0].check == "TST950" and fs[0].title == "rank 1 (node-b): Tokenizer directory missing"
    assert fs[0].severity == Severity.ERROR and fs[0].evidence["rank"] == "rank 1 (node-b)"


# --- check --from several snapshots ---------------------------------------------------------------

def test_check_from_several_snapshots_names_the_odd_rank(tmp_path):
    snaps = [snapshot(r, host=f"node-{r}", engine_ranks=[0, 1, 2, 3]) for r in range(4)]
    snaps[2]["facts"]["trt.installed"]["version"] = "10.1.0.27"
    paths = write(tmp_path, snaps)
    p = run_cli("check", *[a for path in paths for a in ("--from", path)], "--only", "fleet", "--json")
    assert p.returncode == 1, p.stderr
    d = json.loads(p.stdout)
    flt1 = [f for f in d["findings"] if f["id"] == "FLT001"][0]
    assert flt1["severity"] == "error" and "rank 2 (node-2)" in flt1["title"]
    assert any(f["id"] == "FLT000" and "4 ranks" in f["title"] for f in d["findings"])


# --- real mpirun on localhost ---------------------------------------------------------------------

MPIRUN = shutil.which("mpirun")


def _has_mpi4py() -> bool:
    return subprocess.run([sys.executable, "-c", "import mpi4py"], capture_output=True).returncode == 0


needs_mpi = pytest.mark.skipif(not MPIRUN or not _has_mpi4py(), reason="needs Open MPI's mpirun and mpi4py")


def mpirun(n: int, argv: list[str], env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [MPIRUN, "-n", str(n), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    return subprocess.run(cmd + argv, capture_output=True, text=True, env=cli_env(env), timeout=timeout, cwd=str(REPO))


def wrapper(tmp_path: Path, body: str) -> str:
    """A launch script: what a per-node profile does, for one rank only."""
    w = tmp_path / "rank-env.sh"
    w.write_text("#!/bin/sh\n" + body + f'\nexec "{sys.executable}" -m trtdiag "$@"\n')
    w.chmod(0o755)
    return str(w)


@needs_mpi
def test_mpirun_4_ranks_names_the_rank_launched_with_another_library_path(tmp_path):
    script = wrapper(tmp_path, 'if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then export LD_LIBRARY_PATH=/opt/TensorRT-9.3.0.1/lib; fi')
    p = mpirun(4, [script, "check", "--mpi", "--only", "fleet", "--json"], env={"LD_LIBRARY_PATH": "/usr/local/tensorrt/lib"})
    assert "Traceback" not in p.stderr, p.stderr
    d = json.loads(p.stdout)  # one report: output on rank 0 only
    ids = {f["id"]: f for f in d["findings"]}
    assert "4 ranks on 1 host" in ids["FLT000"]["title"]
    assert ids["FLT000"]["evidence"]["per rank"][2].endswith("gpu 2")  # local rank 2 → GPU 2
    skew = [f for f in d["findings"] if f["id"] == "FLT008" and f["severity"] == "warning"]
    assert len(skew) == 1 and skew[0]["title"].startswith("LD_LIBRARY_PATH differs on rank 2 (")
    assert skew[0]["evidence"][skew[0]["title"].split(" on ", 1)[1]] == "/opt/TensorRT-9.3.0.1/lib"


@needs_mpi
@pytest.mark.skipif(importlib.util.find_spec("trtdiag.probes.gpu") is None, reason="needs the gpu.inventory probe (GPU area)")
def test_mpirun_4_ranks_recorded_h100_inventory_names_the_rank_with_less_free_memory(tmp_path):
    """TRTDIAG_GPU_INVENTORY replaces NVML (no GPU on CI) with the recorded H100 readings: every rank
    sees 4 idle GPUs, except rank 2, whose node profile points at a recording where its GPU 2 is held."""
    (tmp_path / "idle.json").write_text(json.dumps(inventory(4)))
    (tmp_path / "busy.json").write_text(json.dumps(inventory(4, busy_index=2)))
    script = wrapper(tmp_path, f'export TRTDIAG_GPU_INVENTORY="{tmp_path}/idle.json"\n'
                               f'if [ "$OMPI_COMM_WORLD_RANK" = 2 ]; then export TRTDIAG_GPU_INVENTORY="{tmp_path}/busy.json"; fi')
    p = mpirun(4, [script, "check", "--mpi", "--only", "fleet", "--json"])
    assert "Traceback" not in p.stderr, p.stderr
    d = json.loads(p.stdout)
    low = [f for f in d["findings"] if f["id"] == "FLT006" and f["severity"] == "warning"]
    assert len(low) == 1 and low[0]["title"].startswith("rank 2 (") and "GPU 2 has 68.7 GiB free" in low[0]["title"]


@needs_mpi
def test_mpirun_3_ranks_replaying_snapshots_exit_code_reflects_all_ranks(tmp_path):
    """Each rank checks the snapshot of a node (recorded facts: this CPU machine has no TensorRT);
    rank 2's has another TensorRT.  Every rank exits with rank 0's code, 1."""
    snaps = [snapshot(r, host=f"node-{r}") for r in range(3)]
    snaps[2]["facts"]["trt.installed"]["version"] = "10.1.0.27"
    write(tmp_path, snaps)
    script = wrapper(tmp_path, "")
    p = mpirun(3, ["sh", "-c", f'exec "{script}" check --mpi --only fleet --no-color --from "{tmp_path}/rank$OMPI_COMM_WORLD_RANK.json"'])
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout.count("ranks on") == 1 and "3 ranks on 3 hosts" in p.stdout
    assert "TensorRT differs on rank 2 (node-2): 10.1.0.27 (others: 10.0.1.6)" in p.stdout


@needs_mpi
def test_mpirun_reachability_between_ranks(tmp_path):
    p = mpirun(2, [sys.executable, "-m", "trtdiag", "check", "--mpi", "--reachability", "--only", "FLT007", "--json"])
    d = json.loads(p.stdout)
    (f,) = [f for f in d["findings"] if f["id"] == "FLT007"]
    assert f["severity"] == "ok" and f["title"] == "all 2 rank pairs resolve and connect"


@needs_mpi
def test_mpirun_rank_with_bad_input_is_reported_not_hung(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    script = wrapper(tmp_path, f'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then set -- "$@" --from "{tmp_path}/bad.json"; fi')
    p = mpirun(2, [script, "check", "--mpi", "--only", "fleet"])
    assert p.returncode == 2 and "rank 1 (" in p.stderr and "not valid JSON" in p.stderr and "Traceback" not in p.stderr


def test_mpi_outside_mpirun_says_so_and_runs_as_one_rank():
    p = run_cli("check", "--mpi", "--only", "fleet")
    assert p.returncode == 0 and "Checked as one rank" in p.stdout and "not started by mpirun" in p.stdout


@pytest.mark.skipif(not MPIRUN or not Path("/usr/bin/python3").exists(), reason="needs mpirun and a python without mpi4py")
def test_mpirun_without_mpi4py_says_so_once(tmp_path):
    if subprocess.run(["/usr/bin/python3", "-c", "import mpi4py"], capture_output=True).returncode == 0:
        pytest.skip("/usr/bin/python3 has mpi4py")
    p = mpirun(2, ["/usr/bin/python3", "-m", "trtdiag", "check", "--mpi", "--only", "fleet", "--no-color"])
    assert p.returncode == 0 and p.stdout.count("Checked as one rank") == 1 and "mpi4py cannot be imported" in p.stdout


def test_reachability_without_mpi_is_a_usage_error(cli):
    code, out, err = cli("check", "--reachability")
    assert code == 2 and out == "" and "add --mpi" in err


def test_rank_identity_from_each_launcher():
    from trtdiag.probes.fleet import rank_from_env

    assert rank_from_env({"OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_SIZE": "8"}) == \
        {"launcher": "openmpi", "rank": 5, "local_rank": 1, "size": 8}
    assert rank_from_env({"SLURM_PROCID": "3", "SLURM_LOCALID": "3", "SLURM_NTASKS": "4"}) == \
        {"launcher": "slurm", "rank": 3, "local_rank": 3, "size": 4}
    assert rank_from_env({"PMI_RANK": "2", "MPI_LOCALRANKID": "0", "PMI_SIZE": "4"})["launcher"] == "pmi"
    assert rank_from_env({"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"})["launcher"] == "env"
    assert rank_from_env({"SLURM_PROCID": "x"}) == {"launcher": None, "rank": None, "local_rank": None, "size": None}


def test_flt006_one_visible_gpu_per_rank_is_not_sharing():
    """CUDA_VISIBLE_DEVICES=N per rank: each sees one GPU, numbered 0; without UUIDs that proves nothing."""
    snaps = []
    for r in range(2):
        inv = inventory(1)
        del inv["gpus"][0]["uuid"]
        snaps.append(snapshot(r, host="node-a", inv=inv))
    assert [f.severity for f in fleet_findings(snaps, "FLT006")] == [Severity.OK]


def test_flt004_leaves_a_rank_file_missing_on_this_machine_to_eng006():
    """Two ranks on one machine share one engine directory that lacks rank1.engine: ENG006 (engine)
    reports it with tp × pp; FLT004 must not report the same missing file again."""
    snaps = [snapshot(r, engine_ranks=[0], tp=2) for r in range(2)]
    for s in snaps:
        s["facts"]["engine.info"]["problems"] = [{"kind": "missing-rank", "rank": 1, "expected_file": "/engines/llama-70b/tp4/rank1.engine"}]
    fs = fleet_findings(snaps, "FLT004")
    assert bad(fs) == [] and not any("present" in f.title for f in fs)
    # the same directory seen from another node is FLT004's to report
    snaps[1]["facts"]["env.summary"]["hostname"] = "node-b"
    (f,) = bad(fleet_findings(snaps, "FLT004"))
    assert "rank 1 (node-b)" in f.title


def test_flt006_leaves_a_gpu_held_by_a_listed_process_to_mem003():
    """Rank 2's GPU 2 is short by the 10.5 GiB PID 422 holds (the recorded H100 readings, NVML
    stand-in): with MEM003 in the run, that PID is one finding (MEM003 on rank 2, through FLT009),
    not a second FLT006 warning."""
    snaps = [snapshot(r, host="node-a" if r < 2 else "node-b", inv=inventory(4, busy_index=2 if r == 2 else None)) for r in range(4)]
    facts = Facts({}, snapshot=snaps[0])
    facts.set("fleet.snapshots", snaps)
    findings, _ = engine_run.run(registry.select(["FLT006", "FLT009", "MEM003"]), facts)
    warned = [f for f in findings if f.severity == Severity.WARNING]
    assert [(f.check, f.evidence.get("pid")) for f in warned] == [("MEM003", 422)] and "rank 2" in warned[0].title
    assert bad(fleet_findings(snaps, "FLT006"))  # alone, FLT006 still names the rank
