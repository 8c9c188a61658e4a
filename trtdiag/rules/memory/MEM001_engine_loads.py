"""MEM001: Engine fits in each rank's free GPU memory."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import Any, _best_rebuild, error, ok, plan_of


@rule("MEM001", area="memory", title="Engine fits in each rank's free GPU memory", kb="gpu-out-of-memory")
def engine_loads(facts):
    """Checks, for every rank of tp × pp, that the engine's weights (the rank's engine file), its
    activation memory (max_num_tokens, or max_batch_size × max_input_len) and the CUDA context fit
    in the free memory of the GPU that rank will use (GPUs 0 … tp × pp - 1 of those visible; under
    ``check --mpi`` each rank checks only its own GPU, local rank → GPU), and that something is
    left for the KV cache.

    Why: otherwise the server dies at load with an out-of-memory error (CUDA error "out of
    memory", "Requested amount of GPU memory … could not be allocated").

    Fix: free the GPU (MEM003), or rebuild smaller: weight-only int8/int4 quantization
    (convert_checkpoint.py --use_weight_only --weight_only_precision int4), a smaller
    max_batch_size or shorter max_input_len / max_output_len, or more tensor-parallel ranks.
    The finding's table says which of these fit.
    """

    plan = plan_of(facts)
    if not plan.ok:
        return
    from ...derive import memory as mm
    from ...core.finding import hint

    rp = plan.worst
    e = rp.estimate
    g = rp.gpu
    ev: dict[str, Any] = {"arithmetic": plan.arithmetic()}
    if plan.own_rank:
        ev["checked"] = f"rank {rp.rank} only, on the GPU it will use (local rank → GPU {g.get('index')}); every rank checks its own"
    elif plan.world > plan.checked:
        ev["not checked"] = f"ranks {plan.checked}..{plan.world - 1}: only {len(plan.gpus)} GPU(s) visible here"
    if e["fits_load"]:
        ev["per_rank"] = plan.per_rank()
        yield ok(f"Engine loads: rank {rp.rank} keeps {e['free_after_load'] / mm.GiB:.2f} GiB after load on GPU {g.get('index')} ({g.get('name')})", **ev)
        return
    others = plan.others_on(g)
    if others:
        ev["other processes on this GPU"] = others
    ev["what fits"] = mm.table(plan.answers(), plan.build)
    short = e["deficit"] / mm.GiB
    need = (e["weights"] + e["activations"] + e["overhead"]) / mm.GiB
    msg = (f"Rank {rp.rank} needs {need:.2f} GiB to load (weights {e['weights'] / mm.GiB:.2f} + activations {e['activations'] / mm.GiB:.2f}"
           f" + CUDA context {e['overhead'] / mm.GiB:.2f})" + (f" plus {e['kv_bytes'] / mm.GiB:.2f} GiB of contiguous KV cache" if e["rule"] == "contiguous" else "")
           + f", but GPU {g.get('index')} ({g.get('name')}) has {e['free_before_load'] / mm.GiB:.2f} GiB free.")
    if e["rule"] == "paged" and e["deficit"] == 0:
        msg += " Nothing would be left for a single KV-cache block."
    fix = None
    if others:
        msg += " Other processes hold memory on it: " + "; ".join(others) + "."
        wo = plan.without_others(rp)
        if wo and wo[1]["fits_load"]:
            msg += (f" Without them the engine would load ({wo[1]['kv_sequences']} full-length sequences in the KV cache):"
                    " stop them first (MEM003; `trtdiag fix --apply --kill`).")
        else:
            fix = _best_rebuild(plan)
    else:
        fix = _best_rebuild(plan)
    ev.update(per_rank=plan.per_rank(), answers=plan.answers())  # structured, for --json
    yield error(f"Engine does not fit on GPU {g.get('index')}: {short:.2f} GiB short" if short > 0 else f"Engine leaves no room for the KV cache on GPU {g.get('index')}",
                msg, evidence=ev, fix=fix)
