"""GPU002: GPUs: name, memory, compute capability."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import GiB, _gpu_line, ok, warning


@rule("GPU002", area="gpu", title="GPUs: name, memory, compute capability")
def gpu_list(facts):
    """Lists each visible GPU with its name, UUID, total and free memory and compute capability
    (what an engine was built for must match: see ENG checks), and warns about a GPU whose
    memory is mostly taken before the server starts.

    Why: a TensorRT engine runs only on the compute capability it was built for, and every memory
    estimate starts from the free memory shown here.

    Fix: nothing, unless a GPU is mostly used: see MEM003 for who holds it.
    """
    inv = facts.get("gpu.inventory") or {}
    if inv.get("nvml_error"):
        return
    for g in inv.get("gpus") or []:
        ev = {"name": g.get("name"), "uuid": g.get("uuid"),
              "compute capability": ".".join(map(str, g["cc"])) if g.get("cc") else "unknown",
              "total": f"{g['total'] / GiB:.2f} GiB ({g['total']:,} B)" if g.get("total") is not None else None,
              "free": f"{g['free'] / GiB:.2f} GiB ({g['free']:,} B)" if g.get("free") is not None else None}
        if g.get("nvml_index") not in (None, g.get("index")):
            ev["NVML index"] = g["nvml_index"]
        ev = {k: v for k, v in ev.items() if v is not None}
        total, free = g.get("total"), g.get("free")
        if total and free is not None and free < 0.5 * total:
            yield warning(f"{_gpu_line(g)}: only {free / GiB:.2f} GiB free", "More than half of this GPU's memory is in use before the server starts.",
                          evidence=ev, kb="gpu-memory-held-by-other-process")
        else:
            free_txt = f" ({free / GiB:.2f} GiB free)" if free is not None else ""
            yield ok(_gpu_line(g).replace(" GiB,", f" GiB{free_txt},", 1) if free_txt else _gpu_line(g), **ev)
