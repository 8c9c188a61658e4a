"""`trtdiag plan --model-config config.json --llm-api-options X.yaml`: the PyTorch backend's KV cache
before launch, through the CLI.  The public log of NVIDIA/TensorRT-LLM#6294 (tests/data/torch_memory)
is the measurement: the profiling pass gave 860,308 tokens."""

from __future__ import annotations

import json

from tests.conftest import DATA, run_cli

CFG = DATA / "torch_memory" / "llama-3.1-8b-fp8.config.json"


def test_issue_6294_through_the_cli_within_5_percent(tmp_path):
    y = tmp_path / "bench.yaml"
    y.write_text("max_num_tokens: 23552\nmax_seq_len: 157\nmax_batch_size: 4096\nkv_cache_config:\n  free_gpu_memory_fraction: 0.8\n")
    p = run_cli("plan", "--model-config", str(CFG), "--llm-api-options", str(y), "--gpu", "H100-80GB", "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    verdict = next(f for f in rep["findings"] if f["id"] == "PLAN003")
    levers = next(f for f in rep["findings"] if f["id"] == "PLAN004")
    tokens = levers["evidence"]["estimate"]["max_tokens"]
    assert abs(tokens - 860308) / 860308 < 0.05
    assert verdict["severity"] == "ok" and "sequences of 157 tokens" in verdict["title"]
    assert {r["lever"] for r in levers["evidence"]["lever rows"]} >= {"free_gpu_memory_fraction 0.95", "tensor_parallel_size 2"}


def test_plan_flags_override_the_yaml_and_terminal_table(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("kv_cache_config:\n  free_gpu_memory_fraction: 0.5\n")
    p = run_cli("plan", "--model-config", str(CFG), "--llm-api-options", str(y), "--gpu-memory", "24GiB",
                "--kv-cache-free-gpu-mem-fraction", "0.9")
    assert p.returncode == 0, p.stderr
    assert "configuration" in p.stdout and "fraction 0.9" in p.stdout


def test_does_not_load_on_a_small_card():
    p = run_cli("plan", "--model-config", str(CFG), "--backend", "pytorch", "--gpu-memory", "8GiB")
    assert p.returncode == 1 and "Does not load" in p.stdout


def test_bad_inputs_are_one_line(tmp_path):
    y = tmp_path / "bad.yaml"
    y.write_text("kv_cache_config: [\n")
    p = run_cli("plan", "--model-config", str(CFG), "--llm-api-options", str(y), "--gpu", "H100-80GB")
    assert p.returncode == 2 and "not valid YAML" in p.stderr and "Traceback" not in p.stderr
    eng = tmp_path / "engine.json"
    eng.write_text(json.dumps({"pretrained_config": {}, "build_config": {}}))
    p = run_cli("plan", "--model-config", str(eng), "--backend", "pytorch", "--gpu", "H100-80GB")
    assert p.returncode == 2 and "not a Hugging Face config.json" in p.stderr
    p = run_cli("plan", "--engine-dir", str(tmp_path), "--backend", "pytorch", "--gpu", "H100-80GB")
    assert p.returncode == 2 and "give --model-config" in p.stderr
