"""GPU001: NVIDIA driver and NVML present."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import cuda_version_text, error, ok, warning


@rule("GPU001", area="gpu", title="NVIDIA driver and NVML present", kb="gpu-no-driver")
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
