"""The GPU memory of one rank of TensorRT-LLM's PyTorch backend (``trtllm-serve``, the llmapi
Triton model), per rank, in bytes.  Pure functions.

How the backend sizes its KV cache (``tensorrt_llm/_torch/pyexecutor/_util.py``, the versions read
here: ``cal_max_tokens`` / ``KvCacheCreator._cal_max_tokens``):

1. load the weights, then run a profiling pass of dummy context requests filling ``max_num_tokens``
   (``create_dummy_context_requests(max_num_tokens, max_seq_len, vocab_size)``) with a temporary
   KV cache of ``alloc_kv_tokens`` tokens;
2. ``peak_memory`` = the peak during that pass, torch + non-torch (NCCL, CUDA graphs, context);
3. ``available_kv_mem = (total_gpu_memory - peak_memory + alloc_kv_tokens * kv_size_per_token) * fraction``
   with ``fraction = kv_cache_config.free_gpu_memory_fraction`` (None → 0.9),
   ``max_tokens = available_kv_mem // kv_size_per_token``;
4. capped by ``kv_cache_config.max_tokens`` ("Both free_gpu_memory_fraction and max_tokens are set
   … The smaller value will be used.") and by ``kv_cache_config.max_gpu_total_bytes`` (the smaller
   of the two wins, NVIDIA/TensorRT-LLM#5933);
5. held in whole blocks (max_tokens rounded up) of ``tokens_per_block`` = 32 tokens ("Number of
   tokens per block: 32." in the PyTorch-backend logs of tests/data/torch_memory).

``kv_size_per_token`` (``get_cache_size_per_token``): bytes of the KV dtype × layers of this pipeline
stage × ``hidden_size * num_key_value_heads / num_attention_heads / tp_size`` × 2 (K and V); MLA
models (``kv_lora_rank``): ``kv_lora_rank + qk_rope_head_dim`` × 1; tp counts 1 under attention DP.

``peak_memory`` is not knowable before the run; :func:`estimate` puts weights (parameters × bytes,
per rank), activations (``max_num_tokens`` × the widest tensors of a layer, an estimate) and the
non-torch part (CUDA context and library workspaces, a constant) in its place.  After a run, the
real figures are in the log: :func:`parse_log` reads them.
"""

from __future__ import annotations

import math
import re
from typing import Any

GiB = 1 << 30
TOKENS_PER_BLOCK = 32
DEFAULT_FRACTION = 0.9  # _util.py: "if fraction is None: fraction = 0.9"
CUDA_CONTEXT = 543_162_368  # measured on an H100 (../shared/docs/gpu_memory_facts.md), as in trtdiag/memory.py
NON_TORCH_EXTRA = 1 << 30  # cuBLAS/NCCL workspaces, CUDA graphs of the warm-up: an estimate, 1 GiB

_DTYPE_BYTES = {"float32": 4, "float": 4, "fp32": 4, "bfloat16": 2, "bf16": 2, "float16": 2, "fp16": 2, "half": 2,
                "fp8": 1, "float8_e4m3fn": 1, "e4m3": 1, "int8": 1, "nvfp4": 0.5625, "fp4": 0.5625, "int4": 0.5, "w4a16": 0.5}


def dtype_bytes(name: Any, default: float = 2) -> float:
    if not isinstance(name, str):
        return default
    return _DTYPE_BYTES.get(name.lower().replace("torch.", ""), default)


def weight_precision(hf: dict[str, Any]) -> tuple[float, str]:
    """(bytes per weight of the linear layers, label) from config.json's quantization_config / torch_dtype."""
    q = hf.get("quantization") or {}
    method = str(q.get("quant_method") or "").lower()
    algo = str(q.get("quant_algo") or "").upper()
    fmt = str(q.get("fmt") or "").lower()
    if algo in ("NVFP4", "W4A8_NVFP4_FP8") or method in ("nvfp4",):
        return 0.5625, "nvfp4"  # 4 bits + one fp8 scale per 16
    if method == "mxfp4":
        return 0.53125, "mxfp4"  # 4 bits + one e8m0 scale per 32
    if algo.startswith("FP8") or method == "fp8" or fmt in ("e4m3", "float8_e4m3fn"):
        return 1, "fp8"
    if algo.startswith("W4") or method in ("awq", "gptq") or q.get("bits") == 4:
        return 0.5, "int4"
    if algo.startswith("W8") or q.get("bits") == 8:
        return 1, "int8"
    return dtype_bytes(hf.get("torch_dtype"), 2), (hf.get("torch_dtype") or "bfloat16")


def kv_dtype_bytes(hf: dict[str, Any], kv_cache_dtype: str | None) -> float:
    """``kv_cache_config.dtype`` 'auto' (default) takes the checkpoint's kv_cache_quant_algo, else the model dtype."""
    if kv_cache_dtype and kv_cache_dtype != "auto":
        return dtype_bytes(kv_cache_dtype, 2)
    kvq = str((hf.get("quantization") or {}).get("kv_cache_quant_algo") or "").upper()
    if kvq in ("FP8", "INT8"):
        return 1
    if kvq == "NVFP4":
        return 0.5625
    return dtype_bytes(hf.get("torch_dtype"), 2)


def kv_size_per_token(hf: dict[str, Any], tp: int = 1, pp: int = 1, kv_cache_dtype: str | None = None,
                      attention_dp: bool = False) -> int:
    """get_cache_size_per_token: K and V of every layer of the rank, in the KV dtype."""
    layers = math.ceil((hf.get("num_hidden_layers") or 0) / max(pp, 1))
    b = kv_dtype_bytes(hf, kv_cache_dtype)
    if hf.get("kv_lora_rank"):
        return int(b * layers * (hf["kv_lora_rank"] + (hf.get("qk_rope_head_dim") or 0)))
    t = 1 if attention_dp else max(tp, 1)
    kv_heads = max(1, math.ceil((hf.get("num_key_value_heads") or 1) / t))  # replicated when tp > kv heads
    return int(b * layers * kv_heads * (hf.get("head_dim") or 0) * 2)


def param_counts(hf: dict[str, Any]) -> dict[str, float]:
    """Parameters of the linear layers (quantizable), of the embeddings (kept in the model dtype)."""
    h = hf.get("hidden_size") or 0
    L = hf.get("num_hidden_layers") or 0
    heads = hf.get("num_attention_heads") or 1
    hd = hf.get("head_dim") or (h // heads if heads else 0)
    kv = hf.get("num_key_value_heads") or heads
    attn = h * heads * hd * 2 + h * kv * hd * 2
    if hf.get("kv_lora_rank"):
        attn = h * heads * hd * 2  # MLA: an approximation; q/o projections dominate
    experts = hf.get("num_experts") or 0
    if experts > 1:
        moe_ffn = hf.get("moe_intermediate_size") or hf.get("intermediate_size") or 4 * h
        shared = (hf.get("shared_expert_intermediate_size") or (moe_ffn * (hf.get("num_shared_experts") or 0)))
        mlp = 3 * h * moe_ffn * experts + 3 * h * shared + h * experts
    else:
        mlp = 3 * h * (hf.get("intermediate_size") or 4 * h)
    vocab = hf.get("vocab_size") or 0
    emb = vocab * h * (1 if hf.get("tie_word_embeddings") else 2)
    return {"linear": float(L * (attn + mlp)), "attention": float(L * attn), "mlp": float(L * mlp),
            "embedding": float(emb), "total": float(L * (attn + mlp) + emb)}


def attention_unquantized(hf: dict[str, Any]) -> bool:
    """The checkpoint leaves the attention projections out of its quantization: a
    ``modules_to_not_convert`` / ``ignore`` pattern naming the attention module (gpt-oss:
    ``model.layers.*.self_attn``).  TensorRT-LLM keeps such modules in the model dtype: its
    ``load_hf_quant_config`` turns both lists into ``QuantConfig.exclude_modules``
    (NVIDIA/TensorRT-LLM tensorrt_llm/_torch/model_config.py, the version read here)."""
    pats = ((hf.get("quantization") or {}).get("exclude_modules")) or []
    # the whole attention module (``…self_attn``, ``…self_attn.*``), not one projection of it
    return any(re.search(r"(^|[.*])(self_attn|attn|attention)(\.\*|\*)?$", p) for p in pats)


def vision_params(hf: dict[str, Any]) -> float:
    """Parameters of a Qwen2.5-VL vision tower (config.json ``vision_config``), which TensorRT-LLM's
    PyTorch backend loads on every rank's GPU in the model dtype (``Qwen2VisionModelBase``:
    ``self.visual = model.visual.to(self.device)``, "copying vision encoder on all devices",
    NVIDIA/TensorRT-LLM tensorrt_llm/_torch/models/modeling_qwen2vl.py, the version read here).
    The layout is transformers@4.53.0 models/qwen2_5_vl/modeling_qwen2_5_vl.py: a block is
    ``qkv`` Linear(h, 3h) and ``proj`` Linear(h, h) with bias (lines 205-206), a gated MLP of three
    biased Linear(h, inter) (lines 56-58, ``bias=True`` line 281) and two RMSNorm(h) (278-279); the
    merger RMSNorm(h) + Linear(h·m², h·m²) + Linear(h·m², out) (lines 123-131); the patch
    embedding Conv3d(in, h, (t, p, p)) without bias (line 80).  0 when the config is not one."""
    v = hf.get("vision") or {}
    if v.get("model_type") != "qwen2_5_vl" or not all(v.get(k) for k in ("depth", "hidden_size", "intermediate_size", "out_hidden_size")):
        return 0.0
    h, i, out, m = v["hidden_size"], v["intermediate_size"], v["out_hidden_size"], v.get("spatial_merge_size") or 2
    block = (h * 3 * h + 3 * h) + (h * h + h) + (h * i + i) * 2 + (i * h + h) + 2 * h  # qkv, proj, gate/up, down, norms
    merged = h * m * m
    merger = h + (merged * merged + merged) + (merged * out + out)
    patch = (v.get("in_chans") or 3) * (v.get("temporal_patch_size") or 2) * (v.get("patch_size") or 14) ** 2 * h
    return float(v["depth"] * block + merger + patch)


def weights_per_rank(hf: dict[str, Any], tp: int = 1, pp: int = 1, ep: int | None = None, attention_dp: bool = False) -> dict[str, Any]:
    """Bytes of weights one rank holds: linear layers split tp × pp ways (the MoE experts over
    moe_tp × moe_ep = tp ranks), embedding and lm_head split tp ways, in the model dtype.  With
    attention data parallelism (``enable_attention_dp``) every rank holds the whole attention.
    Attention the checkpoint left unquantized (:func:`attention_unquantized`) is in the model
    dtype; a vision tower (:func:`vision_params`) is whole on every rank, in the model dtype."""
    lin_b, label = weight_precision(hf)
    emb_b = dtype_bytes(hf.get("torch_dtype"), 2)
    attn_b = emb_b if attention_unquantized(hf) else lin_b
    pc = param_counts(hf)
    t, p = max(tp, 1), max(pp, 1)
    attn_split = p if attention_dp else t * p
    vis = vision_params(hf)
    per = pc["attention"] * attn_b / attn_split + pc["mlp"] * lin_b / (t * p) + pc["embedding"] * emb_b / t + vis * emb_b
    return {"bytes": int(per), "precision": label, "params": pc["total"] + vis, "linear_bytes_per_param": lin_b,
            "vision_bytes": int(vis * emb_b)}


def activation_bytes(hf: dict[str, Any], max_num_tokens: int, tp: int = 1) -> int:
    """An estimate of the torch peak above the weights during the profiling pass: per token of
    ``max_num_tokens`` the largest tensors of one layer alive together (hidden state and residual,
    QKV, the gated MLP's two intermediates) in 2-byte activations."""
    h = hf.get("hidden_size") or 0
    heads = hf.get("num_attention_heads") or 1
    hd = hf.get("head_dim") or (h // heads if heads else 0)
    kv = hf.get("num_key_value_heads") or heads
    ffn = hf.get("moe_intermediate_size") if (hf.get("num_experts") or 0) > 1 else hf.get("intermediate_size")
    ffn = ffn or 4 * h
    per_token = 2 * (2 * h + (heads * hd + 2 * kv * hd) / max(tp, 1) + 3 * ffn / max(tp, 1))
    return int(max_num_tokens * per_token)


def kv_cache(total: int, peak: int, fraction: float | None, kv_per_token: int, tmp_kv: int = 0,
             max_tokens: int | None = None, max_gpu_total_bytes: int | None = None,
             tokens_per_block: int = TOKENS_PER_BLOCK) -> dict[str, Any]:
    """Steps 3–5 of the module docstring."""
    frac = DEFAULT_FRACTION if fraction is None else fraction
    available = max(0.0, (total - peak + tmp_kv) * frac)
    tokens = int(available // kv_per_token) if kv_per_token else 0
    capped_by = None
    if max_tokens is not None and 0 < max_tokens < tokens:
        tokens, capped_by = max_tokens, "kv_cache_config.max_tokens"
    if max_gpu_total_bytes and kv_per_token and max_gpu_total_bytes // kv_per_token < tokens:
        tokens, capped_by = int(max_gpu_total_bytes // kv_per_token), "kv_cache_config.max_gpu_total_bytes"
    # the pool holds whole blocks: max_tokens rounded up (the logs' "Allocated … (N)" prints blocks ×
    # tokens per block, kvCacheManager.cpp; NVIDIA/TensorRT-LLM#6294: 860,308 → 860,320)
    blocks = -(-tokens // tokens_per_block)
    return {"fraction": frac, "available_kv_mem": int(available), "max_tokens": tokens, "capped_by": capped_by,
            "blocks": blocks, "kv_bytes": int(blocks * tokens_per_block * kv_per_token), "tokens_per_block": tokens_per_block}


def estimate(hf: dict[str, Any], total: int, *, tp: int = 1, pp: int = 1, ep: int | None = None,
             max_num_tokens: int = 8192, max_seq_len: int | None = None, max_batch_size: int = 2048,
             fraction: float | None = None, kv_cache_dtype: str | None = None, max_tokens: int | None = None,
             max_gpu_total_bytes: int | None = None, attention_dp: bool = False,
             non_torch: int = CUDA_CONTEXT + NON_TORCH_EXTRA, other_used: int = 0) -> dict[str, Any]:
    """One rank before launch: weights, activations, the KV cache the formula gives, and how many
    ``max_seq_len`` sequences it holds against ``max_batch_size``.  Defaults: trtllm-serve's
    (max_batch_size 2048, max_num_tokens 8192, fraction 0.9)."""
    w = weights_per_rank(hf, tp, pp, ep, attention_dp)
    act = activation_bytes(hf, max_num_tokens, 1 if attention_dp else tp)
    per_tok = kv_size_per_token(hf, tp, pp, kv_cache_dtype, attention_dp)
    peak = w["bytes"] + act + non_torch + other_used  # the temporary KV of the profiling pass is added back by the formula
    kv = kv_cache(total, peak, fraction, per_tok, 0, max_tokens, max_gpu_total_bytes)
    seq = max_seq_len or hf.get("max_position_embeddings") or 0
    window = hf.get("sliding_window") if hf.get("sliding_window") and not hf.get("layer_types") else None
    seq_kv = min(seq, window) if window and seq else seq
    blocks_per_seq = math.ceil(seq_kv / TOKENS_PER_BLOCK) if seq_kv else 0
    seqs = kv["blocks"] // blocks_per_seq if blocks_per_seq else 0
    return {"weights": w["bytes"], "precision": w["precision"], "params": w["params"], "activations": act,
            "non_torch": non_torch, "other_used": other_used, "peak_estimate": peak, "total": total, "kv_size_per_token": per_tok,
            **kv, "max_seq_len": seq, "blocks_per_sequence": blocks_per_seq, "sequences": seqs,
            "max_batch_size": max_batch_size, "fits_load": total - peak > 0 and kv["max_tokens"] > 0,
            "holds_batch": seqs >= max_batch_size}


# ------------------------------------------------------------------------------------------ logs

_NUM = r"([\d.]+)"
PEAK_RE = re.compile(
    r"Peak memory during memory usage profiling \(torch \+ non-torch\):\s*" + _NUM + r"\s*GiB,\s*"
    r"available KV cache memory when calculating max tokens:\s*" + _NUM + r"\s*GiB"
    r"(?:,\s*fraction is set\s*" + _NUM + r")?"
    r"(?:,\s*kv size(?: per token)? is\s*(\d+))?"
    r"(?:\.?\s*device total memory\s*" + _NUM + r"\s*GiB)?"
    r"(?:,\s*,?\s*(?:tmp kv_mem|temporary kv cache memory during profiling)\s*" + _NUM + r"\s*GiB)?")
BOTH_RE = re.compile(r"Both free_gpu_memory_fraction and max_tokens are set \(to ([\d.]+) and (\d+), respectively\)")
ALLOC_RE = re.compile(r"\[MemUsageChange\] Allocated ([\d.]+) GiB for max tokens(?: in paged KV cache)? \((\d+)\)")
TPB_RE = re.compile(r"(?:Number of tokens per block|tokens per block)[:=]\s*(\d+)")
# the breakdown lines of the profiling pass (_util.py, 1.x): weights, activations, non-torch
WEIGHTS_RE = re.compile(r"Memory used after loading model weights \(inside torch\) in memory usage profiling:\s*" + _NUM + r"\s*GiB")
WEIGHTS_OUT_RE = re.compile(r"Memory used after loading model weights \(outside torch\) in memory usage profiling:\s*" + _NUM + r"\s*GiB")
DYNAMIC_RE = re.compile(r"Memory dynamically allocated during inference \(inside torch\) in memory usage profiling:\s*" + _NUM + r"\s*GiB")
NON_TORCH_RE = re.compile(r"Memory used outside torch (?:\(e\.g\., NCCL and CUDA graphs\) )?in memory usage profiling:\s*" + _NUM + r"\s*GiB")
ESTIMATED_RE = re.compile(r"Estimated max memory in KV cache\s*:\s*" + _NUM + r"\s*GiB")
MODEL_WEIGHTS_RE = re.compile(r"(?:Rank \d+ uses|\bUse) " + _NUM + r" GB for model weights")
RUNTIME_RE = re.compile(r"max_seq_len=(\d+), max_num_requests=(\d+), max_num_tokens=(\d+)(?:, max_batch_size=(\d+))?")
VERSION_RE = re.compile(r"TensorRT[- ]LLM version: (\S+)")
TORCH_FRACTION_RE = re.compile(r"Setting PyTorch memory fraction to ([\d.]+) \(([\d.]+) GiB\)")


def parse_log(text: str) -> dict[str, Any]:
    """The memory figures of a PyTorch-backend log: the profiling line (peak, available KV, fraction,
    KV bytes per token, device total, temporary KV), its breakdown (weights inside and outside torch,
    activations, non-torch), the max_tokens/fraction warning, the KV allocation, tokens per block,
    the runtime limits.  Keys are present only when the log has them; GiB as printed.  The allocation
    and the max_tokens warning come twice in a 1.x log (the profiling pass's temporary KV cache, then
    the real one): the last is kept, each one is listed under ``allocations`` / ``both_set_all``."""
    out: dict[str, Any] = {}
    allocations: list[dict[str, Any]] = []
    both: list[dict[str, Any]] = []
    singles = ((WEIGHTS_RE, "weights_gib"), (WEIGHTS_OUT_RE, "weights_outside_torch_gib"), (DYNAMIC_RE, "activations_gib"),
               (NON_TORCH_RE, "non_torch_gib"), (ESTIMATED_RE, "estimated_kv_gib"), (MODEL_WEIGHTS_RE, "model_weights_gb"))
    for line in text.splitlines():
        m = PEAK_RE.search(line)
        if m:
            keys = ("peak_gib", "available_kv_gib", "fraction", "kv_size_per_token", "total_gib", "tmp_kv_gib")
            conv = (float, float, float, int, float, float)
            out["profiling"] = {k: c(v) for k, c, v in zip(keys, conv, m.groups()) if v is not None}
            continue
        m = BOTH_RE.search(line)
        if m:
            both.append({"fraction": float(m.group(1)), "max_tokens": int(m.group(2))})
        m = ALLOC_RE.search(line)
        if m:
            allocations.append({"gib": float(m.group(1)), "tokens": int(m.group(2))})
        m = TPB_RE.search(line)
        if m:
            out["tokens_per_block"] = int(m.group(1))
        for rx, key in singles:
            m = rx.search(line)
            if m:
                out[key] = float(m.group(1))
        m = RUNTIME_RE.search(line)
        if m:
            out["runtime"] = {k: int(v) for k, v in zip(("max_seq_len", "max_num_requests", "max_num_tokens", "max_batch_size"), m.groups())
                              if v is not None}
        m = VERSION_RE.search(line)
        if m:
            out["version"] = m.group(1)
        m = TORCH_FRACTION_RE.search(line)
        if m:
            out["torch_memory_fraction"] = {"fraction": float(m.group(1)), "gib": float(m.group(2))}
    if allocations:
        out["allocated"] = allocations[-1]
        if len(allocations) > 1:
            out["allocations"] = allocations
    if both:
        out["both_set"] = both[-1]
        if len(both) > 1:
            out["both_set_all"] = both
    return out


def available_from_log(p: dict[str, Any]) -> float | None:
    """(total − peak + tmp) × fraction recomputed from a profiling line, in GiB (None if incomplete)."""
    pr = p.get("profiling") or {}
    if not all(k in pr for k in ("peak_gib", "total_gib", "fraction")):
        return None
    return (pr["total_gib"] - pr["peak_gib"] + pr.get("tmp_kv_gib", 0.0)) * pr["fraction"]


# ------------------------------------------------------------------------------------------ plan

def plan(hf: dict[str, Any], total: int, args: dict[str, Any] | None = None, *, gpu_cc: tuple[int, int] | None = None,
         other_used: int = 0) -> dict[str, Any]:
    """``trtdiag plan`` for the PyTorch backend: the estimate at the merged LlmArgs ``args`` and a
    row per lever that changes the KV cache (fraction 0.95, max_num_tokens halved, an FP8 KV cache,
    twice the tensor parallelism).  ``args``: merged LlmArgs (trtllm-serve's defaults where absent:
    max_batch_size 2048, max_num_tokens 8192, fraction 0.9)."""
    args = args or {}
    kv = args.get("kv_cache_config") if isinstance(args.get("kv_cache_config"), dict) else {}

    def num(v: Any, default: Any) -> Any:
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else default

    base = dict(tp=int(num(args.get("tensor_parallel_size"), 1)), pp=int(num(args.get("pipeline_parallel_size"), 1)),
                ep=args.get("moe_expert_parallel_size") if isinstance(args.get("moe_expert_parallel_size"), int) else None,
                max_num_tokens=int(num(args.get("max_num_tokens"), 8192)), max_seq_len=num(args.get("max_seq_len"), None),
                max_batch_size=int(num(args.get("max_batch_size"), 2048)), fraction=num(kv.get("free_gpu_memory_fraction"), None),
                kv_cache_dtype=kv.get("dtype") if isinstance(kv.get("dtype"), str) else None,
                max_tokens=num(kv.get("max_tokens"), None), max_gpu_total_bytes=num(kv.get("max_gpu_total_bytes"), None) or None,
                attention_dp=bool(args.get("enable_attention_dp")))
    asked = estimate(hf, total, **base, other_used=other_used)
    fp8_ok = gpu_cc is None or tuple(gpu_cc) >= (8, 9)
    levers = []
    cands = [("free_gpu_memory_fraction 0.95", {"fraction": 0.95}, "kv_cache_config.free_gpu_memory_fraction: 0.95"),
             (f"max_num_tokens {max(base['max_num_tokens'] // 2, 256)}", {"max_num_tokens": max(base["max_num_tokens"] // 2, 256)},
              f"max_num_tokens: {max(base['max_num_tokens'] // 2, 256)}")]
    if fp8_ok and kv_dtype_bytes(hf, base["kv_cache_dtype"]) > 1:
        cands.append(("FP8 KV cache", {"kv_cache_dtype": "fp8"}, "kv_cache_config.dtype: fp8"))
    cands.append((f"tensor_parallel_size {base['tp'] * 2}", {"tp": base["tp"] * 2}, f"tensor_parallel_size: {base['tp'] * 2}"))
    for label, change, yaml_line in cands:
        e = estimate(hf, total, **{**base, **change}, other_used=other_used)
        levers.append({"lever": label, "yaml": yaml_line, "weights": e["weights"], "kv_tokens": e["max_tokens"], "kv_bytes": e["kv_bytes"],
                       "sequences": e["sequences"], "fits_load": e["fits_load"], "gain_tokens": e["max_tokens"] - asked["max_tokens"]})
    return {"asked": asked, "levers": levers, "inputs": base}


def explain_log(parsed: dict[str, Any]) -> dict[str, Any] | None:
    """The memory story of a PyTorch-backend log (:func:`parse_log`), for ``explain``: the KV cache
    the run got (the last allocation; an earlier one is the profiling pass's temporary cache), the
    formula redone from the log's own numbers, the peak's parts, and what bounded the KV cache."""
    pr = parsed.get("profiling")
    al = parsed.get("allocated")
    if not pr and not al:
        return None
    out: dict[str, Any] = {"profiling": pr, "allocated": al, "both_set": parsed.get("both_set"),
                           "tokens_per_block": parsed.get("tokens_per_block")}
    if al:
        out["kv_tokens"] = al["tokens"]
        out["kv_gib"] = al["gib"]
        if al["tokens"]:
            out["kv_bytes_per_token"] = round(al["gib"] * GiB / al["tokens"])  # from a 2-decimal GiB figure
    allocs = parsed.get("allocations") or []
    if len(allocs) > 1:
        out["temporary_allocation"] = allocs[0]
    for k in ("version", "weights_gib", "weights_outside_torch_gib", "activations_gib", "non_torch_gib", "estimated_kv_gib",
              "model_weights_gb", "runtime"):
        if parsed.get(k) is not None:
            out[k] = parsed[k]
    redo = available_from_log(parsed)
    if redo is not None:
        out["available_recomputed_gib"] = round(redo, 2)
        out["formula"] = (f"({pr['total_gib']} − {pr['peak_gib']}" + (f" + {pr['tmp_kv_gib']}" if pr.get("tmp_kv_gib") else "")
                          + f") × {pr['fraction']:.4g} = {redo:.2f} GiB (log: {pr['available_kv_gib']} GiB)")
        out["non_kv_gib"] = round(pr["peak_gib"] - pr.get("tmp_kv_gib", 0.0), 2)
    if pr and all(parsed.get(k) is not None for k in ("weights_gib", "activations_gib", "non_torch_gib")):
        # _util.py: peak = torch memory after loading (weights, and the temporary KV cache when it is
        # torch's) + the dynamic torch peak + memory outside torch
        out["peak_parts"] = (f"{parsed['weights_gib']} (inside torch after loading) + {parsed['activations_gib']} (activations)"
                             f" + {parsed['non_torch_gib']} (outside torch) = "
                             f"{parsed['weights_gib'] + parsed['activations_gib'] + parsed['non_torch_gib']:.2f} GiB (log peak {pr['peak_gib']} GiB)")
    bs = parsed.get("both_set")
    if bs and al:
        # py_executor_creator / _util.py hand the profiling pass's estimate on as kv_cache_config.max_tokens:
        # the warning's max_tokens is that estimate (or a smaller one of the YAML's); the allocation
        # rounds it up to whole blocks
        out["bounded_by"] = (f"the profiling estimate ({bs['max_tokens']:,} tokens) passed on as kv_cache_config.max_tokens; "
                             f"allocated {al['tokens']:,} tokens in blocks of {parsed.get('tokens_per_block') or TOKENS_PER_BLOCK}")
    return out


def table(p: dict[str, Any]) -> str:
    """plan()'s answer as a small fixed-width table (finding evidence; the renderer indents it)."""
    a = p["asked"]
    lines = [f"{'configuration':<36}{'weights/rank':>13}{'KV tokens':>12}{'KV GiB':>9}{'full seqs':>10}",
             f"{'as asked':<36}{a['weights'] / GiB:>9.2f} GiB{a['max_tokens']:>12,}{a['kv_bytes'] / GiB:>9.2f}{a['sequences']:>10}"]
    for r in p["levers"]:
        lines.append(f"{r['lever']:<36}{r['weights'] / GiB:>9.2f} GiB{r['kv_tokens']:>12,}{r['kv_bytes'] / GiB:>9.2f}{r['sequences']:>10}")
    return "\n".join(lines)


def summary(e: dict[str, Any]) -> str:
    """One line: total − (weights + activations + non-torch) → × fraction → KV tokens → sequences."""
    other = e.get("other_used") or 0
    return (f"{e['total'] / GiB:.2f} GiB − weights {e['weights'] / GiB:.2f} − activations {e['activations'] / GiB:.2f}"
            f" − non-torch {e['non_torch'] / GiB:.2f}" + (f" − in use before {other / GiB:.2f}" if other else "")
            + f" = {(e['total'] - e['peak_estimate']) / GiB:.2f} GiB; × {e['fraction']:g}"
            f" = {e['available_kv_mem'] / GiB:.2f} GiB = {e['max_tokens']:,} tokens at {e['kv_size_per_token']:,} B/token"
            + (f" (capped by {e['capped_by']})" if e.get("capped_by") else "")
            + f" = {e['sequences']} sequences of {e['max_seq_len']} tokens")
