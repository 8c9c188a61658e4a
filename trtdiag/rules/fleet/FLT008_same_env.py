"""FLT008: Same launch environment on every rank."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import advice
from .common import _names, _split, ok, ranks_of, warning


@rule("FLT008", area="fleet", title="Same launch environment on every rank", kb="fleet-rank-env-differs")
def same_env(facts):
    """Compares the environment variables that decide what a rank loads and how it talks to the
    others (``LD_LIBRARY_PATH``, ``LD_PRELOAD``, ``PYTHONPATH``, ``PATH``, ``NCCL_*``, ``UCX_*``,
    ``OMPI_MCA_*``, ``TRTLLM_*``, ``CUDA_*``) across ranks; per-rank ones (``CUDA_VISIBLE_DEVICES``,
    rank numbers) are left out.

    Why: ``mpirun -x`` exports only what it is told; a node whose shell profile sets another
    ``LD_LIBRARY_PATH`` loads another libnvinfer, and an ``NCCL_*`` setting on one node only makes
    the ranks disagree about transports and hang.

    Fix: export the same values to every rank (``mpirun -x NAME=VALUE``, or the job spec's env for
    every pod), and remove the odd setting from that node's profile."""
    ranks = ranks_of(facts)
    have = [r for r in ranks if isinstance(r.facts.get("env.vars"), dict)]
    if len(have) < 2:
        return
    from ...derive.fleet_env import PER_RANK_VARS  # recorded, but per rank by design: never compared

    names = sorted({k for r in have for k in r.facts["env.vars"] if k not in PER_RANK_VARS})
    out = []
    for name in names:
        value, same, odd, unknown = _split(have, lambda r: r.facts["env.vars"].get(name, "(unset)"))
        if not odd:
            continue
        odd_ranks = [r for _, rs in odd.values() for r in rs]
        ev = {r.label: r.facts["env.vars"].get(name, "(unset)") for r in odd_ranks}
        ev[f"the other {len(same)} rank{'s' if len(same) != 1 else ''}"] = value
        f = warning(f"{name} differs on {_names(odd_ranks)}",
                    f"{name} is {ev[odd_ranks[0].label]!r} on {odd_ranks[0].label} but {value!r} on the other {len(same)} "
                    f"rank{'s' if len(same) != 1 else ''}; that rank may load other libraries or choose another transport.",
                    evidence=ev)
        f.hint = advice(id="FLT008-same-env", summary=(f"export one value to every rank: `mpirun -x {name} …` (or unset it on {', '.join(sorted({r.host for r in odd_ranks}))})"
                                                   if value == "(unset)" else f"export one value to every rank: `mpirun -x {name}={value} …`"))
        out.append(f)
    if not out:
        out.append(ok(f"{len(names)} launch variables alike on all {len(have)} ranks"))
    return out
