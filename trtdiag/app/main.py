"""Command-line entry point: ``trtdiag`` and ``python -m trtdiag``.

Each subcommand lives in :mod:`trtdiag.commands` as a module with ``add_parser(subparsers)`` and
``run(args) -> int``.  This module holds what they share: target and output options, the one
function that runs checks into a report, the way a report is printed, and the error handling that
turns trtdiag's own errors into one line and exit code 2.

Exit codes: 0 no errors, 1 errors found (warnings too with --strict), 2 bad usage or unreadable
input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from typing import Any

from .. import __version__
from ..core.errors import TrtdiagError

COMMANDS = ["check", "explain", "fix", "exec", "plan", "report", "collect", "checks"]

EPILOG = """\
examples:
  trtdiag check                                  inspect this machine and Python environment
  trtdiag check --engine-dir /engines/llama-7b   ... and a TensorRT-LLM engine directory
  trtdiag check --model-repo /models --json      ... and a Triton model repository, as JSON
  trtdiag explain server.log                     name the known failure in a log, with its fix
  trtdiag fix --engine-dir DIR                   preview the fixes (diffs, commands)
  trtdiag fix --engine-dir DIR --apply           apply them (backed up; undo with: trtdiag fix --undo)
  trtdiag exec -- tritonserver --model-repository /models    check, then launch
  trtdiag plan --model-config config.json --gpu-memory 24GiB  will it fit, before you build

exit codes: 0 no errors, 1 errors found (--strict: warnings too), 2 bad usage or unreadable input,
            3 an internal error (a bug in trtdiag: please report it, with --debug)
"""

# what an empty report says: an empty `check` ran no rule that applies here, an empty `exec` had
# nothing to check before the launch
EMPTY = {"exec": "No pre-launch check applies to this command."}

# Options that become facts' options (what probes may read), with their argparse dest.
TARGET_OPTIONS = [
    "engine_dir", "model_repo", "python", "checkpoint_dir", "http_port", "grpc_port", "metrics_port",
    "load_tokenizer", "trust_remote_code", "world_size", "launch_argv", "tokenizer_dir", "set", "output_dir",
]


def add_target_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what to inspect")
    g.add_argument("--engine-dir", metavar="PATH", help="TensorRT-LLM engine directory, or one .engine/.plan file")
    g.add_argument("--model-repo", metavar="DIR", help="Triton model repository (default: found at conventional places)")
    g.add_argument("--python", metavar="PATH", help="inspect this interpreter's environment (the serving container's) through a child process")
    g.add_argument("--checkpoint-dir", metavar="DIR", help="TensorRT-LLM checkpoint to rebuild from (default: found beside the engine)")
    g.add_argument("--tokenizer-dir", metavar="DIR", help="tokenizer directory (default: from the model repository's configs)")
    g.add_argument("--world-size", type=int, metavar="N", help="ranks the server will be launched with")
    g.add_argument("--http-port", type=int, metavar="N", help="Triton HTTP port (default 8000)")
    g.add_argument("--grpc-port", type=int, metavar="N", help="Triton gRPC port (default 8001)")
    g.add_argument("--metrics-port", type=int, metavar="N", help="Triton metrics port (default 8002)")
    g.add_argument("--load-tokenizer", action="store_true", help="load the tokenizer in a child process and replay what model.py does to it")
    g.add_argument("--trust-remote-code", action="store_true", help="allow --load-tokenizer to run code from the tokenizer directory")
    g.add_argument("--from", dest="snapshots", action="append", metavar="SNAPSHOT", help="run the checks on a snapshot from `trtdiag collect` instead of this machine (repeat for several ranks/nodes)")


def add_select_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("which checks")
    g.add_argument("--only", action="append", metavar="IDS", help="only these checks: ids, id prefixes or areas, comma-separated (e.g. ENG001,gpu)")
    g.add_argument("--skip", action="append", metavar="IDS", help="skip these checks: ids, id prefixes or areas")


def add_output_options(p: argparse.ArgumentParser, strict: bool = True) -> None:
    g = p.add_argument_group("output")
    fmt = g.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable report (schema trtdiag.report/1, docs/json-schema.md)")
    fmt.add_argument("--markdown", action="store_true", help="report as markdown, ready to paste into a bug report")
    g.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR=1, or output is not a terminal)")
    g.add_argument("-v", "--verbose", action="store_true", help="show evidence of passing checks and fix previews")
    if strict:
        g.add_argument("--strict", action="store_true", help="warnings count as errors for the exit code")


def split_csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in TARGET_OPTIONS if getattr(args, k, None) not in (None, False)}


def make_facts(args: argparse.Namespace):
    """Facts for this machine, or for the snapshot(s) named with --from (the first one; the
    fleet checks read the others from ``fleet.snapshots``)."""
    from ..core.facts import Facts

    snaps = getattr(args, "snapshots", None)
    if snaps:
        from ..core.snapshot import load_snapshot

        loaded = [load_snapshot(p) for p in snaps]
        facts = Facts(options_from_args(args), snapshot=loaded[0])
        if len(loaded) > 1:
            facts.set("fleet.snapshots", loaded)
        return facts
    facts = Facts(options_from_args(args))
    engine_dir_from_repo(facts)
    return facts


def engine_dir_from_repo(facts) -> None:
    """With --model-repo (or a launch command that names one) and no --engine-dir, the engine and
    memory checks look at the engine the repository serves: the tensorrt_llm model's gpt_model_path
    (engine_dir), when it is a directory here with a config.json.  A path that does not exist here
    is TRI003's finding; nothing is guessed."""
    if facts.options.get("engine_dir") or not facts.options.get("model_repo"):
        return
    try:
        repo = facts["triton.repo"]
    except Exception:  # the checks that need the repository report its problem themselves
        return
    if not isinstance(repo, dict) or not repo.get("trtllm_model"):
        return
    params = (repo.get("models") or {}).get(repo["trtllm_model"], {}).get("parameters") or {}
    for key in ("gpt_model_path", "engine_dir"):
        v = params.get(key)
        if isinstance(v, str) and v and "${" not in v and os.path.isfile(os.path.join(v, "config.json")):
            facts.options["engine_dir"] = v
            return


class Progress:
    """A one-line 'checking …' indicator on a terminal's stderr; silent otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.width = 0

    def __call__(self, spec) -> None:
        if self.enabled:
            text = f"checking {spec.title} …"[:78]
            sys.stderr.write("\r" + text.ljust(self.width))
            sys.stderr.flush()
            self.width = len(text)

    def done(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def run_checks(args: argparse.Namespace, command: str, facts=None, on_rule=None, progress: bool | None = None):
    """Run the selected rules and return (report, facts); ``on_rule(spec)`` is told each rule
    before it runs (exec's watchdog names the one that overran its time)."""
    from ..core import catalogue as registry
    from ..core.finding import Report
    from ..engine.run import run

    t0 = time.perf_counter()
    only, skip = split_csv(getattr(args, "only", None)), split_csv(getattr(args, "skip", None))
    unknown_checks(only, "--only")
    unknown_checks(skip, "--skip")
    facts = facts or make_facts(args)
    if not only and not skip:  # every area runs: start the slow probes before the rules are even imported
        from ..engine.run import PREFETCH

        facts.prefetch(n for names in PREFETCH.values() for n in names)
    specs = registry.select(only, skip, command, lazy=True)
    progress = Progress(sys.stderr.isatty() and not getattr(args, "json", False) if progress is None else progress)

    def tell(spec):
        progress(spec)
        if on_rule is not None:
            on_rule(spec)

    try:
        findings, na = run(specs, facts, debug=getattr(args, "debug", False), progress=tell)
    except Exception:  # bad input stops the run: let the probes still running finish first
        facts.settle()
        raise
    finally:
        progress.done()
    facts.settle()  # every probe started was asked for by a rule: done already
    report = Report(command=command, findings=findings, not_applicable=na, duration_s=time.perf_counter() - t0,
                    empty=EMPTY.get(command, "No checks applied here."))
    report.context = context_of(facts)
    report.idle_hint = idle_hint(na, facts, {s.id: s.area for s in specs})
    return report, facts


#: the option that gives each area's rules something to look at
AREA_OPTION = {"engine": "--engine-dir", "memory": "--engine-dir", "triton": "--model-repo", "tokenizer": "--model-repo",
               "build": "--engine-dir", "fleet": "--mpi"}


def idle_hint(not_applicable: list[str], facts, areas: dict[str, str]) -> str:
    """'12 checks did not apply here (--engine-dir, --model-repo turn them on)' for a run whose
    rules found nothing to look at; empty when every rule applied.  ``areas``: rule id → area."""
    if not not_applicable or facts.from_snapshot:
        return ""
    opts = []
    for rid in not_applicable:
        o = AREA_OPTION.get(areas.get(rid, ""))
        if o and o not in opts and not facts.options.get(o[2:].replace("-", "_")):
            opts.append(o)
    n = len(not_applicable)
    return f"{n} check{'s' if n != 1 else ''} did not apply here" + (f" ({', '.join(opts)} turn{'s' if len(opts) == 1 else ''} them on)" if opts else "")


def unknown_checks(patterns: list[str], flag: str) -> None:
    """A --only/--skip value that names no check, area or id prefix is a typo: say so (exit 2)
    rather than run nothing and print "No checks applied here"."""
    if not patterns:  # nothing to look up: the rules are imported later, after the probes start
        return
    from ..core import catalogue as registry
    from ..core.errors import UsageError

    specs = list(registry.load_all().values())
    for p in patterns:
        if not any(registry.matches(s, p) for s in specs):
            import difflib

            names = sorted({s.id for s in specs} | {s.area for s in specs})
            near = difflib.get_close_matches(p, names, n=3) or difflib.get_close_matches(p.upper(), names, n=3)
            raise UsageError(f"{flag} {p}: no check has that id, id prefix or area"
                             + (f" (did you mean: {', '.join(near)}?)" if near else " (see: trtdiag checks)"))


def context_of(facts) -> dict[str, Any]:
    """What the report header says about the target (only facts already gathered: no new probing)."""
    ctx: dict[str, Any] = {}
    for k in ("engine_dir", "model_repo", "python"):
        if facts.options.get(k):
            ctx[k] = facts.options[k]
    if facts.from_snapshot:
        ctx["snapshot"] = True
    return ctx


def use_color(args: argparse.Namespace, stream=None) -> bool:
    stream = stream or sys.stdout
    if getattr(args, "no_color", False) or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if any(os.environ.get(v) for v in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID")):
        # under mpirun/srun a rank's stdout is the launcher's pseudo-terminal whatever the user
        # redirected it to (`mpirun -n 2 trtdiag check --mpi > out.txt`): no colour unless asked
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def output_width(stream) -> int | None:
    """The columns prose is wrapped to: $COLUMNS when set, else the terminal's width when the
    stream is one; None (no wrapping) for files and pipes."""
    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) > 0:
        return int(cols)
    if hasattr(stream, "isatty") and stream.isatty():
        import shutil

        return shutil.get_terminal_size((100, 24)).columns
    return None


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help as the commands write it (descriptions and examples kept as written), wrapped to the
    width argparse would pick ($COLUMNS, else the terminal's, else 80) without argparse importing
    shutil, and with it the compression modules, on every start."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            cols = os.environ.get("COLUMNS", "")
            if cols.isdigit() and int(cols) > 0:
                width = int(cols)
            else:
                try:
                    width = os.get_terminal_size(sys.__stdout__.fileno()).columns
                except (AttributeError, ValueError, OSError):
                    width = 80
            width -= 2
        super().__init__(prog, indent_increment, max_help_position, width)


def print_report(report, args: argparse.Namespace, stream=None) -> None:
    stream = stream or sys.stdout
    if getattr(args, "json", False):
        from ..render.json import json_text

        stream.write(json_text(report))
    elif getattr(args, "markdown", False):
        from ..render.markdown import markdown

        stream.write(markdown(report))
    else:
        from ..render.terminal import terminal

        stream.write(terminal(report, color=use_color(args, stream), verbose=getattr(args, "verbose", False),
                              width=output_width(stream)))
    stream.flush()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only`` (the subcommand on the command line) just that command's module is
    imported — the pre-launch hook pays for no other command's imports."""
    p = argparse.ArgumentParser(
        prog="trtdiag",
        description="A doctor for LLM deployments on TensorRT, TensorRT-LLM and Triton Inference Server.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"trtdiag {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks (for bug reports)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in ([only] if only in COMMANDS else COMMANDS):
        mod = importlib.import_module(f"trtdiag.app.commands.{name}")
        sp = mod.add_parser(sub)
        sp.set_defaults(_run=mod.run)
        # --debug is accepted after the subcommand too
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["check"]
    head = argv[: argv.index("--")] if "--" in argv else argv
    first = next((a for a in head if not a.startswith("-")), None)
    parser = build_parser(only=first if first in COMMANDS and "-h" not in head[:1] and "--help" not in head[:1] else None)
    if "--" in argv:  # `exec` takes everything after -- verbatim
        i = argv.index("--")
        args = parser.parse_args(argv[:i])
        args.launch_argv = argv[i + 1 :]
    else:
        args = parser.parse_args(argv)
        args.launch_argv = []
    debug = getattr(args, "debug", False) or bool(os.environ.get("TRTDIAG_DEBUG"))
    args.debug = debug
    try:
        return int(args._run(args) or 0)
    except TrtdiagError as exc:
        if debug:
            raise
        print(f"trtdiag: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("trtdiag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line, and how to see more
        if debug:
            raise
        print(f"trtdiag: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback, and please report it)", file=sys.stderr)
        return 3


def entry() -> None:
    """The ``trtdiag`` program: :func:`main`, then leave without a last garbage collection.

    The interpreter's finalisation collects every object the run made (the rule catalogue, the
    parsed caches); for a command that ends here that cost about 25 ms of a 0.2 s ``check`` on the
    GPU machine (docs/validation.md) and frees nothing the operating system would not.  ``gc.freeze()`` moves them out of the collector's
    reach first; atexit handlers and the flushing of files still run.  Only the process entry does
    this: a caller of :func:`main` (the tests run it thousands of times) keeps its collector.

    A plain ``check`` of this machine (every area, so the GPU's too) begins NVML's initialisation
    first of all (:func:`trtdiag.probes.nvml.start_init`): the driver's wait then overlaps the
    imports and the argument parsing.  Other commands, and a check narrowed by ``--only`` /
    ``--skip`` or run on a snapshot, may not ask NVML anything and do not begin it."""
    head = sys.argv[1:]
    early = (not head or head[0] == "check") and not any(a.split("=")[0] in ("--from", "--only", "--skip", "-h", "--help") for a in head)
    if early:
        from ..probes import nvml

        nvml.start_init()
    try:
        rc = main()
    finally:  # also when argument parsing exits: no thread may be left inside the driver
        if early:
            nvml.finish_early()
    import gc

    gc.freeze()
    sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    entry()
