"""The 2026 deployment pieces: trtllm-serve command lines, the Triton llmapi model, the version matrix."""

from __future__ import annotations

import subprocess
import sys

import yaml

from trtdiag.derive import serve_launch as sl
from trtdiag.derive import triton_llmapi as tl
from trtdiag.derive import version_matrix as vm

from .conftest import REPO


def test_serve_command_line():
    p = sl.parse(["/models/llama", "--config", "a.yaml", "--extra_llm_api_options=b.yaml", "--set", "kv_cache_config.dtype=fp8",
                  "--set=max_batch_size=8", "--host", "0.0.0.0", "--port=9000", "--tp_size", "2", "--trust_remote_code",
                  "--kv_cache_free_gpu_memory_fraction", "0.8"])
    assert p["model"] == "/models/llama" and p["yaml"] == "b.yaml" and p["sets"] == ["kv_cache_config.dtype=fp8", "max_batch_size=8"]
    assert p["host"] == "0.0.0.0" and p["host_given"] and p["port"] == 9000 and p["options"]["--trust_remote_code"] is True
    assert p["options"]["--tp_size"] == "2" and p["backend"] == "pytorch"
    d = sl.parse(["serve", "m", "--backend", "trt"])
    assert d["host"] == "localhost" and not d["host_given"] and d["port"] == 8000 and d["backend"] == "tensorrt" and d["yaml"] is None
    assert sl.world_size({"tensor_parallel_size": 4, "pipeline_parallel_size": 2}) == 8 and sl.world_size({}) == 1


def test_localhost_in_a_container_is_a_warning():
    w = sl.host_problem("localhost", in_container=True, host_given=False)
    assert w["severity"] == "warning" and "(the default of --host)" in w["message"] and "--host 0.0.0.0" in w["message"]
    assert sl.host_problem("localhost", in_container=False, host_given=False) is None
    assert sl.host_problem("0.0.0.0", in_container=True, host_given=True) is None


MODEL_YAML = """\
model: TinyLlama/TinyLlama-1.1B-Chat-v1.0
backend: "pytorch"
tensor_parallel_size: 1
pipeline_parallel_size: 1
triton_config:
  max_batch_size: 0
  decoupled: False
"""


def test_llmapi_model_checks():
    pbtxt = {"backend": "python", "max_batch_size": None, "decoupled": None, "parameters": {}}
    assert tl.check(pbtxt, yaml.safe_load(MODEL_YAML), yaml_path="1/model.yaml", visible_gpus=1) == []
    ids = {p["id"] for p in tl.check({**pbtxt, "max_batch_size": 64, "decoupled": True, "transaction_policy_set": True},
                                     yaml.safe_load(MODEL_YAML), yaml_path="y")}
    assert ids == {"pbtxt-max-batch-size", "pbtxt-decoupled"}
    bad = yaml.safe_load(MODEL_YAML.replace("triton_config:\n  max_batch_size: 0\n", "decoupled: true\ntriton_config:\n")
                         .replace("tensor_parallel_size: 1", "tensor_parallel_size: 4"))
    ids = {p["id"] for p in tl.check({**pbtxt, "parameters": {"gpu_device_ids": "0,1"}}, bad, yaml_path="y", visible_gpus=2)}
    assert ids == {"triton-config-key", "triton-key-top-level", "gpu-device-ids", "ranks-gt-gpus"}
    assert tl.check(pbtxt, None, yaml_path="1/model.yaml")[0]["id"] == "yaml-missing"
    missing = tl.check(pbtxt, yaml.safe_load(MODEL_YAML.replace("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "/models/none")), yaml_path="y",
                       model_dir_info={"exists": False})
    assert [p["id"] for p in missing] == ["model-path"]
    assert tl.config_path("/repo/tensorrt_llm/1", {"LLM_CONFIG_PATH": "/etc/llm.yaml"}) == "/etc/llm.yaml"
    assert tl.config_path("/repo/tensorrt_llm/1", {}) == "/repo/tensorrt_llm/1/model.yaml"


def test_version_matrix_data_and_lookup():
    m = vm.load()
    rows = m["trtllm_container"]
    assert len(rows) >= 28 and all(r["source"].startswith("triton-inference-server/server@") for r in rows)
    r = vm.row_for(m, "26.03-trtllm-python-py3")
    assert (r["tensorrt_llm"], r["tensorrt"], r["cuda"], r["cuda_driver"]) == ("1.2.0", "10.14.1.48", "13.1.0.036", "590.44.01")
    assert vm.row_for(m, "25.12")["tensorrt_llm"] == "1.1.0"
    assert vm.release_from_env({"NVIDIA_TRITON_SERVER_VERSION": "26.03", "TRITON_SERVER_VERSION": "2.67.0"}) == "26.03"
    assert vm.compare(r, {"tensorrt": "10.14.1.48", "tensorrt_llm": "1.2.0"}, "590.44.01") == []
    diffs = {d["what"] for d in vm.compare(r, {"tensorrt": "10.13.3.9", "tensorrt_llm": "1.2.1"}, "580.95.05")}
    assert diffs == {"TensorRT", "TensorRT-LLM", "driver"}
    assert {c["name"] for c in m["container_marker"]} == {"TRITON_SERVER_VERSION", "NVIDIA_TRITON_SERVER_VERSION", "com.nvidia.tritonserver.version"}


def test_version_matrix_tool_reproduces_the_data(tmp_path):
    import os

    mirror = "/work/.mirror/triton-inference-server+server/repo"
    if not os.path.isdir(mirror):
        import pytest

        pytest.skip("no mirror of triton-inference-server/server here (the tool's input)")
    out = tmp_path / "vm.toml"
    r = subprocess.run([sys.executable, "tools/harvest_version_matrix.py", "--git-dir", mirror, "--ref", "v2.71.0", "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == (REPO / "trtdiag" / "data" / "version_matrix.toml").read_text()


def test_container_matrix_findings():
    m = vm.load()
    env = {"NVIDIA_TRITON_SERVER_VERSION": "26.03"}
    assert [f["severity"] for f in vm.check(m, env, {"tensorrt": "10.14.1.48", "tensorrt_llm": "1.2.0"}, "590.48.01")] == ["ok"]
    fs = vm.check(m, env, {"tensorrt": "10.14.1.48", "tensorrt_llm": "1.3.0rc16"}, "580.95.05")
    assert sorted((f["severity"], f["evidence"]["what"]) for f in fs) == [("error", "TensorRT-LLM"), ("warning", "driver")]
    assert vm.check(m, {}, {"tensorrt": "1"}, None) == [] and vm.check(m, {"NVIDIA_TRITON_SERVER_VERSION": "19.01"}, {}, None) == []
