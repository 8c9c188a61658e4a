"""The environment a report or a fleet comparison needs: OS, kernel, Python, host, user, container.

``env.summary`` reads only cheap things (``os.uname``, ``/etc/os-release``, a few marker files, the
process environment); it starts no process and asks no DNS server.  It is gathered by
``trtdiag report``, ``trtdiag collect`` and every rank of ``trtdiag check --mpi`` — never by a plain
``trtdiag check``, which does not need it.

``env.vars`` holds the environment variables that change what a rank loads or how it talks to the
others (``LD_LIBRARY_PATH``, ``NCCL_*``, ``UCX_*``, ``OMPI_MCA_*``, ``TRTLLM_*``, …), so the fleet
checks can name the one rank launched with another value.  Names that look like secrets (KEY,
TOKEN, SECRET, PASSWORD) are never recorded.
"""

from __future__ import annotations

import glob
import os
import platform
import sys

from ..core.facts import probe

# Per-rank by design: recorded, never compared across ranks.
from ..derive.fleet_env import PER_RANK_VARS  # noqa: E402  (per rank by design: recorded, never compared)
VAR_PREFIXES = ("NCCL_", "UCX_", "OMPI_MCA_", "TRTLLM_", "TLLM_", "CUDA_", "NVIDIA_", "TRITON_", "TENSORRT_", "TRT_",
                "HF_", "TRANSFORMERS_", "PMIX_MCA_")
VAR_NAMES = ("LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PATH", "VIRTUAL_ENV", "CONDA_PREFIX")
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")

# Version labels NVIDIA's NGC images set (nvcr.io/nvidia/tritonserver, pytorch, tensorrt).
IMAGE_VARS = ("NVIDIA_TRITON_SERVER_VERSION", "TRITON_SERVER_VERSION", "NVIDIA_PYTORCH_VERSION", "NVIDIA_TENSORRT_VERSION",
              "TENSORRT_VERSION", "TRT_VERSION", "CUDA_VERSION", "CUDA_DRIVER_VERSION", "NVIDIA_BUILD_ID", "NVIDIA_PRODUCT_NAME")


# Where NGC's Triton + TensorRT-LLM images put the tensorrtllm backend.
BACKEND_PATHS = ("/opt/tritonserver/backends/tensorrtllm/libtriton_tensorrtllm.so", "/opt/tritonserver/backends/tensorrtllm")


def _os_release() -> str | None:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read(8192)
        except OSError:
            continue
        fields = {}
        for line in text.splitlines():
            k, sep, v = line.partition("=")
            if sep:
                fields[k.strip()] = v.strip().strip('"')
        return fields.get("PRETTY_NAME") or " ".join(x for x in (fields.get("NAME"), fields.get("VERSION_ID")) if x) or None
    return None


def _user() -> str | None:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no passwd entry for this uid (a container started with --user 1234)
        return None


def _container() -> dict:
    """What says this process runs in a container; each marker as found (no process started)."""
    markers = []
    if os.path.exists("/.dockerenv"):
        markers.append("/.dockerenv")
    if os.path.exists("/run/.containerenv"):
        markers.append("/run/.containerenv")
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        markers.append("KUBERNETES_SERVICE_HOST")
    if os.environ.get("container"):
        markers.append(f"container={os.environ['container']}")
    try:
        with open("/proc/1/cgroup", encoding="utf-8", errors="replace") as fh:
            cg = fh.read(8192)
        for word in ("docker", "kubepods", "containerd", "libpod", "lxc"):
            if word in cg:
                markers.append(f"/proc/1/cgroup: {word}")
                break
    except OSError:
        pass
    image = {k: os.environ[k] for k in IMAGE_VARS if os.environ.get(k)}
    return {"detected": bool(markers), "markers": markers, "image": image}


def _libraries() -> dict:
    """MPI and hwloc shared libraries at the conventional places (a glob, no ldconfig run)."""
    dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib",
            "/opt/hpcx/ompi/lib", "/usr/local/mpi/lib", "/opt/amazon/openmpi/lib"]
    out: dict[str, list[str]] = {}
    for name, pattern in (("mpi", "libmpi.so.*"), ("hwloc", "libhwloc.so.*")):
        found = []
        for d in dirs:
            for p in sorted(glob.glob(os.path.join(d, pattern))):
                real = os.path.realpath(p)
                if real not in found:
                    found.append(real)
        out[name] = found
    return out


@probe("env.summary")
def env_summary(facts) -> dict:
    import socket

    u = os.uname()
    return {
        "os": _os_release(),
        "kernel": u.release,
        "machine": u.machine,
        "hostname": socket.gethostname(),
        "user": _user(),
        "uid": os.getuid() if hasattr(os, "getuid") else None,
        "home": os.path.expanduser("~"),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "cwd": os.getcwd(),
        "container": _container(),
        "trtllm_backend": next((p for p in BACKEND_PATHS if os.path.exists(p)), None),
        "libraries": _libraries(),
    }


@probe("env.vars")
def env_vars(facts) -> dict:
    out = {}
    for k, v in os.environ.items():
        if any(w in k.upper() for w in SECRET_WORDS):
            continue
        if k in VAR_NAMES or k in PER_RANK_VARS or k.startswith(VAR_PREFIXES):
            out[k] = v
    return dict(sorted(out.items()))
