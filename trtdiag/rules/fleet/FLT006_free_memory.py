"""FLT006: Free GPU memory alike on every rank; one GPU per rank."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import advice
from .common import GiB, Rank, _gpu_of, _names, error, math, ok, ranks_of, warning


@rule("FLT006", area="fleet", title="Free GPU memory alike on every rank; one GPU per rank", kb="gpu-memory-held-by-other-process")
def free_memory(facts):
    """Compares the free memory of the GPU each rank will use (local rank → GPU index) and that no
    two ranks on one host share a GPU.

    Why: TensorRT-LLM sizes the KV cache on each rank from its free memory
    (``kv_cache_free_gpu_mem_fraction``); tensor-parallel ranks must agree, so the rank with the
    least free memory limits all of them — or runs out of memory alone while loading. A GPU with
    less free memory than its peers usually holds another process. Two ranks on one GPU double its
    load and usually mean CUDA_VISIBLE_DEVICES was set the same for both.

    A GPU whose shortfall is the memory of processes NVML lists is left to MEM003 (which names
    them, per rank through FLT009) when it runs: one finding per problem.

    Fix: stop the process holding memory on the odd GPU (its pid is in the evidence), or set a
    lower ``kv_cache_free_gpu_mem_fraction``; give each local rank its own GPU."""
    ranks = ranks_of(facts)
    seen = [(r, _gpu_of(r)) for r in ranks]
    seen = [(r, g) for r, g in seen if g is not None and isinstance(g.get("free"), int)]
    if len(seen) < 2:
        return
    out = []
    by_gpu: dict[tuple, list[Rank]] = {}
    for r, g in seen:
        # the same GPU: the same UUID, or (no UUID recorded) the same index among all of the host's GPUs
        n_seen = len((r.facts.get("gpu.inventory") or {}).get("gpus") or [])
        gpu = g.get("uuid") or (f"GPU {g.get('index')}" if n_seen > 1 else None)
        if gpu is not None:
            by_gpu.setdefault((r.host, gpu), []).append(r)
    for (host, gpu), rs in by_gpu.items():
        if len(rs) > 1:
            f = error(f"{_names(rs)} share one GPU on {host}",
                      f"{len(rs)} ranks on {host} selected the same GPU ({gpu}); each TensorRT-LLM rank needs its own.",
                      evidence={"host": host, "gpu": gpu, "ranks": [r.label for r in rs]})
            f.hint = advice(id="FLT006-one-gpu-per-rank", summary="give each local rank its own GPU: do not set one CUDA_VISIBLE_DEVICES for all ranks (mpirun maps local rank N to GPU N)")
            out.append(f)
    most = max(g["free"] for _, g in seen)
    low = [(r, g) for r, g in seen if most - g["free"] > max(1 * GiB, 0.10 * most)]
    ev_all = {r.label: f"{g['free'] / GiB:.1f} GiB free of {g.get('total', 0) / GiB:.1f} GiB (GPU {g.get('index')})" for r, g in seen}
    if low:
        for r, g in low:
            procs = [p for p in g.get("procs") or [] if isinstance(p, dict)]
            held = sum(p.get("used") or 0 for p in procs if isinstance(p.get("used"), int))
            # the processes that hold it are MEM003's finding for that rank (FLT009 names the rank):
            # MEM003 covers this finding when it runs (subject gpu-held)
            subject = "gpu-held" if held >= 0.9 * (most - g["free"]) else None
            ev = {"free bytes": g["free"], "most free on any rank (bytes)": most,
                  "short by": f"{(most - g['free']) / GiB:.1f} GiB", "per rank": ev_all}
            if procs:
                ev["processes on this GPU"] = [f"pid {p.get('pid')} {p.get('name') or ''} {(p.get('used') or 0) / GiB:.1f} GiB".replace("  ", " ") for p in procs]
            f = warning(f"{r.label}: GPU {g.get('index')} has {g['free'] / GiB:.1f} GiB free, others up to {most / GiB:.1f} GiB",
                        f"The GPU of {r.label} has {(most - g['free']) / GiB:.1f} GiB less free memory than the best rank; "
                        "the KV cache of every tensor-parallel rank is limited by it, or this rank runs out of memory alone.",
                        evidence=ev, subject=subject)
            pids = [str(p.get("pid")) for p in procs if p.get("pid") is not None]
            f.hint = advice(id="FLT006-free-gpu", summary=(f"on {r.host}, stop what holds GPU {g.get('index')} (pid {', '.join(pids)}: see `nvidia-smi`)" if pids
                                                       else f"on {r.host}, free GPU {g.get('index')} (see `nvidia-smi`) or lower kv_cache_free_gpu_mem_fraction"))
            out.append(f)
    elif not out:
        out.append(ok(f"free GPU memory within {max(1, math.ceil(0.10 * most / GiB))} GiB on all {len(seen)} ranks", **ev_all))
    return out
