"""trtdiag fix: show the fixes for what `check` finds; --apply applies them; --undo reverts.

Without --apply nothing is changed: each fix is shown as a diff or a command line.  With --apply,
files are backed up into a journal and written atomically (a second apply changes nothing), and
`trtdiag fix --undo` restores the last apply.  Fixes that stop processes need --kill; fixes that
change system packages need --allow-system-changes.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..main import HelpFormatter, add_select_options, add_target_options, run_checks, use_color

EXAMPLES = """\
examples:
  trtdiag fix --model-repo /models                       preview every fix as a diff
  trtdiag fix --model-repo /models --apply --set tokenizer_dir=/hf/llama,engine_dir=/engines/llama
  trtdiag fix --engine-dir /engines/llama --apply        rebuild with the installed TensorRT-LLM
  trtdiag fix --undo --model-repo /models                restore the files of the last apply to /models
  trtdiag fix --undo                                     ... of the last apply anywhere (says which first)
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("fix", help="preview fixes; --apply applies them (backed up, undoable)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    add_target_options(p)
    add_select_options(p)
    g = p.add_argument_group("fixing")
    g.add_argument("--apply", action="store_true", help="apply the fixes (default: only show them)")
    g.add_argument("--undo", action="store_true", help="restore the files changed by the last --apply to the folders named (--model-repo …; none: the last apply), if none was edited since")
    g.add_argument("--fix", dest="fix_ids", action="append", metavar="ID", help="only these fixes (fix ids or check ids)")
    g.add_argument("--set", dest="set", action="append", metavar="KEY=VALUE[,KEY=VALUE]", help="values for template placeholders, e.g. tokenizer_dir=/hf/llama")
    g.add_argument("--output-dir", metavar="DIR", help="where a rebuild writes the new engine before it is swapped in")
    g.add_argument("--kill", action="store_true", help="allow fixes that stop a process (never PID 1 or another user's)")
    g.add_argument("--allow-system-changes", action="store_true", help="allow fixes that run the system package manager")
    g.add_argument("--yes", action="store_true", help="do not ask before applying fixes that are not marked safe")
    p.add_argument("--json", action="store_true", help="list the planned fixes as JSON")
    p.add_argument("--no-color", action="store_true", help="no colour")
    return p


def parse_set(values: list[str] | None) -> dict[str, str]:
    """KEY=VALUE pairs.  Values may hold ',' or ':' (URLs, lists): a ',' only starts a new pair
    when what follows it looks like KEY=."""
    import re

    from ...core.errors import UsageError

    out: dict[str, str] = {}
    for raw in values or []:
        parts = re.split(r",(?=[A-Za-z_][A-Za-z0-9_]*=)", raw)
        for part in parts:
            if "=" not in part:
                raise UsageError(f"--set {part!r}: expected KEY=VALUE")
            k, v = part.split("=", 1)
            out[k.strip()] = v
    return out


def run(args) -> int:
    from ...core.errors import UsageError
    from ...fixes.applier import Applier

    if args.undo:
        return _undo(args)
    args.set = parse_set(args.set)
    report, facts = run_checks(args, "fix", facts=_checked_facts(args))
    fixes = []
    for f in report.findings:
        if f.fix is None or not _selected(args, f):
            continue
        fixes.append((f, f.fix))
    from ...render import fixes as fix_render

    if args.json:
        sys.stdout.write(fix_render.json_text(fixes))
        if not args.apply:
            return 0
    color = use_color(args)
    import shlex

    from ...fixes.planner import unnamed_repo
    from ...render.terminal import prose, with_command
    from ..main import output_width

    width = output_width(sys.stdout)
    found = unnamed_repo(facts)
    held_back = bool(found and any(str(f.evidence.get("fix", "")).startswith("none proposed:") for f in report.findings))
    if held_back and not args.json:
        print(with_command(f"The model repository {found} was found, not named: no fix edits it. To fix it, name it:",
                           shlex.join(["trtdiag", "fix", *_target_argv(args), "--model-repo", found]), width))
    if not fixes:
        if report.exit_code() == 0:
            print("No fixes to make.")
        else:
            print(prose(("No other fix to make" if held_back else "Problems found, but none that trtdiag can fix itself") + ": see `" + shlex.join(["trtdiag", "check", *_target_argv(args, for_check=True)]) + "`.", width))
        return report.exit_code()
    if not args.json:
        sys.stdout.write(fix_render.terminal(fixes, color=color, width=width))
    if not args.apply:
        print(with_command("Nothing was changed. Apply with:", shlex.join(["trtdiag", "fix", "--apply", *_target_argv(args)]), width))
        return 1 if any(f.severity.value == "error" for f, _ in fixes) else 0
    unsafe = [fx for _, fx in fixes if not fx.safe]
    if unsafe and not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("some fixes are not marked safe (" + ", ".join(fx.id for fx in unsafe) + "); review them above and re-run with --yes")
        answer = input(f"Apply {len(fixes)} fix(es), {len(unsafe)} not marked safe? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was changed.")
            return 1
    applier = Applier(roots=write_roots(args), files=_cwd_files(fixes), output_roots=[args.output_dir] if args.output_dir else None,
                      allow_kill=args.kill, allow_system=args.allow_system_changes)
    # Fixes are planned against the files as they are; a fix whose file another fix of the same
    # round edits is re-planned in the next round, on the new content (at most 5 rounds).
    done: set[str] = set()
    batch = [fx for _, fx in fixes]
    changed, unchanged, skipped, failed, journals = [], [], [], [], []
    for _round in range(5):
        result = applier.apply(batch)
        done |= {fx.id for fx in batch if fx not in result.deferred}
        changed += result.changed
        unchanged += [p for p in result.unchanged if p not in changed]
        skipped += [s for s in result.skipped if s not in skipped]
        failed += result.failed
        if result.journal:
            journals.append(result.journal)
        if not result.deferred or failed:
            break
        report, facts = run_checks(args, "fix", facts=_checked_facts(args))
        batch = [f.fix for f in report.findings if f.fix and f.fix.id not in done and _selected(args, f)]
        if not batch:
            break
    for p in changed:
        print(f"changed {p}")
    for p in unchanged:
        print(f"unchanged {p} (already fixed)")
    for s in skipped:
        print(f"skipped {s}")
    for s in failed:
        print(f"failed {s}")
    if journals:
        import shlex

        print(f"backup kept in {journals[-1]}; undo with: " + shlex.join(["trtdiag", "fix", "--undo", *_root_argv(args)]))
    return 1 if failed else 0


ROOT_OPTIONS = ("model_repo", "engine_dir", "tokenizer_dir", "checkpoint_dir")


def write_roots(args) -> list[str]:
    """The folders a fix may write in: those named on this command line, never the current
    directory and never a folder a snapshot recorded (the applier resolves them once)."""
    return [getattr(args, k) for k in ROOT_OPTIONS if getattr(args, k, None)]


def _root_argv(args) -> list[str]:
    out: list[str] = []
    for k in ROOT_OPTIONS:
        if getattr(args, k, None):
            out += [f"--{k.replace('_', '-')}", os.path.abspath(getattr(args, k))]
    return out


def _cwd_files(fixes) -> list[str]:
    """Single files a fix creates or edits directly in the current directory under a name trtdiag
    owns (the Open MPI env file, ./trtdiag.env): allowed as files, the directory is no root."""
    from ...probes.mpi import ENV_FILE

    own = os.path.join(os.getcwd(), ENV_FILE)
    return [own for _, fx in fixes for ch in fx.changes if ch.kind == "edit" and ch.path and os.path.abspath(ch.path) == own]


def _undo(args) -> int:
    """`fix --undo [--model-repo R …]`: R's last apply (or, with no folder named, the last one),
    checked first: nothing is restored unless every file can be."""
    from ...fixes.applier import Applier

    ap = Applier()
    target = write_roots(args)
    plan = ap.last_apply(target)
    if plan.empty:
        print("nothing to undo" + (f" for {', '.join(os.path.abspath(t) for t in target)}" if target else ""))
        return 0
    print(f"undoing {plan.describe()}", flush=True)
    restored = ap.undo(target, plan=plan)
    for p in restored:
        print(f"restored {p}")
    return 0


def _checked_facts(args):
    """The facts, with the --set values validated and quoted for the fields they fill (an unknown
    key or a value that does not fit is exit 2 here, before any fix is planned or written)."""
    from ...derive.set_values import checked_values
    from ..main import make_facts

    facts = make_facts(args)
    values = facts.options.get("set") or {}
    if any(not k.startswith("__") for k in values):
        try:
            repo = facts["triton.repo"] if facts.options.get("model_repo") or facts.from_snapshot else None
        except Exception:  # TrtdiagError: the repository cannot be read; the checks say why
            repo = None
        facts.options["set"] = checked_values(values, repo)
    return facts


def _selected(args, f) -> bool:
    return not args.fix_ids or any(x.upper() in (f.fix.id.upper(), f.check.upper()) for x in args.fix_ids)


def _fresh_facts(args):
    from ..main import make_facts

    return make_facts(args)


def _target_argv(args, for_check: bool = False) -> list[str]:
    """The options of this run that the apply must repeat to make the same plan: the targets, the
    check and fix selection, the --set values and the flags; quote with shlex.join.  With
    ``for_check``: only those `trtdiag check` takes (targets and check selection)."""
    out: list[str] = []
    for opt in ("engine_dir", "model_repo", "tokenizer_dir", "checkpoint_dir", "python", "world_size",
                "http_port", "grpc_port", "metrics_port"):
        v = getattr(args, opt, None)
        if v is not None and v is not False:
            out += [f"--{opt.replace('_', '-')}", str(v)]
    for opt in ("load_tokenizer", "trust_remote_code") + (() if for_check else ("kill", "allow_system_changes")):
        if getattr(args, opt, False):
            out.append(f"--{opt.replace('_', '-')}")
    for opt, flag in (("snapshots", "--from"), ("only", "--only"), ("skip", "--skip")) + (() if for_check else (("fix_ids", "--fix"),)):
        for v in getattr(args, opt, None) or []:
            out += [flag, v]
    if for_check:
        return out
    sets = getattr(args, "set", None)
    if isinstance(sets, dict):
        for k, v in sets.items():
            if not k.startswith("__"):
                out += ["--set", f"{k}={v}"]
    if getattr(args, "output_dir", None):
        out += ["--output-dir", args.output_dir]
    if getattr(args, "launch_argv", None):
        out += ["--", *args.launch_argv]
    return out
