"""Will the installed TensorRT load this plan, and if not, what exactly will it print.

Pure: a plan as :func:`trtdiag.parsers.plan.parse` decodes it and the installed runtime
(``{"release": "11.4.0.106", "kind": "nvinfer_lean"}``) in; a verdict out.  The tables are
trtdiag/data/trt_serialization_versions.json and trt_runtime_messages.json
(tools/build_trt_tables.py).

The order of the checks is the one the TensorRT 11.4.0.106 runtime was seen to follow on every
real plan and on one-field variants of them (tests/data/trt_runtime/lean-11.4.0.106_real-plans-v2.json):

1. empty buffer; 2. magic 'ftrt' (a 'ptrt' plan, an LFS pointer …); 3. the header's size;
4. the platform tag (0 or 'rtrt' pass on Linux x86-64); 5. a LEAN section (a version-compatible
plan with its own lean runtime: refused while engine host code is not allowed); 6. no WGHT
section: "old deserialization call on a newer plan file"; 7. the engine section's serialization
version: "Version tag does not match"; 8. its release: "expecting library version A got B".

For other runtimes the wording of their family is used (the sources of each are in the message
table), and ``confidence`` says "recorded" only where that runtime's own answer was recorded.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .. import data
from typing import Any

RECORDED_RUNTIME = "11.4.0.106"  # the runtime whose answers are recorded for every real plan
PLAN_MAGIC_FTRT = 1953657958
ACCEPTED_PLATFORM_TAGS = (0, 0x74727472)  # 0, 'rtrt' (libnvinfer_lean.so.11@11.4.0.106 throwUnlessHeaderOk)


@lru_cache(maxsize=None)
def _table(name: str) -> dict:
    return data.load_json(name)


def messages() -> dict[str, dict]:
    return {m["id"]: m for m in _table("trt_runtime_messages.json")["messages"]}


def release_tuple(v: str | None) -> tuple[int, ...]:
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?", v or "")
    return tuple(int(x) for x in m.groups() if x is not None) if m else ()


def serialization_version_of(release: str | None) -> dict[str, Any] | None:
    """The serialization version a release writes and reads, from the table: an exact release
    first, then its major.minor family.  ``{"serialization_version", "basis", "verified"}``."""
    rt = release_tuple(release)
    if not rt:
        return None
    exact = fam = None
    for row in _table("trt_serialization_versions.json")["versions"]:
        for r in row["releases"]:
            t = release_tuple(r)
            if t and t == rt[:len(t)] and len(t) == 4 and exact is None:
                exact = row
            if t[:2] == rt[:2] and fam is None:
                fam = row
    between = None
    if not (exact or fam):  # between two releases that both write the same version (10.4 between 10.3 and 10.6)
        for row in _table("trt_serialization_versions.json")["versions"]:
            ts = sorted(t for t in (release_tuple(r) for r in row["releases"]) if len(t) >= 2)
            if ts and ts[0][0] == rt[0] == ts[-1][0] and ts[0][:2] < rt[:2] < ts[-1][:2]:
                between = row
                break
    row = exact or fam or between
    if not row:
        return None
    basis = ("this release" if row is exact else f"release family {'.'.join(map(str, rt[:2]))}" if row is fam
             else f"between releases {row['releases'][0]} and {row['releases'][-1]}, which both write it")
    return {"serialization_version": row["serialization_version"], "basis": basis, "verified": row.get("verified", True)}


def releases_of(serialization_version: int | None) -> list[str]:
    """The releases known to write ``serialization_version`` (may be several families)."""
    for row in _table("trt_serialization_versions.json")["versions"]:
        if row["serialization_version"] == serialization_version:
            return list(row["releases"])
    return []


def built_by(plan: dict[str, Any]) -> str:
    """What built the plan, in words: the release, or the releases its serialization version says."""
    if plan.get("release"):
        return plan["release"]
    rels = releases_of(plan.get("serialization_version"))
    if rels:
        fams = sorted({".".join(r.split(".")[:2]) for r in rels}, key=release_tuple)
        return f"a release in {' / '.join(fams)} (serialization version {plan['serialization_version']})"
    if plan.get("serialization_version") is not None:
        return f"an unknown release (serialization version {plan['serialization_version']})"
    return "an unknown release"


def _fill(mid: str, **kw: Any) -> str:
    t = messages()[mid]["template"]
    for k, v in kw.items():
        t = t.replace("{" + k + "}", str(v))
    return t


def verdict(plan: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
    """What ``runtime`` will do with ``plan``.

    Returns ``outcome`` ("loads" | "refused" | "refused-by-default" | "refused-unless-version-compatible" | "unknown"),
    ``message_id`` and ``message`` (the exact text the runtime prints, or None where not known),
    ``confidence`` ("recorded": this runtime's own answer was recorded for such a plan;
    "from-sources": the wording of its family from public logs; "inferred"), ``why`` (one
    sentence), and the facts compared.
    """
    rel = runtime.get("release")
    rt = release_tuple(rel)
    rsv = serialization_version_of(rel)
    out: dict[str, Any] = {
        "runtime_release": rel, "runtime_kind": runtime.get("kind"),
        "runtime_serialization_version": rsv["serialization_version"] if rsv else None,
        "plan_release": plan.get("release"), "plan_serialization_version": plan.get("serialization_version"),
        "plan_built_by": built_by(plan), "outcome": "unknown", "message_id": None, "message": None,
        "confidence": "inferred", "why": "",
    }
    if not rt:
        out["why"] = "no TensorRT runtime found to compare with"
        return out
    recorded = rel == RECORDED_RUNTIME
    ftrt_runtime = rt >= (8, 6)
    conf = "recorded" if recorded else ("from-sources" if ftrt_runtime else "inferred")

    def done(outcome: str, mid: str | None, why: str, confidence: str | None = None, **fields: Any) -> dict[str, Any]:
        out.update(outcome=outcome, message_id=mid, message=_fill(mid, **fields) if mid else None, why=why,
                   confidence=confidence or conf)
        return out

    kind = plan.get("kind")
    if kind == "empty":
        return done("refused", "empty-buffer" if ftrt_runtime else None, "the file is empty")
    if kind in ("lfs-pointer", "not-a-plan") or (kind == "ptrt" and ftrt_runtime):
        what = {"lfs-pointer": "a Git LFS pointer, not a plan", "not-a-plan": "not a TensorRT plan",
                "ptrt": f"a 'ptrt' plan of TensorRT {built_by(plan)}, before the 'ftrt' layout of 8.6"}[kind]
        if ftrt_runtime:
            return done("refused", "magic-mismatch", f"{what}: TensorRT {rel} reads only 'ftrt' plans", plan_magic=plan.get("magic_u32"))
        return done("refused", None, what, "inferred")
    if kind == "truncated":
        return done("refused", None, "the file is shorter than a plan header", "inferred")
    if kind == "ptrt":
        return _ptrt_on_old_runtime(plan, out, rel, rt, rsv, done)
    if kind != "ftrt":
        return out
    # an 'ftrt' plan
    if not ftrt_runtime:
        return done("refused", None, f"a plan of TensorRT {built_by(plan)} ('ftrt' layout of 8.6 and later) in front of TensorRT {rel}, "
                    "which predates that layout", "inferred")
    if plan.get("size_matches") is False:
        return done("refused", "size-mismatch", f"the header says {plan.get('size_field'):,} bytes, the file has {plan.get('size'):,}")
    if plan.get("platform_tag") not in ACCEPTED_PLATFORM_TAGS:
        return done("refused", "platform-mismatch", f"platform tag {plan.get('platform_tag_text') or plan.get('platform_tag')} "
                    "is not the one this runtime's platform accepts (0 or 'rtrt' on Linux x86-64)")
    names = [x.get("name") for x in plan.get("sections") or []]
    if names and "ENGN" not in names:
        return done("refused", "no-engine", "the section table names no ENGN (engine) section")
    if plan.get("lean_runtime_embedded"):
        return done("refused-by-default", "lean-host-code",
                    "a version-compatible plan carrying its own lean runtime (LEAN section): TensorRT runs it only when the "
                    "application allows engine host code (IRuntime.engine_host_code_allowed = True; trtexec does so with "
                    "--versionCompatible)")
    prel = plan.get("release")
    if prel and prel == rel:
        out.update(outcome="loads", confidence="inferred" if not recorded else "inferred",
                   why=f"built by TensorRT {prel}, the installed release")
        return out
    psv = plan.get("serialization_version")
    if rt[0] >= 11 and not plan.get("weights_section"):
        pt = release_tuple(prel)
        why = (f"built by TensorRT {built_by(plan)}, whose plans keep no separate weights section; TensorRT {rel} "
               "refuses such a plan before reading its version")
        if pt and pt[0] == rt[0] and pt < rt:
            out["caveat"] = "unless it was built version-compatible"
        return done("refused", "old-plan", why)
    rsv_n = rsv["serialization_version"] if rsv else None
    if psv is not None and (rsv_n is None or psv != rsv_n):
        mid = "version-tag-k" if rt >= (9,) else "version-tag"
        c = conf if rsv_n is not None else "inferred"
        res = done("refused", mid, f"built by TensorRT {built_by(plan)} (serialization version {psv}); TensorRT {rel} reads "
                   f"serialization version {rsv_n if rsv_n is not None else '(not in the table)'} only", c,
                   runtime_sv=rsv_n, plan_sv=psv)
        if rsv_n is None:  # the wording is known, this runtime's own number is not: say no more than that
            res["message"] = None
            res["message_pattern"] = _fill(mid, runtime_sv="…", plan_sv=psv)
        _version_compatible_caveat(res, prel, rt)
        return res
    if prel:
        shown = prel
        res = done("refused", "library-version", f"same serialization version ({psv}), another release ({prel})",
                   "inferred" if not recorded else "recorded", runtime_release=rel, plan_release=shown)
        if recorded:
            res["printed"] = printed_library_version_11_4(rel, plan)
            res["note"] = ("TensorRT 11.4.0.106 prints the plan's release as four raw bytes, not as digits, and stops at "
                           "the first zero byte")
        _version_compatible_caveat(res, prel, rt)
        return res
    return out


def printed_library_version_11_4(runtime_release: str, plan: dict[str, Any]) -> str:
    """The "expecting library version" line exactly as TensorRT 11.4.0.106 prints it: the plan's
    release as four raw bytes joined by '.', the text cut at the first zero byte (recorded:
    "expecting library version 11.4.0.106 got \\n.\\x0f.\\x01.\\x1d, please rebuild." for 10.15.1.29,
    "… got \\n.\\x06." for 10.6.0.26)."""
    head = messages()["library-version"]["template"].split("{runtime_release}")[0] + runtime_release + " got "
    got = ".".join(chr(int(x)) for x in (plan.get("release") or "").split(".") if x.isdigit())
    text = head + got + ", please rebuild."
    return text.split("\0", 1)[0]


def _version_compatible_caveat(res: dict[str, Any], prel: str | None, rt: tuple[int, ...]) -> None:
    pt = release_tuple(prel)
    if pt and pt >= (8, 6) and pt[0] == rt[0] and pt < rt:
        res["outcome"] = "refused-unless-version-compatible"
        res["caveat"] = ("a plan of an older release of the same major version loads if it was built version-compatible; "
                         "this one carries no lean runtime (no LEAN section), so that needs the application to load it")


def _ptrt_on_old_runtime(plan, out, rel, rt, rsv, done):
    """A 'ptrt' plan in front of a runtime before 8.6 (that still reads 'ptrt')."""
    arc = plan.get("archive") or {}
    rsv_n = rsv["serialization_version"] if rsv else None
    if arc.get("form") == "ptrt/version":  # TensorRT 8.0 and older: non-zero field at 4
        if rt >= (8, 2):
            return done("refused", "safe-version-tag", f"a plan of TensorRT {built_by(plan)}, older than 8.2", "from-sources",
                        plan_field4=arc.get("field4"))
        if rsv_n is not None and rsv_n != plan.get("serialization_version"):
            return done("refused", "version-tag-legacy", f"serialization version {plan.get('serialization_version')} against {rsv_n}",
                        "from-sources", runtime_sv=rsv_n, plan_sv=plan.get("serialization_version"))
        return out
    psv = plan.get("serialization_version")
    if rsv_n is not None and psv != rsv_n:
        return done("refused", "version-tag", f"serialization version {psv} against {rsv_n}", "from-sources", runtime_sv=rsv_n, plan_sv=psv)
    prel = plan.get("release")
    if prel and prel != rel:
        return done("refused", "library-version", f"same serialization version, another release ({prel})", "from-sources",
                    runtime_release=rel, plan_release=prel)
    if prel and prel == rel:
        out.update(outcome="loads", why=f"built by TensorRT {prel}, the installed release")
    return out


def device_verdict(plan: dict[str, Any], gpu_ccs: list[list[int] | tuple[int, ...]]) -> dict[str, Any] | None:
    """Will the GPUs here take the plan: its compute capability (what TensorRT checks once the
    versions pass) against each GPU's.  None when the plan does not record it.

    ``outcome``: "matches" | "refused" | "refused-unless-hardware-compatible"; ``message`` the
    runtime's words for the first GPU that differs ("expecting compute 9.0 got compute 8.6").
    A plan built hardware-compatible (Ampere and later, 8.0+) runs on any GPU of 8.0 or later;
    nothing seen in a plan yet marks one, so between two such GPUs the refusal is qualified.
    """
    dev = plan.get("built_on") or {}
    cc = dev.get("compute_capability")
    if not cc or not gpu_ccs:
        return None
    pc = tuple(cc)
    out: dict[str, Any] = {"plan_cc": ".".join(map(str, pc)), "gpu_ccs": [".".join(map(str, g)) for g in gpu_ccs],
                           "confidence": plan.get("confidence", {}).get("compute_capability", "inferred")}
    bad = [tuple(g) for g in gpu_ccs if tuple(g) != pc]
    if not bad:
        out.update(outcome="matches", message_id=None, message=None)
        return out
    g = bad[0]
    msg = _fill("device-cc", gpu_cc=".".join(map(str, g)), plan_cc=out["plan_cc"])
    hw = pc >= (8, 0) and all(tuple(x) >= (8, 0) for x in bad)
    out.update(outcome="refused-unless-hardware-compatible" if hw else "refused", message_id="device-cc", message=msg,
               differing=[".".join(map(str, x)) for x in bad])
    return out


SHORT = {
    "empty-buffer": "the file is empty",
    "magic-mismatch": "not an 'ftrt' plan (\"incompatible serialization version ({plan_magic} != 1953657958)\")",
    "size-mismatch": "the file is not the size its header says (\"plan.header.size == blobSize\")",
    "platform-mismatch": "built for another platform (\"Platform specific tag mismatch detected\")",
    "lean-host-code": "a version-compatible plan with its own lean runtime, refused while engine host code is not allowed",
    "old-plan": "\"Failed due to an old deserialization call on a newer plan file\"",
    "version-tag-k": "\"Version tag does not match. Note: Current Version: {runtime_sv}, Serialized Engine Version: {plan_sv}\"",
    "version-tag": "\"Version tag does not match. Note: Current Version: {runtime_sv}, Serialized Engine Version: {plan_sv}\"",
    "safe-version-tag": "\"Version tag does not match\" (a plan older than TensorRT 8.2)",
    "version-tag-legacy": "\"Version tag does not match\"",
    "library-version": "\"expecting library version {runtime_release} got {plan_release}\"",
}


def short_reason(v: dict[str, Any], plan: dict[str, Any] | None = None) -> str:
    """The message in a few words, as a title can carry it."""
    mid = v.get("message_id")
    if not mid:
        return v.get("why") or ""
    t = SHORT.get(mid, "")
    fields = {"plan_magic": (plan or {}).get("magic_u32"), "runtime_sv": v.get("runtime_serialization_version") or "…",
              "plan_sv": v.get("plan_serialization_version"), "runtime_release": v.get("runtime_release"),
              "plan_release": v.get("plan_release")}
    for k, val in fields.items():
        t = t.replace("{" + k + "}", str(val))
    if mid == "magic-mismatch" and plan and plan.get("kind") == "lfs-pointer":
        return "a Git LFS pointer, not the plan (" + t.split("(", 1)[1]
    if mid == "magic-mismatch" and plan and plan.get("kind") == "ptrt":
        return "a plan of TensorRT before 8.6 (" + t.split("(", 1)[1]
    return t


def title(v: dict[str, Any], plan: dict[str, Any] | None = None, name: str = "this plan") -> str:
    """A finding title that says what will happen (ENG001): "TensorRT 11.4.0.106 will refuse this
    plan (built by 8.6.1.6): "Failed due to an old deserialization call on a newer plan file"".
    """
    rel, built = v.get("runtime_release"), v.get("plan_built_by")
    by = f" (built by {built})" if built and not built.startswith("an unknown") else ""
    o = v.get("outcome")
    why = short_reason(v, plan)
    if o == "loads":
        return f"TensorRT {rel} will load {name}{by}"
    if o == "refused":
        return f"TensorRT {rel} will refuse {name}{by}: {why}" if why else f"TensorRT {rel} will refuse {name}{by}"
    if o == "refused-by-default":
        return f"TensorRT {rel} will refuse {name}{by} unless engine host code is allowed: {why}"
    if o == "refused-unless-version-compatible":
        return f"TensorRT {rel} will refuse {name}{by} unless it was built version-compatible: {why}"
    return f"Whether TensorRT {rel} loads {name}{by} is not known"


_MAGICS = {1953657968: "a 'ptrt' plan of TensorRT before 8.6", 1936876918: "a Git LFS pointer ('vers')", 1953657958: "an 'ftrt' plan"}


def read_message(text: str) -> dict[str, Any] | None:
    """Which catalogue message a runtime log line is, and what its numbers say (for explain).

    "Version tag does not match. Note: Current Version: 245, Serialized Engine Version: 239" →
    ``{"message_id": "version-tag-k", "runtime_sv": 245, "plan_sv": 239, "runtime_releases":
    ["11.4.0.106"], "plan_releases": ["10.3.0.26", "10.6.0.26"]}``; the same for the magic, the
    library-version and the compute-capability messages.  None when the line is none of them.
    """
    m = re.search(r"Current Version: (\d+), Serialized Engine Version: (\d+)", text) or \
        re.search(r"urent version: (\d+)\W+Serialized Engine Version: (\d+)", text)
    if m:
        cur, ser = int(m[1]), int(m[2])
        if "safeVersionRead" in text:
            mid = "safe-version-tag"
        elif "kSERIALIZATION_VERSION" in text:
            mid = "version-tag-k"
        elif "coreReadArchive" in text or "verifyHeader" in text:
            mid = "version-tag-legacy"
        else:
            mid = "version-tag"
        out = {"message_id": mid, "runtime_sv": cur, "plan_sv": ser, "runtime_releases": releases_of(cur) if cur else [],
               "plan_releases": releases_of(ser)}
        if mid == "safe-version-tag":
            out["plan_note"] = "a plan of TensorRT 8.0 or older (its safe-version field is non-zero)"
        return out
    m = re.search(r"incompatible serialization version \((\d+) != (\d+)\)", text)
    if m:
        got = int(m[1])
        return {"message_id": "magic-mismatch", "plan_magic": got, "plan_is": _MAGICS.get(got, "not a TensorRT plan"),
                "runtime_magic": int(m[2])}
    m = re.search(r"expecting library version ([\d.]+) got (\S+?),? please rebuild", text) or \
        re.search(r"expecting library version ([\d.]+) got ([\d.]+)", text)
    if m:
        got = m[2].rstrip(",.")
        return {"message_id": "library-version", "runtime_release": m[1], "plan_release": got if re.fullmatch(r"[\d.]+", got) else None}
    m = re.search(r"incompatible device, expecting compute (\d+\.\d+) got compute (\d+\.\d+)", text)
    if m:
        return {"message_id": "device-cc", "gpu_cc": m[1], "plan_cc": m[2]}
    for mid in ("old-plan", "platform-mismatch", "lean-host-code", "no-engine", "size-mismatch", "empty-buffer"):
        probe = messages()[mid]["template"].split("{")[0][:60]
        if probe in text:
            return {"message_id": mid}
    return None


def families(releases: list[str]) -> str:
    """"10.3 / 10.6" of ["10.3.0.26", "10.6.0.26"]: the release families a list spans."""
    fams = sorted({".".join(r.split(".")[:2]) for r in releases}, key=release_tuple)
    return " / ".join(fams)


def releases_named(text: str) -> dict[str, str]:
    """For explain: the releases a refusal line points at, in words ({"runtime_is": "TensorRT 11.4",
    "plan_built_by": "TensorRT 10.3 / 10.6"}), from the serialization-version table."""
    r = read_message(text) or {}
    out: dict[str, str] = {}
    if r.get("runtime_releases"):
        out["runtime_is"] = f"TensorRT {families(r['runtime_releases'])} (serialization version {r['runtime_sv']})"
    if r.get("plan_releases"):
        out["plan_built_by"] = f"TensorRT {families(r['plan_releases'])} (serialization version {r['plan_sv']})"
    elif r.get("plan_sv") is not None:
        out["plan_built_by"] = f"a release of serialization version {r['plan_sv']} (not in trtdiag's table)"
    if r.get("plan_note"):
        out["plan_built_by"] = r["plan_note"]
    if r.get("plan_is"):
        out["plan_is"] = r["plan_is"]
    return out
