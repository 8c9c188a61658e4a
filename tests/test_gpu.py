"""GPU inventory probe and GPU0xx checks.

The GPU behind NVML cannot run on CI: tests that need a GPU read recorded inventories of a real
H100 (tests/data/gpu/, see its README.md) through
TRTDIAG_GPU_INVENTORY or by setting the ``gpu.inventory`` fact.  The no-driver path is real on
any machine without the NVIDIA driver.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import Facts
from trtdiag.core.finding import Severity
from trtdiag.probes import gpu as gpuprobe

from tests.conftest import DATA, REPO, run_cli, run_json

GPU_DATA = DATA / "gpu"
IDLE = GPU_DATA / "h100-80gb_idle.json"
BUSY = GPU_DATA / "h100-80gb_torch-10GiB.json"
XML = GPU_DATA / "h100-80gb_nvidia-smi-q.xml"


def _has_nvml() -> bool:
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
        return True
    except OSError:
        return False


def run_checks(facts, only):
    return engine_run.run(registry.select(only), facts)[0]


def recorded(path) -> dict:
    inv = gpuprobe.load_recorded(str(path))
    return inv


# ------------------------------------------------------------------ probe: no driver (real)

@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver")
def test_no_driver_answers_quickly_without_loading_the_bindings():
    sys.modules.pop("trtdiag.probes.nvml", None)
    t = time.perf_counter()
    inv = gpuprobe.read_nvml()
    took = time.perf_counter() - t
    assert inv["gpus"] == [] and "libnvidia-ml.so.1" in inv["nvml_error"]
    assert "trtdiag.probes.nvml" not in sys.modules  # the fast path: no bindings (took is printed by the benchmark)
    assert took >= 0


@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver")
def test_gpu001_says_no_driver_in_one_finding(monkeypatch):
    monkeypatch.delenv("TRTDIAG_GPU_INVENTORY", raising=False)
    code, rep = run_json("check", "--only", "gpu")
    assert code == 0  # a warning: collecting on a CPU box is legitimate
    f = [f for f in rep["findings"] if f["id"] == "GPU001"]
    assert len(f) == 1 and f[0]["severity"] == "warning" and f[0]["kb"] == "gpu-no-driver"
    assert "No NVIDIA driver" in f[0]["title"]
    assert not [f for f in rep["findings"] if f["id"] == "GPU002"]


def test_gpu001_no_driver_is_an_error_when_an_engine_is_to_be_served():
    f = Facts({"engine_dir": "/engines/x"})
    f.set("gpu.inventory", {"nvml_error": "libnvidia-ml.so.1 cannot be loaded", "driver": None, "cuda_driver": None, "gpus": []})
    out = run_checks(f, ["GPU001"])
    assert [x.severity for x in out] == [Severity.ERROR]


# ------------------------------------------------------------------ recorded inventories (test doubles)

def test_recorded_h100_inventory_through_env_var():
    """Test double: a recorded NVML inventory of a real H100 instead of the live GPU."""
    code, rep = run_json("check", "--only", "gpu", env={"TRTDIAG_GPU_INVENTORY": str(IDLE)})
    assert code == 0
    by = {f["id"]: f for f in rep["findings"]}
    assert by["GPU001"]["severity"] == "ok"
    assert by["GPU001"]["evidence"]["driver"] == "580.159.04"
    assert by["GPU001"]["evidence"]["CUDA (driver API)"] == "13.0"
    g = by["GPU002"]
    assert g["severity"] == "ok" and g["title"] == "GPU 0: NVIDIA H100 80GB HBM3, 79.65 GiB (79.18 GiB free), compute capability 9.0"
    assert "85,017,493,504 B" in g["evidence"]["free"]


def test_nvidia_smi_xml_gives_the_same_memory_as_nvml():
    """Test double: nvidia-smi -q -x of the same H100; MiB resolution, same free bytes as NVML."""
    x = recorded(XML)
    j = recorded(IDLE)
    gx, gj = x["gpus"][0], j["gpus"][0]
    assert gx["name"] == gj["name"] and gx["cc"] == [9, 0]
    assert gx["total"] == gj["total"] == 81559 * 2**20
    assert gx["free"] == gj["free"] == 85_017_493_504
    assert x["driver"] == "580.159.04" and x["cuda_driver"] == 13000


@pytest.mark.parametrize("content, why", [
    ("{not json", "not valid JSON"),
    ('{"gpus": 3}', "not a recorded GPU inventory"),
    ("<html></html>", "not the XML of `nvidia-smi -q -x`"),
    ("<nvidia_smi_log><gpu>", "not nvidia-smi XML"),
    ('{"gpus": [{"total": "80GB"}]}', "gpus[0].total: expected bytes"),
    ('{"gpus": [{"total": 1, "procs": [{"pid": "x"}]}]}', "gpus[0].procs[0]"),
    ('{"gpus": [7]}', "gpus[0]: expected an object"),
    ('{"gpus": [], "cuda_driver": "12.4"}', "cuda_driver"),
])
def test_bad_recorded_inventory_is_one_line_and_exit_2(tmp_path, content, why):
    p = tmp_path / "inv.json"
    p.write_text(content)
    r = run_cli("check", "--only", "GPU001", env={"TRTDIAG_GPU_INVENTORY": str(p)})
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and why in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_missing_recorded_inventory_is_exit_2(tmp_path):
    r = run_cli("check", "--only", "GPU001", env={"TRTDIAG_GPU_INVENTORY": str(tmp_path / "nope.json")})
    assert r.returncode == 2 and "no such file" in r.stderr


# ------------------------------------------------------------------ visibility

FOUR = [{"index": i, "name": f"G{i}", "uuid": f"GPU-{i}aaa-bbbb", "free": i} for i in range(4)]


@pytest.mark.parametrize("cvd, nvd, container, want", [
    (None, None, False, [0, 1, 2, 3]),
    ("2,0", None, False, [2, 0]),
    ("1,7,2", None, False, [1]),  # CUDA stops at the first invalid entry
    ("", None, False, []),
    ("GPU-3aaa", None, False, [3]),
    (None, "none", False, []),
    (None, "all", False, [0, 1, 2, 3]),
    (None, "GPU-2aaa-bbbb,GPU-3aaa-bbbb", False, [2, 3]),
    (None, "1,3", False, [1, 3]),  # on the host: the GPUs a container started with it gets
    (None, "1,3", True, [0, 1, 2, 3]),  # in a container the runtime already filtered NVML's list
    ("1", "GPU-2aaa-bbbb,GPU-3aaa-bbbb", False, [3]),
    ("MIG-5c4b7e7a-0000-0000-0000-000000000000", None, False, [0, 1, 2, 3]),  # MIG not modelled: nothing dropped
])
def test_select_visible(cvd, nvd, container, want):
    got = gpuprobe.select_visible(FOUR, cvd, nvd, container=container)
    assert [g["nvml_index"] for g in got] == want
    assert [g["index"] for g in got] == list(range(len(want)))


def test_cuda_visible_devices_applies_to_a_recorded_inventory(tmp_path):
    """Test double: a recorded two-GPU inventory; the process sees only the second one."""
    inv = json.loads(IDLE.read_text())
    second = dict(inv["gpus"][0], index=1, uuid="GPU-11111111-0000-0000-0000-000000000000", free=1 << 30)
    inv["gpus"].append(second)
    p = tmp_path / "two.json"
    p.write_text(json.dumps(inv))
    code, rep = run_json("check", "--only", "gpu", env={"TRTDIAG_GPU_INVENTORY": str(p), "CUDA_VISIBLE_DEVICES": "1"})
    g = [f for f in rep["findings"] if f["id"] == "GPU002"]
    assert len(g) == 1 and g[0]["evidence"]["NVML index"] == 1 and g[0]["severity"] == "warning"
    gpu1 = [f for f in rep["findings"] if f["id"] == "GPU001"][0]
    assert gpu1["evidence"]["CUDA_VISIBLE_DEVICES"] == "1" and gpu1["evidence"]["GPUs"] == 1


def test_no_gpu_left_after_cuda_visible_devices_is_an_error():
    f = Facts()
    f.set("gpu.inventory", {"nvml_error": None, "driver": "580.159.04", "cuda_driver": 13000, "gpus": [], "visible": {"CUDA_VISIBLE_DEVICES": "7"}})
    out = run_checks(f, ["GPU001"])
    assert out[0].severity == Severity.ERROR and out[0].evidence["CUDA_VISIBLE_DEVICES"] == "7"


def test_gpu002_warns_when_most_memory_is_taken():
    """Test double: the H100 recording with its free memory lowered to 10 GiB."""
    inv = recorded(IDLE)
    inv["gpus"][0]["free"] = 10 << 30
    f = Facts()
    f.set("gpu.inventory", inv)
    out = run_checks(f, ["GPU002"])
    assert out[0].severity == Severity.WARNING and "only 10.00 GiB free" in out[0].title


# ------------------------------------------------------------------ the NVML path, replayed

def test_proc_driver_version_formats():
    """Both /proc/driver/nvidia/version formats: the open kernel module's (seen on the H100 machine) and the proprietary one's."""
    assert gpuprobe.parse_proc_driver_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \n") == "580.159.04"
    assert gpuprobe.parse_proc_driver_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n") == "535.104.05"
    assert gpuprobe.parse_proc_driver_version("garbage") is None


NVML_DOUBLE = Path(__file__).parent / "data" / "gpu" / "nvml_double.c"


def build_nvml_double(tmp_path, *defines: str) -> Path:
    """Test double for the GPU behind NVML: tests/data/gpu/nvml_double.c built as
    libnvidia-ml.so.1 by the system C compiler (it answers what the H100 machine's NVML answered)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    d = tmp_path / ("nvml" + "".join(defines))
    d.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-O1", *[f"-D{x}" for x in defines], "-o", str(d / "libnvidia-ml.so.1"), str(NVML_DOUBLE)],
                   check=True, capture_output=True, timeout=120)
    return d


READ = "import json; from trtdiag.probes import gpu; print(json.dumps(gpu.read_nvml()))"


def read_through(lib_dir: Path, **env) -> dict:
    e = {**os.environ, "LD_LIBRARY_PATH": str(lib_dir), "PYTHONPATH": str(REPO), "NVML_DOUBLE_PID": str(os.getppid()), **env}
    p = subprocess.run([sys.executable, "-c", READ], env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


H100_AS_READ = {"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-41002523-7dab-548e-540d-4445dd037985", "cc": [9, 0],
                "total": 85520809984, "free": 73727672320, "used": 11793137664}


@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver: the double would not be the one loaded")
@pytest.mark.parametrize("defines", [(), ("NO_V3",)])
def test_read_nvml_through_the_c_interface(tmp_path, defines):
    """Test double: the NVML C interface built from tests/data/gpu/nvml_double.c (the real ctypes
    binding of trtdiag/probes/nvml.py calls it).  The process is this test's real parent, which
    holds no /dev/nvidia* file: not proven local, so nothing may act on its PID here."""
    inv = read_through(build_nvml_double(tmp_path, *defines))
    assert inv["nvml_error"] is None and inv["driver"] == "580.159.04" and inv["cuda_driver"] == 13000
    assert inv["gpus"] == [{**H100_AS_READ, "procs": [{"pid": os.getppid(), "used": 11280580608, "name": "python3", "local": False}]}]


@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver: the double would not be the one loaded")
def test_nvml_init_error_is_nvmls_own_words(tmp_path):
    """Test double (nvml_double.c): nvmlInit answering NVML_ERROR_LIB_RM_VERSION_MISMATCH (18)."""
    inv = read_through(build_nvml_double(tmp_path), NVML_DOUBLE_INIT_ERROR="18")
    assert inv["gpus"] == [] and inv["nvml_error"] == "nvmlInit failed: RM has detected an NVML/RM version mismatch."


EARLY = ("import json; from trtdiag.probes import gpu, nvml; nvml.start_init(); "
         "print(json.dumps(gpu.read_nvml())); nvml.start_init(); nvml.finish_early()")


@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver: the double would not be the one loaded")
@pytest.mark.parametrize("init_error, said", [(None, None), ("18", "nvmlInit failed: RM has detected an NVML/RM version mismatch.")])
def test_nvml_begun_early_reads_the_same(tmp_path, init_error, said):
    """Test double (nvml_double.c): the probe takes the outcome of an nvmlInit begun at process start
    (what ``trtdiag check`` does first), error included; one begun and never taken is finished at exit."""
    extra = {"NVML_DOUBLE_INIT_ERROR": init_error} if init_error else {}
    e = {**os.environ, "LD_LIBRARY_PATH": str(build_nvml_double(tmp_path)), "PYTHONPATH": str(REPO),
         "NVML_DOUBLE_PID": str(os.getppid()), **extra}
    p = subprocess.run([sys.executable, "-c", EARLY], env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout) == read_through(tmp_path / "nvml", **extra)
    if said:
        assert json.loads(p.stdout)["nvml_error"] == said


@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver: the double would not be the one loaded")
def test_check_process_reads_the_gpu_with_nvml_begun_first(tmp_path):
    """Test double (nvml_double.c), the real ``python -m trtdiag check`` process: the GPU is read."""
    e = {**os.environ, "LD_LIBRARY_PATH": str(build_nvml_double(tmp_path)), "PYTHONPATH": str(REPO),
         "NVML_DOUBLE_PID": str(os.getppid()), "TRTDIAG_CACHE_DIR": str(tmp_path / "cache")}
    p = subprocess.run([sys.executable, "-m", "trtdiag", "check", "--json"], env=e, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode in (0, 1), p.stderr[-2000:]
    assert "NVIDIA H100 80GB HBM3" in p.stdout


# ------------------------------------------------------------------ GPU003

@pytest.mark.parametrize("packages, severity", [
    ({"nvidia-cuda-runtime-cu12": "12.4.127"}, Severity.OK),  # driver 580 supports CUDA 13.0
    ({"nvidia-cuda-runtime-cu13": "13.1.80"}, Severity.WARNING),
    ({"nvidia-cuda-runtime-cu14": "14.0.1"}, Severity.ERROR),
    ({"torch": "2.11.0+cu130"}, Severity.OK),
    ({"torch": "2.11.0+cu132"}, Severity.WARNING),
])
def test_gpu003_driver_against_runtime(packages, severity):
    """Test double: the recorded H100 inventory (driver 580.159.04, CUDA 13.0); the packages fact set directly."""
    f = Facts()
    f.set("gpu.inventory", recorded(IDLE))
    f.set("python.packages", {"python": "/usr/bin/python3", "version": "3.12.3", "packages": packages})
    out = run_checks(f, ["GPU003"])
    assert [x.severity for x in out] == [severity]
    if severity == Severity.ERROR:
        assert "insufficient for CUDA runtime version" in out[0].message and out[0].kb == "cuda-driver-too-old"


def test_gpu003_not_applicable_without_a_cuda_runtime_package():
    f = Facts()
    f.set("gpu.inventory", recorded(IDLE))
    f.set("python.packages", {"packages": {"numpy": "1.26.4"}})
    assert run_checks(f, ["GPU003"]) == []


def test_gpu001_kernel_module_without_nvml_points_at_the_container():
    f = Facts()
    f.set("gpu.inventory", {"nvml_error": "libnvidia-ml.so.1 cannot be loaded", "driver": "580.159.04", "cuda_driver": None, "gpus": []})
    out = run_checks(f, ["GPU001"])
    assert out[0].severity == Severity.WARNING and "580.159.04 is loaded" in out[0].title and "--gpus all" in out[0].message
    assert out[0].evidence["kernel module"] == "580.159.04"


@pytest.mark.parametrize("said", [
    "nvmlInit failed: RM has detected an NVML/RM version mismatch.",  # pynvml's text for NVML_ERROR_LIB_RM_VERSION_MISMATCH
    "Failed to initialize NVML: Driver/library version mismatch",  # nvidia-smi's words for the same
])
def test_gpu001_driver_library_mismatch(said):
    """What NVML says after a driver upgrade without a reboot."""
    f = Facts()
    f.set("gpu.inventory", {"nvml_error": said, "driver": "550.54.15", "cuda_driver": None, "gpus": []})
    out = run_checks(f, ["GPU001"])
    assert out[0].severity == Severity.ERROR and out[0].title == "NVIDIA driver/library version mismatch" and "Reboot" in out[0].message
    assert out[0].kb == "nvml-driver-library-mismatch"


def test_driver_library_mismatch_kb_entry_matches_the_messages_users_post(tmp_path):
    """knowledge_base/nvml-driver-library-mismatch.toml: `explain` recognises nvidia-smi's and
    pynvml's words for it, and the entry points back at GPU001."""
    import json

    from trtdiag.core import kb

    from tests.conftest import run_cli

    entry = kb.get("nvml-driver-library-mismatch")
    assert entry and entry["checks"] == ["GPU001"]
    for line in ("Failed to initialize NVML: Driver/library version mismatch",
                 "nvmlInit failed: RM has detected an NVML/RM version mismatch."):
        log = tmp_path / "nvml.log"
        log.write_text("NVML library version: 550.144\n" + line + "\n")
        p = run_cli("explain", str(log), "--json")
        assert p.returncode == 1, p.stderr
        assert [f["kb"] for f in json.loads(p.stdout)["findings"]] == ["nvml-driver-library-mismatch"]
