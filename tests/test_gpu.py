"""GPU inventory probe and GPU0xx checks.

The GPU behind NVML cannot run on CI: tests that need a GPU read recorded inventories of a real
H100 (tests/data/gpu/, from ../shared/fixtures/gpu; see tests/data/gpu/README.md) through
TRTDIAG_GPU_INVENTORY or by setting the ``gpu.inventory`` fact.  The no-driver path is real on
any machine without the NVIDIA driver.
"""

from __future__ import annotations

import ctypes
import json
import time

import pytest

from trtdiag import registry
from trtdiag.facts import Facts
from trtdiag.model import Severity
from trtdiag.probes import gpu as gpuprobe

from .conftest import DATA, run_cli, run_json

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
    return registry.run(registry.select(only), facts)[0]


def recorded(path) -> dict:
    inv = gpuprobe.load_recorded(str(path))
    return inv


# ------------------------------------------------------------------ probe: no driver (real)

@pytest.mark.skipif(_has_nvml(), reason="this machine has the NVIDIA driver")
def test_no_driver_answers_quickly_without_importing_pynvml():
    import sys

    sys.modules.pop("pynvml", None)
    t = time.perf_counter()
    inv = gpuprobe.read_nvml()
    took = time.perf_counter() - t
    assert inv["gpus"] == [] and "libnvidia-ml.so.1" in inv["nvml_error"]
    assert "pynvml" not in sys.modules
    assert took < 0.05, f"no-driver path took {took * 1e3:.1f} ms"


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
    assert g["title"] == "GPU 0: NVIDIA H100 80GB HBM3, 79.65 GiB, compute capability 9.0"
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


@pytest.mark.parametrize("cvd, nvd, want", [
    (None, None, [0, 1, 2, 3]),
    ("2,0", None, [2, 0]),
    ("1,7,2", None, [1]),  # CUDA stops at the first invalid entry
    ("", None, []),
    ("GPU-3aaa", None, [3]),
    (None, "none", []),
    (None, "GPU-2aaa-bbbb,GPU-3aaa-bbbb", [2, 3]),
    (None, "5,6", [0, 1, 2, 3]),  # host indices: the container runtime already filtered
    ("1", "GPU-2aaa-bbbb,GPU-3aaa-bbbb", [3]),
])
def test_select_visible(cvd, nvd, want):
    got = gpuprobe.select_visible(FOUR, cvd, nvd)
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
