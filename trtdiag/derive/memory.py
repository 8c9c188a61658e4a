"""The GPU memory model of a TensorRT-LLM engine, per rank.  Pure functions; every number in bytes.

What one rank of ``tp × pp`` needs on its GPU (docs/memory.md has the derivation and sources):

``weights``
    The engine file of that rank (an engine is its weights plus a little metadata), or, before a
    build, the parameter count × bytes per weight: weight-only quantization stores the linear
    layers' weights in 1 byte (int8) or ½ byte (int4); embeddings and lm_head stay in the model
    dtype.  The input embedding is whole on every tensor-parallel rank (TensorRT-LLM's default,
    ``use_parallel_embedding`` off), lm_head and the layers are split ``tp`` ways; with pipeline
    parallelism each stage holds ``layers / pp`` layers.

``activations``
    TensorRT's execution-context memory, sized at build time for the largest context step:
    ``max_num_tokens`` tokens with packed input (remove_input_padding), else ``max_batch_size ×
    max_input_len``; per token the largest tensors alive together in one layer (QKV, the residual
    and normalised hidden state, the MLP intermediates), plus fp32 logits.  An estimate: the real
    figure is printed with verbose logging ("Total Activation Memory"), or read as the engine's
    ``device_memory_size``.  Rules from TensorRT-LLM's docs/source/memory.md ("Memory Usage of
    TensorRT-LLM"): activations ≈ max input tokens × a per-model constant, TensorRT reuses one
    block's memory for all layers, the beam width is folded into the batch dimension.

``overhead``
    The CUDA context and library state of the process: 543,162,368 B measured on an H100 (a
    PyTorch process holding a 10,737,418,240 B tensor showed 11,280,580,608 B in NVML;
    ../shared/docs/gpu_memory_facts.md).  On top, the driver keeps 503,316,480 B (480 MiB) of
    every card for itself: NVML's free memory of an idle card is total − that reserve.

``kv cache``
    Bytes per token = 2 (K and V) × layers of the rank × KV heads of the rank × head size × bytes
    of the KV dtype (TensorRT-LLM ``KVCacheManager::calculateCacheSizePerToken``:
    ``numLayers * 2 * numKvHeads * sizePerHead``, times the dtype's size), held in blocks of
    ``tokens_per_block`` tokens.  Two allocation rules:

    * paged (inflight batching; ``KVCacheManager::calculateMaxNumBlocks``): ``maxTokens =
      freeGpuMemoryFraction × free memory after the engine is loaded / bytes per token``, capped
      by ``max_tokens_in_paged_kv_cache`` (``KvCacheConfig::maxTokens``); the fraction defaults
      to ``KvCacheConfig::kDefaultGpuMemFraction`` = 0.9 (0.85 in early releases) and must be
      smaller than 1.0 ("Invalid freeMemFraction, freeMemFraction (%f) must be smaller than
      1.0f").  A sequence of ``max_seq_len`` tokens (or ``max_attention_window_size``, when
      smaller) holds ceil(len / tokens_per_block) blocks per beam.
    * contiguous (the V1 runtime without paged KV): ``max_batch_size × max_beam_width ×
      max_seq_len`` tokens allocated at load; the engine does not load if they do not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

DRIVER_RESERVE = 503_316_480  # NVML used on an idle H100 (../shared/docs/gpu_memory_facts.md)
CONTEXT_OVERHEAD = 11_280_580_608 - 10_737_418_240  # = 543,162,368 B per process, measured there too
DEFAULT_KV_FRACTION = 0.9  # TensorRT-LLM KvCacheConfig::kDefaultGpuMemFraction (0.85 in early releases)
DEFAULT_TOKENS_PER_BLOCK = 64

_BYTES = {
    "float32": 4, "fp32": 4, "float": 4,
    "float16": 2, "fp16": 2, "half": 2, "bfloat16": 2, "bf16": 2,
    "fp8": 1, "float8": 1, "e4m3": 1, "int8": 1,
    "int4": 0.5,
}


def dtype_bytes(name: str | None, default: float = 2) -> float:
    if not name:
        return default
    return _BYTES.get(str(name).lower().replace("torch.", ""), default)


def canonical_dtype(name: str | None) -> str | None:
    if name is None:
        return None
    n = str(name).lower()
    return {"fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp32": "float32", "float": "float32",
            "float8": "fp8", "e4m3": "fp8"}.get(n, n)


def gib(n: float | int | None) -> float | None:
    return None if n is None else round(n / GiB, 2)


# ----------------------------------------------------------------------------------------- shapes


# Architectures whose MLP has two matrices (up, down) instead of the gated three (gate, up, down).
_NON_GATED = ("gpt2", "gptj", "gpt_neox", "gpt_bigcode", "opt", "bloom", "falcon", "phi", "mpt", "starcoder", "gpt")


@dataclass
class ModelShape:
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_size: int
    hidden_size: int
    vocab_size: int
    ffn_size: int | None = None  # width of the MLP's intermediate (per matrix)
    gated_mlp: bool = True
    tied_embeddings: bool = False
    params: float | None = None  # total parameter count when known (--params, or derived from an engine)
    experts: int = 1  # mixture of experts: MLPs per layer (all held in memory)

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def layer_params(self) -> int:
        h, q, kv = self.hidden_size, self.num_heads * self.head_size, self.num_kv_heads * self.head_size
        ffn = self.ffn_size or 4 * h
        mlp = (3 if self.gated_mlp else 2) * h * ffn
        return h * q + 2 * h * kv + q * h + self.experts * mlp + (h * self.experts if self.experts > 1 else 0)  # + router

    def param_count(self) -> float:
        if self.params:
            return float(self.params)
        return float(self.num_layers * self.layer_params + self.embedding_params * (1 if self.tied_embeddings else 2))

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["param_count"] = int(self.param_count())
        return d


def _get(cfg: dict, *keys: str) -> Any:
    for k in keys:
        v = cfg.get(k)
        if v is not None and not isinstance(v, bool):
            return v
    return None


def model_from_hf_config(cfg: dict, params: float | None = None) -> ModelShape:
    """A :class:`ModelShape` from a Hugging Face config.json (Llama, Qwen, Mistral, GPT-2, Falcon, ChatGLM …)."""
    from ..core.errors import InputError

    if not isinstance(cfg, dict):
        raise InputError("config.json: expected a JSON object")
    layers = _get(cfg, "num_hidden_layers", "n_layer", "num_layers", "n_layers")
    heads = _get(cfg, "num_attention_heads", "n_head", "num_heads", "n_heads")
    hidden = _get(cfg, "hidden_size", "n_embd", "d_model")
    vocab = _get(cfg, "vocab_size", "padded_vocab_size")
    missing = [n for n, v in (("num_hidden_layers", layers), ("num_attention_heads", heads), ("hidden_size", hidden), ("vocab_size", vocab)) if not isinstance(v, int) or v <= 0]
    if missing:
        raise InputError(f"config.json: no usable {', '.join(missing)} (is this a model's Hugging Face config.json?)")

    def positive(*keys: str) -> int | None:
        v = _get(cfg, *keys)
        if v is not None and (not isinstance(v, int) or v <= 0):
            name = next(k for k in keys if cfg.get(k) is not None and not isinstance(cfg.get(k), bool))
            raise InputError(f"config.json: {name} is {v!r}, expected a positive integer")
        return v

    kv = positive("num_key_value_heads", "num_kv_heads", "multi_query_group_num", "n_head_kv", "num_kv")
    if kv is None and cfg.get("multi_query") is True:
        kv = 1
    head = positive("head_dim", "kv_channels", "head_size") or hidden // heads
    mtype = str(cfg.get("model_type") or "").lower()
    ffn = positive("intermediate_size", "ffn_hidden_size", "n_inner")
    if mtype == "qwen" and ffn:
        ffn = ffn // 2  # Qwen(1): w1 and w2 are intermediate_size / 2 wide each (modeling_qwen.py QWenMLP)
    gated = not any(mtype == t or mtype.startswith(t + "_") for t in _NON_GATED)
    tied = bool(cfg.get("tie_word_embeddings", False))
    experts = _get(cfg, "num_local_experts", "num_experts", "moe_num_experts")
    return ModelShape(experts=int(experts) if isinstance(experts, int) and experts > 1 else 1,
                      num_layers=int(layers), num_heads=int(heads), num_kv_heads=int(kv or heads), head_size=int(head),
                      hidden_size=int(hidden), vocab_size=int(vocab), ffn_size=int(ffn) if ffn else None,
                      gated_mlp=gated, tied_embeddings=tied, params=params)


@dataclass
class BuildShape:
    dtype: str = "float16"
    weight_only: str | None = None  # None, "int8", "int4" (or "fp8" for FP8 weights)
    kv_dtype: str | None = None  # None: the model dtype
    max_batch_size: int = 1
    max_input_len: int = 1024
    max_output_len: int = 1024
    max_seq_len: int | None = None
    max_num_tokens: int | None = None
    max_beam_width: int = 1
    tp: int = 1
    pp: int = 1
    paged_kv: bool = True
    remove_input_padding: bool = True
    tokens_per_block: int = DEFAULT_TOKENS_PER_BLOCK
    gather_context_logits: bool = False

    @property
    def seq_len(self) -> int:
        return self.max_seq_len or (self.max_input_len + self.max_output_len)

    @property
    def kv(self) -> str:
        return canonical_dtype(self.kv_dtype) or canonical_dtype(self.dtype) or "float16"

    def precision_label(self) -> str:
        w = {"int8": "int8 weight-only", "int4": "int4 weight-only", "fp8": "fp8"}.get(self.weight_only or "", canonical_dtype(self.dtype) or "float16")
        return w + (f" + {self.kv} KV" if self.kv != (canonical_dtype(self.dtype) or "float16") else "")


@dataclass
class Serving:
    kv_fraction: float | None = None  # kv_cache_free_gpu_mem_fraction (None: the default)
    max_tokens: int | None = None  # max_tokens_in_paged_kv_cache
    max_attention_window: int | None = None  # max_attention_window_size


_INT_KEYS = ("num_layers", "num_heads", "num_kv_heads", "head_size", "hidden_size", "vocab_size", "tp", "pp", "world_size",
             "max_batch_size", "max_input_len", "max_output_len", "max_seq_len", "max_num_tokens", "max_beam_width", "tokens_per_block")
_STR_KEYS = ("dtype", "quant_algo", "kv_cache_dtype", "trtllm_version")


def clean_normalized(n: Any) -> dict[str, Any]:
    """``engine.info["normalized"]`` with every number a positive int and every name a str (anything
    else, from a damaged config, becomes None), so that the arithmetic cannot trip over it."""
    n = n if isinstance(n, dict) else {}
    out = dict(n)
    for k in _INT_KEYS:
        v = n.get(k)
        out[k] = v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None
    for k in _STR_KEYS:
        out[k] = n.get(k) if isinstance(n.get(k), str) else None
    for k in ("paged_kv_cache", "remove_input_padding", "gather_context_logits"):
        out[k] = n.get(k) if isinstance(n.get(k), bool) else None
    return out


def build_from_engine(n: dict[str, Any]) -> BuildShape:
    """A :class:`BuildShape` from ``engine.info["normalized"]`` (parsers/engine_config.py)."""
    qa = str(n.get("quant_algo") or "").upper()
    wo = "int4" if qa.startswith("W4") else "int8" if qa.startswith("W8") else "fp8" if qa == "FP8" else None
    mb = n.get("max_batch_size") or 1
    mi = n.get("max_input_len") or 1
    mo = n.get("max_output_len")
    ms = n.get("max_seq_len")
    if mo is None:
        mo = max((ms or mi) - mi, 0) if ms else 0
    return BuildShape(
        dtype=canonical_dtype(n.get("dtype")) or "float16", weight_only=wo, kv_dtype=canonical_dtype(n.get("kv_cache_dtype")),
        max_batch_size=mb, max_input_len=mi, max_output_len=mo, max_seq_len=ms, max_num_tokens=n.get("max_num_tokens"),
        max_beam_width=n.get("max_beam_width") or 1, tp=n.get("tp") or 1, pp=n.get("pp") or 1,
        paged_kv=n.get("paged_kv_cache") is not False, remove_input_padding=n.get("remove_input_padding") is not False,
        tokens_per_block=n.get("tokens_per_block") or DEFAULT_TOKENS_PER_BLOCK,
        gather_context_logits=bool(n.get("gather_context_logits")),
    )


def model_from_engine(n: dict[str, Any]) -> ModelShape | None:
    need = ("num_layers", "num_heads", "hidden_size", "vocab_size")
    if any(not n.get(k) for k in need):
        return None
    heads = n["num_heads"]
    return ModelShape(num_layers=n["num_layers"], num_heads=heads, num_kv_heads=n.get("num_kv_heads") or heads,
                      head_size=n.get("head_size") or n["hidden_size"] // heads, hidden_size=n["hidden_size"], vocab_size=n["vocab_size"])


# ----------------------------------------------------------------------------------------- parts


def _linear_bytes(build: BuildShape) -> float:
    return {"int8": 1, "int4": 0.5, "fp8": 1}.get(build.weight_only or "", dtype_bytes(build.dtype))


def weights_per_rank(model: ModelShape, build: BuildShape) -> int:
    """Estimated weight bytes of the largest rank (before a build; after it, read the engine size)."""
    db = dtype_bytes(build.dtype)
    emb = model.embedding_params
    body = max(model.param_count() - emb * (1 if model.tied_embeddings else 2), 0)
    body_rank = body * _linear_bytes(build) / (build.tp * build.pp)
    lm_head = emb * db / build.tp
    embedding = emb * db  # whole on each tp rank (use_parallel_embedding off)
    ends = embedding + lm_head if build.pp == 1 else max(embedding, lm_head)
    return int(body_rank + ends)


def params_from_weights(model: ModelShape, build: BuildShape, weights_rank: int) -> float:
    """Invert :func:`weights_per_rank`: the parameter count an engine of this size holds."""
    db = dtype_bytes(build.dtype)
    emb = model.embedding_params
    ends = emb * db + emb * db / build.tp if build.pp == 1 else max(emb * db, emb * db / build.tp)
    body = max(weights_rank - ends, 0) * build.tp * build.pp / _linear_bytes(build)
    return body + emb * (1 if model.tied_embeddings else 2)


def layers_per_rank(model: ModelShape, build: BuildShape) -> int:
    return math.ceil(model.num_layers / build.pp)


def kv_heads_per_rank(model: ModelShape, build: BuildShape) -> int:
    return max(1, math.ceil(model.num_kv_heads / build.tp))  # KV heads are replicated when tp > kv heads


def kv_bytes_per_token(model: ModelShape, build: BuildShape) -> int:
    """2 × layers × kv_heads/tp × head_size × bytes of the KV dtype (calculateCacheSizePerToken)."""
    return int(2 * layers_per_rank(model, build) * kv_heads_per_rank(model, build) * model.head_size * dtype_bytes(build.kv))


def context_tokens(build: BuildShape) -> int:
    """Tokens of the largest context step the engine is built for."""
    if build.remove_input_padding:  # packed: max_num_tokens, derived as batch × input when unset
        return build.max_num_tokens or build.max_batch_size * build.max_input_len
    return build.max_batch_size * (build.max_beam_width or 1) * build.max_input_len  # padded; beam folded into batch


def activation_bytes(model: ModelShape, build: BuildShape) -> int:
    act = 4 if canonical_dtype(build.dtype) == "float32" else 2  # weight-only keeps fp16/bf16 activations
    q = model.num_heads * model.head_size / build.tp
    kv = kv_heads_per_rank(model, build) * model.head_size
    ffn = (model.ffn_size or 4 * model.hidden_size) / build.tp
    per_token = act * (q + 2 * kv + 2 * model.hidden_size + (2 if model.gated_mlp else 1) * ffn)
    tokens = context_tokens(build)
    logits_rows = tokens if build.gather_context_logits else build.max_batch_size * build.max_beam_width
    return int(tokens * per_token + logits_rows * model.vocab_size / build.tp * 4)


# ----------------------------------------------------------------------------------------- estimate


def estimate(model: ModelShape, build: BuildShape, free: int, serving: Serving | None = None,
             weights: int | None = None, overhead: int = CONTEXT_OVERHEAD) -> dict[str, Any]:
    """One rank's memory: what loading takes, what is left for the KV cache, how many sequences it holds.

    ``free``: the GPU's free memory before the server starts (NVML's ``free``).
    ``weights``: the rank's engine size when the engine exists (else estimated).
    """
    serving = serving or Serving()
    w = int(weights) if weights is not None else weights_per_rank(model, build)
    act = activation_bytes(model, build)
    bpt = kv_bytes_per_token(model, build)
    tpb = build.tokens_per_block or DEFAULT_TOKENS_PER_BLOCK
    seq = build.seq_len
    window = serving.max_attention_window if serving.max_attention_window and serving.max_attention_window > 0 else None
    seq_kv = min(seq, window) if window else seq
    beam = build.max_beam_width or 1
    need_tokens = build.max_batch_size * beam * seq_kv
    load = w + act + overhead
    out: dict[str, Any] = {
        "rule": "paged" if build.paged_kv else "contiguous",
        "precision": build.precision_label(),
        "free_before_load": int(free),
        "weights": w, "weights_source": "engine file" if weights is not None else "estimated from the parameter count",
        "activations": act, "context_tokens": context_tokens(build), "overhead": overhead,
        "kv_bytes_per_token": bpt, "tokens_per_block": tpb, "kv_dtype": build.kv,
        "max_batch_size": build.max_batch_size, "max_beam_width": beam, "seq_len": seq, "kv_tokens_per_sequence": seq_kv,
        "kv_tokens_needed": need_tokens,
    }
    if build.paged_kv:
        frac = DEFAULT_KV_FRACTION if serving.kv_fraction is None else serving.kv_fraction
        after = free - load
        budget = max(0.0, frac * after)
        tokens = int(budget // bpt) if bpt else 0
        capped_by = None
        if serving.max_tokens is not None and serving.max_tokens > 0 and serving.max_tokens < tokens:
            tokens, capped_by = serving.max_tokens, "max_tokens_in_paged_kv_cache"
        blocks = math.ceil(tokens / tpb) if tokens > 0 else 0
        blocks_per_seq = math.ceil(seq_kv / tpb) * beam
        seqs = blocks // blocks_per_seq if blocks_per_seq else 0
        out.update(kv_fraction=frac, free_after_load=int(after), kv_bytes=int(blocks * tpb * bpt), kv_tokens=blocks * tpb,
                   kv_blocks=blocks, blocks_per_sequence=blocks_per_seq, kv_sequences=seqs, kv_capped_by=capped_by)
        out["total"] = load + out["kv_bytes"]
        out["fits_load"] = after > 0 and blocks > 0
        out["deficit"] = max(0, -int(after))
    else:
        kv = need_tokens * bpt
        after = free - load - kv
        out.update(free_after_load=int(free - load), kv_bytes=int(kv), kv_tokens=need_tokens, kv_sequences=build.max_batch_size if after >= 0 else 0,
                   kv_fraction=None, kv_capped_by=None)
        out["total"] = load + kv
        out["fits_load"] = after >= 0
        out["deficit"] = max(0, -int(after))
    out["fits_batch"] = out["fits_load"] and out["kv_sequences"] >= build.max_batch_size
    out["fits"] = out["fits_batch"]
    return out


def _fits(model, build, free, serving, weights) -> bool:
    return estimate(model, build, free, serving, weights)["fits"]


def max_batch_size(model: ModelShape, build: BuildShape, free: int, serving: Serving | None = None, weights: int | None = None, limit: int = 4096) -> int:
    """The largest max_batch_size whose full-length sequences all fit at the built lengths (0: none)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        b = replace(build, max_batch_size=mid, max_num_tokens=_scaled_num_tokens(build, mid))
        if _fits(model, b, free, serving, weights):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _scaled_num_tokens(build: BuildShape, batch: int) -> int | None:
    if not build.max_num_tokens:
        return None
    return min(build.max_num_tokens, batch * build.max_input_len) if batch < build.max_batch_size else build.max_num_tokens


def max_lengths(model: ModelShape, build: BuildShape, free: int, serving: Serving | None = None, weights: int | None = None) -> tuple[int, int] | None:
    """(max_input_len, max_output_len), in the built proportion, in steps of 64 tokens (1 for sequences
    under 128), that fit at the built max_batch_size; None when nothing fits."""
    seq = build.seq_len
    share = build.max_input_len / seq if seq else 0.5
    step = 64 if seq >= 128 else 1

    def at(total: int) -> BuildShape:
        i = max(1, int(total * share))
        return replace(build, max_input_len=i, max_output_len=total - i, max_seq_len=total,
                       max_num_tokens=min(build.max_num_tokens, build.max_batch_size * i) if build.max_num_tokens else None)

    lo, hi = 0, seq // step
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _fits(model, at(mid * step), free, serving, weights):
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return None
    b = at(lo * step)
    return b.max_input_len, b.max_output_len


def precision_variants(build: BuildShape, cc: list[int] | tuple[int, int] | None = None) -> list[BuildShape]:
    """The built precision first, then weight-only int8/int4 and a quantized KV cache
    (fp8 on compute capability ≥ 8.9, int8 before that)."""
    kvq = "fp8" if cc is None or tuple(cc) >= (8, 9) else "int8"
    base = canonical_dtype(build.dtype) or "float16"
    variants = [build]
    for wo, kv in ((None, None), ("int8", None), ("int4", None), (None, kvq), ("int8", kvq), ("int4", kvq)):
        v = replace(build, weight_only=wo, kv_dtype=kv or base)
        if all(v.precision_label() != x.precision_label() for x in variants):
            variants.append(v)
    return variants


def answers(model: ModelShape, build: BuildShape, free: int, serving: Serving | None = None, weights: int | None = None,
            cc: list[int] | None = None) -> dict[str, Any]:
    """What would fit: the largest batch at the built lengths, the lengths at the built batch, and a
    row per precision.  ``weights`` (from the engine) applies to the built precision only; the others
    are estimated from the parameter count that engine implies."""
    if weights is not None and model.params is None:
        model = replace(model, params=params_from_weights(model, build, weights))
    rows = []
    for i, v in enumerate(precision_variants(build, cc)):
        wv = weights if i == 0 else None
        e = estimate(model, v, free, serving, wv)
        rows.append({
            "precision": v.precision_label(), "built": i == 0,
            "weights": e["weights"], "kv_bytes_per_token": e["kv_bytes_per_token"], "kv_tokens": e["kv_tokens"],
            "kv_sequences": e["kv_sequences"], "fits": e["fits"],
            "max_batch_size": max_batch_size(model, v, free, serving, wv),
        })
    lengths = max_lengths(model, build, free, serving, weights)
    return {
        "max_batch_size_at_built_lengths": rows[0]["max_batch_size"],
        "lengths_at_built_batch": {"max_input_len": lengths[0], "max_output_len": lengths[1]} if lengths else None,
        "precisions": rows,
    }


def table(ans: dict[str, Any], build: BuildShape, current: str = "built") -> str:
    """The answers as a small fixed-width table (finding evidence; the renderer indents it)."""
    # narrow enough for an 80-column terminal at the renderer's indent; the legend says what the
    # short headers mean
    labels = [r["precision"] + (f" ({current})" if r["built"] else "") for r in ans["precisions"]]
    w = max([len("precision"), *map(len, labels)]) + 1
    head = f"{'precision':<{w}}{'weights':>10}{'KV tokens':>11}{'seqs':>6}{'batch':>7}  fits"
    lines = [head]
    for label, r in zip(labels, ans["precisions"]):
        lines.append(f"{label:<{w}}{r['weights'] / GiB:>6.2f} GiB{r['kv_tokens']:>11,}{r['kv_sequences']:>6}{r['max_batch_size']:>7}  {'yes' if r['fits'] else 'no'}")
    lt = ans["lengths_at_built_batch"]
    lines.append(f"at max_batch_size {build.max_batch_size}: "
                 + (f"max_input_len {lt['max_input_len']} + max_output_len {lt['max_output_len']} fit" if lt else "no length fits"))
    lines.append("(weights: per rank; seqs: full-length sequences the KV cache holds;")
    lines.append(f" batch: the largest max_batch_size that holds them; fits: at {build.max_batch_size})")
    return "\n".join(lines)


def breakdown(e: dict[str, Any]) -> dict[str, Any]:
    """The evidence of an estimate, GiB where humans read it, bytes kept for arithmetic."""
    keys = ("rule", "precision", "free_before_load", "weights", "weights_source", "activations", "context_tokens", "overhead",
            "free_after_load", "kv_fraction", "kv_dtype", "kv_bytes_per_token", "tokens_per_block", "kv_blocks", "blocks_per_sequence",
            "kv_tokens", "kv_bytes", "kv_sequences", "kv_tokens_per_sequence", "kv_tokens_needed", "seq_len", "max_batch_size",
            "max_beam_width", "kv_capped_by", "deficit", "fits_load", "fits")
    return {k: e.get(k) for k in keys if e.get(k) is not None}


def summary(e: dict[str, Any]) -> str:
    """One line: free − (weights + activations + overhead) → KV."""
    s = (f"{gib(e['free_before_load'])} GiB free − weights {gib(e['weights'])} − activations {gib(e['activations'])}"
         f" − CUDA context {gib(e['overhead'])} = {gib(e['free_after_load'])} GiB after load")
    if e["rule"] == "paged":
        s += (f"; KV cache {e['kv_fraction']:g} × that = {e['kv_tokens']:,} tokens at {e['kv_bytes_per_token']:,} B/token"
              f" = {e['kv_sequences']} sequences of {e['kv_tokens_per_sequence']} tokens")
    else:
        s += f"; contiguous KV cache needs {gib(e['kv_bytes'])} GiB ({e['kv_tokens']:,} tokens × {e['kv_bytes_per_token']:,} B)"
    return s


@dataclass
class RankPlan:
    """One rank's estimate with the GPU it lands on (used by the checks)."""

    rank: int
    gpu: dict[str, Any]
    estimate: dict[str, Any] = field(default_factory=dict)
