"""ENG003: Engine plans are for this platform."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive import engine_verdicts
from .common import _engine, error


@rule("ENG003", area="engine", title="Engine plans are for this platform", kb="engine-platform-mismatch")
def engine_platform(facts):
    """The runtime-platform tag of each ftrt plan (bytes 28..31) is one the runtime accepts.

    What the tag means (trtdiag/parsers/plan.py): 0 in TensorRT 8.6 plans, 'rtrt' in 10.x plans
    built to run where they were built, 'qtrt' in plans built on Linux for Windows.  The 11.4
    Linux x86-64 runtime lets 0 and 'rtrt' through and refuses anything else with "Platform
    specific tag mismatch detected. TensorRT plan files are only supported on the target runtime
    platform they were created on." (recorded on real plans and one-field variants of them).
    Fix: build the engine on the platform that serves it (same OS and CPU architecture).
    """
    e = _engine(facts)
    if not e:
        return
    for s in engine_verdicts.eng003(e, facts.get("trt.installed") or {}):
        yield error(s["title"], s["message"], evidence=s["evidence"])
