"""ENG007: Engine's compute capability matches the GPUs."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive import engine_verdicts
from .common import ProbeError, _engine, error, ok, rebuild_fix, warning

_MAKE = {"error": error, "warning": warning}


@rule("ENG007", area="engine", title="Engine's compute capability matches the GPUs", kb="engine-compute-capability-mismatch")
def engine_cc(facts):
    """The compute capability each plan was built for (the device structure after the release
    fields, trtdiag.parsers.plan) against the GPUs here; and GPUs of two compute capabilities.

    Why: TensorRT refuses a plan built on a GPU of another compute capability once its versions
    match: "The engine plan file is generated on an incompatible device, expecting compute 9.0
    got compute 8.6, please rebuild." ("expecting" is the GPU here; recorded from the 11.4.0.106
    runtime on an H200), unless it was built hardware-compatible (Ampere and later).  Nothing is
    said when the plan does not record it: there is nothing to act on.
    Fix: build the engine on a GPU of the compute capability that serves it.
    """
    e = _engine(facts)
    if not e:
        return
    try:
        inv = facts["gpu.inventory"]
    except (ProbeError, ImportError, KeyError):
        return
    for s in engine_verdicts.eng007(e, (inv or {}).get("gpus") or []):
        if s["severity"] == "ok":
            yield ok(s["title"], **s["evidence"])
            continue
        fix, msg = None, s["message"]
        if s["rebuild_reason"]:
            fix, cmd = rebuild_fix(facts, s["rebuild_reason"])
            msg += f" On such a GPU: {cmd}"
        yield _MAKE[s["severity"]](s["title"], msg, evidence=s["evidence"], fix=fix)
