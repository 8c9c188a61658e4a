"""Container checks (CTR0xx): /dev/shm, ulimits, visible GPUs, memory limit, the image's versions.

They read ``container.info`` (probes/container.py) and, where a launch command is known
(``trtdiag exec -- …``), ``launch.command`` (probes/launch.py).  Numbers and where they come from:

- Docker gives a container a 64 MiB /dev/shm unless run with ``--shm-size`` or ``--ipc=host``
  (docker run reference).  Triton's Python backend (used by tensorrtllm_backend's preprocessing,
  postprocessing and BLS models) keeps one shared-memory region per model instance in /dev/shm,
  sized by ``--backend-config=python,shm-default-byte-size`` and grown by
  ``shm-growth-byte-size`` (python_backend README, "Managing Shared Memory": 64 MB per instance,
  grown in 64 MB steps, in older releases; 1 MB and 1 MB steps in current ones — so with
  the old default two instances already overflow Docker's 64 MiB); when it cannot grow it fails
  with "Failed to increase the shared memory pool size for key '…' to N bytes. If you are running
  Triton inside docker, use '--shm-size' flag to control the shared memory region size."  NCCL puts its intra-node buffers in /dev/shm too.  The
  tensorrtllm_backend and NGC guides start containers with ``--shm-size=2g`` (or ``--ipc=host``)
  and ``--ulimit memlock=-1 --ulimit stack=67108864``.

Shared helpers of the container rules (one rule a file beside this one)."""

from __future__ import annotations

from typing import Any

from ...core.finding import error, info, ok, warning

MiB = 1 << 20

GiB = 1 << 30

DOCKER_DEFAULT_SHM = 64 * MiB

SHM_RECOMMENDED = 2 * GiB  # tensorrtllm_backend README: docker run … --shm-size=2g

SHM_MIN_TRITON = 256 * MiB

STACK_RECOMMENDED = 64 * MiB  # --ulimit stack=67108864

MEMLOCK_MIN = 64 * MiB

def _get(facts, name: str, default: Any = None) -> Any:
    """A fact of another area, or ``default`` when its probe failed or is not installed."""
    try:
        return facts.get(name, default)
    except Exception:  # the other area's probe module may be absent in this build
        return default

def _launch(facts) -> dict[str, Any]:
    return _get(facts, "launch.command") or {}

def _world_size(facts) -> int | None:
    ws = facts.opt("world_size")
    if ws is None:
        ws = _launch(facts).get("world_size")
    try:
        return int(ws) if ws is not None else None
    except (TypeError, ValueError):
        return None

def _human(n: int | None) -> str:
    if n is None:
        return "unlimited"
    if n >= GiB:
        return f"{n / GiB:.1f} GiB"
    if n >= MiB:
        return f"{n / MiB:.0f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} B"

def _uses_triton(launch: dict[str, Any]) -> bool:
    return launch.get("kind") in ("tritonserver", "launch_triton_server")

def _run_hint(facts) -> str:
    rt = (_get(facts, "container.info") or {}).get("runtime", {}).get("runtime")
    if rt == "kubernetes":
        return "mount an emptyDir with medium: Memory (sizeLimit: 2Gi) at /dev/shm in the pod spec"
    return "restart the container with `docker run --shm-size=2g …` (or `--ipc=host`)"

def _multi_rank(facts) -> bool:
    return (_world_size(facts) or 1) > 1

def _cuda_visible(value: str, available: int | None) -> tuple[int, list[str]]:
    """How many devices CUDA enumerates under CUDA_VISIBLE_DEVICES=value (CUDA stops at the first
    entry that is not a valid device: "-1" hides all, "0,-1,1" keeps only 0)."""
    kept: list[str] = []
    for tok in value.split(","):
        tok = tok.strip()
        if not tok:
            break
        if tok.isdigit():
            if available is not None and int(tok) >= available:
                break
        elif not (tok.startswith("GPU-") or tok.startswith("MIG-")):
            break
        if tok in kept:
            break
        kept.append(tok)
    return len(kept), kept

def visible_gpus(facts) -> dict[str, Any]:
    """How many GPUs the server process will see, and why (``limited_by``: what lowered it)."""
    g = facts["container.info"].get("gpus") or {}
    nodes = g.get("device_nodes") or []
    inv = _get(facts, "gpu.inventory")
    why: dict[str, Any] = {}
    limited_by: list[str] = []
    if inv and not inv.get("nvml_error") and isinstance(inv.get("gpus"), list):
        count = len(inv["gpus"])
        why["NVML"] = f"{count} GPU(s)"
    else:
        count = len(nodes)
        why["device nodes"] = nodes or "(none: no /dev/nvidiaN)"
        if not nodes:
            limited_by.append("no /dev/nvidiaN device nodes: started without --gpus, or no GPU here")
    nvd = g.get("nvidia_visible_devices")
    if nvd is not None:
        why["NVIDIA_VISIBLE_DEVICES"] = nvd if nvd != "" else "(empty)"
        if nvd.strip().lower() in ("void", "none", ""):
            if count:
                limited_by.append(f"NVIDIA_VISIBLE_DEVICES={nvd or '(empty)'}")
            count = 0
    cvd = g.get("cuda_visible_devices")
    if cvd is not None:
        why["CUDA_VISIBLE_DEVICES"] = cvd if cvd != "" else "(empty)"
        n, _ = _cuda_visible(cvd, count)
        if n < count:
            limited_by.append(f"CUDA_VISIBLE_DEVICES={cvd or '(empty)'}")
        count = min(count, n)
    return {"count": count, "why": why, "limited_by": limited_by}

def _vparts(v: str) -> list[str]:
    import re

    return re.findall(r"\d+", str(v).split("+")[0])[:4]

def _same_version(image: str, installed: str) -> bool:
    a, b = _vparts(image), _vparts(installed)
    n = min(len(a), len(b))
    return n > 0 and [int(x) for x in a[:n]] == [int(x) for x in b[:n]]
