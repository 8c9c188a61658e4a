"""Rules of the fleet area: one rule a file, helpers in common.py."""


def applies(facts) -> bool:
    """Ranks to compare (two snapshots or more in ``fleet.snapshots``), or a note of ``fleet.mpi``
    that this process ran as one rank (FLT000).  Without either the rule files are not imported."""
    mpi = facts.get("fleet.mpi")
    if isinstance(mpi, dict) and mpi.get("note"):
        return True
    snaps = facts.get("fleet.snapshots")
    return isinstance(snaps, list) and len(snaps) >= 2
