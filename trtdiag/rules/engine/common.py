"""The engine named with --engine-dir: built by the TensorRT and TensorRT-LLM that will load it,
complete, really an engine, for this platform and these GPUs.

Shared helpers of the engine rules (one rule a file beside this one)."""

from __future__ import annotations

import os

import re

from ...core.errors import ProbeError

from ...core.finding import error, info, ok, warning
from ...core.finding import hint

def release_tuple(v: str | None) -> tuple[int, ...]:
    """(0, 10, 0) of "0.10.0.dev2024041600"; () when it is not a version."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", v or "")
    return tuple(int(x) for x in m.groups() if x is not None) if m else ()

def rebuild_fix(facts, reason: str):
    """(the fix hint, the rebuild command as text for the message); the planner builds the fix."""
    from ...derive.rebuild import rebuild_fix as make  # difflib/shlex only when a rebuild is proposed

    fx, text = make(facts, reason)
    return (hint("rebuild-engine", reason) if fx is not None else None), text

def _engine(facts):
    return facts["engine.info"]

def _clean(ev: dict) -> dict:
    """Evidence without the keys that say nothing."""
    return {k: v for k, v in ev.items() if v not in (None, "", [], {})}

def plan_versions(e: dict) -> tuple[str | None, str, dict]:
    """The TensorRT version that built the engine, where it was read, and per-plan evidence."""
    per = {}
    verified = None
    for r in e.get("ranks", []):
        h = r.get("header") or {}  # a snapshot may hold ranks without their header
        per[os.path.basename(r["path"])] = h.get("version") or h.get("version_reason") or "unknown"
        if h.get("version") and not verified:
            verified = h["version"]
    if verified:
        versions = sorted({(r.get("header") or {})["version"] for r in e.get("ranks", []) if (r.get("header") or {}).get("version")})
        if len(versions) > 1:
            return " and ".join(versions), "plan headers (the rank files disagree)", per
        return verified, "plan header", per
    cfgv = (e.get("normalized") or {}).get("trt_version")
    if cfgv:
        return cfgv, "config.json builder_config.tensorrt", per
    return None, "", per

def trt_mismatch(facts) -> tuple[str | None, str | None, str]:
    e = _engine(facts)
    if not e:
        return None, None, ""
    built, where, _ = plan_versions(e)
    runtime = (facts.get("trt.installed") or {}).get("version")
    if built and runtime and _trt_differs(built, runtime):
        return built, runtime, where
    return None, None, ""

# what a rank file is when it is no plan at all, and the check that reports it
_NOT_A_PLAN = {"lfs-pointer": "ENG004", "empty": "ENG005", "not-a-plan": "ENG005"}

def no_plan(e: dict) -> bool:
    """True when no rank file is a plan (all Git LFS pointers, empty or other files): ENG004 and
    ENG005 say why (they cover ENG001's 'version unknown' on subject ``not-a-plan``)."""
    ranks = e.get("ranks") or []
    kinds = [(r.get("header") or {}).get("kind") for r in ranks]
    return bool(ranks) and all(k in _NOT_A_PLAN for k in kinds)


def _trt_differs(a: str, b: str) -> bool:
    pa, pb = a.split("."), b.split(".")
    n = min(len(pa), len(pb), 3)
    return pa[:n] != pb[:n] or (len(pa) > 3 and len(pb) > 3 and pa[3] != pb[3])

def runtime_wording(built: str, runtime: str) -> str:
    """What the runtime will say, in its own words (wording per release as recorded in
    ../shared/fixtures/trt_runtime and in users' reports)."""
    rb, rr = release_tuple(built), release_tuple(runtime)
    if rr and rr[0] >= 11 and rb < rr:
        return ("TensorRT 11 refuses it with \"Failed due to an old deserialization call on a newer plan file\" (or "
                "\"Version tag does not match … Serialized Engine Version: N\" for a nearer release).")
    # "expecting" is the runtime's own version, "got" the plan's (pytorch/TensorRT#1059: a 22.04 tritonserver,
    # TensorRT 8.2.4, said "expecting library version 8.2.4 got 8.2.3" of a plan built by 8.2.3)
    return (f"it will refuse it with \"The engine plan file is not compatible with this version of TensorRT, expecting "
            f"library version {runtime} got {built}, please rebuild.\"")

def _dev_part(v: str) -> str:
    m = re.match(r"\d+\.\d+(?:\.\d+)?(.*)$", v or "")
    return (m.group(1) if m else "").lstrip(".+-")
