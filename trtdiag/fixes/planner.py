"""The fix planner: after the rules ran, turn each finding's fix *hint* into a concrete :class:`Fix`.

A rule never builds a fix: it says ``fix=hint("fill-placeholders", model="preprocessing")``.  Here
each hint kind has one planner function ``(facts, *args, **kwargs) -> Fix | None`` that builds the
change from facts only — file contents through :meth:`Facts.file_text`, paths through
:meth:`Facts.path_info`, the machine's package manager, user and programs through the
``host.system`` fact — all of them recorded in a snapshot.  So ``trtdiag fix --from SNAPSHOT``
plans exactly the fixes the live run planned, byte for byte, and a snapshot from Ubuntu proposes
``apt-get`` wherever it is replayed.

One fix is attached once: when two findings' hints plan the same change (the model.py patch that
both TOK004 and TOK005 ask for), the first finding carries it and the others say so in their
evidence.
"""

from __future__ import annotations

from typing import Any, Callable

from ..core.errors import InputError, ProbeError
from ..core.finding import Finding, Fix

PLANNERS: dict[str, Callable[..., Fix | None]] = {}


def planner(kind: str):
    def deco(func):
        PLANNERS[kind] = func
        return func

    return deco


# ---------------------------------------------------------------- planners
@planner("command")
def _command(facts, fix_id: str, summary: str, argv: list[str], **kw: Any) -> Fix:
    from .plan import command_fix

    return command_fix(fix_id, summary, argv, **kw)


@planner("fixed")
def _fixed(facts, fix: dict[str, Any]) -> Fix:
    """A fix that needs nothing from the machine (advice with a summary only, e.g. the fleet's)."""
    from ..core.finding import Change

    return Fix(id=fix["id"], summary=fix["summary"], safe=fix.get("safe", False), requires=fix.get("requires"),
               preview=fix.get("preview", ""), changes=[Change(**c) for c in fix.get("changes", [])])


@planner("system-package")
def _system_package(facts, fix_id: str, summary: str, purpose: str, note: str = "") -> Fix | None:
    from .system_packages import package_fix

    return package_fix(facts, fix_id, summary, purpose, note=note)


@planner("env-file")
def _env_file(facts, fix_id: str, summary: str, path: str, values: dict[str, str]) -> Fix | None:
    from .env_file import env_file_fix

    return env_file_fix(facts, fix_id, summary, path, values)


@planner("fill-placeholders")
def _fill(facts, model: str) -> Fix | None:
    from ..derive.triton_fill import fill_plan
    from .plan import edit_fix

    repo = facts.get("triton.repo")
    if not repo or model not in repo.get("models", {}):
        return None
    p = fill_plan(facts, repo, model)
    if p.get("after") is None:
        return None
    return edit_fix("fill-placeholders", p["summary"], p["path"], p["before"], p["after"], safe=True,
                    note=f"same result as {p['fill_template']} -i" if p.get("fill_template")
                    else "string.Template substitution, as tools/fill_template.py -i (release not detected)")


@planner("align-max-batch-size")
def _align(facts, limit: int, skip: list[str] | tuple[str, ...] = ()) -> Fix | None:
    from .batch_size import plan_align

    repo = facts.get("triton.repo")
    return plan_align(facts, repo, limit, skip=set(skip)) if repo else None


@planner("kv-parameter")
def _kv_parameter(facts, fix_id: str, summary: str, config_path: str, key: str, value: str, note: str = "") -> Fix | None:
    from .kv_cache import parameter_fix

    return parameter_fix(facts, fix_id, summary, config_path, key, value, note=note)


@planner("rebuild-smaller")
def _rebuild_smaller(facts, n: dict, **kw: Any) -> Fix | None:
    from .kv_cache import rebuild_fix

    return rebuild_fix(n, **kw)


@planner("stop-gpu-process")
def _stop_gpu_process(facts, pid: int, name: str | None, used_gib: float | None, gpu_index: int) -> Fix:
    from .kv_cache import kill_fix

    return kill_fix(pid, name, used_gib, gpu_index)


@planner("rebuild-engine")
def _rebuild_engine(facts, reason: str) -> Fix | None:
    from ..derive.rebuild import rebuild_fix

    return rebuild_fix(facts, reason)[0]


@planner("model-py")
def _model_py(facts, path: str, needs: dict[str, str], tokenizer_type: str | None = None) -> Fix | None:
    from .model_py import plan

    return plan(facts, path, needs, tokenizer_type)


@planner("model-py-predicted")
def _model_py_predicted(facts, path: str, target: int, transformers: str | None = None, python: str | None = None) -> Fix | None:
    """The tok-model-py fix whose patches are predicted (from the real releases' behaviour) to make
    this model.py's initialize() pass with right END_ID/PAD_ID; None when no such patch set
    exists (the tokenizer's own code fails, or the patches would not suffice)."""
    from ..derive import tokenizer_model_py as tm
    from .model_py import SUMMARIES
    from .model_py import plan as edit_plan
    from .tokenizer_plan import plan

    t = (facts["tokenizer.static"].get("targets") or [])[target]
    text = facts.file_text(path)
    if text is None or not t.get("dir"):
        return None
    table = tm.failure_table()
    versions = [(transformers, python or "3.11")] if transformers else tm.measured_versions(table)
    needs = None
    for tf, py in versions:
        pl = plan(text, t["dir"], t.get("tokenizer_type"), tf, py, table)
        if not pl["offer"]:
            if transformers or pl["before"]["outcome"] != "ok" or pl["before"].get("wrong_ids"):
                return None  # predicted to fail even after the patches: no fix is offered
            continue
        if needs is not None and pl["needs"] != needs:
            return None  # the versions need different patches: not one fix for all
        needs = pl["needs"]
    if not needs:
        return None
    return edit_plan(facts, path, {n: SUMMARIES[n] for n in needs}, t.get("tokenizer_type"))


@planner("use-free-ports")
def _free_ports(facts, ports: list[dict], suggested: list[int] | None, launch: list[str] | None) -> Fix | None:
    from .ports import free_ports_fix

    return free_ports_fix(ports, suggested, launch)


@planner("stop-port-holder")
def _stop_port_holder(facts, holder: dict, port: int, my_uid: int) -> Fix | None:
    from .ports import kill_fix

    return kill_fix(holder, port, my_uid)


@planner("first-of")
def _first_of(facts, alternatives: list) -> Fix | None:
    """The first alternative that plans to a fix (a parameter edit when the file has the
    parameter, else the rebuild)."""
    for h in alternatives:
        fix = PLANNERS[h.kind](facts, *h.args, **h.kwargs)
        if fix is not None:
            return fix
    return None


# ---------------------------------------------------------------- the pass over a run's findings
def plan_one(facts, f: Finding) -> Fix | None:
    h = f.hint
    if h is None:
        return f.fix
    func = PLANNERS.get(h.kind)
    if func is None:
        raise KeyError(f"no planner for fix hint {h.kind!r} ({f.check})")
    try:
        return func(facts, *h.args, **h.kwargs)
    except (InputError, ProbeError):
        return None  # what the fix needs could not be read (or is not in the snapshot): no fix


def unnamed_repo(facts) -> str | None:
    """The root of the model repository when it was found by looking around (a conventional
    place) and not named with --model-repo: no fix edits a repository the user never named."""
    repo = facts.known("triton.repo")
    if not isinstance(repo, dict) or not repo.get("root"):
        return None
    # a fact without the key (a snapshot recorded before it) is taken as named, as it was then
    return None if repo.get("named", True) else repo["root"]


def _edits_under(fix: Fix, root: str) -> bool:
    import os

    root = os.path.abspath(root).rstrip(os.sep) + os.sep
    return any(c.path and os.path.abspath(c.path).startswith(root) for c in fix.changes)


def plan_all(findings: list[Finding], facts) -> list[Finding]:
    """Give every finding with a hint its fix (or none), attaching each distinct fix once."""
    seen: dict[tuple, str] = {}
    found = unnamed_repo(facts)
    for f in findings:
        if f.hint is None:
            continue
        fix = plan_one(facts, f)
        f.hint = None if fix is None else f.hint
        if fix is not None and found and _edits_under(fix, found):
            f.evidence.setdefault("fix", f"none proposed: {found} was found, not named; to fix it, name it: --model-repo {found}")
            f.hint, fix = None, None
        if fix is None:
            continue
        key = (fix.id, tuple((c.kind, c.path, tuple(c.argv or ()), c.pid) for c in fix.changes) or (fix.preview,))
        if key in seen and fix.changes and any(c.path for c in fix.changes):
            where = next((c.path for c in fix.changes if c.path), "")
            f.evidence.setdefault("fix", f"part of fix {fix.id}, shown with an earlier finding for {where}")
            continue
        seen.setdefault(key, f.check)
        f.fix = fix
    return findings
