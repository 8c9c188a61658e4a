"""GPU0xx: the NVIDIA driver, NVML and the GPUs this process can see (fact ``gpu.inventory``)."""

from __future__ import annotations

from ..errors import ProbeError
from ..model import error, ok, warning
from ..registry import check

GiB = 1 << 30


def cuda_version_text(v: int | None) -> str | None:
    """NVML's CUDA driver version (12040) as CUDA writes it (12.4)."""
    if not isinstance(v, int) or v <= 0:
        return None
    return f"{v // 1000}.{(v % 1000) // 10}"


def _gpu_line(g: dict) -> str:
    cc = g.get("cc")
    parts = [f"GPU {g.get('index')}: {g.get('name')}"]
    if g.get("total") is not None:
        parts.append(f"{g['total'] / GiB:.2f} GiB")
    if cc:
        parts.append(f"compute capability {cc[0]}.{cc[1]}")
    return ", ".join(parts)


@check("GPU001", area="gpu", title="NVIDIA driver and NVML present", kb="gpu-no-driver")
def driver_present(facts):
    """Checks that the NVIDIA driver answers through NVML (libnvidia-ml.so.1) and reports its
    version, the CUDA version it supports and how many GPUs this process sees.

    Why: without the driver (or with it not mounted into the container: `docker run` without
    `--gpus all` / the NVIDIA container toolkit) TensorRT cannot create a CUDA context and every
    engine load fails; with CUDA_VISIBLE_DEVICES naming no GPU the server sees none either.

    Fix: install the NVIDIA driver on the host (`nvidia-smi` must work there), start the container
    with `--gpus all` (or `--runtime=nvidia`), and check CUDA_VISIBLE_DEVICES.
    """
    inv = facts["gpu.inventory"]
    src = inv.get("source", "nvml")
    if inv.get("nvml_error"):
        ev = {"nvml": inv["nvml_error"]}
        if inv.get("driver"):
            ev["kernel module"] = inv["driver"]
        severity = error if facts.opt("engine_dir") else warning
        if "mismatch" in inv["nvml_error"].lower():
            yield error(
                "NVIDIA driver/library version mismatch",
                f"The loaded kernel module ({inv.get('driver') or 'see /proc/driver/nvidia/version'}) and the user-space driver "
                "libraries (libnvidia-ml, libcuda) are different versions: typically the driver was upgraded and the machine "
                "not rebooted, or a container mounts libraries of another driver. No CUDA program can start. "
                "Reboot (or unload and reload the nvidia kernel modules), then check that `nvidia-smi` works.",
                evidence=ev, kb="nvml-driver-library-mismatch",
            )
        elif inv.get("driver"):
            yield severity(
                f"NVIDIA driver {inv['driver']} is loaded, but this process cannot use it",
                "The kernel module is there (/proc/driver/nvidia/version), but NVML (libnvidia-ml.so.1) cannot be used from "
                "this process: a container started without --gpus all (or without the NVIDIA container toolkit), or a "
                "user-space driver library that does not match the kernel module.",
                evidence=ev,
            )
        else:
            yield severity(
                "No NVIDIA driver here: NVML cannot be used",
                "trtdiag could not reach the NVIDIA driver through NVML, so no GPU can run an engine from this "
                "process. Inside a container this usually means it was started without --gpus.",
                evidence=ev,
            )
        return
    gpus = inv.get("gpus") or []
    ev = {"driver": inv.get("driver"), "CUDA (driver API)": cuda_version_text(inv.get("cuda_driver")), "GPUs": len(gpus)}
    if inv.get("visible"):
        ev.update(inv["visible"])
    if not src.startswith("nvml"):
        ev["source"] = src
    if not gpus:
        yield error(
            "The NVIDIA driver answers but no GPU is visible",
            "NVML works, but after CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES no GPU is left for this process.",
            evidence=ev,
        )
        return
    yield ok(f"NVIDIA driver {inv.get('driver')} (CUDA {cuda_version_text(inv.get('cuda_driver')) or '?'}), {len(gpus)} GPU{'s' if len(gpus) != 1 else ''}", **ev)


@check("GPU002", area="gpu", title="GPUs: name, memory, compute capability")
def gpu_list(facts):
    """Lists each visible GPU with its name, UUID, total and free memory and compute capability
    (what an engine was built for must match: see ENG checks), and warns about a GPU whose
    memory is mostly taken before the server starts.

    Why: a TensorRT engine runs only on the compute capability it was built for, and every memory
    estimate starts from the free memory shown here.

    Fix: nothing, unless a GPU is mostly used: see MEM003 for who holds it.
    """
    inv = facts.get("gpu.inventory") or {}
    if inv.get("nvml_error"):
        return
    for g in inv.get("gpus") or []:
        ev = {"name": g.get("name"), "uuid": g.get("uuid"),
              "compute capability": ".".join(map(str, g["cc"])) if g.get("cc") else "unknown",
              "total": f"{g['total'] / GiB:.2f} GiB ({g['total']:,} B)" if g.get("total") is not None else None,
              "free": f"{g['free'] / GiB:.2f} GiB ({g['free']:,} B)" if g.get("free") is not None else None}
        if g.get("nvml_index") not in (None, g.get("index")):
            ev["NVML index"] = g["nvml_index"]
        ev = {k: v for k, v in ev.items() if v is not None}
        total, free = g.get("total"), g.get("free")
        if total and free is not None and free < 0.5 * total:
            yield warning(f"{_gpu_line(g)}: only {free / GiB:.2f} GiB free", "More than half of this GPU's memory is in use before the server starts.",
                          evidence=ev, kb="gpu-memory-held-by-other-process")
        else:
            free_txt = f" ({free / GiB:.2f} GiB free)" if free is not None else ""
            yield ok(_gpu_line(g).replace(" GiB,", f" GiB{free_txt},", 1) if free_txt else _gpu_line(g), **ev)


def _cuda_runtime(packages: dict) -> tuple[tuple[int, int], str] | None:
    """The CUDA runtime the Python environment ships ((12, 4), 'nvidia-cuda-runtime-cu12 12.4.127'),
    from the pip package that carries libcudart, else from a +cuXYZ local version (torch)."""
    import re

    for name, ver in sorted(packages.items()):
        if re.fullmatch(r"nvidia-cuda-runtime-cu\d+", name) and isinstance(ver, str):
            m = re.match(r"(\d+)\.(\d+)", ver)
            if m:
                return (int(m.group(1)), int(m.group(2))), f"{name} {ver}"
    for name in ("torch", "tensorrt-llm", "tensorrt_llm"):
        ver = packages.get(name)
        m = re.search(r"\+cu(\d+?)(\d)$", ver or "")
        if m:
            return (int(m.group(1)), int(m.group(2))), f"{name} {ver}"
    return None


@check("GPU003", area="gpu", title="CUDA driver new enough for the CUDA runtime of the environment", kb="cuda-driver-too-old")
def driver_vs_runtime(facts):
    """Compares the CUDA version the driver supports (NVML's CUDA driver version, what nvidia-smi
    prints as "CUDA Version") with the CUDA runtime the Python environment ships
    (nvidia-cuda-runtime-cuXX, or torch's +cuXYZ).

    Why: a runtime of a newer major version than the driver stops at the first CUDA call with
    "CUDA driver version is insufficient for CUDA runtime version"; a newer minor version of the
    same major runs under CUDA's minor-version compatibility, but kernels that need JIT
    compilation of PTX fail ("the provided PTX was compiled with an unsupported toolchain").

    Fix: upgrade the NVIDIA driver to one that supports the runtime's CUDA version (see the CUDA
    toolkit release notes' driver table), or use a container / wheels built for the driver's CUDA;
    on data-centre GPUs the cuda-compat package gives forward compatibility.
    """
    inv = facts.get("gpu.inventory") or {}
    drv = inv.get("cuda_driver")
    if inv.get("nvml_error") or not isinstance(drv, int) or drv <= 0:
        return
    try:
        pk = facts["python.packages"]
    except (ProbeError, ImportError, KeyError):  # the environment probe failed or is not part of this installation
        return
    rt = _cuda_runtime((pk or {}).get("packages") or {})
    if rt is None:
        return
    (major, minor), source = rt
    have = (drv // 1000, (drv % 1000) // 10)
    ev = {"driver": inv.get("driver"), "driver supports CUDA": f"{have[0]}.{have[1]}", "runtime": f"{major}.{minor}", "from": source}
    if (major, minor) <= have:
        yield ok(f"CUDA driver {have[0]}.{have[1]} runs the environment's CUDA {major}.{minor} runtime", **ev)
    elif major > have[0]:
        yield error(f"CUDA driver supports CUDA {have[0]}.{have[1]}, the environment needs CUDA {major}.{minor}",
                    f"The environment's CUDA runtime is a newer major version than driver {inv.get('driver')} supports: the first CUDA call "
                    "fails with \"CUDA driver version is insufficient for CUDA runtime version\".", evidence=ev)
    else:
        yield warning(f"CUDA driver supports CUDA {have[0]}.{have[1]}, the environment ships CUDA {major}.{minor}",
                      "Same major version: CUDA's minor-version compatibility lets it run, but kernels compiled just in time from PTX "
                      "fail (\"the provided PTX was compiled with an unsupported toolchain\"). Upgrade the driver when that appears.",
                      evidence=ev)
