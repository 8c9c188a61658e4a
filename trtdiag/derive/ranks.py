"""Which GPU a rank uses: one answer for the memory rules and the fleet rules."""

from __future__ import annotations


def rank_gpu(inv: dict, gpu_index: int) -> dict | None:
    """The GPU a rank with ``gpu_index`` (its local rank, under ``check --mpi``) will use: the only
    visible one, else CUDA device ``gpu_index`` (gpu.inventory numbers the GPUs CUDA_VISIBLE_DEVICES
    leaves from 0, as CUDA does)."""
    if not isinstance(inv, dict) or not isinstance(inv.get("gpus"), list):
        return None
    gpus = [g for g in inv.get("gpus") or [] if isinstance(g, dict)]
    if len(gpus) == 1:
        return gpus[0]
    for g in gpus:
        if g.get("index") == gpu_index:
            return g
    return gpus[gpu_index] if 0 <= gpu_index < len(gpus) else None
