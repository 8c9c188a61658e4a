"""MEM003: No other process holds GPU memory."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import GiB, _fact, ok, os, own_rank, rank_gpu, warning


@rule("MEM003", covers=("FLT006:gpu-held",), area="memory", title="No other process holds GPU memory", kb="gpu-memory-held-by-other-process")
def other_processes(facts):
    """Lists processes that hold memory on the GPUs this server will use (PID, name, GiB), from
    NVML's list of compute processes (under ``check --mpi``: only the GPU this rank will use).
    An old tritonserver still running is the classic.

    Why: their memory is not free for the engine or the KV cache: the new server fails to load or
    gets a smaller KV cache.

    Fix: stop the process (`kill PID`; `trtdiag fix --apply --kill` does it, never for PID 1 or
    another user's process) or use another GPU (CUDA_VISIBLE_DEVICES).
    """

    inv = _fact(facts, "gpu.inventory")
    if not isinstance(inv, dict) or inv.get("nvml_error"):
        return
    recorded = str(inv.get("source", "")).startswith("recorded") or facts.from_snapshot
    seen = False
    gpus = inv.get("gpus") or []
    mine = own_rank(facts)
    if mine is not None:  # one rank of `check --mpi`: only the GPU this rank will use
        g = rank_gpu(inv, mine[1])
        gpus = [g] if g is not None else []
    for g in gpus:
        for p in g.get("procs") or []:
            pid = p.get("pid")
            if pid == os.getpid():
                continue
            seen = True
            name = p.get("name") or "unknown"
            used = p.get("used")
            ev = {"pid": pid, "name": name, "gpu": g.get("index"), "gpu name": g.get("name"),
                  "used": f"{used / GiB:.2f} GiB ({used:,} B)" if used else "not visible (another container or user)",
                  "gpu free": f"{g['free'] / GiB:.2f} GiB" if g.get("free") is not None else None}
            ev = {k: v for k, v in ev.items() if v is not None}
            title = f"PID {pid} ({name}) holds {used / GiB:.2f} GiB on GPU {g.get('index')}" if used else f"PID {pid} ({name}) uses GPU {g.get('index')}"
            msg = "This memory is not available to the engine or its KV cache."
            if "tritonserver" in name or "trtllm" in name:
                msg = "An earlier server is still running and holds this memory: the new one will load short of memory or not at all."
            fix = None
            if recorded:
                msg += " (Recorded on another machine: stop it there.)"
            elif not p.get("local"):
                msg += (" This PID is not a process of this PID namespace holding an NVIDIA device (NVML reports host PIDs):"
                        " stop it from the host or its own container.")
            elif isinstance(pid, int) and pid > 1:

                fix = hint("stop-gpu-process", pid, p.get("name"), used / GiB if used else None, g.get("index"))
            yield warning(title, msg, evidence=ev, fix=fix)
    if not seen and gpus:
        yield ok("No other process holds memory on " + (f"GPU {gpus[0].get('index')}, the one this rank will use" if mine else "the visible GPUs"))
