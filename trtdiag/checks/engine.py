"""The engine named with --engine-dir: built by the TensorRT and TensorRT-LLM that will load it,
complete, really an engine, for this platform and these GPUs."""

from __future__ import annotations

import os
import re

from ..errors import ProbeError
from ..model import error, info, ok, warning
from ..registry import check


def release_tuple(v: str | None) -> tuple[int, ...]:
    """(0, 10, 0) of "0.10.0.dev2024041600"; () when it is not a version."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", v or "")
    return tuple(int(x) for x in m.groups() if x is not None) if m else ()


def rebuild_fix(facts, reason: str):
    from ..fixes.rebuild import rebuild_fix as make  # difflib/shlex only when a rebuild is proposed

    return make(facts, reason)


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


def _no_plan_owned_elsewhere(facts, e: dict) -> bool:
    """True when no rank file is a plan (all Git LFS pointers, empty or other files) and the checks
    that report those (ENG004, ENG005) run too: a 'version unknown' beside them says nothing."""
    ranks = e.get("ranks") or []
    kinds = [(r.get("header") or {}).get("kind") for r in ranks]
    if not ranks or not all(k in _NOT_A_PLAN for k in kinds):
        return False
    selected = getattr(facts, "selected_checks", None) or ()
    return all(_NOT_A_PLAN[k] in selected for k in kinds)


def _trt_differs(a: str, b: str) -> bool:
    pa, pb = a.split("."), b.split(".")
    n = min(len(pa), len(pb), 3)
    return pa[:n] != pb[:n] or (len(pa) > 3 and len(pb) > 3 and pa[3] != pb[3])


@check("ENG001", area="engine", title="Engine built by the TensorRT that will load it", kb="trt-engine-version-mismatch")
def engine_trt_version(facts):
    """The TensorRT version that built the engine (plan header, or config.json's
    builder_config.tensorrt in the legacy layout) against the libnvinfer that will load it (TRT001).

    Why: a plan loads only in the TensorRT release that built it.  Older runtimes say "The engine
    plan file is not compatible with this version of TensorRT, expecting library version X got Y,
    please rebuild."; newer ones "Failed due to an old deserialization call on a newer plan file" or
    "Version tag does not match … Serialized Engine Version: N"; a pre-8.6 ('ptrt') plan gets
    "Trying to load an engine created with incompatible serialization version".
    Fix: rebuild the engine with the installed versions (`trtdiag fix --engine-dir DIR` shows the
    trtllm-build command reconstructed from the engine's own build_config; --apply runs it).
    """
    e = _engine(facts)
    if not e or _no_plan_owned_elsewhere(facts, e):
        return  # no file is a plan to read a version from: ENG004/ENG005 say why
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
                   evidence=dict(ev, reasons=reasons))
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


@check("ENG002", area="engine", title="Engine built by the installed TensorRT-LLM", kb="trtllm-version-mismatch")
def engine_trtllm_version(facts):
    """The TensorRT-LLM version recorded in the engine's config.json ("version" for trtllm-build,
    none in the legacy build.py layout) against the installed tensorrt_llm.

    Why: TensorRT-LLM's plugins serialize their own fields; another release fails to load them,
    and another dev build of the same release fails deep inside a plugin, e.g. "Assertion failed:
    d == a + length (…/plugins/gemmPlugin/gemmPlugin.cpp:156)"; the Triton backend may instead say the
    "Tensor names in engine are not the same as expected" (triton-inference-server/tensorrtllm_backend#320).
    Fix: rebuild the engine with the installed TensorRT-LLM (`trtdiag fix --engine-dir DIR`), or
    install the release that built it (`pip install tensorrt_llm==VERSION`).
    """
    e = _engine(facts)
    if not e or not e.get("config"):
        return
    built = (e.get("normalized") or {}).get("trtllm_version")
    inst = facts.get("trtllm.installed") or {}
    have = inst.get("version")
    ev = _clean({"engine_config": e.get("config_path"), "engine_trtllm_version": built or "not recorded",
                 "installed": have or "not found", "installed_path": inst.get("path"), "installed_commit": inst.get("commit")})
    if not built:
        yield info("TensorRT-LLM version that built the engine: not recorded",
                   "Legacy build.py engines (TensorRT-LLM ≤ 0.7) do not record it in config.json.", evidence=ev)
        return
    if not have:
        yield info(f"Engine built by TensorRT-LLM {built}; tensorrt_llm is not installed here",
                   "Check the serving environment itself (`--python` for its interpreter).", evidence=ev)
        return
    if built == have:
        yield ok(f"Engine built by TensorRT-LLM {built}, the installed version", **ev)
        return
    fix, cmd = (None, "")
    if not trt_mismatch(facts)[0]:  # ENG001 already carries the rebuild when TensorRT differs too
        fix, cmd = rebuild_fix(facts, f"TensorRT-LLM {built} → {have}")
    else:
        cmd = rebuild_fix(facts, "")[1]
    if release_tuple(built)[:3] != release_tuple(have)[:3]:
        yield error(
            f"Engine built by TensorRT-LLM {built}, but TensorRT-LLM {have} is installed",
            f"{e.get('config_path')} records version {built}; the installed tensorrt_llm is {have} "
            f"({inst.get('path') or 'package metadata'}). Engines are not portable across TensorRT-LLM releases: the "
            f"runtime or its plugins will refuse or misread it. Rebuild with the installed versions: {cmd}",
            evidence=ev, fix=fix)
    else:
        yield warning(
            f"Engine built by TensorRT-LLM {built}, installed is {have} (same release, another build)",
            f"Both are release {'.'.join(map(str, release_tuple(have)))}, but different builds "
            f"({_dev_part(built) or 'release'} vs {_dev_part(have) or 'release'}). Plugin layouts change between "
            "commits: this is how \"Assertion failed: d == a + length (…/plugins/gemmPlugin/gemmPlugin.cpp:156)\" "
            f"happens at load time. Rebuild with the installed build: {cmd}",
            evidence=ev, fix=fix)


@check("ENG003", area="engine", title="Engine plans are for this platform", kb="engine-platform-mismatch")
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


@check("ENG004", area="engine", title="No Git LFS pointers where engines or weights should be", kb="engine-lfs-pointer")
def engine_lfs(facts):
    """Small text files beginning 'version https://git-lfs' where an engine or weight file should be.

    Why: a clone without `git lfs pull` leaves ~130-byte pointer files; TensorRT reads 'vers' as the
    magic: "Trying to load an engine created with incompatible serialization version (1936876918 != …)".
    Fix: `git lfs install && git lfs pull` in the repository that holds them (or download the real files).
    """
    e = _engine(facts)
    if not e:
        return
    ptrs = [p for p in e.get("problems", []) if p["kind"] == "lfs-pointer"]
    if not ptrs:
        return
    paths = [p["path"] for p in ptrs]
    repo_dir = os.path.dirname(paths[0])
    yield error(f"{len(ptrs)} Git LFS pointer file(s) instead of the real engine/weights",
                f"{paths[0]} is a {ptrs[0]['size']}-byte Git LFS pointer, not the file it names: the repository was cloned "
                f"without fetching LFS objects. Fetch them: cd {repo_dir} && git lfs install && git lfs pull",
                evidence={"pointers": paths})


@check("ENG005", area="engine", title="Engine files are complete", kb="engine-file-corrupt")
def engine_files(facts):
    """Every engine file is a whole TensorRT plan: not empty, not truncated (the header's size field,
    offset 16, equals the file's size), not some other file.

    Why: a copy that stopped half way, a full disk or a failed build leave files TensorRT refuses
    ("Serialization assertion plan.header.size == blobSize failed").
    Fix: copy or build the engine again and compare sizes (`ls -l`) with the source.
    """
    e = _engine(facts)
    if not e:
        return
    bad = [p for p in e.get("problems", []) if p["kind"] in ("empty", "truncated", "not-a-plan")]
    if not bad:
        # a Git LFS pointer is no engine at all: ENG004's finding, never "complete" here
        plans = [r for r in e.get("ranks") or [] if (r.get("header") or {}).get("kind") != "lfs-pointer"]
        if plans:
            yield ok(f"{len(plans)} engine file(s) complete", files=[f"{r['path']} ({r['size']:,} bytes)" for r in plans])
        return
    lines = []
    for p in bad:
        if p["kind"] == "empty":
            lines.append(f"{p['path']}: empty (0 bytes)")
        elif p["kind"] == "truncated":
            lines.append(f"{p['path']}: header says {p['size_field']:,} bytes, file has {p['size']:,}" if p.get("size_field") is not None
                         else f"{p['path']}: {p['size']} bytes, shorter than a plan header")
        else:
            lines.append(f"{p['path']}: not a TensorRT plan (starts with {p.get('magic')!r})")
    yield error(f"{len(bad)} engine file(s) empty, truncated or not a plan", lines[0] + ". TensorRT cannot load it; copy or "
                "build the engine again.", evidence={"files": lines})


@check("ENG006", area="engine", title="One engine file per rank (tp × pp)", kb="engine-rank-files-missing")
def engine_ranks(facts):
    """The engine directory holds one engine per rank: tp_size × pp_size files named rank0.engine …
    (trtllm-build) or <name>_<dtype>_tp<N>_rank<R>.engine (legacy build.py).

    Why: each MPI rank loads its own file; a missing one fails that rank at launch.
    Fix: copy the missing rank files, or rebuild with the intended tp/pp.
    """
    e = _engine(facts)
    if not e or e.get("is_file") or not e.get("expected_ranks"):
        return
    n = e["normalized"]
    miss = [p for p in e.get("problems", []) if p["kind"] == "missing-rank"]
    extra = [p for p in e.get("problems", []) if p["kind"] == "extra-ranks"]
    ev = {"tp": n.get("tp"), "pp": n.get("pp"), "world_size": e["expected_ranks"],
          "found": [os.path.basename(r["path"]) for r in e.get("ranks", [])]}
    if miss:
        yield error(f"{len(miss)} of {e['expected_ranks']} rank engine file(s) missing",
                    f"config.json says tp={n.get('tp')} × pp={n.get('pp')} = {e['expected_ranks']} ranks, but "
                    f"{miss[0]['expected_file']} is missing. Copy the missing files from where the engine was built, or rebuild.",
                    evidence=dict(ev, missing=[p["expected_file"] for p in miss]))
    elif extra:
        yield warning(f"Engine files for ranks {extra[0]['ranks']} beyond world size {e['expected_ranks']}",
                      "Files of another build are mixed into this directory.", evidence=ev)
    else:
        yield ok(f"{e['expected_ranks']} rank engine file(s) for tp={n.get('tp')} × pp={n.get('pp')}", **ev)


@check("ENG007", area="engine", title="Engine's compute capability matches the GPUs", kb="engine-compute-capability-mismatch")
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
