"""TRI001: Model configs have no unfilled ${placeholders}."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import AREA, Any, _rel, _repo, error, info, ok, required_placeholders, warning


@rule("TRI001", covers=("TOK001:placeholder",), area=AREA, title="Model configs have no unfilled ${placeholders}", kb="triton-config-placeholder")
def unfilled_placeholders(facts):
    """Every ``${name}`` left in a model's config.pbtxt, with file:line:col.

    Why: the templates in tensorrtllm_backend's all_models/inflight_batcher_llm are filled with
    tools/fill_template.py; a placeholder left outside quotes (``max_batch_size:
    ${triton_max_batch_size}``) makes Triton fail to parse the file, and one left in a required
    parameter (gpt_model_path, gpt_model_type, tokenizer_dir, tensorrt_llm_model_name) makes the
    model fail to load or serve.  Placeholders left in optional parameters are read by the backend
    as "not specified" and its defaults apply (reported as info).

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
        required = required_placeholders(m)
        optional = [p for p in phs if p not in required]
        plan = fill_plan(facts, repo, name)
        fix = hint("fill-placeholders", name) if plan.get("after") is not None else None
        where = [f"{_rel(repo, m['config_path'])}:{p['line']}:{p['col']} ${{{p['name']}}}" for p in phs]
        ev: dict[str, Any] = {"file": m["config_path"], "placeholders": where}
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
            msg = (f"{_rel(repo, m['config_path'])} still holds {len(phs)} template placeholder(s); "
                   f"{', '.join('${' + n + '}' for n in names)} stop{'s' if len(names) == 1 else ''} model '{name}' from loading: "
                   + ("Triton cannot parse a ${…} where a number or true/false belongs" if any(not p["in_string"] for p in required)
                      else "Triton or the backend needs a real value there")
                   + f". Fill them: {cmd}")
            yield error(f"{name}/config.pbtxt: {len(phs)} unfilled placeholder(s), first at line {phs[0]['line']}", msg, evidence=ev, fix=fix,
                        subject=f"placeholder:{m['config_path']}")
        else:
            if sorted(ev.get("still without a value") or []) == sorted({p["name"] for p in optional}):
                ev.pop("still without a value")  # the same names as the placeholders listed
            msg = (f"{_rel(repo, m['config_path'])} leaves {len(optional)} optional parameter(s) as placeholders "
                   f"({', '.join(sorted({'${' + p['name'] + '}' for p in optional}))}); the backend reads them as "
                   f"'not specified' and uses its defaults. To choose a value yourself: {cmd} --set NAME=VALUE")
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
