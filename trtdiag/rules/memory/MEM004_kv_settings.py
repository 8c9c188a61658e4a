"""MEM004: KV cache settings of the tensorrt_llm model are valid."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import KV_KEYS, _fact, _filled, _float, _int, error, info, ok, trtllm_model


@rule("MEM004", area="memory", title="KV cache settings of the tensorrt_llm model are valid", kb="kv-cache-config-invalid")
def kv_settings(facts):
    """Checks kv_cache_free_gpu_mem_fraction (a number above 0 and below 1: TensorRT-LLM stops with
    "Invalid freeMemFraction, freeMemFraction (%f) must be smaller than 1.0f"),
    max_tokens_in_paged_kv_cache (a positive integer, at least one full sequence of max_seq_len
    tokens) and max_attention_window_size (a positive integer) in the tensorrt_llm model's
    config.pbtxt.

    Why: a fraction of 0 or a token cap below one sequence leaves no room for a request of full
    length; 1.0 or more is refused at load; text that is not a number stops the backend.

    Fix: set the value in config.pbtxt (the fix edits only that string): the fraction to 0.9,
    the token cap to max_batch_size × max_seq_len or leave it unset.
    """

    name, m = trtllm_model(facts)
    if m is None:
        return
    from ...derive import memory as mm

    params = m.get("parameters") if isinstance(m.get("parameters"), dict) else {}
    cfg_path = m.get("config_path") if isinstance(m.get("config_path"), str) else None
    eng = _fact(facts, "engine.info")
    n = mm.clean_normalized(eng.get("normalized") if isinstance(eng, dict) else None)
    seq = n.get("max_seq_len") or ((n.get("max_input_len") or 0) + (n.get("max_output_len") or 0)) or None
    b = n.get("max_batch_size")
    problems = 0
    raw = _filled(params.get("kv_cache_free_gpu_mem_fraction"))
    if raw is not None:
        f = _float(raw)
        why = None
        if f is None:
            why = f"{raw!r} is not a number"
        elif f <= 0:
            why = f"{f:g} leaves no memory for the KV cache"
        elif f >= 1:
            why = f"{f:g} is not below 1.0; TensorRT-LLM refuses it (\"freeMemFraction ({f:f}) must be smaller than 1.0f\")"
        if why:
            problems += 1
            fix = hint("kv-parameter", "kv-cache-fraction", f"set kv_cache_free_gpu_mem_fraction to {mm.DEFAULT_KV_FRACTION}", cfg_path,
                                      "kv_cache_free_gpu_mem_fraction", str(mm.DEFAULT_KV_FRACTION)) if cfg_path else None
            yield error(f"kv_cache_free_gpu_mem_fraction = {raw!r} cannot work", f"In model {name!r}: {why}. Use a value above 0 and below 1 (default {mm.DEFAULT_KV_FRACTION}).",
                        evidence={"config": cfg_path, "kv_cache_free_gpu_mem_fraction": raw}, fix=fix)
    raw = _filled(params.get("max_tokens_in_paged_kv_cache"))
    if raw is not None:
        t = _int(raw)
        why, sev = None, error
        if t is None:
            why = f"{raw!r} is not an integer"
        elif t <= 0:
            why = f"{t} tokens leave no room for the KV cache"
        elif seq and t < seq:
            why = f"{t:,} tokens is less than one full sequence of max_seq_len {seq:,}: a request of full length can never be scheduled"
        if why:
            problems += 1
            value = str(b * seq) if b and seq else None
            fix = hint("kv-parameter", "kv-cache-max-tokens", f"set max_tokens_in_paged_kv_cache to {value} (max_batch_size {b} × max_seq_len {seq})",
                                      cfg_path, "max_tokens_in_paged_kv_cache", value) if cfg_path and value else None
            ev = {"config": cfg_path, "max_tokens_in_paged_kv_cache": raw}
            if seq:
                ev["max_seq_len"] = seq
            yield sev(f"max_tokens_in_paged_kv_cache = {raw!r} cannot work", f"In model {name!r}: {why}.", evidence=ev, fix=fix)
    raw = _filled(params.get("max_attention_window_size"))
    if raw is not None:
        w = _int(raw)
        if w is None or w <= 0:
            problems += 1
            yield error(f"max_attention_window_size = {raw!r} cannot work", f"In model {name!r}: it must be a positive integer (tokens of attention per sequence), or left unset.",
                        evidence={"config": cfg_path, "max_attention_window_size": raw})
        elif seq and w < seq:
            yield info(f"max_attention_window_size {w:,} is below max_seq_len {seq:,}",
                       "Sliding-window attention: each sequence keeps only its last max_attention_window_size tokens in the KV cache, "
                       "which saves memory but changes the output for long sequences.", evidence={"config": cfg_path, "max_attention_window_size": w, "max_seq_len": seq})
    if not problems and any(_filled(params.get(k)) is not None for k in KV_KEYS):
        yield ok("KV cache settings are valid", **{k: _filled(params.get(k)) for k in KV_KEYS if _filled(params.get(k)) is not None})
