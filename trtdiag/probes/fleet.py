"""Which rank this process is, as its launcher says (Open MPI, Slurm, PMI, torchrun-style), and the
fleet facts that only ``trtdiag check --mpi`` or several ``--from`` snapshots fill in.

``fleet.rank``: ``{"rank", "local_rank", "size", "launcher"}`` read from the environment
(``OMPI_COMM_WORLD_*``, ``SLURM_*``, ``PMI_*``/``PMIX_RANK``, ``RANK``/``LOCAL_RANK``/``WORLD_SIZE``);
``None`` values when no launcher set them.

``fleet.snapshots`` and ``fleet.mpi`` are set by :func:`trtdiag.fleet.run_mpi` and
:func:`trtdiag.cli.make_facts`; on one machine, without them, they are ``None``.
"""

from __future__ import annotations

import os

from ..core.facts import probe

LAUNCHERS = (
    ("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("slurm", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS"),
    ("pmix", "PMIX_RANK", "MPI_LOCALRANKID", "PMI_SIZE"),
    ("pmi", "PMI_RANK", "MPI_LOCALRANKID", "PMI_SIZE"),
    ("env", "RANK", "LOCAL_RANK", "WORLD_SIZE"),
)


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def rank_from_env(environ=None) -> dict:
    env = os.environ if environ is None else environ
    for name, rank, local, size in LAUNCHERS:
        if env.get(rank) is not None and _int(env.get(rank)) is not None:
            return {"launcher": name, "rank": _int(env[rank]), "local_rank": _int(env.get(local)), "size": _int(env.get(size))}
    return {"launcher": None, "rank": None, "local_rank": None, "size": None}


@probe("fleet.rank")
def fleet_rank(facts) -> dict:
    return rank_from_env()


@probe("fleet.snapshots")
def fleet_snapshots(facts):
    return None


@probe("fleet.mpi")
def fleet_mpi(facts):
    return None
