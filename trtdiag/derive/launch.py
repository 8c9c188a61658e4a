"""What the launch command (and the options) say will happen, derived once from the facts:
whether mpirun starts the ranks, how many, whether root is allowed; whether a TensorRT-LLM source
build is in view.  Read by the MPI, container and build rules."""

from __future__ import annotations

import os
import re

from ..core.errors import ProbeError
from ..core.facts import derived

MPIRUN_NAMES = ("mpirun", "mpiexec", "orterun")


def _fact(facts, name: str):
    """A fact of another area, or None when its probe failed or is not part of this build."""
    try:
        return facts[name]
    except (ProbeError, ImportError, KeyError):
        return None


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


@derived("launch.mpi_plan")
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


@derived("launch.source_build")
def source_build(facts) -> dict | None:
    """Is a TensorRT-LLM source build in view?  The launch command runs scripts/build_wheel.py,
    or the working directory is a TensorRT-LLM checkout."""
    argv = list(facts.opt("launch_argv") or [])
    for i, a in enumerate(argv):
        if os.path.basename(a) == "build_wheel.py":
            jobs = None
            for j, b in enumerate(argv):
                if b in ("-j", "--job_count") and j + 1 < len(argv) and argv[j + 1].isdigit():
                    jobs = int(argv[j + 1])
                elif b.startswith("--job_count=") and b.split("=", 1)[1].isdigit():
                    jobs = int(b.split("=", 1)[1])
                elif b.startswith("-j") and b[2:].isdigit():
                    jobs = int(b[2:])
            return {"argv": argv, "script": a, "index": i, "jobs": jobs, "from": "the launch command"}
    tree = facts["host.source_tree"]
    if tree.get("trtllm_checkout"):
        return {"argv": None, "script": os.path.join("scripts", "build_wheel.py"), "jobs": None, "from": f"TensorRT-LLM checkout at {tree['cwd']}"}
    return None
