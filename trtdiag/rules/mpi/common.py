"""MPI checks (MPI0xx): the MPI that TensorRT-LLM's ranks will load, hwloc, mpi4py, mpirun.

TensorRT-LLM runs its ranks through MPI: mpi4py over Open MPI (often the HPC-X build inside
NVIDIA's containers).  These checks read the facts of :mod:`trtdiag.probes.mpi` — which libraries
the loader will pick, their dynamic symbols, mpi4py's extension — and, only where a multi-rank
launch is planned or a problem is predicted, the verdict of a real import in a child process.

Shared helpers of the mpi rules (one rule a file beside this one)."""

from __future__ import annotations

import os

import re


from ...core.errors import ProbeError

from ...core.finding import error, info, ok, warning
from ...core.finding import hint

from ...derive.launch import MPIRUN_NAMES, _fact, _int  # noqa: F401  (one definition: the launch reading's)

def launch_plan(facts) -> dict:
    """What is known about the launch (mpirun, ranks, root allowed): :mod:`trtdiag.derive.launch`."""
    return facts.derived("launch.mpi_plan")


def _needs_dynamic(facts, predicted_problem: bool) -> bool:
    return predicted_problem or launch_plan(facts)["uses_mpirun"]

def mpi_version_text(rt: dict) -> str:
    lib = rt.get("libmpi") or {}
    if rt.get("version"):
        return f"{rt.get('implementation', 'MPI')} {rt['version']} (ompi_info: {rt.get('ompi_info')})"
    return f"unknown (no ompi_info beside {lib.get('path')}; library file version {lib.get('file_version') or '?'})"

def _short(paths: list[str], n: int = 5) -> list[str]:
    return paths[:n] + ([f"… and {len(paths) - n} more"] if len(paths) > n else [])

def _purge_fix():

    return hint("system-package", "MPI001-purge-system-hwloc", "remove the system hwloc packages that conflict with Open MPI's own hwloc",
                       "purge-system-hwloc",
                       note="the package manager also removes packages that depend on these (e.g. libopenmpi-dev); reinstall those you need afterwards")

# --------------------------------------------------------------------------------- MPI005
def visible_gpus(facts) -> tuple[int | None, str]:
    inv = _fact(facts, "gpu.inventory")
    if not inv or inv.get("gpus") is None:
        return None, "unknown (no GPU inventory)"
    if inv.get("nvml_error"):  # no driver reachable: GPU001 says so; "0 GPUs" would be a guess
        return None, "unknown (NVML cannot be used here; see GPU001)"
    n = len(inv["gpus"])
    cvd = (_fact(facts, "mpi.launch") or {}).get("CUDA_VISIBLE_DEVICES")
    if cvd is not None:
        vis = [x for x in cvd.split(",") if x.strip() and x.strip() != "-1"]
        return min(n, len(vis)), f"{min(n, len(vis))} (CUDA_VISIBLE_DEVICES={cvd}, {n} in the machine)"
    return n, str(n)



def remedy_fix(facts, remedies: list[dict], rid: str = "MPI001"):
    """The fix hint of the first remedy (removes nothing first: derive.mpi_layout.remedies): the
    consistent installation's LD_LIBRARY_PATH written to ./trtdiag.env (source it before the
    launch: mpirun passes it to the ranks it starts here); the purge only when nothing else is
    known, with what it removes in its note."""
    for r in remedies:
        if r["kind"] == "env":
            la = _fact(facts, "mpi.launch") or {}
            path = la.get("env_file") or "trtdiag.env"
            return hint("env-file", f"{rid}-ld-library-path", r["summary"] + f" (in {path}; source it before launching)", path, dict(r["env"]))
        if r["kind"] == "purge":
            note = "it removes " + ", ".join(r["removes"])
            if r.get("still_fails"):
                note += f"; afterwards the import still fails: {r['still_fails']}"
            return hint("system-package", "MPI001-purge-system-hwloc", "remove the system hwloc packages (and what depends on them)",
                        "purge-system-hwloc", note=note)
    return None
