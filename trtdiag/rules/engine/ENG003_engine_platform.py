"""ENG003: Engine plans are for this platform."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _engine, error


@rule("ENG003", area="engine", title="Engine plans are for this platform", kb="engine-platform-mismatch")
def engine_platform(facts):
    """The platform tag in the plan header (bytes 28..31) is 0, the tag of Linux x86-64 plans.

    Why: TensorRT plans load only on the platform they were built on; the runtime says "Platform
    specific tag mismatch detected. TensorRT plan files are only supported on the target runtime
    platform they were created on." (established on the 11.4 runtime).
    Fix: build the engine on this platform (same OS and CPU architecture as the server).
    """
    e = _engine(facts)
    if not e:
        return
    bad = [p for p in e.get("problems", []) if p["kind"] == "foreign-platform"]
    if not bad:
        return
    yield error(f"{len(bad)} plan(s) built for another platform (platform tag {bad[0]['platform_tag']})",
                "The plan header's platform tag is not 0 (Linux x86-64). TensorRT refuses such a plan: \"Platform specific "
                "tag mismatch detected. TensorRT plan files are only supported on the target runtime platform they were "
                "created on.\" Build the engine on the platform that serves it.",
                evidence={"plans": [f"{p['path']} (tag {p['platform_tag']})" for p in bad]})
