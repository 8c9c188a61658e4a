"""ENG007: Engine's compute capability matches the GPUs."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import ProbeError, _engine, info, warning


@rule("ENG007", area="engine", title="Engine's compute capability matches the GPUs", kb="engine-compute-capability-mismatch")
def engine_cc(facts):
    """Whether the engine was built for these GPUs' compute capability.

    What is recorded: neither layout of config.json records the compute capability (SM) it was
    built for, and the part of the plan header that is established holds none.  TensorRT itself
    refuses a plan built for another SM at load time: "The engine plan file is generated on an
    incompatible device, expecting compute 8.6 got compute 8.0, please rebuild." (NVIDIA/TensorRT-LLM
    issues 222, 3031; "expecting" is the GPU here, "got" the one the plan was built for).  So this check reports the GPUs here and warns
    when they differ from each other (one engine cannot serve GPUs of two compute capabilities).
    Fix: build the engine on a GPU of the same compute capability as the one that serves it.
    """
    e = _engine(facts)
    if not e:
        return
    try:
        inv = facts["gpu.inventory"]
    except (ProbeError, ImportError, KeyError):
        return
    gpus = (inv or {}).get("gpus") or []
    if not gpus:
        return
    ccs = sorted({tuple(g.get("cc") or ()) for g in gpus if g.get("cc")})
    names = [f"GPU {g.get('index')}: {g.get('name')} (sm {'.'.join(map(str, g.get('cc') or []))})" for g in gpus]
    recorded = (e.get("config") or {}).get("compute_capability") if isinstance(e.get("config"), dict) else None
    if len(ccs) > 1:
        yield warning(f"GPUs of {len(ccs)} compute capabilities: {', '.join('.'.join(map(str, c)) for c in ccs)}",
                      "An engine is built for one compute capability; the GPUs of the other will refuse it. Pin the "
                      "server to GPUs of one kind (CUDA_VISIBLE_DEVICES) or build one engine per kind.",
                      evidence={"gpus": names})
        return
    yield info("Compute capability the engine was built for: not recorded",
               "TensorRT-LLM does not record it in config.json and the plan header does not expose it; TensorRT checks it "
               f"when it loads the plan (\"The engine plan file is generated on an incompatible device, expecting compute "
               f"{'.'.join(map(str, ccs[0]))} got compute X.Y\"). The GPUs here are sm {'.'.join(map(str, ccs[0]))}: "
               "the engine must have been built on a GPU of that compute capability.",
               evidence={"gpus": names, "recorded": recorded})
