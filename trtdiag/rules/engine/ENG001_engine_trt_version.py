"""ENG001: Engine built by the TensorRT that will load it."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive import engine_verdicts
from .common import _clean, _engine, no_plan, _trt_differs, error, info, ok, plan_versions, rebuild_fix, release_tuple, runtime_wording, warning

_MAKE = {"error": error, "warning": warning, "info": info}


@rule("ENG001", area="engine", title="Engine built by the TensorRT that will load it", kb="trt-engine-version-mismatch")
def engine_trt_version(facts):
    """The TensorRT release and serialization version that built each plan (trtdiag.parsers.plan:
    bytes 24..27 and the engine section of ftrt plans, the archive of ptrt plans) against the
    libnvinfer that will load it (TRT001): what that runtime will do, and the exact message it
    prints (trtdiag.derive.plan_verdict; recorded from the 11.4.0.106 runtime on every real plan
    in tests/data/engines/plans).

    Why: a plan loads only in the TensorRT release that built it, unless built version-compatible.
    TensorRT 11 says "Failed due to an old deserialization call on a newer plan file" of 8.6 and
    10.3 plans, "Version tag does not match. Note: Current Version: 245, Serialized Engine Version:
    239" of 10.6 plans; older runtimes "expecting library version A got B"; a pre-8.6 ('ptrt')
    plan gets "Trying to load an engine created with incompatible serialization version".
    Fix: rebuild the engine with the installed versions (`trtdiag fix --engine-dir DIR` shows the
    trtllm-build command reconstructed from the engine's own build_config; --apply runs it).
    """
    e = _engine(facts)
    if not e:
        return
    runtime_info = facts.get("trt.installed") or {}
    specs = engine_verdicts.eng001(e, runtime_info)
    if not specs:
        yield from _from_headers_only(facts)
        return
    for s in specs:
        ev = _clean(dict(s["evidence"], engine=e["path"]))
        if s["severity"] == "ok":
            yield ok(s["title"], **ev)
            continue
        fix, msg = None, s["message"]
        if s["rebuild_reason"]:
            fix, cmd = rebuild_fix(facts, s["rebuild_reason"])
            msg += f" Rebuild with the installed versions: {cmd}"
        yield _MAKE[s["severity"]](s["title"], msg, evidence=ev, fix=fix)


def _from_headers_only(facts):
    """The former reading, for snapshots taken before the plan reader (no ``header["plan"]``)."""
    e = _engine(facts)
    if not e:
        return
    subject = "not-a-plan" if no_plan(e) else None  # no file is a plan: ENG004/ENG005 say why
    runtime_info = facts.get("trt.installed") or {}
    runtime = runtime_info.get("version")
    built, where, per = plan_versions(e)
    ptrt = [r["path"] for r in e.get("ranks", []) if (r.get("header") or {}).get("kind") == "ptrt"]
    ev = _clean({"engine": e["path"], "plans": per, "built_with": built or "unknown", "recorded_in": where or None,
                 "runtime": runtime or "not found", "runtime_library": runtime_info.get("path")})
    if ptrt:
        fix, cmd = rebuild_fix(facts, "plan from TensorRT before 8.6")
        if runtime and release_tuple(runtime) < (8, 6):
            yield info(f"Engine plan is from TensorRT before 8.6 ('ptrt'); runtime here is {runtime}",
                       "Both use the pre-8.6 serialization; the exact release that built the plan is not recorded where "
                       "trtdiag can read it, so whether they match is not known.", evidence=dict(ev, ptrt_plans=ptrt))
            return
        sev = error if runtime else warning
        yield sev(
            f"Engine plan is from TensorRT before 8.6 ('ptrt'); TensorRT {runtime or '≥ 8.6'} cannot load it",
            f"{ptrt[0]} uses the serialization of TensorRT before 8.6 (magic 'ptrt'). A TensorRT ≥ 8.6 runtime "
            "refuses it with \"Trying to load an engine created with incompatible serialization version "
            "(1953657968 != 1953657958)\". The exact release that built it is not recorded where trtdiag can read it. "
            f"Rebuild it: {cmd}",
            evidence=dict(ev, ptrt_plans=ptrt), fix=fix)
        return
    if not built:
        reasons = {k: v for k, v in per.items()}
        if not e.get("ranks"):
            return
        cands = sorted({(r.get("header") or {})["candidate_version"] for r in e["ranks"]
                        if (r.get("header") or {}).get("kind") == "plan" and (r.get("header") or {}).get("candidate_version")})
        if runtime and len(cands) == 1 and _trt_differs(cands[0], runtime) and release_tuple(cands[0]) >= (8, 6):
            fix, cmd = rebuild_fix(facts, f"TensorRT {cands[0]}? → {runtime}")
            yield warning(
                f"Engine probably built by TensorRT {cands[0]}, but TensorRT {runtime} will load it",
                f"The plan header's version bytes (offset 24..27) read {cands[0]}. That field is verified only on TensorRT "
                f"8.6 plans, so this is a strong hint, not a proof (config.json does not record the TensorRT version). "
                f"TensorRT {runtime} loads only plans of its own release; if it refuses this one, rebuild with the installed "
                f"versions: {cmd}",
                evidence=dict(ev, header_bytes_24_27=cands[0]), fix=fix)
            return
        yield info("TensorRT version that built the engine: unknown",
                   "Neither the plan headers (field established only for TensorRT 8.6 plans) nor config.json record it. "
                   "`trtexec --getPlanVersionOnly --loadEngine=PLAN` on a machine with TensorRT can tell.",
                   evidence=dict(ev, reasons=reasons), subject=subject)
        return
    if not runtime:
        yield info(f"Engine built by TensorRT {built}; no TensorRT found here to load it",
                   "Install the TensorRT that built it, or run this check where the server runs (`--python` for another "
                   "interpreter, or `trtdiag collect` there).", evidence=ev)
        return
    if _trt_differs(built, runtime):
        fix, cmd = rebuild_fix(facts, f"TensorRT {built} → {runtime}")
        rb, rr = release_tuple(built), release_tuple(runtime)
        if runtime_info.get("kind") == "nvinfer_lean" and rb[:1] == rr[:1] and rb >= (8, 6) and rb < rr:
            yield warning(
                f"Engine built by TensorRT {built}; the lean runtime {runtime} loads it only if it was built version-compatible",
                f"The plan was serialized by TensorRT {built} ({where}); the library here is the lean runtime {runtime} "
                f"({runtime_info.get('source')}), which runs plans of an older release of the same major version only when "
                "they were built with version compatibility (trtexec --versionCompatible / "
                "BuilderFlag.VERSION_COMPATIBLE); the header does not say whether this one was. If loading fails, "
                f"rebuild with the installed versions: {cmd}", evidence=ev, fix=fix)
            return
        yield error(
            f"Engine built by TensorRT {built}, but TensorRT {runtime} will load it",
            f"The plan was serialized by TensorRT {built} ({where}); the library that will deserialize it is "
            f"TensorRT {runtime} ({runtime_info.get('source')}). TensorRT loads only plans of its own release: "
            f"{runtime_wording(built, runtime)} Rebuild with the installed versions: {cmd}",
            evidence=ev, fix=fix)
        return
    yield ok(f"Engine built by TensorRT {built}, the version that will load it", **ev)
