"""The host: memory, swap, usable cores, free disk, effective user — read from /proc and os.

``host.resources`` is cheap (one read of /proc/meminfo, one sched_getaffinity, a cgroup limit
file when present); ``host.disk`` reports free space for the directories a check cares about
(statvfs, no directory walk).
"""

from __future__ import annotations

import os

from ..core.facts import probe
from ..fsutil import which

GiB = 1024**3


def _meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(path) as fh:
            for line in fh:
                k, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    out[k] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    except OSError:
        pass
    return out


def _cgroup_memory_limit() -> int | None:
    """The memory limit of this process's cgroup (a container's --memory), or None."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:
            return int(raw)
    return None


@probe("host.resources")
def resources(facts) -> dict:
    mi = _meminfo()
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return {
        "mem_total": mi.get("MemTotal"),
        "mem_available": mi.get("MemAvailable"),
        "swap_total": mi.get("SwapTotal"),
        "swap_free": mi.get("SwapFree"),
        "cgroup_memory_limit": _cgroup_memory_limit(),
        "cores": cores,
        "cpu_count": os.cpu_count(),
        "euid": os.geteuid(),
    }


def free_space(path: str) -> dict | None:
    """Free bytes (for an unprivileged writer) on the filesystem holding ``path`` or its nearest
    existing parent."""
    p = os.path.abspath(path)
    while not os.path.exists(p) and os.path.dirname(p) != p:
        p = os.path.dirname(p)
    try:
        st = os.statvfs(p)
    except OSError:
        return None
    return {"path": p, "free": st.f_bavail * st.f_frsize, "total": st.f_blocks * st.f_frsize}


@probe("host.disk")
def disk(facts) -> dict:
    """Free space where engines are written (beside --engine-dir) and in the working directory."""
    out = {}
    ed = facts.opt("engine_dir")
    if ed:
        out["engine_dir"] = free_space(os.path.dirname(os.path.abspath(ed)) or ".")
    out["cwd"] = free_space(os.getcwd())
    return out


@probe("host.source_tree")
def source_tree(facts) -> dict:
    """Is the working directory a TensorRT-LLM source checkout (scripts/build_wheel.py and
    cpp/tensorrt_llm)?"""
    cwd = os.getcwd()
    return {"cwd": cwd, "trtllm_checkout": os.path.isfile(os.path.join(cwd, "scripts", "build_wheel.py"))
            and os.path.isdir(os.path.join(cwd, "cpp", "tensorrt_llm"))}


#: programs the fix planner may name in a command (it writes their path when they are found)
TOOLS = ("apt-get", "dnf", "yum", "sudo", "trtllm-build", "mpirun", "mpicc")


@probe("host.system")
def system(facts) -> dict:
    """What the fix planner needs to know of this machine: /etc/os-release (ID, ID_LIKE,
    VERSION_ID), the effective user, the current directory and where the programs in ``TOOLS``
    are (``shutil.which``).  Recorded, so a snapshot plans the commands of the machine it came
    from."""
    import shutil

    osr: dict[str, str] = {}
    try:
        with open("/etc/os-release", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                k, sep, v = line.strip().partition("=")
                if sep and k in ("ID", "ID_LIKE", "VERSION_ID", "PRETTY_NAME"):
                    osr[k] = v.strip().strip('"').strip("'")
    except OSError:
        pass
    return {"os_release": osr, "euid": os.geteuid(), "uid": os.getuid(), "cwd": os.getcwd(),
            "tools": {t: which(t) for t in TOOLS}}
