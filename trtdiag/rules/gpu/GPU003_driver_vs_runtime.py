"""GPU003: CUDA driver new enough for the CUDA runtime of the environment."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import ProbeError, _cuda_runtime, error, ok, warning


@rule("GPU003", area="gpu", title="CUDA driver new enough for the CUDA runtime of the environment", kb="cuda-driver-too-old")
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
