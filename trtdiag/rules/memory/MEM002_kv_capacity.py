"""MEM002: KV cache holds max_batch_size full-length sequences."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import Any, _best_rebuild, _filled, ok, plan_of, warning


@rule("MEM002", area="memory", title="KV cache holds max_batch_size full-length sequences", kb="kv-cache-insufficient")
def kv_capacity(facts):
    """Checks that the KV cache left after the engine loads holds max_batch_size sequences of
    max_seq_len tokens (max_input_len + max_output_len, or max_attention_window_size) on every
    rank: paged KV cache = kv_cache_free_gpu_mem_fraction (default 0.9) × free memory after load,
    capped by max_tokens_in_paged_kv_cache, in blocks of tokens_per_block; bytes per token =
    2 × layers × kv_heads/tp × head_size × bytes of the KV dtype.

    Why: the server starts, but serves fewer requests at once than max_batch_size: with the
    guaranteed_no_evict scheduler a request is admitted only when blocks for its full length are
    free, so the rest queue; with max_utilization they start and are paused when the cache fills.

    Fix: raise kv_cache_free_gpu_mem_fraction (below 1.0) or drop a low
    max_tokens_in_paged_kv_cache in the tensorrt_llm model's config.pbtxt; else rebuild with
    int8/int4 weight-only quantization, an fp8/int8 KV cache, or a smaller max_batch_size.
    """

    plan = plan_of(facts)
    if not plan.ok:
        return
    from ...derive import memory as mm

    loaded = [rp for rp in plan.ranks if rp.estimate["fits_load"]]
    if not loaded:
        return  # MEM001 reports it
    rp = min(loaded, key=lambda r: r.estimate["kv_sequences"])
    e = rp.estimate
    b = plan.build.max_batch_size
    ev: dict[str, Any] = {"arithmetic": plan.arithmetic()}
    if plan.raw:
        ev["config.pbtxt"] = dict(plan.raw)
    if e["kv_sequences"] >= b:
        ev["per_rank"] = plan.per_rank()
        yield ok(f"KV cache holds {e['kv_sequences']:,} sequences of {e['kv_tokens_per_sequence']:,} tokens (max_batch_size {b})", **ev)
        return
    ev["what fits"] = mm.table(plan.answers(), plan.build)
    policy = _filled(((plan.model_cfg or {}).get("parameters") or {}).get("batch_scheduler_policy")) or "guaranteed_no_evict"
    capped = e.get("kv_capped_by")
    msg = (f"On rank {rp.rank} the KV cache holds {e['kv_tokens']:,} tokens ({e['kv_bytes'] / mm.GiB:.2f} GiB at {e['kv_bytes_per_token']:,} B per token)"
           f" = {e['kv_sequences']} sequences of {e['kv_tokens_per_sequence']} tokens, but the engine is built for max_batch_size {b}."
           + (f" The cache is capped by max_tokens_in_paged_kv_cache = {plan.serving.max_tokens}." if capped else ""))
    wo = plan.without_others(rp)
    if wo:
        msg += (f" Other processes hold {wo[0] / mm.GiB:.2f} GiB on GPU {rp.gpu.get('index')} ({'; '.join(plan.others_on(rp.gpu))}):"
                f" without them it would hold {wo[1]['kv_sequences']} sequences"
                + (": stop them first (MEM003; `trtdiag fix --apply --kill`)." if wo[1]["kv_sequences"] >= b else " (MEM003)."))
    if policy == "guaranteed_no_evict":
        msg += f" With the {policy} scheduler at most {e['kv_sequences']} full-length requests run at once; the others wait."
    else:
        msg += f" With the {policy} scheduler more requests start, and are paused when the cache fills."
    alternatives = []  # the planner takes the first that applies to the files as they are
    cfg_path = (plan.model_cfg or {}).get("config_path")
    if cfg_path and capped:
        alternatives.append(hint("kv-parameter", "kv-cache-max-tokens", f"raise max_tokens_in_paged_kv_cache to {b * e['kv_tokens_per_sequence']} ({b} × {e['kv_tokens_per_sequence']})",
                                 cfg_path, "max_tokens_in_paged_kv_cache", str(b * e["kv_tokens_per_sequence"])))
    if cfg_path and (plan.serving.kv_fraction or mm.DEFAULT_KV_FRACTION) < mm.DEFAULT_KV_FRACTION:
        better = mm.estimate(plan.model, plan.build, e["free_before_load"], mm.Serving(mm.DEFAULT_KV_FRACTION, plan.serving.max_tokens, plan.serving.max_attention_window),
                             weights=e["weights"] if e["weights_source"] == "engine file" else None)
        alternatives.append(hint("kv-parameter", "kv-cache-fraction", f"raise kv_cache_free_gpu_mem_fraction to {mm.DEFAULT_KV_FRACTION} (holds {better['kv_sequences']} sequences)",
                                 cfg_path, "kv_cache_free_gpu_mem_fraction", str(mm.DEFAULT_KV_FRACTION)))
    if not (wo and wo[1]["kv_sequences"] >= b):  # else stopping the other process is the fix (MEM003)
        rebuild = _best_rebuild(plan)
        if rebuild is not None:
            alternatives.append(rebuild)
    fix = hint("first-of", alternatives) if alternatives else None
    ev.update(per_rank=plan.per_rank(), answers=plan.answers())  # structured, for --json
    yield warning(f"KV cache holds {e['kv_sequences']} of {b} full-length sequences", msg, evidence=ev, fix=fix)
