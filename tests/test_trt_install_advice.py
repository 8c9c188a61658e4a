"""TRT001 "TensorRT: not found" says how to install it.

What a user saw: `· TensorRT: not found [TRT001]` and no way forward.  The message now names the
pip package for the driver's CUDA major version (tensorrt-cu12 / tensorrt-cu13, from NVIDIA's
installation guide: trtdiag/data/tensorrt_install.json) or an NGC container.
"""

from __future__ import annotations

import json

from trtdiag.core import catalogue
from trtdiag.core.facts import Facts
from trtdiag.engine import run as engine_run

from tests.conftest import DATA


def _trt001(inventory):
    catalogue.load_all()
    facts = Facts({})
    facts.set("trt.installed", {"version": None})
    facts.set("gpu.inventory", inventory)
    findings, _ = engine_run.run(catalogue.select(["TRT001"]), facts)
    (f,) = findings
    return f


def test_not_found_names_the_package_for_the_drivers_cuda_major():
    inv = json.loads((DATA / "gpu" / "h100-80gb_idle.json").read_text())  # a real H100, driver with CUDA 13.0
    assert inv["cuda_driver"] // 1000 == 13
    f = _trt001(inv)
    assert f.title == "TensorRT: not found"
    assert "`pip install tensorrt-cu13`" in f.message and "tensorrt-cu12" not in f.message
    assert "NGC container" in f.message
    assert f.evidence["install"] == ["pip install tensorrt-cu13"]


def test_without_a_driver_both_packages_are_named():
    f = _trt001({"nvml_error": "NVML Shared Library Not Found", "gpus": []})
    assert "`pip install tensorrt-cu12` (CUDA 12)" in f.message and "`pip install tensorrt-cu13` (CUDA 13)" in f.message
    assert "NGC container" in f.message


def test_the_install_table_keeps_its_sources():
    from trtdiag.derive.trt_install import table

    t = table()
    assert set(t["pip"]) == {"12", "13"}
    assert all(s.startswith("https://docs.nvidia.com/") for s in t["sources"].values())
