"""Container probe and checks (CTR0xx).

The probe is tested on this machine's real /dev/shm, ulimits and cgroup files, and on small fake
trees (TRTDIAG_ROOT) for the layouts this machine does not have (cgroup v2, a 64 MiB docker
/dev/shm, GPU device nodes).  Each check has fixtures that must trigger it and fixtures that must
not, given as the ``container.info`` fact (ansible-lint style).
"""

from __future__ import annotations

import os
import resource

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.rules.container import common as C
from trtdiag.core.facts import Facts
from trtdiag.core.finding import Severity
from trtdiag.probes import container as P

from tests.conftest import run_cli

MiB, GiB = 1 << 20, 1 << 30


def info(**over):
    base = {
        "root": "/",
        "shm": {"path": "/dev/shm", "exists": True, "size": 8 * GiB, "free": 8 * GiB, "mount": {"fstype": "tmpfs"}, "leftovers": []},
        "ulimits": {"memlock": {"soft": None, "hard": None}, "stack": {"soft": 64 * MiB, "hard": None}, "nofile": {"soft": 1 << 20, "hard": 1 << 20}},
        "runtime": {"in_container": True, "runtime": "docker", "markers": ["/.dockerenv"], "cgroup_hints": []},
        "memory": {"cgroup": "v2", "path": "/sys/fs/cgroup/memory.max", "limit": None},
        "gpus": {"nvidia_visible_devices": "all", "cuda_visible_devices": None, "device_nodes": [f"/dev/nvidia{i}" for i in range(8)]},
        "versions": {},
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return base


def run(check_id: str, ci: dict, options: dict | None = None, **facts):
    f = Facts(options or {})
    f.set("container.info", ci)
    for k, v in facts.items():
        f.set(k.replace("__", "."), v)
    spec = registry.load_all()[check_id]
    return engine_run.run_one(spec, f)


def sev(findings):
    return [x.severity for x in findings]


# --- the probe, on this machine -------------------------------------------------------------

def test_probe_reads_this_machine():
    data = Facts()["container.info"]
    assert data["shm"]["exists"] == os.path.isdir("/dev/shm")
    if data["shm"]["exists"]:
        st = os.statvfs("/dev/shm")
        assert data["shm"]["size"] == st.f_frsize * st.f_blocks
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    assert data["ulimits"]["memlock"]["soft"] == (None if soft == resource.RLIM_INFINITY else soft)
    assert data["runtime"]["in_container"] == (os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")
                                               or data["runtime"]["runtime"] is not None)


def test_probe_runs_again_and_again_with_the_same_answer():
    """(Its time is printed by benchmarks/bench_check.py, not asserted: CI machines are loaded.)"""
    first = P.container_info(Facts())
    for _ in range(5):
        assert P.container_info(Facts()).keys() == first.keys()


def _tree(tmp_path, mountinfo: str, cgroup: str, files: dict[str, str]):
    root = tmp_path / "root"
    for rel, text in {"proc/self/mountinfo": mountinfo, "proc/self/cgroup": cgroup, **files}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "dev" / "shm").mkdir(parents=True, exist_ok=True)
    return root


def test_fake_docker_tree_cgroup_v2(tmp_path, monkeypatch):
    root = _tree(tmp_path,
                 "600 590 0:120 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k,inode64\n",
                 "0::/\n",
                 {"sys/fs/cgroup/memory.max": "17179869184\n", ".dockerenv": "", "proc/1/cgroup": "0::/\n",
                  "dev/nvidia0": "", "dev/nvidia1": "", "dev/nvidiactl": ""})
    monkeypatch.setenv("TRTDIAG_ROOT", str(root))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    data = Facts()["container.info"]
    assert data["shm"]["size"] == 64 * MiB and data["shm"]["mount"]["fstype"] == "tmpfs"
    assert data["memory"] == {"cgroup": "v2", "path": "/sys/fs/cgroup/memory.max", "limit": 16 * GiB}
    assert data["runtime"]["runtime"] == "docker"
    assert data["gpus"]["device_nodes"] == ["/dev/nvidia0", "/dev/nvidia1"]


def test_fake_tree_cgroup_v1_unlimited_and_podman(tmp_path, monkeypatch):
    root = _tree(tmp_path, "", "4:memory:/libpod_parent/abc\n0::/\n",
                 {"sys/fs/cgroup/memory/libpod_parent/abc/memory.limit_in_bytes": "9223372036854771712\n",
                  "run/.containerenv": ""})
    monkeypatch.setenv("TRTDIAG_ROOT", str(root))
    data = Facts()["container.info"]
    assert data["memory"]["cgroup"] == "v1" and data["memory"]["limit"] is None
    assert data["runtime"]["runtime"] == "podman"


def test_leftover_segments_are_listed(tmp_path, monkeypatch):
    root = _tree(tmp_path, "", "", {})
    (root / "dev" / "shm" / "triton_python_backend_shm_region_1").write_bytes(b"x" * 4096)
    (root / "dev" / "shm" / "nccl-abc").write_bytes(b"x")
    (root / "dev" / "shm" / "unrelated").write_bytes(b"x")
    monkeypatch.setenv("TRTDIAG_ROOT", str(root))
    names = sorted(x["name"] for x in Facts()["container.info"]["shm"]["leftovers"])
    assert names == ["nccl-abc", "triton_python_backend_shm_region_1"]


def test_version_variables_from_the_environment(monkeypatch):
    monkeypatch.setenv("NVIDIA_TRITON_SERVER_VERSION", "24.04")
    monkeypatch.setenv("TRT_VERSION", "10.0.1.6")
    v = Facts()["container.info"]["versions"]
    assert v["NVIDIA_TRITON_SERVER_VERSION"] == "24.04" and v["TRT_VERSION"] == "10.0.1.6"


# --- CTR001 /dev/shm ------------------------------------------------------------------------

TRITON = {"launch_argv": ["tritonserver", "--model-repository", "/models"]}


def test_ctr001_docker_default_shm_with_triton_is_an_error():
    f = run("CTR001", info(shm={"size": 64 * MiB, "free": 64 * MiB}), TRITON)
    assert sev(f) == [Severity.ERROR]
    assert "64 MiB" in f[0].title and f[0].evidence["size_bytes"] == 64 * MiB and f[0].kb == "shm-too-small"


def test_ctr001_docker_default_without_triton_or_ranks_is_only_a_warning():
    """A plain `trtdiag check` in a container (a CI job) is not failed for Docker's default."""
    f = run("CTR001", info(shm={"size": 64 * MiB, "free": 64 * MiB}), {})
    assert sev(f) == [Severity.WARNING]
    f = run("CTR001", info(shm={"size": 64 * MiB, "free": 64 * MiB}), {"model_repo": "/models"})
    assert sev(f) == [Severity.ERROR] and f[0].evidence["needed by"] == "Triton's Python backend"


def test_ctr001_small_shm_for_multi_rank_is_an_error():
    f = run("CTR001", info(shm={"size": 128 * MiB, "free": 128 * MiB}), {"world_size": 4})
    assert sev(f) == [Severity.ERROR] and "NCCL" in f[0].title


def test_ctr001_one_gib_is_a_warning():
    assert sev(run("CTR001", info(shm={"size": GiB, "free": GiB}), TRITON)) == [Severity.WARNING]


def test_ctr001_python_backend_default_larger_than_shm_allows():
    opts = {"launch_argv": ["tritonserver", "--model-repository=/m", "--backend-config=python,shm-default-byte-size=1073741824"]}
    f = run("CTR001", info(shm={"size": 2 * GiB, "free": 2 * GiB}), opts)
    assert sev(f) == [Severity.ERROR]


def test_ctr001_missing_shm_is_an_error():
    assert sev(run("CTR001", info(shm={"exists": False}), TRITON)) == [Severity.ERROR]


def test_ctr001_leftovers_filling_shm():
    lo = [{"name": f"triton_python_backend_shm_region_{i}", "bytes": 256 * MiB} for i in range(15)]
    f = run("CTR001", info(shm={"size": 4 * GiB, "free": 100 * MiB, "leftovers": lo}), TRITON)
    assert sev(f) == [Severity.ERROR] and "rm -f /dev/shm/triton_python_backend_shm_region_*" in f[0].message


@pytest.mark.parametrize("ci, opts", [
    (info(), TRITON),                                                               # big shm
    (info(shm={"size": 64 * MiB, "free": 64 * MiB}, runtime={"in_container": False}), {}),  # bare host, nothing to launch
])
def test_ctr001_passes(ci, opts):
    assert all(s in (Severity.OK, Severity.INFO) for s in sev(run("CTR001", ci, opts)))


# --- CTR002 memlock, CTR003 stack -----------------------------------------------------------

def test_ctr002_limited_memlock_for_multi_rank_warns():
    f = run("CTR002", info(ulimits={"memlock": {"soft": 8 * MiB, "hard": 8 * MiB}}), {"world_size": 2})
    assert sev(f) == [Severity.WARNING] and "--ulimit memlock=-1" in f[0].message and f[0].kb == "ulimit-memlock"


def test_ctr002_single_rank_or_unlimited_does_not_warn():
    assert sev(run("CTR002", info(ulimits={"memlock": {"soft": 8 * MiB, "hard": 8 * MiB}}), {"world_size": 1})) == [Severity.INFO]
    assert sev(run("CTR002", info(), {"world_size": 8})) == [Severity.OK]


def test_ctr003_stack():
    assert sev(run("CTR003", info(ulimits={"stack": {"soft": 8 * MiB, "hard": None}}), TRITON)) == [Severity.INFO]
    assert sev(run("CTR003", info(), TRITON)) == [Severity.OK]
    assert run("CTR003", info(runtime={"in_container": False}), {}) == []


# --- CTR004 GPUs vs world size --------------------------------------------------------------

def test_ctr004_needs_a_world_size():
    assert run("CTR004", info(), {}) == []


def test_ctr004_cuda_visible_devices_hides_gpus():
    f = run("CTR004", info(gpus={"cuda_visible_devices": "0"}), {"world_size": 2})
    assert sev(f) == [Severity.ERROR] and "CUDA_VISIBLE_DEVICES=0" in f[0].message
    assert f[0].evidence["GPUs visible"] == 1 and f[0].kb == "world-size-mismatch"


def test_ctr004_docker_gpus_1_with_world_size_from_the_launch_command():
    opts = {"launch_argv": ["python3", "scripts/launch_triton_server.py", "--world_size", "2", "--model_repo", "/m"]}
    f = run("CTR004", info(gpus={"nvidia_visible_devices": "0", "device_nodes": ["/dev/nvidia0"]}), opts)
    assert sev(f) == [Severity.ERROR] and f[0].evidence["world size"] == 2


def test_ctr004_nvidia_visible_devices_void():
    assert sev(run("CTR004", info(gpus={"nvidia_visible_devices": "void"}), {"world_size": 1})) == [Severity.ERROR]


def test_ctr004_nvml_inventory_wins_over_device_nodes():
    """A one-GPU inventory in the gpu.inventory shape stands in for NVML (no GPU on CI)."""
    inv = {"nvml_error": None, "driver": "550.54.15", "cuda_driver": 12040,
           "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-0", "cc": [9, 0], "total": 85520809984,
                     "free": 84500000000, "used": 1020809984, "procs": []}]}
    f = run("CTR004", info(gpus={"device_nodes": []}), {"world_size": 1}, gpu__inventory=inv)
    assert sev(f) == [Severity.OK] and f[0].evidence["NVML"] == "1 GPU(s)"
    assert sev(run("CTR004", info(gpus={"device_nodes": []}), {"world_size": 2}, gpu__inventory=inv)) == [Severity.ERROR]


def test_ctr004_enough_gpus_and_multi_node():
    assert sev(run("CTR004", info(), {"world_size": 8})) == [Severity.OK]
    opts = {"launch_argv": ["mpirun", "-np", "16", "-H", "a:8,b:8", "tritonserver"]}
    assert sev(run("CTR004", info(), opts)) == [Severity.INFO]


@pytest.mark.parametrize("value, available, n", [
    ("0,1", 8, 2), ("", 8, 0), ("-1", 8, 0), ("0,-1,1", 8, 1), ("2,9", 4, 1), ("GPU-abc,GPU-def", 8, 2), ("0,0", 8, 1),
])
def test_cuda_visible_devices_semantics(value, available, n):
    assert C._cuda_visible(value, available)[0] == n


# --- CTR005 memory limit --------------------------------------------------------------------

def test_ctr005_limit_below_engines_is_an_error():
    eng = {"ranks": [{"rank": 0, "size": 14 * GiB}, {"rank": 1, "size": 14 * GiB}]}
    f = run("CTR005", info(memory={"limit": 16 * GiB}), {"world_size": 2}, engine__info=eng)
    assert sev(f) == [Severity.ERROR] and f[0].evidence["engine bytes on this machine"] == "28.0 GiB"


def test_ctr005_passes():
    eng = {"ranks": [{"rank": 0, "size": 4 * GiB}]}
    assert sev(run("CTR005", info(memory={"limit": 64 * GiB}), {}, engine__info=eng)) == [Severity.OK]
    assert run("CTR005", info(runtime={"in_container": False}, memory={"limit": None}), {}) == []


# --- CTR006 image versions ------------------------------------------------------------------

def test_ctr006_pip_installed_trtllm_over_the_image():
    ci = info(versions={"NVIDIA_TRITON_SERVER_VERSION": "24.04", "TRTLLM_VERSION": "0.9.0"})
    f = run("CTR006", ci, {}, trtllm__installed={"version": "0.10.0.dev2024043000", "commit": None, "path": "/usr/local/lib/python3.10/dist-packages/tensorrt_llm"})
    assert sev(f) == [Severity.ERROR] and "0.9.0" in f[0].title and f[0].kb == "container-version-mismatch"


def test_ctr006_matching_versions_and_prefixes():
    ci = info(versions={"TRT_VERSION": "10.0.1.6", "TRTLLM_VERSION": "0.9.0"})
    f = run("CTR006", ci, {}, trt__installed={"version": "10.0.1.6", "source": "pip:tensorrt-libs"},
            trtllm__installed={"version": "0.9.0", "commit": None, "path": None})
    assert sev(f) == [Severity.OK, Severity.OK]
    assert C._same_version("10.0.1", "10.0.1.6") and not C._same_version("10.0.1.6", "9.3.0.1")


def test_ctr006_not_applicable_without_image_variables():
    assert run("CTR006", info(versions={}), {}) == []


def test_ctr006_without_the_engine_probes_shows_the_image():
    f = run("CTR006", info(versions={"NVIDIA_TRITON_SERVER_VERSION": "24.04"}), {})
    assert sev(f) == [Severity.INFO] and "24.04" in f[0].title


# --- the CLI --------------------------------------------------------------------------------

def test_cli_check_container_area_and_docs():
    p = run_cli("check", "--only", "container", "--json")
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr
    p = run_cli("checks", "CTR001")
    assert p.returncode == 0 and "--shm-size=2g" in p.stdout


def test_overlay_root_without_markers_counts_as_a_container(tmp_path, monkeypatch):
    root = _tree(tmp_path, "1 0 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c\n", "0::/\n",
                 {"proc/1/cgroup": "0::/\n"})
    monkeypatch.setenv("TRTDIAG_ROOT", str(root))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    rt = Facts()["container.info"]["runtime"]
    assert rt["in_container"] and rt["runtime"] == "container"
