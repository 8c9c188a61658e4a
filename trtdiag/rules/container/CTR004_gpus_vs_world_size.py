"""CTR004: enough GPUs visible for the world size."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _launch, _world_size, error, info, ok, visible_gpus


@rule("CTR004", covers=("MPI005:gpu-count",), area="container", title="enough GPUs visible for the world size", kb="world-size-mismatch")
def gpus_vs_world_size(facts):
    """Checks that the GPUs this process can see (device nodes or NVML, then NVIDIA_VISIBLE_DEVICES
    and CUDA_VISIBLE_DEVICES as CUDA applies them) are at least the ranks to start on this machine.

    Why: TensorRT-LLM puts one rank on one GPU.  A container started with `--gpus 1` (or a
    CUDA_VISIBLE_DEVICES left from a test) and a tp=2 engine fails only after MPI has started all
    ranks, with "Assertion failed: … mpiSize == … tp * pp" or a CUDA "invalid device ordinal".

    Fix: start the container with the GPUs the engine needs (`docker run --gpus all` or
    `--gpus '"device=0,1"'`; Kubernetes `nvidia.com/gpu: N`), unset or widen CUDA_VISIBLE_DEVICES,
    or build the engine for fewer ranks.  Not applicable without a world size
    (--world-size, or a launch command that says it).
    """
    ws = _world_size(facts)
    if ws is None:
        return
    launch = _launch(facts)
    v = visible_gpus(facts)
    ev = {"world size": ws, "GPUs visible": v["count"], **v["why"]}
    if launch.get("mpi"):
        ev["launcher"] = f"{launch['mpi'].get('launcher')} ({launch['mpi'].get('ranks')} ranks)"
    if v["count"] is not None and v["count"] < ws:
        if (launch.get("mpi") or {}).get("hosts"):
            yield info(f"{v['count']} GPU(s) here for {ws} ranks spread over several hosts",
                       "mpirun names other hosts; each host needs as many GPUs as it runs ranks.", evidence=ev)
            return
        remedies = [f"start the container with at least {ws} GPUs (docker run --gpus all, or Kubernetes nvidia.com/gpu: {ws})"]
        if any(x.startswith("CUDA_VISIBLE_DEVICES") for x in v["limited_by"]):
            remedies.append("unset or widen CUDA_VISIBLE_DEVICES")
        if v["count"]:
            remedies.append(f"use an engine built for {v['count']} rank(s)")
        yield error(f"{ws} ranks to start but only {v['count']} GPU(s) visible",
                    f"TensorRT-LLM runs one rank per GPU; this process sees {v['count']}"
                    + (f" ({'; '.join(v['limited_by'])})" if v["limited_by"] else "")
                    + ". Fix: " + ", or ".join(remedies) + ".",
                    evidence=ev)
        return
    yield ok(f"{v['count']} GPU(s) visible for {ws} rank(s)", **ev)
