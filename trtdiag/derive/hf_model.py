"""What a model directory is, as TensorRT-LLM's ``get_model_format`` tells it (pure functions).

``tensorrt_llm/llmapi/llm_utils.py`` ``get_model_format(model_dir)`` (NVIDIA/TensorRT-LLM, the
versions read here, e.g. llm_utils.py of the 1.x line):

- no ``config.json`` in the directory → ``ValueError("Failed to infer model format because no
  config.json exists in {model_dir}")``;
- ``'pretrained_config' in config and 'build_config' in config`` → ``TLLM_ENGINE`` (an engine dir);
- ``'architecture' in config and 'dtype' in config`` → ``TLLM_CKPT`` (a TensorRT-LLM checkpoint);
- else ``HF`` (loaded with ``AutoConfig.from_hugging_face``).

On a main without the TensorRT backend (docs/source/legacy/tensorrt-backend-removal.md) only HF
checkpoints load.  :func:`read_hf_config` pulls what the memory model and the checks need out of
an HF ``config.json``.
"""

from __future__ import annotations

from typing import Any

HF, TLLM_CKPT, TLLM_ENGINE = "HF", "TLLM_CKPT", "TLLM_ENGINE"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json", "merges.txt",
                   "tiktoken.model", "qwen.tiktoken")


def model_format(config: Any, entries: list[str] | None = None) -> dict[str, Any]:
    """{"format": HF|TLLM_CKPT|TLLM_ENGINE|None, "error": str|None, "weights": [...], "tokenizer": [...], "engines": [...]}.

    ``config``: the parsed config.json (None when the directory has none); ``entries``: file names."""
    entries = list(entries or [])
    out: dict[str, Any] = {
        "weights": sorted(e for e in entries if e.endswith(WEIGHT_SUFFIXES)),
        "tokenizer": sorted(e for e in entries if e in TOKENIZER_FILES),
        "engines": sorted(e for e in entries if e.endswith(".engine")),
        "format": None, "error": None,
    }
    if config is None:
        out["error"] = "Failed to infer model format because no config.json exists"
        return out
    if not isinstance(config, dict):
        out["error"] = "config.json is not a JSON object"
        return out
    if "pretrained_config" in config and "build_config" in config:
        out["format"] = TLLM_ENGINE
    elif "architecture" in config and "dtype" in config:
        out["format"] = TLLM_CKPT
    else:
        out["format"] = HF
    return out


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def _str_list(v: Any) -> list[str]:
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def read_hf_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Hugging Face config.json the PyTorch-backend memory model uses.

    Nested ``text_config`` (multimodal models) is read when the top level has no layers."""
    if not isinstance(cfg, dict):
        return {}
    src = cfg
    if _int(cfg.get("num_hidden_layers")) is None and isinstance(cfg.get("text_config"), dict):
        src = {**cfg["text_config"], "architectures": cfg.get("architectures"), "quantization_config": cfg.get("quantization_config")}
    heads = _int(src.get("num_attention_heads"))
    hidden = _int(src.get("hidden_size"))
    kv = _int(src.get("num_key_value_heads")) or heads
    head_dim = _int(src.get("head_dim")) or (hidden // heads if hidden and heads else None)
    q = src.get("quantization_config") if isinstance(src.get("quantization_config"), dict) else None
    quant = None
    if q:
        quant = {"quant_method": q.get("quant_method"), "quant_algo": q.get("quant_algo"),
                 "kv_cache_quant_algo": q.get("kv_cache_quant_algo"), "bits": q.get("bits") or q.get("w_bit"),
                 "fmt": q.get("fmt"), "weight_block_size": q.get("weight_block_size"),
                 # modules the producer left unquantized: modules_to_not_convert (gpt-oss / transformers)
                 # merged with ignore (compressed-tensors), as TensorRT-LLM's load_hf_quant_config
                 # builds QuantConfig.exclude_modules from them
                 "exclude_modules": _str_list(q.get("modules_to_not_convert")) + _str_list(q.get("ignore"))}
    layer_types = src.get("layer_types") if isinstance(src.get("layer_types"), list) else None
    sliding = _int(src.get("sliding_window")) if src.get("use_sliding_window", True) is not False else None
    archs = src.get("architectures") if isinstance(src.get("architectures"), list) else []
    vc = cfg.get("vision_config") if isinstance(cfg.get("vision_config"), dict) else None
    vision = None
    if vc:
        vision = {k: _int(vc.get(k)) for k in ("depth", "hidden_size", "intermediate_size", "out_hidden_size",
                                               "patch_size", "temporal_patch_size", "spatial_merge_size")}
        vision["in_chans"] = _int(vc.get("in_chans")) or _int(vc.get("in_channels"))
        vision["model_type"] = cfg.get("model_type") if isinstance(cfg.get("model_type"), str) else None
    return {
        "architectures": [a for a in archs if isinstance(a, str)],
        "model_type": src.get("model_type") if isinstance(src.get("model_type"), str) else None,
        "num_hidden_layers": _int(src.get("num_hidden_layers")),
        "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": head_dim,
        "hidden_size": hidden, "intermediate_size": _int(src.get("intermediate_size")),
        "moe_intermediate_size": _int(src.get("moe_intermediate_size")),
        "num_experts": _int(src.get("num_local_experts")) or _int(src.get("num_experts")) or _int(src.get("n_routed_experts")),
        "num_shared_experts": _int(src.get("n_shared_experts")) or (1 if _int(src.get("shared_expert_intermediate_size")) else None),
        "shared_expert_intermediate_size": _int(src.get("shared_expert_intermediate_size")),
        "first_k_dense_replace": src.get("first_k_dense_replace") if isinstance(src.get("first_k_dense_replace"), int) else None,
        "vocab_size": _int(src.get("vocab_size")),
        "max_position_embeddings": _int(src.get("max_position_embeddings")),
        "torch_dtype": (src.get("torch_dtype") or src.get("dtype")) if isinstance(src.get("torch_dtype") or src.get("dtype"), str) else None,
        "tie_word_embeddings": bool(src.get("tie_word_embeddings", False)),
        "sliding_window": sliding, "layer_types": layer_types,
        "kv_lora_rank": _int(src.get("kv_lora_rank")), "qk_rope_head_dim": _int(src.get("qk_rope_head_dim")),
        "quantization": quant,
        "vision": vision,
    }
