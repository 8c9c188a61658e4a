"""The PyTorch-backend memory model (trtdiag/derive/torch_memory.py) against real logs from public
threads (tests/data/torch_memory/MANIFEST.md), and the log-line extractor."""

from __future__ import annotations

import json

import pytest

from trtdiag.derive import torch_memory as tm
from trtdiag.derive.hf_model import model_format, read_hf_config

from .conftest import DATA

D = DATA / "torch_memory"
GiB = 1 << 30
H100_TOTAL = 85_520_809_984  # NVML total of the H100 80GB HBM3 in tests/data/gpu (recorded)


def test_parse_log_profiling_line_all_formats():
    p = tm.parse_log((D / "dynamo-parser-fixture.log").read_text())
    assert p["profiling"] == {"peak_gib": 91.46, "available_kv_gib": 41.11, "fraction": 0.85, "kv_size_per_token": 35136, "total_gib": 139.81}
    assert p["allocated"] == {"gib": 41.11, "tokens": 524288}
    assert tm.available_from_log(p) == pytest.approx(41.10, abs=0.01)  # (139.81 − 91.46) × 0.85
    newest = ("[TRT-LLM] [RANK 0] [I] Peak memory during memory usage profiling (torch + non-torch): 20.00 GiB, available KV cache "
              "memory when calculating max tokens: 50.40 GiB, fraction is set 0.9, kv size per token is 131072. device total memory "
              "79.65 GiB, temporary kv cache memory during profiling 1.20 GiB")
    pr = tm.parse_log(newest)["profiling"]
    assert pr["tmp_kv_gib"] == 1.2 and pr["kv_size_per_token"] == 131072
    mid = ("Peak memory during memory usage profiling (torch + non-torch): 30.12 GiB, available KV cache memory when calculating "
           "max tokens: 40.00 GiB, fraction is set 0.9, kv size is 65536. device total memory 79.65 GiB, , tmp kv_mem 0.50 GiB")
    assert tm.parse_log(mid)["profiling"]["tmp_kv_gib"] == 0.5
    old = "Peak memory during memory usage profiling (torch + non-torch): 30.12 GiB, available KV cache memory when calculating max tokens: 40.00 GiB"
    assert tm.parse_log(old)["profiling"] == {"peak_gib": 30.12, "available_kv_gib": 40.0}


def test_parse_log_allocation_lines():
    p = tm.parse_log((D / "nvidia-trtllm-6294.log").read_text())
    assert p["both_set"] == {"fraction": 0.800000011920929, "max_tokens": 860308}
    assert p["allocated"] == {"gib": 52.51, "tokens": 860320} and p["tokens_per_block"] == 32
    t = tm.parse_log((D / "triton-tutorials-150.log").read_text())
    assert t["allocated"]["tokens"] == 3731744 and t["tokens_per_block"] == 32
    assert round(t["allocated"]["gib"] * GiB / t["allocated"]["tokens"]) == 22529  # 22,528 B/token, as printed to 2 decimals


def test_kv_formula_cap_and_blocks():
    kv = tm.kv_cache(total=100 * GiB, peak=40 * GiB, fraction=0.5, kv_per_token=1 << 17, tmp_kv=2 * GiB)
    assert kv["available_kv_mem"] == 31 * GiB and kv["max_tokens"] == 31 * GiB // (1 << 17) and kv["blocks"] == kv["max_tokens"] // 32
    assert tm.kv_cache(100 * GiB, 40 * GiB, None, 1 << 17)["fraction"] == 0.9
    assert tm.kv_cache(100 * GiB, 40 * GiB, 0.9, 1 << 17, max_tokens=1000)["capped_by"] == "kv_cache_config.max_tokens"
    assert tm.kv_cache(100 * GiB, 40 * GiB, 0.9, 1 << 17, max_gpu_total_bytes=GiB)["max_tokens"] == 8192


def test_kv_size_per_token_rules():
    llama = read_hf_config(json.loads((D / "llama-3.1-8b-fp8.config.json").read_text()))
    assert tm.kv_size_per_token(llama) == 2 * 32 * 8 * 128 * 1  # FP8 KV from the checkpoint's kv_cache_quant_algo
    assert tm.kv_size_per_token(llama, kv_cache_dtype="bfloat16") == 131072
    assert tm.kv_size_per_token(llama, tp=2) == 32768 and tm.kv_size_per_token(llama, tp=16, kv_cache_dtype="bf16") == 2 * 32 * 1 * 128 * 2
    assert tm.kv_size_per_token(llama, pp=2) == 32768
    mla = {"num_hidden_layers": 61, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "torch_dtype": "bfloat16"}
    assert tm.kv_size_per_token(mla, tp=8) == 2 * 61 * 576


def test_issue_6294_kv_figure_from_config_within_5_percent():
    """Llama-3.1-8B-Instruct-FP8 on one H100 80GB, TensorRT-LLM 0.20.0: the profiling pass gave
    max_tokens 860308 (52.51 GiB at 65,536 B/token) with fraction 0.8 and max_num_tokens 23552."""
    hf = read_hf_config(json.loads((D / "llama-3.1-8b-fp8.config.json").read_text()))
    log = tm.parse_log((D / "nvidia-trtllm-6294.log").read_text())
    e = tm.estimate(hf, H100_TOTAL, max_num_tokens=23552, max_seq_len=157, max_batch_size=4096, fraction=0.8)
    assert e["weights"] / GiB == pytest.approx(8.46, abs=0.05)  # "Rank 0 uses 8.46 GB for model weights"
    real = log["both_set"]["max_tokens"]
    assert abs(e["max_tokens"] - real) / real < 0.05
    assert e["blocks_per_sequence"] == 5  # "Max KV cache pages per sequence: 5 [window size=157]"
    assert e["holds_batch"]


def test_model_format_as_get_model_format():
    assert model_format(None)["error"].startswith("Failed to infer model format because no config.json exists")
    assert model_format({"pretrained_config": {}, "build_config": {}}, ["rank0.engine"])["format"] == "TLLM_ENGINE"
    assert model_format({"architecture": "LlamaForCausalLM", "dtype": "float16"})["format"] == "TLLM_CKPT"
    hf = model_format({"architectures": ["LlamaForCausalLM"]}, ["model.safetensors", "tokenizer.json", "x.txt"])
    assert hf["format"] == "HF" and hf["weights"] == ["model.safetensors"] and hf["tokenizer"] == ["tokenizer.json"]


def test_read_hf_config_fields():
    cfg = {"architectures": ["Gemma3ForConditionalGeneration"], "text_config": {
        "num_hidden_layers": 34, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "hidden_size": 2560,
        "sliding_window": 1024, "vocab_size": 262208, "torch_dtype": "bfloat16"}, "quantization_config": {"quant_method": "fp8"}}
    r = read_hf_config(cfg)
    assert r["num_hidden_layers"] == 34 and r["head_dim"] == 256 and r["sliding_window"] == 1024 and r["architectures"] == ["Gemma3ForConditionalGeneration"]
    assert tm.weight_precision(r) == (1, "fp8")
    assert read_hf_config("nope") == {}


def test_plan_levers_for_the_6294_run():
    hf = read_hf_config(json.loads((D / "llama-3.1-8b-fp8.config.json").read_text()))
    args = {"max_num_tokens": 23552, "max_seq_len": 157, "max_batch_size": 4096, "kv_cache_config": {"free_gpu_memory_fraction": 0.8}}
    p = tm.plan(hf, H100_TOTAL, args, gpu_cc=(9, 0))
    rows = {r["lever"]: r for r in p["levers"]}
    assert p["asked"]["fraction"] == 0.8 and p["inputs"]["max_num_tokens"] == 23552
    assert rows["free_gpu_memory_fraction 0.95"]["gain_tokens"] > 0
    assert rows["max_num_tokens 11776"]["gain_tokens"] > 0
    assert "FP8 KV cache" not in rows  # the checkpoint's KV is FP8 already
    assert rows["tensor_parallel_size 2"]["kv_tokens"] > 2 * p["asked"]["max_tokens"]
    bf16 = dict(hf, quantization=None)
    assert any(r["lever"] == "FP8 KV cache" for r in tm.plan(bf16, H100_TOTAL, {}, gpu_cc=(9, 0))["levers"])
    assert not any(r["lever"] == "FP8 KV cache" for r in tm.plan(bf16, H100_TOTAL, {}, gpu_cc=(8, 0))["levers"])


def test_explain_log_redoes_the_formula():
    e = tm.explain_log(tm.parse_log((D / "dynamo-parser-fixture.log").read_text()))
    assert e["available_recomputed_gib"] == 41.1 and e["formula"] == "(139.81 − 91.46) × 0.85 = 41.10 GiB (log: 41.11 GiB)"
    assert tm.explain_log({}) is None


def test_plan_table_and_summary_lines():
    hf = read_hf_config(json.loads((D / "llama-3.1-8b-fp8.config.json").read_text()))
    p = tm.plan(hf, H100_TOTAL, {"max_num_tokens": 23552, "max_seq_len": 157, "kv_cache_config": {"free_gpu_memory_fraction": 0.8}})
    t = tm.table(p)
    assert t.splitlines()[0].startswith("configuration") and "as asked" in t and "tensor_parallel_size 2" in t
    s = tm.summary(p["asked"])
    assert s.startswith("79.65 GiB − weights 8.46") and "880,396 tokens at 65,536 B/token" in s


def test_attention_dp_keeps_the_whole_attention_on_each_rank():
    hf = read_hf_config(json.loads((D / "llama-3.1-8b-fp8.config.json").read_text()))
    tp = tm.weights_per_rank(hf, tp=8)["bytes"]
    adp = tm.weights_per_rank(hf, tp=8, attention_dp=True)["bytes"]
    pc = tm.param_counts(hf)
    assert adp - tp == pytest.approx(pc["attention"] * (1 - 1 / 8), rel=1e-6)  # FP8: 1 byte per weight
    assert tm.kv_size_per_token(hf, tp=8, attention_dp=True) == tm.kv_size_per_token(hf, tp=1)


def test_explain_names_the_kv_cache_numbers_of_a_public_log():
    from tests.conftest import run_json

    code, rep = run_json("explain", str(D / "nvidia-trtllm-6294.log"))
    f = next(f for f in rep["findings"] if f["id"] == "EXP:pytorch-kv-cache-sizing")
    ev = f["evidence"]
    assert ev["max_tokens"] == "860308" and ev["kv_gib"] == "52.51" and ev["tokens"] == "860320"
    # the same numbers as the extractor explain's arithmetic uses
    p = tm.parse_log((D / "nvidia-trtllm-6294.log").read_text())
    assert p["both_set"]["max_tokens"] == int(ev["max_tokens"]) and p["allocated"]["gib"] == float(ev["kv_gib"])


def test_parse_log_spark_breakdown_and_the_last_of_two_allocations():
    """jeansblog/trt_llm (gpt-oss-120b, DGX Spark, 1.1.0rc3): the profiling pass's temporary cache
    (8,224 tokens) and then the real one (86,720); the peak's three parts add up to the peak."""
    p = tm.parse_log((D / "jeansblog-trt_llm-gpt-oss-120b-spark.log").read_text())
    assert p["version"] == "1.1.0rc3"
    assert p["profiling"] == {"peak_gib": 113.65, "available_kv_gib": 5.95, "fraction": 0.8999999761581421,
                              "kv_size_per_token": 73728, "total_gib": 119.7, "tmp_kv_gib": 0.56}
    assert p["allocations"] == [{"gib": 0.56, "tokens": 8224}, {"gib": 5.95, "tokens": 86720}]
    assert p["allocated"] == {"gib": 5.95, "tokens": 86720} and p["both_set"]["max_tokens"] == 86711
    assert (p["weights_gib"], p["weights_outside_torch_gib"], p["activations_gib"], p["non_torch_gib"]) == (63.52, 49.78, 0.85, 49.28)
    assert p["estimated_kv_gib"] == 5.95 and p["model_weights_gb"] == 63.32
    assert p["runtime"] == {"max_seq_len": 86720, "max_num_requests": 64, "max_num_tokens": 8192, "max_batch_size": 64}
    e = tm.explain_log(p)
    assert e["available_recomputed_gib"] == 5.95 and e["temporary_allocation"]["tokens"] == 8224
    assert e["peak_parts"].endswith("= 113.65 GiB (log peak 113.65 GiB)")
    # 73,728 B/token = 36 layers × 8 KV heads × 64 × 2 (K, V) × 2 bytes, from config.json
    hf = read_hf_config(json.loads((D / "gpt-oss-120b.config.json").read_text()))
    assert tm.kv_size_per_token(hf) == 73728


def test_parse_log_allocation_only_logs():
    assert tm.parse_log((D / "nvidia-trtllm-5306.log").read_text())["allocated"] == {"gib": 16.1, "tokens": 301472}
    assert tm.parse_log((D / "farbodtavakkoli-otel-qwen3-reranker-h100.log").read_text())["allocated"] == {"gib": 68.69, "tokens": 643136}
    # the bytes per token each allocation implies are the config.json's KV sizes (bf16)
    vl = read_hf_config(json.loads((D / "qwen2.5-vl-7b-instruct.config.json").read_text()))
    q3 = read_hf_config(json.loads((D / "qwen3-0.6b.config.json").read_text()))
    assert tm.kv_size_per_token(vl) == 57344 and round(16.10 * GiB / 301472 / 100) == 573
    assert tm.kv_size_per_token(q3) == 114688 and round(68.69 * GiB / 643136 / 100) == 1147


def test_unquantized_attention_and_the_vision_tower():
    oss = read_hf_config(json.loads((D / "gpt-oss-120b.config.json").read_text()))
    assert tm.attention_unquantized(oss)  # modules_to_not_convert: model.layers.*.self_attn
    pc = tm.param_counts(oss)
    w = tm.weights_per_rank(oss)
    b_lin = w["linear_bytes_per_param"]
    assert w["bytes"] == int(pc["attention"] * 2 + pc["mlp"] * b_lin + pc["embedding"] * 2)
    llama = read_hf_config(json.loads((D / "llama-3.1-8b-fp8.config.json").read_text()))
    assert not tm.attention_unquantized(llama) and tm.vision_params(llama) == 0
    one_proj = {"quantization": {"exclude_modules": ["model.layers.*.self_attn.q_proj", "lm_head"]}}
    assert not tm.attention_unquantized(one_proj) and tm.attention_unquantized({"quantization": {"exclude_modules": ["re:.*self_attn.*"]}})
    vl = read_hf_config(json.loads((D / "qwen2.5-vl-7b-instruct.config.json").read_text()))
    assert tm.vision_params(vl) == 676_550_144  # 32 blocks of 1280 wide, merger 5120 → 3584, patch Conv3d
    assert tm.weights_per_rank(vl)["vision_bytes"] == 2 * 676_550_144


def test_blocks_round_max_tokens_up():
    kv = tm.kv_cache(100 * GiB, 40 * GiB, 0.9, 65536, max_tokens=860308)
    assert kv["max_tokens"] == 860308 and kv["blocks"] * 32 == 860320  # "Allocated 52.51 GiB … (860320)", #6294


def test_explain_gives_the_runs_own_figures_not_the_temporary_cache():
    from tests.conftest import run_json

    code, rep = run_json("explain", str(D / "jeansblog-trt_llm-gpt-oss-120b-spark.log"))
    ev = next(f for f in rep["findings"] if f["id"] == "EXP:pytorch-kv-cache-sizing")["evidence"]
    assert ev["kv cache"].startswith("86,720 tokens, 5.95 GiB") and "temporary cache" in ev["kv cache"]
    assert ev["kv formula"] == "(119.7 − 113.65 + 0.56) × 0.9 = 5.95 GiB (log: 5.95 GiB)"
    assert "63.52 (inside torch after loading)" in ev["peak"] and ev["tensorrt_llm"] == "1.1.0rc3"
    assert "tokens" not in ev and "max_tokens" not in ev  # the first lines' 8,224 are not the run's
    for log, want in (("nvidia-trtllm-5306.log", "301,472 tokens, 16.1 GiB"), ("farbodtavakkoli-otel-qwen3-reranker-h100.log", "643,136 tokens, 68.69 GiB")):
        code, rep = run_json("explain", str(D / log))
        ev = next(f for f in rep["findings"] if f["id"] == "EXP:pytorch-kv-cache-sizing")["evidence"]
        assert ev["kv cache"].startswith(want)


def test_parse_log_rtx5060ti_two_allocations():
    p = tm.parse_log((D / "javiercancela-qwen3-8b-fp8-rtx5060ti.log").read_text())
    assert p["version"] == "1.2.0rc2" and p["allocated"] == {"gib": 3.23, "tokens": 46976}
    assert p["allocations"][0] == {"gib": 0.56, "tokens": 8224}  # max_num_tokens 8192 + one block: the profiling pass's cache
    hf = read_hf_config(json.loads((D / "qwen3-8b-fp8.config.json").read_text()))
    assert tm.kv_size_per_token(hf) == 73728 and round(3.23 * GiB / 46976 / 100) == 738  # 36 × 8 × 128 × 2 × FP8
