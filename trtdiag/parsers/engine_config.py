"""TensorRT-LLM engine directory config.json, both layouts, normalised to one flat dict.

Layouts:

Sources: TensorRT-LLM tensorrt_llm/builder.py (``BuildConfig.to_dict``, ``EngineConfig``:
top-level ``version`` = tensorrt_llm.__version__, ``pretrained_config``, ``build_config``) and the
legacy ``Builder.save_config`` (``BuilderConfig.to_dict``: ``builder_config`` + ``plugin_config``);
real configs posted on the Hugging Face hub (e.g. baseten/starcoder7b-fp16-tp2-engine, a legacy
0.5/0.6 build: builder_config.name/precision/tensor_parallel/num_heads…, plugin_config.gemm_plugin
"float16", paged_kv_cache true, tokens_per_block 64).  ``max_output_len`` was replaced by
``max_seq_len`` in 0.10; later releases write ``build_config.kv_cache_type`` ("PAGED" | "CONTINUOUS" |
"DISABLED") instead of ``plugin_config.paged_kv_cache``.  TensorRT-LLM's trtllm-build configs do not
record the TensorRT version nor the GPU's compute capability.

``trtllm-build`` (TensorRT-LLM ≥ 0.8)::

    {"version": "0.9.0",
     "pretrained_config": {"architecture", "dtype", "num_hidden_layers", "num_attention_heads",
                           "num_key_value_heads", "hidden_size", "head_size", "vocab_size",
                           "mapping": {"world_size", "tp_size", "pp_size"},
                           "quantization": {"quant_algo", "kv_cache_quant_algo"}},
     "build_config": {"max_batch_size", "max_input_len", "max_output_len" | "max_seq_len",
                      "max_num_tokens", "max_beam_width",
                      "plugin_config": {"gpt_attention_plugin", "gemm_plugin", "paged_kv_cache",
                                        "remove_input_padding", "tokens_per_block"}}}
    engines: rank0.engine, rank1.engine, …

``legacy`` (examples/*/build.py, TensorRT-LLM ≤ 0.7)::

    {"builder_config": {"name", "precision", "tensorrt": "9.2.0.5", "tensor_parallel",
                        "pipeline_parallel", "num_layers", "num_heads", "num_kv_heads",
                        "hidden_size", "vocab_size", "max_batch_size", "max_input_len",
                        "max_output_len", "max_num_tokens", "max_beam_width", "quant_mode", …},
     "plugin_config": {…}}
    engines: <name>_<dtype>_tp<N>_rank<R>.engine (e.g. chatglm3_6b_float16_tp1_rank0.engine)

:func:`normalize` returns the keys listed in ``NORMALIZED_KEYS`` (``None`` where the config does
not say).  Every consumer (engine, memory, Triton checks) reads only these keys.
"""

from __future__ import annotations

from typing import Any

NORMALIZED_KEYS = (
    "layout",  # "trtllm-build" | "legacy"
    "trtllm_version",  # TensorRT-LLM release that built the engine ("0.9.0", "0.10.0.dev2024041600")
    "trt_version",  # TensorRT version recorded in the config, if any ("9.2.0.5")
    "architecture",  # "LlamaForCausalLM", "chatglm3_6b", …
    "dtype",  # "float16", "bfloat16", "float32"
    "num_layers", "num_heads", "num_kv_heads", "head_size", "hidden_size", "vocab_size",
    "tp", "pp", "world_size",
    "max_batch_size", "max_input_len", "max_output_len", "max_seq_len", "max_num_tokens", "max_beam_width",
    "paged_kv_cache", "remove_input_padding", "gpt_attention_plugin", "gemm_plugin", "tokens_per_block",
    "quant_algo",  # "W4A16", "W8A16", "FP8", … or None
    "kv_cache_dtype",  # "float16", "bfloat16", "int8", "fp8"
    "use_paged_context_fmha", "max_draft_len", "gather_context_logits",
    "out_of_range",  # {key: {"value", "allowed"}} for numbers no build writes (see BOUNDED); None when all fit
    "unreadable",  # {"build_config.max_batch_size": "eight"}: numbers the file gives as something else; None when none
)

# The numeric settings whose raw value is kept when it is not a whole number (ENG009 names them).
_CHECKED_NUMBERS = {
    "trtllm-build": (("build_config", ("max_batch_size", "max_input_len", "max_output_len", "max_seq_len", "max_num_tokens",
                                       "max_beam_width", "max_draft_len")),
                     ("pretrained_config", ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "hidden_size",
                                            "head_size", "vocab_size"))),
    "legacy": (("builder_config", ("max_batch_size", "max_input_len", "max_output_len", "max_num_tokens", "max_beam_width",
                                   "num_layers", "num_heads", "num_kv_heads", "hidden_size", "head_size", "vocab_size",
                                   "tensor_parallel", "pipeline_parallel")),),
}


def unreadable_numbers(cfg: Any) -> dict[str, Any]:
    """``{"build_config.max_batch_size": "eight"}``: settings present in the file whose value is not
    a whole number (so :func:`normalize` reads them as unknown, never as a default; ENG009 names them)."""
    out: dict[str, Any] = {}
    layout = layout_of(cfg)
    for section, keys in _CHECKED_NUMBERS.get(layout or "", ()):
        sec = cfg.get(section)
        if not isinstance(sec, dict):
            continue
        for k in keys:
            v = sec.get(k)
            if v is not None and (_int(v) is None or isinstance(v, bool) or (isinstance(v, (int, float)) and v < 0)):
                out[f"{section}.{k}"] = v
    if layout == "trtllm-build":
        mapping = cfg["pretrained_config"].get("mapping") if isinstance(cfg.get("pretrained_config"), dict) else None
        for k in ("tp_size", "pp_size", "world_size"):
            v = mapping.get(k) if isinstance(mapping, dict) else None
            if v is not None and (_int(v) is None or isinstance(v, bool) or _int(v) < 1):
                out[f"pretrained_config.mapping.{k}"] = v
    return out


# TensorRT-LLM's runtime holds every rank, size and length as a 32-bit signed integer
# (tensorrt_llm::runtime::SizeType32, earlier SizeType = std::int32_t: cpp/include/tensorrt_llm/
# runtime/common.h and executor/types.h); tp, pp and world_size count ranks, at least 1.  A value
# outside these bounds cannot come from trtllm-build: :func:`normalize` drops it (None) and lists
# it under ``out_of_range`` (ENG008's finding), so that no consumer loops or allocates on it.
SIZE_MAX = 2**31 - 1
BOUNDED = {
    "tp": (1, SIZE_MAX), "pp": (1, SIZE_MAX), "world_size": (1, SIZE_MAX),
    "num_layers": (0, SIZE_MAX), "num_heads": (0, SIZE_MAX), "num_kv_heads": (0, SIZE_MAX), "head_size": (0, SIZE_MAX),
    "hidden_size": (0, SIZE_MAX), "vocab_size": (0, SIZE_MAX), "max_batch_size": (0, SIZE_MAX), "max_input_len": (0, SIZE_MAX),
    "max_output_len": (0, SIZE_MAX), "max_seq_len": (0, SIZE_MAX), "max_num_tokens": (0, SIZE_MAX), "max_beam_width": (0, SIZE_MAX),
    "max_draft_len": (0, SIZE_MAX), "tokens_per_block": (0, SIZE_MAX),
}


def _shown(v: Any) -> str:
    t = str(v)
    return t if len(t) <= 40 else f"{t[:20]}…({len(t)} digits)"


def _bounded(out: dict[str, Any], raw: dict[str, Any]) -> None:
    bad = {}
    for k, (lo, hi) in BOUNDED.items():
        v = raw.get(k)
        if isinstance(v, int) and not (lo <= v <= hi):
            bad[k] = {"value": _shown(v), "allowed": f"{lo}..{hi}"}
            out[k] = None
    if bad:
        out["out_of_range"] = bad


def _d(v: Any) -> dict:
    """A section of the config, or {} when it is missing or not an object (a hand-edited file)."""
    return v if isinstance(v, dict) else {}


def _first(d: dict, *keys: str) -> Any:
    for k in keys:
        if isinstance(d, dict) and d.get(k) is not None:
            return d[k]
    return None


def _int(v: Any) -> int | None:
    if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().isascii() and v.strip().isdigit() and len(v.strip()) <= 40:
        return int(v.strip())
    return None


def _flag(v: Any) -> bool | None:
    """Plugin settings are True/False, a dtype string ("float16": on), "disable" or None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.lower() not in ("", "disable", "disabled", "false", "none", "0")
    if isinstance(v, (int, float)):
        return bool(v)
    return None


def layout_of(cfg: Any) -> str | None:
    if not isinstance(cfg, dict):
        return None
    if "pretrained_config" in cfg or "build_config" in cfg:
        return "trtllm-build"
    if "builder_config" in cfg:
        return "legacy"
    return None


_QUANT_MODE_BITS = {  # tensorrt_llm/quantization/mode.py QuantMode flags (legacy builder_config.quant_mode)
    1 << 0: "INT4_WEIGHTS",
    1 << 1: "INT8_WEIGHTS",
    1 << 7: "INT8_KV_CACHE",
    1 << 8: "FP8_KV_CACHE",
    1 << 9: "FP8_QDQ",
}


def normalize(cfg: dict) -> dict[str, Any]:
    """Flatten a config.json of either layout into NORMALIZED_KEYS."""
    out: dict[str, Any] = {k: None for k in NORMALIZED_KEYS}
    layout = layout_of(cfg)
    out["layout"] = layout
    if layout == "trtllm-build":
        pc = _d(cfg.get("pretrained_config"))
        bc = _d(cfg.get("build_config"))
        plug = dict(_d(bc.get("plugin_config")) or _d(cfg.get("plugin_config")))
        kvt = bc.get("kv_cache_type")
        if plug.get("paged_kv_cache") is None and isinstance(kvt, str):
            plug["paged_kv_cache"] = kvt.upper().split(".")[-1] == "PAGED"
        mapping = _d(pc.get("mapping"))
        quant = _d(pc.get("quantization"))
        out["trtllm_version"] = _str(cfg.get("version"))
        out["trt_version"] = _str(_first(cfg, "tensorrt", "trt_version") or _first(bc, "tensorrt"))
        out["architecture"] = _str(pc.get("architecture"))
        out["dtype"] = _str(pc.get("dtype"))
        out["num_layers"] = _int(_first(pc, "num_hidden_layers", "num_layers"))
        out["num_heads"] = _int(_first(pc, "num_attention_heads", "num_heads"))
        out["num_kv_heads"] = _int(_first(pc, "num_key_value_heads", "num_kv_heads")) or out["num_heads"]
        out["hidden_size"] = _int(pc.get("hidden_size"))
        out["head_size"] = _int(_first(pc, "head_size", "head_dim"))
        out["vocab_size"] = _int(pc.get("vocab_size"))
        out["tp"] = _int(_first(mapping, "tp_size")) or 1
        out["pp"] = _int(_first(mapping, "pp_size")) or 1
        out["world_size"] = _int(_first(mapping, "world_size")) or out["tp"] * out["pp"]
        out["max_batch_size"] = _int(bc.get("max_batch_size"))
        out["max_input_len"] = _int(bc.get("max_input_len"))
        out["max_output_len"] = _int(bc.get("max_output_len"))
        out["max_seq_len"] = _int(_first(bc, "max_seq_len", "max_decoder_seq_len"))
        out["max_num_tokens"] = _int(bc.get("max_num_tokens"))
        out["max_beam_width"] = _int(bc.get("max_beam_width"))
        out["max_draft_len"] = _int(bc.get("max_draft_len"))
        out["gather_context_logits"] = _flag(bc.get("gather_context_logits"))
        out["quant_algo"] = _str(quant.get("quant_algo"))
        kvq = _str(quant.get("kv_cache_quant_algo"))
        out["kv_cache_dtype"] = {"INT8": "int8", "FP8": "fp8"}.get((kvq or "").upper(), out["dtype"])
    elif layout == "legacy":
        bc = _d(cfg.get("builder_config"))
        plug = _d(cfg.get("plugin_config"))
        out["trtllm_version"] = _str(_first(bc, "trtllm_version", "tensorrt_llm_version"))
        out["architecture"] = _str(bc.get("name"))
        out["dtype"] = _str(_first(bc, "precision", "dtype"))
        out["num_layers"] = _int(bc.get("num_layers"))
        out["num_heads"] = _int(bc.get("num_heads"))
        out["num_kv_heads"] = _int(bc.get("num_kv_heads")) or out["num_heads"]
        out["hidden_size"] = _int(bc.get("hidden_size"))
        out["head_size"] = _int(bc.get("head_size"))
        out["vocab_size"] = _int(bc.get("vocab_size"))
        out["trt_version"] = _str(_first(bc, "tensorrt", "trt_version"))
        out["tp"] = _int(bc.get("tensor_parallel")) or 1
        out["pp"] = _int(bc.get("pipeline_parallel")) or 1
        out["world_size"] = out["tp"] * out["pp"]
        for k in ("max_batch_size", "max_input_len", "max_output_len", "max_num_tokens", "max_beam_width", "max_draft_len"):
            out[k] = _int(bc.get(k))
        out["gather_context_logits"] = _flag(bc.get("gather_all_token_logits") or bc.get("gather_context_logits"))
        qm = _int(bc.get("quant_mode")) or 0
        flags = {name for bit, name in _QUANT_MODE_BITS.items() if qm & bit}
        out["quant_algo"] = "W4A16" if "INT4_WEIGHTS" in flags else "W8A16" if "INT8_WEIGHTS" in flags else ("FP8" if "FP8_QDQ" in flags else None)
        out["kv_cache_dtype"] = "int8" if "INT8_KV_CACHE" in flags or bc.get("int8_kv_cache") else "fp8" if "FP8_KV_CACHE" in flags else out["dtype"]
    else:
        return out
    raw = dict(out)
    _bounded(out, raw)
    if out.get("out_of_range") and any(k in out["out_of_range"] for k in ("tp", "pp", "world_size")):
        out["tp"] = out["pp"] = out["world_size"] = None  # the mapping as a whole cannot be trusted
    if out["head_size"] is None and out["hidden_size"] and out["num_heads"]:
        out["head_size"] = out["hidden_size"] // out["num_heads"]
    if out["max_seq_len"] is None and out["max_input_len"] is not None and out["max_output_len"] is not None:
        out["max_seq_len"] = out["max_input_len"] + out["max_output_len"]
    # a plugin key present with null means the plugin is off (trtllm-build writes null for disabled plugins)
    out["gpt_attention_plugin"] = _flag(plug.get("gpt_attention_plugin", None)) if plug.get("gpt_attention_plugin") is not None else (False if "gpt_attention_plugin" in plug else None)
    out["gemm_plugin"] = _flag(plug.get("gemm_plugin")) if plug.get("gemm_plugin") is not None else (False if "gemm_plugin" in plug else None)
    out["paged_kv_cache"] = _flag(plug.get("paged_kv_cache"))
    out["remove_input_padding"] = _flag(plug.get("remove_input_padding"))
    out["use_paged_context_fmha"] = _flag(plug.get("use_paged_context_fmha"))
    out["tokens_per_block"] = _int(plug.get("tokens_per_block"))
    out["unreadable"] = unreadable_numbers(cfg) or None
    return out


def _str(v: Any) -> str | None:
    return None if v is None else str(v)
