"""TRI009: KV-cache and beam parameters fit the engine."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _engine, _float, _int, _trtllm_model, _truthy, error, ok, warning


@rule("TRI009", area=AREA, title="KV-cache and beam parameters fit the engine", kb="kv-cache-config-invalid")
def engine_limits(facts):
    """The tensorrt_llm model's max_tokens_in_paged_kv_cache, max_attention_window_size,
    enable_kv_cache_reuse, kv_cache_free_gpu_mem_fraction and max_beam_width agree with the
    engine's lengths and features.

    Why: a KV cache smaller than one sequence of the engine's max_seq_len cannot hold the longest
    request; a window above max_seq_len is cut back; KV-cache reuse needs paged KV cache and paged
    context FMHA; a memory fraction outside (0, 1] or a beam width above the engine's makes the
    model fail to load.

    Fix: the values shown in each finding (or rebuild the engine with the lengths you need).
    """
    repo, name, m = _trtllm_model(facts)
    if m is None:
        return
    p = m.get("parameters") or {}
    f = m["config_path"]
    eng = _engine(facts)
    n = eng["normalized"] if eng else {}
    src = (eng.get("config_path") or eng.get("path")) if eng else None
    msl = n.get("max_seq_len")
    found = False
    frac_raw = p.get("kv_cache_free_gpu_mem_fraction")
    frac = _float(frac_raw)
    if frac_raw is not None and frac_raw.strip() and (frac is None or not 0 < frac <= 1):
        found = True
        yield error(f"{name}: kv_cache_free_gpu_mem_fraction {frac_raw!r} is not in (0, 1]",
                    f"{f} sets kv_cache_free_gpu_mem_fraction to {frac_raw!r}; it is the fraction of free GPU memory given to the KV cache after the engine loads. Use e.g. 0.9.",
                    evidence={"file": f, "kv_cache_free_gpu_mem_fraction": frac_raw})
    tok = _int(p.get("max_tokens_in_paged_kv_cache"))
    if tok is not None and eng:
        if n.get("paged_kv_cache") is False:
            found = True
            yield warning(f"{name}: max_tokens_in_paged_kv_cache set on an engine without paged KV cache",
                          f"{f} sets max_tokens_in_paged_kv_cache {tok}, but the engine ({src}) was built without paged KV cache; the setting is ignored.",
                          evidence={"file": f, "max_tokens_in_paged_kv_cache": tok, "engine paged_kv_cache": False})
        elif msl and tok < msl:
            found = True
            yield warning(f"{name}: KV cache of {tok} tokens is smaller than one {msl}-token sequence",
                          f"{f} caps the paged KV cache at {tok} tokens, but the engine ({src}) allows sequences of {msl} tokens (max_input_len + max_output_len); "
                          f"a request that long can never be scheduled. Raise max_tokens_in_paged_kv_cache to at least {msl} (× max_beam_width), or leave it unset and use kv_cache_free_gpu_mem_fraction.",
                          evidence={"file": f, "max_tokens_in_paged_kv_cache": tok, "engine max_seq_len": msl})
    win = _int(p.get("max_attention_window_size"))
    if win is not None and msl and win > msl:
        found = True
        yield warning(f"{name}: max_attention_window_size {win} exceeds the engine's max_seq_len {msl}",
                      f"{f} sets max_attention_window_size {win}; the engine ({src}) holds at most {msl} tokens per sequence and TensorRT-LLM cuts the window back to {msl}. Set it to {msl} or less, or leave it unset.",
                      evidence={"file": f, "max_attention_window_size": win, "engine max_seq_len": msl})
    if _truthy(p.get("enable_kv_cache_reuse")) and eng:
        lacking = [x for x, k in (("paged KV cache", "paged_kv_cache"), ("paged context FMHA", "use_paged_context_fmha")) if n.get(k) is False]
        if lacking:
            found = True
            yield error(f"{name}: enable_kv_cache_reuse needs " + " and ".join(lacking),
                        f"{f} turns on KV-cache reuse, which needs an engine built with paged KV cache and --use_paged_context_fmha enable; the engine ({src}) was built without "
                        + " and ".join(lacking) + ". Rebuild with them, or set enable_kv_cache_reuse to false.",
                        evidence={"file": f, "enable_kv_cache_reuse": p.get("enable_kv_cache_reuse"), "engine paged_kv_cache": n.get("paged_kv_cache"), "engine use_paged_context_fmha": n.get("use_paged_context_fmha")})
    bw = _int(p.get("max_beam_width"))
    ebw = n.get("max_beam_width")
    if bw is not None and ebw and bw > ebw:
        found = True
        yield error(f"{name}: max_beam_width {bw} exceeds the engine's {ebw}",
                    f"{f} sets max_beam_width {bw}; the engine ({src}) was built with max_beam_width {ebw}. Set it to {ebw} or rebuild with --max_beam_width {bw}.",
                    evidence={"file": f, "max_beam_width": bw, "engine max_beam_width": ebw})
    if not found and eng and any(p.get(k) is not None for k in ("max_tokens_in_paged_kv_cache", "max_attention_window_size", "enable_kv_cache_reuse", "max_beam_width")):
        yield ok(f"{name}: KV-cache and beam parameters fit the engine", file=f, engine_max_seq_len=msl)
