"""TRI001: Model configs have no unfilled ${placeholders}."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import AREA, Any, _judge, _rel, _repo, error, info, ok, required_placeholders, warning


@rule("TRI001", covers=("TOK001:placeholder",), area=AREA, title="Model configs have no unfilled ${placeholders}", kb="triton-config-placeholder")
def unfilled_placeholders(facts):
    """Every ``${name}`` left in a model's config.pbtxt, with file:line:col.

    Why: the templates in tensorrtllm_backend's all_models/ are filled with tools/fill_template.py;
    a placeholder left outside quotes (``max_batch_size: ${triton_max_batch_size}``) makes Triton
    fail to parse the file.  What one left inside a parameter does depends on the release the
    templates came from — detected from the templates' fingerprints — and is read from that
    release's source (trtdiag/data/backend_templates.json: the reader's file and line): some stop
    the model when it loads (``${tokenizer_dir}`` of pre/postprocessing, ``${tokenizer_type}`` up to
    v0.8, whisper's ``${n_mels}``), some fail every request (the BLS's ``${tensorrt_llm_model_name}``
    in v0.9–v0.12, the disaggregated BLS's model names), and the rest are read as "not given" and
    the backend's default applies (reported as info, with the default).  A repository's own
    ``1/model.py`` is read the same way and decides for its model.

    Fix: ``trtdiag fix --apply --set name=value,…`` fills them the way fill_template.py would
    (values from the engine's config.json where they are knowable: triton_max_batch_size,
    max_beam_width, engine_dir with --engine-dir), with a reviewable diff and a backup.
    """
    repo = _repo(facts)
    if repo is None:
        return
    from ...derive.triton_fill import fill_plan

    any_found = False
    for name, m in repo["models"].items():
        phs = m.get("placeholders") or []
        if not phs:
            continue
        any_found = True
        required = required_placeholders(m, facts, name)
        optional = [p for p in phs if p not in required]
        verdicts = {(v["line"], v["col"]): v for v in (((_judge(facts) or {}).get("models") or {}).get(name) or {}).get("placeholders") or []}
        plan = fill_plan(facts, repo, name)
        fix = hint("fill-placeholders", name) if plan.get("after") is not None else None
        where = [f"{_rel(repo, m['config_path'])}:{p['line']}:{p['col']} ${{{p['name']}}}" for p in phs]
        ev: dict[str, Any] = {"file": m["config_path"], "placeholders": where}
        j = _judge(facts) or {}
        if j.get("release", {}).get("tags"):
            ev["release"] = j["release"]["summary"]
        why = {}
        for p in required:
            v = verdicts.get((p["line"], p["col"])) or {}
            why.setdefault(p["name"], (v.get("reason") or "") + (f" [{v['source']}]" if v.get("source") else ""))
        if why:
            ev["why they stop it"] = why
        defaults = {v["name"]: v["default"] for v in verdicts.values() if not v["required"] and v.get("default") not in (None, "")}
        if defaults:
            ev["defaults that apply"] = defaults
        only_when = {v["name"]: v["condition"] for v in verdicts.values() if not v["required"] and v.get("condition")}
        if only_when:
            ev["needed only when"] = only_when
        if plan.get("values"):
            ev["values to fill"] = plan["values"]
        if plan.get("unresolved"):
            ev["still without a value"] = plan["unresolved"]
        if plan.get("invalid"):
            ev["filled file would not parse"] = plan["invalid"]
        if plan.get("conflicts"):
            ev["conflict"] = plan["conflicts"]
        names = sorted({p["name"] for p in required})
        unresolved = plan.get("unresolved") or []
        todo = [n for n in unresolved if n in names] or unresolved
        import shlex

        cmd = "trtdiag fix --apply --model-repo " + shlex.quote(repo["root"])
        for opt in ("engine_dir", "tokenizer_dir"):
            if facts.opt(opt):
                cmd += f" --{opt.replace('_', '-')} {shlex.quote(str(facts.opt(opt)))}"
        if required:
            if todo:
                cmd += " --set " + ",".join(f"{n}=…" for n in todo)
            parse = sorted({p["name"] for p in required if not p["in_string"]})
            other = [n for n in names if n not in parse]
            parts = []
            if parse:
                parts.append("Triton cannot parse a ${…} where a number, true/false or a type name belongs ("
                             + ", ".join("${" + n + "}" for n in parse) + ")")
            for n in other:
                v = next((v for v in verdicts.values() if v["name"] == n), {})
                what = {"load_error": "fails the load", "request_error": "fails every request that needs it"}.get(v.get("outcome"), "stops it")
                parts.append(f"${{{n}}} {what}: {v.get('reason') or 'the backend needs a real value there'}")
            # the count and the names after it agree: "N placeholder(s); a, b, c stop …" only when
            # those are all N; else "N placeholder(s), of which a, b stop …" (the rest are optional
            # or a name occurs twice)
            every = len(names) == len(phs)
            msg = (f"{_rel(repo, m['config_path'])} still holds {len(phs)} template placeholder(s)"
                   + ("; " if every else ", of which ")
                   + f"{', '.join('${' + n + '}' for n in names)} stop{'s' if len(names) == 1 else ''} model '{name}'"
                   + (f" ({ev['release']})" if ev.get("release") else "") + ": " + "; ".join(parts)
                   + f". Fill them: {cmd}")
            yield error(f"{name}/config.pbtxt: {len(phs)} unfilled placeholder(s), first at line {phs[0]['line']}", msg, evidence=ev, fix=fix,
                        subject=f"placeholder:{m['config_path']}")
        else:
            if sorted(ev.get("still without a value") or []) == sorted({p["name"] for p in optional}):
                ev.pop("still without a value")  # the same names as the placeholders listed
            msg = (f"{_rel(repo, m['config_path'])} leaves {len(optional)} optional parameter(s) as placeholders "
                   f"({', '.join(sorted({'${' + p['name'] + '}' for p in optional}))}); "
                   + (f"in {ev['release']} " if ev.get("release") else "")
                   + f"the backend reads them as 'not given' and uses its defaults. To choose a value yourself: {cmd} --set NAME=VALUE")
            yield info(f"{name}/config.pbtxt: {len(optional)} optional parameter(s) left unfilled", msg, evidence=ev, fix=fix,
                        subject=f"placeholder:{m['config_path']}")
    if not any_found:
        yield ok("No ${placeholders} left in the model configs", repository=repo["root"], models=sorted(repo["models"]))
        return
    # --set keys that fill nothing: usually a typo (tokenizer_path for tokenizer_dir)
    left = sorted({p["name"] for m in repo["models"].values() for p in m.get("placeholders") or []})
    for key in sorted(k for k in (facts.opt("set") or {}) if not k.startswith("__") and k not in left):
        import difflib

        close = difflib.get_close_matches(key, left, n=1)
        yield warning(f"--set {key}: no ${{{key}}} in any config.pbtxt",
                      f"No model config of {repo['root']} holds ${{{key}}}, so --set {key}=… fills nothing"
                      + (f"; did you mean {close[0]}?" if close else ".") + " Placeholders left: " + ", ".join(left) + ".",
                      evidence={"key": key, "placeholders left": left})
