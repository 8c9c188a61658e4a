"""What filling tensorrtllm_backend template placeholders would write: ``trtdiag fix --apply --set key=value,…``.

The result is what the backend's ``tools/fill_template.py -i FILE key:value,…`` writes on the same
template — ``string.Template(text).safe_substitute(values)`` over the whole file — without its
faults: values come from ``--set`` (parsed by commands/fix.py, so ',' and ':' inside a value
work), placeholders left without a value are reported rather than silently kept, and a filled file
that Triton's schema cannot parse (``--set decoupled_mode=yes``) is refused before anything is
written.

A fill is offered for a file when it fills a placeholder that blocks loading or one named with
``--set``; derived values for optional parameters are filled along with those, never alone.

Values trtdiag knows without being told (``--set`` always wins):

=========================  ===============================================================
triton_max_batch_size      the engine's build_config.max_batch_size
max_beam_width             the engine's max_beam_width
engine_dir                 --engine-dir (the directory)
batching_strategy          inflight_fused_batching when the engine has paged KV cache, packed
                           input and the GPT attention plugin; V1 when it lacks one of them
tokenizer_dir              --tokenizer-dir
tensorrt_llm_model_name    the repository's model with backend "tensorrtllm"
=========================  ===============================================================
"""

from __future__ import annotations

import os
from typing import Any

from ..core.errors import InputError


def known_values(facts, repo: dict[str, Any]) -> dict[str, str]:
    """Placeholder values trtdiag can derive, before --set."""
    vals: dict[str, str] = {}
    eng = facts.get("triton.engine")
    n = (eng or {}).get("normalized") or {}
    if n.get("max_batch_size"):
        vals["triton_max_batch_size"] = str(n["max_batch_size"])
    if n.get("max_beam_width"):
        vals["max_beam_width"] = str(n["max_beam_width"])
    feats = [n.get(k) for k in ("paged_kv_cache", "remove_input_padding", "gpt_attention_plugin")]
    if n and all(feats):
        vals["batching_strategy"] = "inflight_fused_batching"
    elif n and any(f is False for f in feats):
        vals["batching_strategy"] = "V1"
    ed = facts.opt("engine_dir")
    if ed:
        info = facts.path_info(ed)
        vals["engine_dir"] = info["abspath"] if info["is_dir"] else os.path.dirname(info["abspath"])
    if facts.opt("tokenizer_dir"):
        vals["tokenizer_dir"] = facts.path_info(facts.opt("tokenizer_dir"))["abspath"]
    return vals


def _judgement(facts, repo: dict[str, Any]) -> dict[str, Any] | None:
    try:
        j = facts.derived("triton_judge")
    except Exception:  # noqa: BLE001 - a fact that cannot be judged: no chosen values, plain substitution
        j = None
    if j is None and isinstance(repo.get("models"), dict):
        from .triton_judge import judge_repository

        j = judge_repository(repo["models"])
    return j


def fill_release(j: dict[str, Any] | None) -> str | None:
    """The release whose tools/fill_template.py the fill imitates: one of the detected tags, when
    all of them fill alike (same inserted defaults, splitting and key check); None otherwise."""
    from . import backend_table as bt

    tags = ((j or {}).get("release") or {}).get("tags") or []
    if not tags:
        return None
    keys = {(tuple((d["key"], d["value"]) for d in bt.fill_template_info(t).get("inserted_defaults") or []),
             bool(bt.fill_template_info(t).get("asserts_key_in_file"))) for t in tags}
    return tags[-1] if len(keys) == 1 else None


def all_values(facts, repo: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(values, where each came from).  Values trtdiag chooses itself come from the repository's
    real model names or the release table's own defaults, and say so ("chosen: …")."""
    from .triton_semantics import choose_values

    vals = known_values(facts, repo)
    src = {k: "engine/options" for k in vals}
    j = _judgement(facts, repo)
    if j is not None:
        for k, c in choose_values(repo.get("models") or {}, j).items():
            if k not in vals:
                vals[k], src[k] = c["value"], c["why"]
    for k, v in (facts.opt("set") or {}).items():
        if k.startswith("__"):
            continue
        vals[k] = str(v)
        src[k] = "--set"
    return vals, src


def fill_plan(facts, repo: dict[str, Any], model: str) -> dict[str, Any]:
    """What filling ``model``'s config.pbtxt would do: ``values`` (with where each came from),
    ``unresolved``, ``conflicts``, ``invalid`` and, when a fill is offered, ``before``/``after``
    (the file's text now and filled) with its ``summary``.  Pure: the file's text comes from the
    recorded ``files.text`` fact."""
    from ..parsers import pbtxt

    m = repo["models"][model]
    names = sorted({p["name"] for p in m.get("placeholders") or []})
    vals, src = all_values(facts, repo)
    use = {k: vals[k] for k in names if k in vals}
    plan: dict[str, Any] = {
        "values": {k: f"{v} ({src[k]})" for k, v in use.items()},
        "unresolved": [n for n in names if n not in vals],
    }
    eng_mb = (((facts.get("triton.engine") or {}).get("normalized")) or {}).get("max_batch_size")
    v = use.get("triton_max_batch_size")
    if eng_mb and v is not None and v.strip().isdigit() and int(v) > eng_mb:
        plan["conflicts"] = f"triton_max_batch_size={v} is above the engine's max_batch_size {eng_mb}"
    j = _judgement(facts, repo)
    jm = ((j or {}).get("models") or {}).get(model) or {}
    required = set(jm.get("blocking") or []) if j is not None else {p["name"] for p in m.get("placeholders") or [] if not p["in_string"]}
    # a fill is offered when it unblocks the model or does what --set asked; derived values for
    # optional parameters alone (max_beam_width) ride along but do not make an edit of their own
    if not any(k in required or src[k] == "--set" for k in use):
        return plan
    try:
        before = facts.file_text(m["config_path"])
    except InputError as exc:
        plan["invalid"] = str(exc)
        return plan
    if before is None:
        plan["invalid"] = f"{m['config_path']}: no such file"
        return plan
    tag = fill_release(j)
    if tag is not None:
        from .triton_semantics import fill_like_fill_template

        # what that release's fill_template.py -i writes with these values (its own defaults included);
        # only this file's keys are passed, as fill_template.py is run file by file
        after, err = fill_like_fill_template(before, use, tag)
        if err:
            plan["invalid"] = f"{m['config_path']}: {err}"
            return plan
        plan["fill_template"] = f"tensorrtllm_backend {tag} tools/fill_template.py"
    else:
        after = pbtxt.fill(before, vals)
    if after == before:
        return plan
    res = pbtxt.parse_config(after)
    if res["parse_error"]:
        plan["invalid"] = f"{m['config_path']}:{res['parse_error']}"
        return plan
    summary = f"fill {len(use)} placeholder(s) in {model}/config.pbtxt: " + ", ".join(
        f"{k}={v}" + (" (chosen, not given)" if src[k].startswith("chosen") else "") for k, v in use.items())
    if plan.get("conflicts"):
        summary += f" [{plan['conflicts']}]"
    if plan["unresolved"]:
        summary += " (still unfilled: " + ", ".join(plan["unresolved"]) + ")"
    plan.update(before=before, after=after, summary=summary, path=m["config_path"])
    return plan
