"""`trtdiag plan --model-config config.json --llm-api-options X.yaml`: the PyTorch backend's KV cache
before launch, through the CLI, against the real PyTorch-backend logs of tests/data/torch_memory
(MANIFEST.md gives each one's source, model, GPU and options):

| log | KV figure of the log | trtdiag |
|---|---|---|
| NVIDIA/TensorRT-LLM#6294, Llama-3.1-8B-FP8, H100, 0.20.0 | 860,308 tokens (profiling estimate) | +2.3 % |
| NVIDIA/TensorRT-LLM#5306, Qwen2.5-VL-7B, L20, 0.21.0rc1 | 301,472 tokens | +1.9 % |
| farbodtavakkoli/OTel, Qwen3-Reranker-0.6B, H100, 1.2.1 | 643,136 tokens | +0.0 % |
| jeansblog/trt_llm, gpt-oss-120b, DGX Spark, 1.1.0rc3 | 86,711 tokens (profiling estimate) | +6.5 % (miss) |
| javiercancela.github.io, Qwen3-8B-FP8, RTX 5060 Ti 16GB, 1.2.0rc2 | 46,976 tokens | +22.4 % (miss) |"""

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


def _kv_tokens(*args: str) -> int:
    p = run_cli("plan", *args, "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    return next(f for f in rep["findings"] if f["id"] == "PLAN004")["evidence"]["estimate"]["max_tokens"]


def test_issue_5306_qwen2_5_vl_on_an_l20_within_5_percent(tmp_path):
    """Qwen2.5-VL-7B-Instruct, one L20 (46068 MiB), TensorRT-LLM 0.21.0rc1, quickstart_multimodal.py
    --max_num_tokens 1700 --max_seq_len 1800 --max_batch_size 1: the script's own fraction 0.6 and
    no block reuse.  "Allocated 16.10 GiB for max tokens in paged KV cache (301472)".  The vision tower
    (0.68 B parameters, on the GPU in bf16) is 0.76 GiB of that story: without it the estimate is +6.6 %."""
    y = tmp_path / "vl.yaml"
    y.write_text("max_num_tokens: 1700\nmax_seq_len: 1800\nmax_batch_size: 1\n"
                 "kv_cache_config:\n  free_gpu_memory_fraction: 0.6\n  enable_block_reuse: false\n")
    tokens = _kv_tokens("--model-config", str(DATA / "torch_memory" / "qwen2.5-vl-7b-instruct.config.json"),
                        "--llm-api-options", str(y), "--gpu-memory", "46068MiB")
    assert abs(tokens - 301472) / 301472 < 0.05


def test_qwen3_reranker_on_an_h100_with_the_llm_api_defaults_within_5_percent(tmp_path):
    """Qwen/Qwen3-Reranker-0.6B (the Qwen3-0.6B architecture) through LLM(model=…), one H100 80GB HBM3,
    TensorRT-LLM 1.2.1, no option but the model: "Allocated 68.69 GiB for max tokens in paged KV cache
    (643136)"."""
    y = tmp_path / "llm.yaml"
    y.write_text("tensor_parallel_size: 1\n")
    tokens = _kv_tokens("--model-config", str(DATA / "torch_memory" / "qwen3-0.6b.config.json"),
                        "--llm-api-options", str(y), "--gpu", "H100-80GB")
    assert abs(tokens - 643136) / 643136 < 0.05


def test_gpt_oss_120b_on_a_dgx_spark_is_a_recorded_miss(tmp_path):
    """openai/gpt-oss-120b on a DGX Spark (119.70 GiB unified memory), TensorRT-LLM 1.1.0rc3,
    trtllm-serve --max_batch_size 64 with the YAML of the repository's setup_and_run.sh: the profiling estimate is 86,711 tokens.
    The memory the host itself held (49.78 GiB outside torch after loading, the log's own figure) is
    given as --gpu-memory-used.  Not reproduced within 5 %: +6.5 % (weights 60.67 GiB against the
    63.52 GiB inside torch, non-torch 51.3 against 49.28): see docs/pytorch_backend.md."""
    y = tmp_path / "spark.yaml"
    y.write_text("print_iter_log: false\nmax_batch_size: 64\nkv_cache_config:\n  dtype: \"auto\"\n  free_gpu_memory_fraction: 0.9\n"
                 "cuda_graph_config:\n  enable_padding: true\ndisable_overlap_scheduler: true\n")
    tokens = _kv_tokens("--model-config", str(DATA / "torch_memory" / "gpt-oss-120b.config.json"), "--llm-api-options", str(y),
                        "--gpu-memory", "119.70GiB", "--gpu-memory-used", "49.78GiB")
    err = (tokens - 86711) / 86711
    assert 0.05 < err < 0.08  # the measured miss; a change of the model that moves it is to be looked at


def test_qwen3_8b_fp8_on_an_rtx_5060_ti_is_a_recorded_miss(tmp_path):
    """nvidia/Qwen3-8B-FP8 through LLM(dtype="float16", max_batch_size=1, max_input_len=2048,
    max_seq_len=9192) on an RTX 5060 Ti 16GB (16311 MiB), TensorRT-LLM 1.2.0rc2: "Allocated 3.23 GiB for
    max tokens in paged KV cache (46976)".  Not reproduced: +22.4 %.  The KV cache is the 3.2 GiB left
    of 15.9; 0.8 GiB more peak than estimated (a desktop card: what the display held is not in the post;
    the log has no profiling breakdown to say which part) is the whole gap."""
    y = tmp_path / "q8.yaml"
    y.write_text("dtype: float16\ntensor_parallel_size: 1\nmax_batch_size: 1\nmax_input_len: 2048\nmax_seq_len: 9192\n")
    tokens = _kv_tokens("--model-config", str(DATA / "torch_memory" / "qwen3-8b-fp8.config.json"), "--llm-api-options", str(y),
                        "--gpu-memory", "16311MiB")
    err = (tokens - 46976) / 46976
    assert 0.15 < err < 0.30  # the measured miss


def test_gpu_memory_used_is_checked(tmp_path):
    cfg = str(DATA / "torch_memory" / "qwen3-0.6b.config.json")
    p = run_cli("plan", "--model-config", cfg, "--backend", "pytorch", "--gpu-memory", "24GiB", "--gpu-memory-used", "30GiB")
    assert p.returncode == 2 and "not less than the card" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("plan", "--model-config", cfg, "--backend", "pytorch", "--gpu-memory", "24GiB", "--gpu-memory-used", "20GiB", "--json")
    assert p.returncode == 0, p.stderr
    small = json.loads(p.stdout)
    ev = next(f for f in small["findings"] if f["id"] == "PLAN004")["evidence"]
    assert "20.00 GiB in use before the server starts" in ev["target"]["assumed"]


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
