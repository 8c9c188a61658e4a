"""What the engine rules ENG001, ENG003 and ENG007 say, as plain data (pure: facts in, finding specs out).

Each function takes the facts the rule reads (``engine.info``, ``trt.installed``,
``gpu.inventory``: plain dicts) and returns a list of finding specs
``{"severity", "title", "message", "evidence", "rebuild_reason"}`` (``rebuild_reason`` set when the
rule should attach the rebuild fix).  The rule files turn them into findings.

The plan facts come from :mod:`trtdiag.parsers.plan` (each rank's ``header["plan"]``); the
verdicts from :mod:`trtdiag.derive.plan_verdict`.
"""

from __future__ import annotations

import os
from typing import Any

from . import plan_verdict as V

NOT_PLANS = ("lfs-pointer", "empty", "not-a-plan")  # ENG004 / ENG005 report those


def _plans(engine: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for r in engine.get("ranks") or []:
        h = r.get("header") or {}
        p = h.get("plan")
        if p is None:  # a snapshot taken before the plan reader: nothing more can be said
            continue
        out.append((r["path"], p))
    return out


def _name(paths: list[str]) -> str:
    if len(paths) == 1:
        return os.path.basename(paths[0])
    return f"{os.path.basename(paths[0])} and {len(paths) - 1} more rank file(s)"


def _where(source: str | None) -> str | None:
    """Where the release was read, as the evidence says it ("plan header, bytes 24..27")."""
    if not source:
        return None
    if source.startswith("config.json"):
        return source
    return "plan header, " + (source[len("header "):] if source.startswith("header ") else source)


def eng001(engine: dict[str, Any] | None, trt: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The TensorRT release (and serialization version) that built each plan against the one
    that will load it: what that runtime will do, in its own words."""
    if not engine:
        return []
    plans = [(p, x) for p, x in _plans(engine) if x.get("kind") not in NOT_PLANS]
    if not plans:
        return []
    trt = trt or {}
    runtime = {"release": trt.get("version"), "kind": trt.get("kind")}
    cfg_release = (engine.get("normalized") or {}).get("trt_version")
    groups: dict[tuple, list] = {}
    for path, p in plans:
        if not p.get("release") and cfg_release:
            p = dict(p, release=cfg_release, release_source="config.json builder_config.tensorrt")
        v = V.verdict(p, runtime)
        groups.setdefault((v["outcome"], v["message_id"]), []).append((path, p, v))
    order = {"refused": 0, "refused-unless-version-compatible": 1, "refused-by-default": 2, "unknown": 3, "loads": 4}
    out = []
    for key in sorted(groups, key=lambda k: order.get(k[0], 9)):
        items = groups[key]
        path, p, v = items[0]
        paths = [i[0] for i in items]
        name = "this plan" if engine.get("is_file") else _name(paths)
        builts = sorted({i[2]["plan_built_by"] for i in items}, key=V.release_tuple)
        if len(builts) > 1:  # rank files of one engine built by different releases: say so, in one finding
            v = dict(v, plan_built_by=" and ".join(builts) + " (the rank files disagree)")
        ev = {k: val for k, val in {
            "plans": [os.path.basename(x) for x in paths],
            "built_with": " and ".join(builts) if len(builts) > 1 else (p.get("release") or v["plan_built_by"]),
            "recorded_in": _where(p.get("release_source")), "serialization_version": p.get("serialization_version"),
            "runtime": runtime["release"] or "not found", "runtime_library": trt.get("path"),
            "runtime_serialization_version": v.get("runtime_serialization_version"),
            "confidence": v.get("confidence"),
        }.items() if val not in (None, "", [])}
        if not runtime["release"]:
            out.append({"severity": "info", "title": f"Engine built by TensorRT {v['plan_built_by']}; no TensorRT found here to load it",
                        "message": "Install the TensorRT that built it, or run this check where the server runs (`--python` for "
                                   "another interpreter, or `trtdiag collect` there).", "evidence": ev, "rebuild_reason": None})
            continue
        title = V.title(v, p, name)
        said = v.get("message") or v.get("message_pattern")
        how = {"recorded": f"recorded from TensorRT {runtime['release']} itself on real plans of this kind",
               "from-sources": "the wording of this release family in public logs",
               "inferred": "inferred from the layout; not recorded from this release"}.get(v.get("confidence"), "")
        if v["outcome"] == "loads":
            out.append({"severity": "ok", "title": title, "message": v["why"], "evidence": ev, "rebuild_reason": None})
            continue
        if v["outcome"] == "unknown":
            out.append({"severity": "info", "title": title, "message": v.get("why") or "", "evidence": ev, "rebuild_reason": None})
            continue
        msg = f"{v['why'][:1].upper()}{v['why'][1:]}."
        if said:
            msg += f" TensorRT {runtime['release']} will say: \"{said}\" ({how})."
        if v.get("caveat"):
            msg += f" It loads only {v['caveat']}." if v["outcome"] != "refused-unless-version-compatible" else f" Unless {v['caveat']}."
        if v.get("note"):
            msg += f" ({v['note']}.)"
        sev = "error" if v["outcome"] == "refused" else "warning"
        out.append({"severity": sev, "title": title, "message": msg, "evidence": ev,
                    "rebuild_reason": f"TensorRT {p.get('release') or v['plan_built_by']} → {runtime['release']}"})
    return out


def eng003(engine: dict[str, Any] | None, trt: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Plans whose platform tag the runtime refuses (not 0 and not 'rtrt'); silent otherwise."""
    if not engine:
        return []
    bad = [(path, p) for path, p in _plans(engine) if p.get("kind") == "ftrt" and p.get("platform_tag") not in V.ACCEPTED_PLATFORM_TAGS]
    if not bad:
        return []
    rel = (trt or {}).get("version") or "TensorRT"
    path, p = bad[0]
    tag = p.get("platform_tag_text") or p.get("platform_tag")
    who = f"TensorRT {rel}" if rel != "TensorRT" else "TensorRT"
    return [{
        "severity": "error",
        "title": f"{who} will refuse {len(bad)} plan(s) built for another platform (platform tag {tag!r}: {p.get('platform')})",
        "message": f"{os.path.basename(path)}: bytes 28..31 hold {tag!r}; the Linux x86-64 runtime accepts only 0 and 'rtrt' "
                   f"and says \"{V.messages()['platform-mismatch']['template']}\" Build the engine on the platform that serves it.",
        "evidence": {"plans": [f"{x} (tag {q.get('platform_tag_text') or q.get('platform_tag')})" for x, q in bad]},
        "rebuild_reason": None,
    }]


def eng007(engine: dict[str, Any] | None, gpus: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The compute capability each plan was built for against the GPUs here; only what can be acted on."""
    if not engine or not gpus:
        return []
    ccs = sorted({tuple(g.get("cc") or ()) for g in gpus if g.get("cc")})
    names = [f"GPU {g.get('index')}: {g.get('name')} (sm {'.'.join(map(str, g.get('cc') or []))})" for g in gpus]
    out = []
    if len(ccs) > 1:
        out.append({"severity": "warning", "title": f"GPUs of {len(ccs)} compute capabilities: {', '.join('.'.join(map(str, c)) for c in ccs)}",
                    "message": "An engine is built for one compute capability; the GPUs of the other will refuse it. Pin the server "
                               "to GPUs of one kind (CUDA_VISIBLE_DEVICES) or build one engine per kind.",
                    "evidence": {"gpus": names}, "rebuild_reason": None})
    groups: dict[tuple, list] = {}
    for path, p in _plans(engine):
        d = V.device_verdict(p, list(ccs))
        if d:
            groups.setdefault((d["outcome"], d["plan_cc"]), []).append((path, p, d))
    for (outcome, pcc), items in sorted(groups.items()):
        path, p, d = items[0]
        dev = p.get("built_on") or {}
        built = ", ".join(x for x in (
            f"{dev['sm_count']} SMs" if dev.get("sm_count") else "",
            f"{dev['total_memory'] / (1 << 30):.1f} GiB" if dev.get("total_memory") else "",
            f"{dev['memory_bus_width']}-bit bus" if dev.get("memory_bus_width") else "",
            f"{dev['l2_bytes'] >> 10:,} KiB L2" if dev.get("l2_bytes") else "") if x)
        ev = {"plans": [os.path.basename(x[0]) for x in items], "built_for": f"compute capability {pcc}" + (f" ({built})" if built else ""),
              "gpus": names, "confidence": d["confidence"]}
        if outcome == "matches":
            out.append({"severity": "ok", "title": f"Engine built for compute capability {pcc}, the GPUs' here", "message": "",
                        "evidence": ev, "rebuild_reason": None})
            continue
        gpu = d["differing"][0]
        msg = (f"{_name([x[0] for x in items])} was built on a GPU of compute capability {pcc}"
               f"{f' ({built})' if built else ''}; the GPUs here are {gpu}. Once the versions match, TensorRT still refuses it: "
               f"\"{d['message']}\"")
        if outcome == "refused-unless-hardware-compatible":
            msg += (" — unless it was built hardware-compatible (HardwareCompatibilityLevel.AMPERE_PLUS), which the plan does "
                    "not show where trtdiag can read it.")
        msg += f" Build the engine on a GPU of compute capability {gpu}."
        # an error only where the runtime was seen to read these very fields (the 10.15 layout);
        # the older layout is decoded the same way but no runtime of it confirmed it
        sure = d["confidence"] == "established"
        out.append({"severity": "error" if outcome == "refused" and sure else "warning",
                    "title": f"Engine built for compute capability {pcc}; the GPUs here are {gpu}",
                    "message": msg, "evidence": ev, "rebuild_reason": f"compute capability {pcc} → {gpu}"})
    return out
