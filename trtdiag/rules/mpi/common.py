"""MPI checks (MPI0xx): the MPI that TensorRT-LLM's ranks will load, hwloc, mpi4py, mpirun.

TensorRT-LLM runs its ranks through MPI: mpi4py over Open MPI (often the HPC-X build inside
NVIDIA's containers).  These checks read the facts of :mod:`trtdiag.probes.mpi` — which libraries
the loader will pick, their dynamic symbols, mpi4py's extension — and, only where a multi-rank
launch is planned or a problem is predicted, the verdict of a real import in a child process.

Shared helpers of the mpi rules (one rule a file beside this one)."""

from __future__ import annotations

import os

import re

import shlex

from ...core.errors import ProbeError

from ...core.finding import error, info, ok, warning
from ...core.finding import hint

MPIRUN_NAMES = ("mpirun", "mpiexec", "orterun")

def _fact(facts, name: str):
    """A fact of another area, or None when its probe failed or is not part of this build."""
    try:
        return facts[name]
    except (ProbeError, ModuleNotFoundError, KeyError):
        return None

def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None

def launch_plan(facts) -> dict:
    """What is known about the launch: does it go through mpirun, with how many ranks, does the
    command itself allow root.  Sources: --world-size, the launch command after ``--``, the engine."""
    argv = list(facts.opt("launch_argv") or [])
    plan: dict = {"argv": argv, "uses_mpirun": False, "reasons": [], "world_size": None, "world_size_from": None,
                  "allows_root": False}
    names = [os.path.basename(a) for a in argv]
    if any(n in MPIRUN_NAMES for n in names):
        plan["uses_mpirun"] = True
        plan["reasons"].append("the launch command runs " + next(n for n in names if n in MPIRUN_NAMES))
        for i, a in enumerate(argv):
            if a in ("-n", "-np", "--np", "-c") and i + 1 < len(argv) and _int(argv[i + 1]):
                plan["world_size"], plan["world_size_from"] = _int(argv[i + 1]), f"mpirun {a} {argv[i + 1]}"
                break
    if "--allow-run-as-root" in argv:
        plan["allows_root"] = True
    if any(n == "launch_triton_server.py" for n in names):
        # tensorrtllm_backend's launcher builds `mpirun --allow-run-as-root -n 1 tritonserver … : …`
        plan["uses_mpirun"] = True
        plan["allows_root"] = True
        plan["reasons"].append("launch_triton_server.py starts tritonserver through mpirun")
        for i, a in enumerate(argv):
            m = re.match(r"--world[_-]size(?:=(\d+))?$", a)
            if m:
                v = _int(m.group(1)) if m.group(1) else (_int(argv[i + 1]) if i + 1 < len(argv) else None)
                if v:
                    plan["world_size"], plan["world_size_from"] = v, "launch_triton_server.py --world_size"
        if plan["world_size"] is None:
            plan["world_size"], plan["world_size_from"] = 1, "launch_triton_server.py default --world_size 1"
    ws = _int(facts.opt("world_size"))
    if ws:
        if plan["world_size"] is None:
            plan["world_size"], plan["world_size_from"] = ws, "--world-size"
        plan["opt_world_size"] = ws
        if ws > 1:
            plan["uses_mpirun"] = True
            plan["reasons"].append(f"--world-size {ws}")
    eng = _fact(facts, "engine.info")
    norm = (eng or {}).get("normalized") or {}
    ews = _int(norm.get("world_size")) or ((_int(norm.get("tp")) or 1) * (_int(norm.get("pp")) or 1) if norm.get("tp") or norm.get("pp") else None)
    if ews and ews > 1:
        plan["uses_mpirun"] = True
        plan["reasons"].append(f"the engine has {ews} ranks")
    return plan

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

