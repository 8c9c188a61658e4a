"""Build environment checks (BLD0xx): memory and cores for building TensorRT-LLM from source,
free disk for engines.

Building TensorRT-LLM's C++/CUDA code (``python3 scripts/build_wheel.py``) runs one compiler or
linker per job; its default job count is the number of CPUs, and each nvcc job can take several
GB.  Machines with many cores and little memory get the build killed by the OOM killer while
compiling or linking (NVIDIA/TensorRT-LLM#186: 32 GB was not enough at the default; #1028: "over
30G at compile time").  trtdiag budgets 2.5 GiB per job.
"""

from __future__ import annotations

import os

from ..model import error, ok, warning
from ..registry import check

GiB = 1024**3
GB_PER_JOB = 2.5  # planning figure per build job; see the module docstring for the sources
SOURCE_BUILD_DISK = 64 * GiB  # free space trtdiag asks for before a from-source build (build tree + wheel + ccache)


def _fmt(n: float | int | None) -> str:
    return "?" if n is None else f"{n / GiB:.1f} GiB"


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


def recommended_jobs(mem_bytes: int, cores: int) -> int:
    return max(1, min(cores, int(mem_bytes / GiB / GB_PER_JOB)))


@check("BLD001", area="build", title="Memory and cores fit the TensorRT-LLM build parallelism", kb="build-oom-killed")
def build_parallelism(facts):
    """When TensorRT-LLM is built from source (``scripts/build_wheel.py`` in the launch command,
    or the working directory is a TensorRT-LLM checkout), the job count (``-j``; default: the
    number of CPUs) times ~2.5 GiB per job must fit in memory (available RAM, or the cgroup limit in
    a container, plus swap).  Otherwise the OOM killer ends the build ("Killed", exit 137),
    usually while nvcc compiles the attention kernels or the linker links libtensorrt_llm.so.

    Fix: ``python3 scripts/build_wheel.py -j N`` with N = memory_GB / 2.5 (shown with the numbers
    of this machine), or add swap.
    """
    sb = source_build(facts)
    if sb is None:
        return
    h = facts["host.resources"]
    cores = h.get("cores") or 1
    mem = h.get("mem_available") or h.get("mem_total") or 0
    if h.get("cgroup_memory_limit"):
        mem = min(mem, h["cgroup_memory_limit"])
    swap = h.get("swap_free") or 0
    budget = mem + swap
    jobs = sb["jobs"] or cores
    need = jobs * GB_PER_JOB * GiB
    rec = recommended_jobs(budget, cores)
    ev = {"build": sb["from"], "jobs": f"{jobs}" + ("" if sb["jobs"] else " (build_wheel.py default: one per CPU)"),
          "cores": cores, "memory available": _fmt(mem), "swap free": _fmt(swap),
          "needed": f"{jobs} × {GB_PER_JOB} GiB = {_fmt(need)}", "recommended -j": rec}
    if h.get("cgroup_memory_limit"):
        ev["cgroup memory limit"] = _fmt(h["cgroup_memory_limit"])
    if need <= budget:
        yield ok(f"{jobs} build job(s) fit in {_fmt(budget)} of memory", **ev)
        return
    from ..fixes.plan import command_fix

    if sb["argv"]:
        argv = [a for a in sb["argv"]]
        # drop an existing -j/--job_count and put ours right after the script
        clean, skip = [], False
        for a in argv:
            if skip:
                skip = False
                continue
            if a in ("-j", "--job_count"):
                skip = True
                continue
            if a.startswith("--job_count=") or (a.startswith("-j") and a[2:].isdigit()):
                continue
            clean.append(a)
        k = next(i for i, a in enumerate(clean) if os.path.basename(a) == "build_wheel.py")
        argv = clean[: k + 1] + ["-j", str(rec)] + clean[k + 1 :]
    else:
        argv = ["python3", sb["script"], "-j", str(rec)]
    yield warning(f"Build with {jobs} jobs needs ~{_fmt(need)}, {_fmt(budget)} available: it will be OOM-killed",
                  f"Each build job takes up to ~{GB_PER_JOB} GiB while compiling TensorRT-LLM's CUDA kernels and linking; "
                  f"{jobs} jobs exceed the memory ({_fmt(mem)} available + {_fmt(swap)} swap). Build with -j {rec}, or add swap.",
                  evidence=ev, fix=command_fix("BLD001-build-jobs", f"build with -j {rec}", argv))


@check("BLD002", area="build", title="Free disk for engines and builds", kb="disk-space-low")
def disk_space(facts):
    """There is room for what will be written: a rebuilt engine is written beside the current one
    before it is swapped in, so the engine directory's filesystem needs at least the engine's size
    free (plus 10 %); a TensorRT-LLM source build needs ~64 GiB (build tree, wheel, caches).  A full
    disk shows up late and obscurely: a truncated engine that fails to deserialize, or a build that
    dies in the linker.

    Fix: free space on that filesystem, or point --output-dir / the build at a larger one.
    """
    sb = source_build(facts)
    if not facts.opt("engine_dir") and sb is None:
        return
    disk = facts["host.disk"]
    out = []
    eng = None
    if facts.opt("engine_dir"):
        from .mpi import _fact

        eng = _fact(facts, "engine.info")
    if eng and disk.get("engine_dir"):
        size = sum(int(r.get("size") or 0) for r in eng.get("ranks", []))
        d = disk["engine_dir"]
        need = int(size * 1.1)
        ev = {"engine": eng.get("path"), "engine size": _fmt(size), "free": f"{_fmt(d['free'])} on {d['path']}", "needed for a rebuild": _fmt(need)}
        if size and d["free"] < need:
            out.append(error(f"Not enough disk to rebuild the engine: {_fmt(d['free'])} free, {_fmt(need)} needed", 
                             f"A rebuild writes the new engine ({_fmt(size)}) beside the old one before swapping; {d['path']} has "
                             f"{_fmt(d['free'])} free. Free space there or build with --output-dir on another filesystem.", evidence=ev))
        elif size:
            out.append(ok(f"{_fmt(d['free'])} free beside the engine ({_fmt(size)})", **ev))
    if sb and disk.get("cwd"):
        d = disk["cwd"]
        ev = {"build": sb["from"], "free": f"{_fmt(d['free'])} on {d['path']}", "needed": _fmt(SOURCE_BUILD_DISK)}
        if d["free"] < SOURCE_BUILD_DISK:
            out.append(warning(f"{_fmt(d['free'])} free for a TensorRT-LLM source build; ~{_fmt(SOURCE_BUILD_DISK)} needed",
                               f"The C++ build tree, the wheel and the compiler caches take tens of GB; {d['path']} has {_fmt(d['free'])} "
                               "free. Free space or build in a larger volume.", evidence=ev))
        else:
            out.append(ok(f"{_fmt(d['free'])} free for the source build", **ev))
    yield from out
