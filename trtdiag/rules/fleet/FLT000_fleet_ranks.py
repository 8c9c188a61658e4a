"""FLT000: Ranks gathered for the fleet checks."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import info, ranks_of


@rule("FLT000", area="fleet", title="Ranks gathered for the fleet checks")
def fleet_ranks(facts):
    """Says how many ranks the fleet checks compared and on which hosts — or, under ``--mpi``, why
    this process ran as one rank (not launched by mpirun/srun, or mpi4py missing).

    Why: ``mpirun -n 4 trtdiag check --mpi`` compares only what reached rank 0; a count that is not
    the world size means a rank is missing from the comparison.

    Fix: launch with ``mpirun -n N trtdiag check --mpi`` (mpi4py installed in the same
    environment), or collect one snapshot per node (``trtdiag collect -o nodeK.json``) and run
    ``trtdiag check --from node0.json --from node1.json …``."""
    mpi = facts.get("fleet.mpi")
    ranks = ranks_of(facts)
    if isinstance(mpi, dict) and mpi.get("note"):
        yield info("Checked as one rank", mpi["note"], evidence={"ranks": mpi.get("ranks", 1)})
        return
    if not ranks:
        return
    hosts = sorted({r.host for r in ranks})
    ev = {"ranks": len(ranks), "hosts": hosts, "per rank": [r.label + (f" gpu {r.gpu_index}" if r.gpu_index is not None else "") for r in ranks]}
    if isinstance(mpi, dict) and mpi.get("launcher"):
        ev["launcher"] = mpi["launcher"]
    paths = [r.path for r in ranks if r.path]
    if paths:
        ev["snapshots"] = paths
    yield info(f"{len(ranks)} ranks on {len(hosts)} host{'s' if len(hosts) != 1 else ''} compared", evidence=ev)
