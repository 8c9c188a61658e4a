"""BLD001: Memory and cores fit the TensorRT-LLM build parallelism."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import GB_PER_JOB, GiB, _fmt, ok, os, recommended_jobs, source_build, warning


@rule("BLD001", area="build", title="Memory and cores fit the TensorRT-LLM build parallelism", kb="build-oom-killed")
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
                  evidence=ev, fix=hint("command", "BLD001-build-jobs", f"build with -j {rec}", argv))
