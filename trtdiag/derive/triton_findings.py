"""What the TRI rules conclude from one judgement of a repository — plain dicts, ready to render.

Each function takes the ``triton.repo`` fact and :func:`trtdiag.derive.triton_judge.judge_repository`'s
result and returns ``[{"severity": "error"|"warning"|"info"|"ok", "title", "message", "evidence"}]``;
a rule file turns each into ``error()``/``warning()``/… and attaches its fix.  Pure.
"""

from __future__ import annotations

import os
from typing import Any

from . import triton_semantics as sem

OUTCOME_WORDS = {
    "parse_error": "Triton cannot parse the file (a ${…} where a number, true/false or a type name belongs)",
    "load_error": "the model fails when it loads",
    "request_error": "the model loads, but requests that need it fail",
}


def _rel(repo: dict[str, Any], path: str) -> str:
    try:
        return os.path.relpath(path, repo["root"])
    except ValueError:
        return path


def short(err: str) -> str:
    """A finding title for one of Triton's ensemble messages (the message itself goes in full into the finding)."""
    import re

    pats = [
        (r"contains models that are not available or ambiguous: (.+)$",
         lambda m: ("step model " + ", ".join(f"'{x}'" for x in m.group(1).split(", ")) + (" is" if ", " not in m.group(1) else " are") + " not in the repository")),
        (r"ensemble tensor (\S+) is mapping to non-existing input (\S+) in model (\S+)$", lambda m: f"step {m.group(3)} has no input '{m.group(2)}'"),
        (r"input (\S+) in model (\S+) is not mapped to any ensemble tensors", lambda m: f"required input '{m.group(1)}' of {m.group(2)} is not mapped"),
        (r"ensemble tensor (\S+) is mapped from non-existing output (\S+) in model (\S+)$", lambda m: f"step {m.group(3)} has no output '{m.group(2)}'"),
        (r"allows maximum batch size (\d+), but it contains model (\S+) which only allows maximum batch size to be (\d+)",
         lambda m: f"max_batch_size {m.group(1)} > {m.group(2)}'s {m.group(3)}"),
        (r"ensemble tensor (\S+): inconsistent data type: (\S+) is inferred from model (\S+) while (\S+) is inferred from model (\S+)",
         lambda m: f"tensor {m.group(1)} is {m.group(2)} in {m.group(3)} but {m.group(4)} in {m.group(5)}"),
        (r"ensemble tensor (\S+): inconsistent shape: (\S+) is inferred from model (\S+) while (\S+) is inferred from model (\S+)",
         lambda m: f"tensor {m.group(1)} has shape {m.group(2)} in {m.group(3)} but {m.group(4)} in {m.group(5)}"),
        (r"receives inputs originated from different decoupled models", lambda m: "a step is fed by two different decoupled models"),
        (r"circular dependency between ensembles", lambda m: "circular dependency between ensembles"),
    ]
    for pat, f in pats:
        mm = re.search(pat, err)
        if mm:
            return f(mm)
    return err if len(err) <= 90 else err[:87] + "…"


def release_line(j: dict[str, Any]) -> str:
    return j["release"]["summary"]


def placeholders(repo: dict[str, Any], j: dict[str, Any]) -> list[dict[str, Any]]:
    """TRI001: per model with ``${…}`` left: an error naming the placeholders that block it in the
    detected release (each with what it does and the source line that says so), else an info for
    the ones the backend reads as 'not given'."""
    out = []
    for folder, m in repo["models"].items():
        if not m.get("placeholders"):
            continue
        jm = j["models"].get(folder) or {}
        verdicts = jm.get("placeholders") or []
        rel = _rel(repo, m["config_path"])
        where = [f"{rel}:{v['line']}:{v['col']} ${{{v['name']}}}" for v in verdicts]
        ev: dict[str, Any] = {"file": m["config_path"], "placeholders": where, "release": release_line(j)}
        blocking = [v for v in verdicts if v["required"]]
        if blocking:
            names = sorted({v["name"] for v in blocking})
            why = {}
            for v in blocking:
                why.setdefault(v["name"], f"{OUTCOME_WORDS[v['outcome']]}: {v['reason']}" + (f" [{v['source']}]" if v.get("source") else ""))
            ev["blocking"] = why
            msg = (f"{rel} still holds {len(verdicts)} template placeholder(s); "
                   + ", ".join("${" + n + "}" for n in names)
                   + f" stop{'s' if len(names) == 1 else ''} model '{folder}' ({release_line(j)}): "
                   + "; ".join(f"${{{n}}} — {why[n]}" for n in names))
            out.append({"severity": "error", "title": f"{folder}/config.pbtxt: {len(names)} placeholder(s) that stop it, first at line {blocking[0]['line']}",
                        "message": msg, "evidence": ev, "blocking": names})
        else:
            defaults = {v["name"]: v.get("default") for v in verdicts if v.get("default") not in (None, "")}
            if defaults:
                ev["defaults that apply"] = defaults
            conditions = {v["name"]: v["condition"] for v in verdicts if v.get("condition")}
            if conditions:
                ev["only when"] = conditions
            msg = (f"{rel} leaves {len(verdicts)} parameter(s) as placeholders "
                   f"({', '.join(sorted({'${' + v['name'] + '}' for v in verdicts}))}); in {release_line(j)} the backend reads each as "
                   "'not given' and applies its default.")
            out.append({"severity": "info", "title": f"{folder}/config.pbtxt: {len(verdicts)} optional parameter(s) left unfilled",
                        "message": msg, "evidence": ev, "blocking": []})
    return out


def tokenizer_dir_applies(repo: dict[str, Any], j: dict[str, Any], folder: str) -> tuple[bool, str | None]:
    """TRI004: whether the model's tokenizer_dir is used at all in the detected release (v0.19's C++
    tensorrt_llm backend ignores it); (applies, source)."""
    m = repo["models"][folder]
    jm = j["models"].get(folder) or {}
    used, src = sem.reads_parameter(jm.get("template"), jm.get("tags") or j["release"]["tags"], "tokenizer_dir", m.get("backend"))
    return (used is not False), src


def ensembles(repo: dict[str, Any], j: dict[str, Any]) -> list[dict[str, Any]]:
    """TRI006: Triton's own verdict on each ensemble (the first error is tritonserver's message)."""
    out = []
    for folder, e in j["ensembles"].items():
        m = repo["models"][folder]
        if e.get("not_judged"):
            continue
        if e["errors"]:
            out.append({"severity": "error", "title": f"ensemble {folder}: {short(e['errors'][0])}",
                        "message": f"tritonserver: \"{e['errors'][0]}\" ({m['config_path']})."
                                   + (f" Also: {'; '.join(e['errors'][1:3])}." if len(e["errors"]) > 1 else ""),
                        "evidence": {"file": m["config_path"], "errors": e["errors"], "release": release_line(j)}})
        elif e.get("blocked_by"):
            continue  # a step that does not parse: TRI002 says so
        else:
            steps = len(m.get("ensemble_steps") or [])
            out.append({"severity": "ok", "title": f"ensemble '{folder}': {steps} steps agree (types, shapes, wiring, batch sizes)",
                        "message": "", "evidence": {"file": m["config_path"], "decoupled": e.get("decoupled"),
                                                    "not judged (IO auto-completed)": e.get("not_judged") or None}})
    for folder, b in j["bls"].items():
        m = repo["models"][folder]
        if b.get("missing_target"):
            out.append({"severity": "error", "title": f"{folder}: calls model '{b['missing_target']}', which is not in the repository",
                        "message": f"The BLS model sends every request to '{b['missing_target']}' ({b['target_from']}; {m['config_path']}), "
                                   f"which the repository does not hold: requests fail.",
                        "evidence": {"file": m["config_path"], "target": b["missing_target"], "models": sorted(repo["models"])}})
        for c in b["coherence"]:
            if c["kind"] == "max_batch_size":
                out.append({"severity": "error", "title": f"{folder}: max_batch_size above {b['target']}'s",
                            "message": c["message"] + f" [{c['source']}]", "evidence": {"file": m["config_path"], "target": b["target"]}})
    return out


def decoupled(repo: dict[str, Any], j: dict[str, Any]) -> list[dict[str, Any]]:
    """TRI007: BLS and the model it calls agree on decoupled mode (v0.7+ BLS models included, found
    by template); what a decoupled deployment means for clients, without overstating it."""
    out = []
    for folder, b in j["bls"].items():
        for c in b["coherence"]:
            if c["kind"] == "decoupled":
                out.append({"severity": "error", "title": f"{folder} is decoupled (streams) but {b['target']} is not", "message": c["message"],
                            "evidence": {"files": [repo["models"][folder]["config_path"], repo["models"][b["target"]]["config_path"]]}})
    dec = [f for f, e in j["ensembles"].items() if e.get("decoupled")] + [f for f, m in repo["models"].items() if m.get("decoupled")]
    if dec and not out:
        out.append({"severity": "info", "title": f"{', '.join(sorted(set(dec)))}: decoupled",
                    "message": "Refused for a decoupled model: " + sem.DECOUPLED_CLIENTS["refused"] + ". Works: " + sem.DECOUPLED_CLIENTS["works"] + ".",
                    "evidence": {"decoupled": sorted(set(dec))}})
    return out


def instances(repo: dict[str, Any], j: dict[str, Any]) -> list[dict[str, Any]]:
    """TRI011: instance groups as Triton normalises them: only Triton's own refusals are errors
    (a count left out is 1, or 2 on CPU for tensorflow/onnxruntime)."""
    out = []
    for folder, jm in j["models"].items():
        ig = jm.get("instance_groups")
        if not ig:
            continue
        m = repo["models"][folder]
        if ig["error"]:
            out.append({"severity": "error", "title": f"{folder}: tritonserver refuses its instance_group",
                        "message": f"tritonserver: \"{ig['error']}\" ({m['config_path']}) [{ig['source']}]",
                        "evidence": {"file": m["config_path"], "groups": ig["groups"]}})
    return out
