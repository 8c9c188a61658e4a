"""FLT003: Same NVIDIA driver on every rank."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import Severity, _skew, ranks_of


@rule("FLT003", area="fleet", title="Same NVIDIA driver on every rank", kb="fleet-rank-version-skew")
def same_driver(facts):
    """Compares the NVIDIA driver version and the CUDA version it supports (``gpu.inventory``)
    across ranks.

    Why: the engine and its CUDA runtime need a driver at least as new as the one they were built
    for; nodes on different drivers behave differently (one fails with "CUDA driver version is
    insufficient", or NCCL picks other transports).

    Fix: install the same driver on every node (the version the other ranks run)."""
    ranks = ranks_of(facts)

    def value(r):
        inv = r.facts.get("gpu.inventory")
        if not isinstance(inv, dict) or not inv.get("driver"):
            return None
        cd = inv.get("cuda_driver")
        return f"{inv['driver']} (CUDA {cd // 1000}.{cd % 1000 // 10})" if isinstance(cd, int) else inv["driver"]

    return _skew(ranks, "NVIDIA driver", value, severity=Severity.WARNING,
                 fix_summary="install NVIDIA driver {value} on {odd}, the one the other ranks run",
                 fix_id="FLT003-align-driver")
