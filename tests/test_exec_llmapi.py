"""`trtdiag exec -- trtllm-serve …` and `-- python3 launch_triton_server.py --model_repo …` for the
PyTorch backend: a doomed start is stopped before launch, a correct one is launched.

Test doubles, each named: the launched programs are stand-in scripts named `trtllm-serve` and
`launch_triton_server.py` that write a marker (the real ones do not install on a CPU machine); the
installed tensorrt_llm is tests/data/llmapi/site (a dist-info and an llm_args.py in TensorRT-LLM's
shape), put on this interpreter's path; the GPU is a recorded NVML inventory of one H100
(tests/data/gpu/h100-80gb_idle.json)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.conftest import DATA, REPO, run_cli

SITE = DATA / "llmapi" / "site"
GPU = DATA / "gpu" / "h100-80gb_idle.json"
LLAMA = json.loads((DATA / "torch_memory" / "llama-3.1-8b-fp8.config.json").read_text())
ONLY = ["--only", "llmapi,CTR004"]


@pytest.fixture()
def env(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    marker = tmp_path / "started"
    stub = bindir / "trtllm-serve"
    stub.write_text(f"#!/bin/sh\necho \"$@\" > {marker}\n")
    stub.chmod(0o755)
    (tmp_path / "launch_triton_server.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    model = tmp_path / "llama"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(LLAMA))
    (model / "model.safetensors").write_bytes(b"")
    return {"vars": {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": f"{REPO}{os.pathsep}{SITE}",
                     "TRTDIAG_GPU_INVENTORY": str(GPU), "CUDA_VISIBLE_DEVICES": "0"},
            "marker": marker, "model": model, "tmp": tmp_path}


def serve(env, yaml_text, *extra):
    y = env["tmp"] / "config.yaml"
    y.write_text(yaml_text)
    return run_cli("exec", *ONLY, "--", "trtllm-serve", str(env["model"]), "--config", str(y), "--host", "0.0.0.0", *extra,
                   env=env["vars"])


def test_a_correct_launch_goes_ahead(env):
    p = serve(env, "max_batch_size: 64\nkv_cache_config:\n  free_gpu_memory_fraction: 0.85\n")
    assert p.returncode == 0, p.stderr
    assert env["marker"].read_text().startswith(str(env["model"]))


@pytest.mark.parametrize("yaml_text,extra,expect", [
    ("free_gpu_memory_fraction: 0.85\n", (), "did you mean kv_cache_config.free_gpu_memory_fraction?"),
    ("max_batch_size: 64\nenable_turbo_mode: true\n", (), "enable_turbo_mode is not an LlmArgs field"),
    ("kv_cache_config:\n  free_gpu_memory_fraction: 1.5\n", (), "kv_cache_config.free_gpu_memory_fraction is 1.5; it must be <= 1"),
    ("tensor_parallel_size: 2\n", (), "= 2, but 1 GPU(s) are visible"),
    ("max_batch_size: 64\n", ("--tp_size", "2"), "2 ranks to start but only 1 GPU(s) visible"),
])
def test_a_doomed_launch_is_stopped(env, yaml_text, extra, expect):
    p = serve(env, yaml_text, *extra)
    assert p.returncode == 1, p.stderr
    assert not env["marker"].exists()
    assert expect in p.stderr and "not launching" in p.stderr
    assert "Traceback" not in p.stderr


def test_localhost_in_a_container_warns_and_launches(env, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / ".dockerenv").write_text("")
    y = tmp_path / "c.yaml"
    y.write_text("max_batch_size: 8\n")
    p = run_cli("exec", *ONLY, "--", "trtllm-serve", str(env["model"]), "--config", str(y),
                env={**env["vars"], "TRTDIAG_ROOT": str(root)})
    assert p.returncode == 0, p.stderr
    assert "listens on localhost (the default of --host) inside a container" in p.stderr


def _llmapi_repo(env, model_yaml: str, pbtxt_extra: str = ""):
    repo = env["tmp"] / "repo"
    (repo / "tensorrt_llm" / "1").mkdir(parents=True)
    (repo / "tensorrt_llm" / "config.pbtxt").write_text(
        f'name: "tensorrt_llm"\nbackend: "python"\n{pbtxt_extra}instance_group [ {{ count: 1 kind: KIND_CPU }} ]\n')
    (repo / "tensorrt_llm" / "1" / "model.yaml").write_text(model_yaml.replace("MODEL", str(env["model"])))
    return repo


def launch_triton(env, repo):
    return run_cli("exec", *ONLY, "--", sys.executable, str(env["tmp"] / "launch_triton_server.py"), "--model_repo", str(repo),
                   env=env["vars"])


GOOD_MODEL_YAML = "model: MODEL\nbackend: pytorch\ntensor_parallel_size: 1\ntriton_config:\n  max_batch_size: 0\n  decoupled: false\n"


def test_triton_llmapi_repository_launches_when_correct(env):
    p = launch_triton(env, _llmapi_repo(env, GOOD_MODEL_YAML))
    assert p.returncode == 0, p.stderr
    assert env["marker"].read_text() == "ran"


@pytest.mark.parametrize("model_yaml,pbtxt,expect", [
    (GOOD_MODEL_YAML.replace("backend: pytorch\n", "backend: pytorch\nfree_gpu_memory_fraction: 0.9\n"), "",
     "did you mean kv_cache_config.free_gpu_memory_fraction?"),
    ("model: MODEL\nmax_batch_size: 8\ndecoupled: true\n", "", "has no triton_config mapping"),
    (GOOD_MODEL_YAML.replace("tensor_parallel_size: 1", "tensor_parallel_size: 2"), "", "but 1 GPU(s) are visible"),
    (GOOD_MODEL_YAML.replace("model: MODEL", "model: /no/such/model"), "", "is a local path that does not exist"),
])
def test_triton_llmapi_repository_problems_stop_the_launch(env, model_yaml, pbtxt, expect):
    p = launch_triton(env, _llmapi_repo(env, model_yaml, pbtxt))
    assert p.returncode == 1, p.stderr
    assert not env["marker"].exists() and expect in p.stderr
