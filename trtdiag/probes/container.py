"""The container the server runs in: the fact ``container.info``.

Everything is read from the kernel's files — no docker CLI, no NVML:

- ``/dev/shm``: size and free bytes (``statvfs``) and its mount (``/proc/self/mountinfo``);
- ulimits of this process (``resource.getrlimit``: memlock, stack, nofile), inherited by the
  command ``exec`` starts;
- whether this is a container (``/.dockerenv``, ``/run/.containerenv``, the cgroup path in
  ``/proc/1/cgroup``, ``KUBERNETES_SERVICE_HOST``) and its memory limit (cgroup v2
  ``memory.max``; v1 ``memory/memory.limit_in_bytes``);
- the GPUs this process may see: ``NVIDIA_VISIBLE_DEVICES`` (what the NVIDIA container runtime
  was asked for), ``CUDA_VISIBLE_DEVICES`` (what CUDA will enumerate) and the ``/dev/nvidiaN``
  device nodes present;
- the NGC image's own version variables (``TRITON_SERVER_VERSION``, ``NVIDIA_TRITON_SERVER_VERSION``
  from Triton's build.py; ``TRT_VERSION``/``TENSORRT_VERSION``; ``TRTLLM_VERSION`` …).

Tests point the file reads at a fake tree with ``TRTDIAG_ROOT=/path`` (``/proc``, ``/sys``,
``/dev`` and the marker files are then read under it; getrlimit and the environment stay real).
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.facts import probe

VERSION_VARS = (
    "TRITON_SERVER_VERSION", "NVIDIA_TRITON_SERVER_VERSION", "TRT_VERSION", "TENSORRT_VERSION",
    "NV_TENSORRT_VERSION", "TRTLLM_VERSION", "TENSORRT_LLM_VERSION", "TRT_LLM_VERSION",
    "NVIDIA_BUILD_ID", "CUDA_VERSION", "CUDA_DRIVER_VERSION",
)

_UNLIMITED_V1 = 1 << 62  # cgroup v1 writes PAGE_COUNTER_MAX rounded to pages: 9223372036854771712


def root() -> str:
    return os.environ.get("TRTDIAG_ROOT") or "/"


def _p(path: str) -> str:
    r = root()
    return path if r == "/" else os.path.join(r, path.lstrip("/"))


def _read(path: str, limit: int = 65536) -> str | None:
    try:
        with open(_p(path), "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def _mount(mountpoint: str) -> dict[str, Any] | None:
    """The last mount of ``mountpoint`` in mountinfo (the one that is visible)."""
    text = _read("/proc/self/mountinfo", 1 << 20)
    found = None
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) < 10 or "-" not in parts:
            continue
        sep = parts.index("-")
        if parts[4] != mountpoint:
            continue
        opts = ",".join([parts[5], parts[sep + 3] if len(parts) > sep + 3 else ""])
        m = re.search(r"(?:^|,)size=(\d+)([kmgKMG%]?)", opts)
        size = None
        if m and m.group(2) != "%":
            size = int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]
        found = {"fstype": parts[sep + 1], "source": parts[sep + 2], "options": opts, "size": size}
    return found


def shm_info() -> dict[str, Any]:
    path = _p("/dev/shm")
    out: dict[str, Any] = {"path": "/dev/shm", "exists": os.path.isdir(path)}
    mount = _mount("/dev/shm")
    out["mount"] = mount
    if out["exists"] and root() == "/":
        try:
            st = os.statvfs(path)
            out["size"] = st.f_frsize * st.f_blocks
            out["free"] = st.f_frsize * st.f_bavail
        except OSError as exc:
            out["error"] = str(exc)
    elif mount and mount.get("size"):
        out["size"] = mount["size"]
    out["leftovers"] = _leftover_segments(path) if out["exists"] else []
    return out


# Segments a killed server leaves behind: Triton's Python backend names its regions
# triton_python_backend_shm_region_*, NCCL names its nccl-*.
_SEGMENT_PREFIXES = ("triton_python_backend_shm_region", "nccl-")


def _leftover_segments(path: str, limit: int = 200) -> list[dict[str, Any]]:
    out = []
    try:
        with os.scandir(path) as it:
            for i, e in enumerate(it):
                if i >= 10000 or len(out) >= limit:
                    break
                if e.name.startswith(_SEGMENT_PREFIXES):
                    try:
                        size = e.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        size = 0
                    out.append({"name": e.name, "bytes": size})
    except OSError:
        pass
    return out


def _limit(name: str) -> dict[str, Any] | None:
    import resource

    res = getattr(resource, name, None)
    if res is None:
        return None
    soft, hard = resource.getrlimit(res)
    inf = resource.RLIM_INFINITY
    return {"soft": None if soft == inf else soft, "hard": None if hard == inf else hard}


def ulimits() -> dict[str, Any]:
    return {"memlock": _limit("RLIMIT_MEMLOCK"), "stack": _limit("RLIMIT_STACK"), "nofile": _limit("RLIMIT_NOFILE")}


def container_runtime() -> dict[str, Any]:
    markers = [m for m in ("/.dockerenv", "/run/.containerenv") if os.path.exists(_p(m))]
    cg = _read("/proc/1/cgroup") or ""
    hints = []
    for word in ("docker", "kubepods", "containerd", "libpod", "lxc", "crio"):
        if word in cg:
            hints.append(word)
    runtime = None
    if "/run/.containerenv" in markers or "libpod" in hints:
        runtime = "podman"
    elif "kubepods" in hints or os.environ.get("KUBERNETES_SERVICE_HOST"):
        runtime = "kubernetes"
    elif "/.dockerenv" in markers or "docker" in hints:
        runtime = "docker"
    elif hints:
        runtime = hints[0]
    else:
        # containerd/CRI-O with a private cgroup namespace leave no marker; their root is an overlay
        rootfs = _mount("/")
        if rootfs and rootfs.get("fstype") in ("overlay", "fuse-overlayfs"):
            runtime = "container"
            hints.append(f"root filesystem is {rootfs['fstype']}")
    return {"in_container": runtime is not None, "runtime": runtime, "markers": markers, "cgroup_hints": hints}


def memory_limit() -> dict[str, Any]:
    """The memory limit of this process's cgroup (v2 first, then v1); None when unlimited."""
    own = _read("/proc/self/cgroup") or ""
    v2_path = v1_path = None
    for line in own.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            v2_path = parts[2]
        elif "memory" in parts[1].split(","):
            v1_path = parts[2]
    candidates = []
    if v2_path is not None:
        candidates += [("v2", f"/sys/fs/cgroup{v2_path.rstrip('/')}/memory.max"), ("v2", "/sys/fs/cgroup/memory.max")]
    if v1_path is not None:
        candidates += [("v1", f"/sys/fs/cgroup/memory{v1_path.rstrip('/')}/memory.limit_in_bytes"),
                       ("v1", "/sys/fs/cgroup/memory/memory.limit_in_bytes")]
    for version, path in candidates:
        text = _read(path)
        if text is None:
            continue
        text = text.strip()
        if text == "max":
            return {"cgroup": version, "path": path, "limit": None}
        try:
            val = int(text)
        except ValueError:
            continue
        return {"cgroup": version, "path": path, "limit": None if val >= _UNLIMITED_V1 else val}
    return {"cgroup": None, "path": None, "limit": None}


def gpu_devices() -> dict[str, Any]:
    try:
        nodes = sorted(n for n in os.listdir(_p("/dev")) if re.fullmatch(r"nvidia\d+", n))
    except OSError:
        nodes = []
    return {
        "nvidia_visible_devices": os.environ.get("NVIDIA_VISIBLE_DEVICES"),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "device_nodes": ["/dev/" + n for n in sorted(nodes, key=lambda n: int(n[6:]))],
    }


@probe("container.info")
def container_info(facts) -> dict[str, Any]:
    return {
        "root": root(),
        "shm": shm_info(),
        "ulimits": ulimits(),
        "runtime": container_runtime(),
        "memory": memory_limit(),
        "gpus": gpu_devices(),
        "versions": {k: os.environ[k] for k in VERSION_VARS if os.environ.get(k)},
    }
