"""CTR002: memlock ulimit high enough for NCCL and pinned memory."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import MEMLOCK_MIN, _human, _launch, _multi_rank, _world_size, info, ok, warning


@rule("CTR002", area="container", title="memlock ulimit high enough for NCCL and pinned memory", kb="ulimit-memlock")
def memlock(facts):
    """Checks the locked-memory limit (ulimit -l) that the server will inherit.

    Why: NCCL over InfiniBand/RoCE and GPUDirect register (lock) host memory; with Docker's default
    limit (8 MiB on most hosts) multi-GPU runs fail to register memory (ibv_reg_mr) or fall back
    to slower transports.  NVIDIA's container guides start containers with --ulimit memlock=-1.

    Fix: `docker run --ulimit memlock=-1 …` (Kubernetes: raise the limit in the container
    runtime's default ulimits, e.g. containerd's LimitMEMLOCK=infinity).
    """
    lim = (facts["container.info"].get("ulimits") or {}).get("memlock")
    if not lim:
        return
    soft = lim.get("soft")
    ev = {"soft limit": _human(soft), "hard limit": _human(lim.get("hard")), "recommended": "unlimited (--ulimit memlock=-1)"}
    if soft is None:
        yield ok("memlock is unlimited", **{k: v for k, v in ev.items() if k != "recommended"})
        return
    if _multi_rank(facts) and soft < MEMLOCK_MIN:
        ev["world size"] = _world_size(facts)
        yield warning(f"memlock is limited to {_human(soft)} for a {_world_size(facts)}-rank launch",
                      "NCCL's InfiniBand/RoCE transport and GPUDirect RDMA must lock host memory; with this limit they fail "
                      "(\"ibv_reg_mr failed\") or fall back to slower transports. Fix: restart the container with "
                      "`docker run --ulimit memlock=-1 …`.", evidence=ev)
        return
    launch = _launch(facts)
    if launch or (facts["container.info"].get("runtime") or {}).get("in_container"):
        yield info(f"memlock is limited to {_human(soft)}",
                   "Fine for one GPU; multi-GPU runs over InfiniBand need `--ulimit memlock=-1`.", evidence=ev)
