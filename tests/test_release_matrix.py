"""CTR007: a Triton trtllm container's installed TensorRT / TensorRT-LLM and driver against the row
Triton publishes for its release (trtdiag/data/version_matrix.toml, from server's compatibility.md)."""

from __future__ import annotations

from trtdiag.core import catalogue
from trtdiag.core.facts import Facts
from trtdiag.derive import version_matrix as vm
from trtdiag.engine import run as engine_run


def _facts(env: dict, trt: str | None, trtllm: str | None, driver: str | None = None) -> Facts:
    f = Facts({})
    f.set("container.info", {"versions": env})
    f.set("trt.installed", {"version": trt})
    f.set("trtllm.installed", {"version": trtllm})
    f.set("gpu.inventory", {"driver": driver, "gpus": []} if driver else None)
    return f


def _run(f: Facts):
    return engine_run.run(catalogue.select(["CTR007"]), f)[0]


def test_the_published_combination_passes():
    row = vm.row_for(vm.load(), "26.03")
    assert row and row["tensorrt_llm"].startswith("1.2")
    (f,) = _run(_facts({"NVIDIA_TRITON_SERVER_VERSION": "26.03"}, row["tensorrt"], row["tensorrt_llm"]))
    assert f.severity.value == "ok" and "26.03" in f.title


def test_a_pip_installed_trtllm_over_the_image_is_an_error_with_the_source_row():
    row = vm.row_for(vm.load(), "26.03")
    (f,) = _run(_facts({"NVIDIA_TRITON_SERVER_VERSION": "26.03"}, row["tensorrt"], "0.21.0"))
    assert f.severity.value == "error" and f"ships TensorRT-LLM {row['tensorrt_llm']}" in f.title and "0.21.0" in f.title
    assert "compatibility.md" in f.evidence["source"]


def test_where_the_image_states_the_version_itself_ctr006_alone_compares_it():
    row = vm.row_for(vm.load(), "26.03")
    fs = _run(_facts({"NVIDIA_TRITON_SERVER_VERSION": "26.03", "TRTLLM_VERSION": row["tensorrt_llm"]}, row["tensorrt"], "0.21.0"))
    assert all(f.severity.value == "ok" for f in fs)


def test_an_old_driver_is_a_warning_and_an_unknown_release_says_nothing():
    row = vm.row_for(vm.load(), "26.03")
    (f,) = _run(_facts({"NVIDIA_TRITON_SERVER_VERSION": "26.03"}, None, None, driver="470.57.02"))
    assert f.severity.value == "warning" and "470.57.02" in f.title and f.kb == "cuda-driver-too-old"
    assert _run(_facts({"NVIDIA_TRITON_SERVER_VERSION": "19.01"}, "5.0", None)) == []
    assert _run(_facts({}, "10.14", None)) == []
