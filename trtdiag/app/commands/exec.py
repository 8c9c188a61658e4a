"""trtdiag exec: check, then become the launch command (a pre-launch hook / container ENTRYPOINT).

`trtdiag exec [options] -- COMMAND [ARGS…]` reads COMMAND (tritonserver, launch_triton_server.py,
trtllm-serve, mpirun -n N …) to learn the model repository, engine directory, ports and world
size, runs the checks that fit, prints the report on stderr, and then either replaces itself with
COMMAND (execv: same pid, so signals and the exit code are the command's own) or stops.

Exit codes when it stops: 1 the checks failed (--fail-on), 2 bad usage, 126 COMMAND is not
executable, 127 COMMAND not found.  Otherwise the exit code is COMMAND's.
TRTDIAG_SKIP=1 launches at once without checking.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

from ..main import HelpFormatter, add_select_options, add_target_options, print_report, run_checks

EXAMPLES = """\
examples:
  trtdiag exec -- tritonserver --model-repository /models
  trtdiag exec --engine-dir /engines/llama -- python3 scripts/launch_triton_server.py --world_size 2 --model_repo /models
  trtdiag exec --fail-on warning --json-report /var/log/trtdiag.json -- trtllm-serve /engines/llama --port 8000
  TRTDIAG_SKIP=1 trtdiag exec -- tritonserver …     (bypass the checks once)

exit codes: 1 checks failed, 2 bad usage, 126 not executable, 127 command not found;
otherwise COMMAND's own (trtdiag becomes COMMAND).  The report goes to stderr.
"""

DEFAULT_TIMEOUT = 30.0
SLOW_NOTICE = 5.0
_TRUE = ("1", "true", "yes", "on")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("exec", help="check, then launch: `trtdiag exec -- tritonserver …` (ENTRYPOINT hook)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=HelpFormatter,
                       usage="trtdiag exec [options] -- COMMAND [ARGS ...]")
    add_target_options(p)
    add_select_options(p)
    g = p.add_argument_group("launching")
    g.add_argument("--fail-on", choices=("error", "warning", "never"), default="error",
                   help="do not launch when a finding is this severe or worse (default: error; never: always launch)")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help=f"time budget for the checks; past it --fail-on decides on the checks that finished (the rest: not checked) (default {DEFAULT_TIMEOUT:g}; also TRTDIAG_EXEC_TIMEOUT)")
    g.add_argument("--json-report", metavar="PATH", help="also write the report as JSON to PATH (atomically)")
    g.add_argument("-q", "--quiet", action="store_true", help="one line when all is well; the report only when something is wrong")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print the report as JSON (on stderr)")
    o.add_argument("--no-color", action="store_true", help="no colour")
    o.add_argument("-v", "--verbose", action="store_true", help="show evidence of passing checks")
    return p


def _say(msg: str) -> None:
    from ...render.terminal import wrap
    from ..main import output_width

    sys.stderr.write("\n".join(wrap(msg, output_width(sys.stderr), "trtdiag: ", "  ")) + "\n")
    sys.stderr.flush()


def resolve(cmd: str) -> tuple[str | None, int]:
    """COMMAND's path as execvp would find it, or (None, 127 / 126) like a shell."""
    import shutil

    if os.sep in cmd:
        if not os.path.exists(cmd):
            return None, 127
        if os.path.isdir(cmd) or not os.access(cmd, os.X_OK):
            return None, 126
        return cmd, 0
    found = shutil.which(cmd)
    if found:
        return found, 0
    # on PATH but not executable: a shell says "Permission denied" (126)
    for d in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if os.path.isfile(os.path.join(d or ".", cmd)):
            return None, 126
    return None, 127


def launch(path: str, argv: list[str]) -> int:
    """Become COMMAND.  Returns only when exec fails."""
    import signal

    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    # Python ignores SIGPIPE and SIGXFSZ; ignored signals survive exec, handlers do not.
    for name in ("SIGPIPE", "SIGXFSZ"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)
    try:
        os.execv(path, argv)
    except OSError as exc:
        _say(f"cannot execute {argv[0]}: {exc.strerror or exc}")
        return 126
    return 126  # pragma: no cover


def _timeout(args) -> float:
    if args.timeout is not None:
        return args.timeout
    env = os.environ.get("TRTDIAG_EXEC_TIMEOUT")
    if env:
        try:
            return float(env)
        except ValueError:
            pass
    return DEFAULT_TIMEOUT


def _kill_own_children() -> list[int]:
    """Stop the children that abandoned checks started (trtdiag.proc runs each in its own process
    group): after exec they would be orphans of the server with nobody to enforce their timeout."""
    import signal

    me = os.getpid()
    killed = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return killed
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[1] == str(me):
            pid, pgid = int(name), int(fields[2])
            try:
                if pgid == pid:
                    os.killpg(pgid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
    # reap them, so COMMAND does not inherit zombies (the worker thread may reap one first)
    deadline = time.monotonic() + 1.0
    pending = set(killed)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.01)
    return killed


class _Worker(threading.Thread):
    """Runs the checks one rule at a time, keeping each rule's findings as it finishes (what a
    run past the time budget still decides on), then makes the report from the gathered facts."""

    def __init__(self, args):
        super().__init__(name="trtdiag-checks", daemon=True)
        self.args = args
        self.report = None
        self.exc: BaseException | None = None
        self.current = None
        self.specs: list = []
        self.done: list = []  # (spec, findings) of the rules that finished
        self.abandoned = False  # set when the budget ran out: start nothing more

    def run(self) -> None:
        from ...core import catalogue as registry
        from ...engine.run import run_one
        from ..main import make_facts, split_csv, unknown_checks

        try:
            only, skip = split_csv(getattr(self.args, "only", None)), split_csv(getattr(self.args, "skip", None))
            unknown_checks(only, "--only")
            unknown_checks(skip, "--skip")
            facts = make_facts(self.args)
            self.specs = registry.select(only, skip, "exec")
            for spec in self.specs:
                if self.abandoned:
                    return
                self.current = spec
                out = run_one(spec, facts, getattr(self.args, "debug", False), plan=False)
                if self.abandoned:
                    return
                self.done.append((spec, out))
            self.current = None
            if self.abandoned:
                return
            self.report, _ = run_checks(self.args, "exec", facts=facts, progress=False)  # the facts are gathered: fast
        except BaseException as exc:  # InputError and the like: re-raised in the main thread
            self.exc = exc

    def partial_report(self, budget: float, duration: float):
        """The report of the rules that finished within the budget, with one warning naming the
        ones that did not: they are not checked, and --fail-on decides on what was."""
        from ...core.finding import Finding, Report, Severity
        from ...engine.run import _covered

        done = list(self.done)
        ran = {spec.id for spec, _ in done}
        findings = [f for _, out in done for f in out]
        covers: dict = {}
        for spec, out in done:
            if out:
                for c in spec.covers:
                    rid, _, topic = c.partition(":")
                    covers.setdefault(rid, []).append(topic or None)
        findings = [f for f in findings if not _covered(f, covers)]
        left = [spec for spec in self.specs if spec.id not in ran]
        names = ", ".join(f"{s.id} ({s.title})" for s in left[:12]) + (f" and {len(left) - 12} more" if len(left) > 12 else "")
        if left or not self.specs:
            findings.append(Finding("EXEC", Severity.WARNING, f"Not checked: {names or 'the checks did not start'}",
                                    f"The checks ran past their {budget:g}s budget; these were not checked. Raise the budget "
                                    "with --timeout (or TRTDIAG_EXEC_TIMEOUT), or skip a slow check with --skip ID.",
                                    evidence={"budget_s": budget, "not_checked": [s.id for s in left],
                                              "still_running": self.current.id if self.current else None}))
        return Report("exec", findings, {"timed_out": True, "budget_s": budget, "still_running": self.current.id if self.current else None}, [], duration,
                      empty="No pre-launch check applies to this command.")


def _apply_launch_options(args) -> dict:
    from ...probes.launch import options_from, parse

    parsed = parse(args.launch_argv)
    for k, v in options_from(parsed).items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)
    return parsed


def _blocks(report, fail_on: str) -> bool:
    if fail_on == "never":
        return False
    worst = report.worst().value
    return worst == "error" or (fail_on == "warning" and worst == "warning")


def _quiet_view(report, args):
    from ...core.finding import Report, Severity

    bad = [f for f in report.findings if f.severity in (Severity.WARNING, Severity.ERROR)]
    return Report(report.command, bad, report.context, report.not_applicable, report.duration_s, empty=report.empty)


def run(args) -> int:
    from ...core.errors import TrtdiagError, UsageError

    argv = list(getattr(args, "launch_argv", None) or [])
    if not argv:
        raise UsageError("nothing to launch: trtdiag exec [options] -- COMMAND [ARGS ...]")
    path, code = resolve(argv[0])
    if path is None:
        _say(f"{argv[0]}: " + ("command not found" if code == 127 else "permission denied (not an executable file)"))
        return code
    if os.environ.get("TRTDIAG_SKIP", "").strip().lower() in _TRUE:
        _say(f"TRTDIAG_SKIP is set: launching {argv[0]} without checks")
        return launch(path, argv)

    try:
        return _check_then_launch(args, path, argv)
    except TrtdiagError:
        raise  # bad usage or unreadable input: one line, exit 2, nothing launched
    except Exception as exc:  # a bug in trtdiag must not keep a server from starting
        if getattr(args, "debug", False):
            raise
        _say(f"internal error: {type(exc).__name__}: {exc} (please report it; TRTDIAG_DEBUG=1 shows the traceback); "
             f"launching {argv[0]} unchecked")
        return launch(path, argv)


def _write_json_report(path: str, report) -> None:
    """Keep the report (atomically: a reader sees the old file or the new one; through a link,
    the file it points to); a failure to write it is a warning, never a reason not to launch."""
    from ...render import json as render
    from ...core.errors import InputError
    from ...fsutil import write_output

    try:
        write_output(path, render.json_text(report))
    except InputError as exc:
        _say(f"warning: could not write the JSON report: {exc}")


def describe(parsed: dict, args, argv: list[str] | None = None) -> str:
    """What trtdiag understood of the launch, in one line (so a wrong guess is visible).  A command
    it does not know is named as it was written (`sh -c 'exit 7'`, never "exit")."""
    bits = []
    if getattr(args, "model_repo", None):
        bits.append(f"model repository {args.model_repo}")
    if getattr(args, "engine_dir", None):
        bits.append(f"engine {args.engine_dir}")
    elif parsed.get("kind") == "trtllm-serve" and parsed.get("model"):
        bits.append(f"model {parsed['model']}")
    if parsed.get("llmapi_yaml"):
        bits.append(f"LLM-API options {parsed['llmapi_yaml']}")
    ports = [f"{k.split('_')[0]} {getattr(args, k)}" for k in ("http_port", "grpc_port", "metrics_port") if getattr(args, k, None)]
    if ports:
        bits.append("ports " + ", ".join(ports))
    if getattr(args, "world_size", None):
        bits.append(f"{args.world_size} rank(s)")
    kind = parsed.get("kind")
    if kind not in (None, "other", "none", "python"):
        what = kind
    elif argv:
        import shlex

        what = shlex.join(argv)
        if len(what) > 60:
            what = shlex.join([os.path.basename(argv[0]), *argv[1:]])
        if len(what) > 60:
            what = what[:57].rsplit(" ", 1)[0] + " …"
        what = f"`{what}`"
    else:
        what = os.path.basename(str(parsed.get("program") or "?"))
    return f"checking the launch of {what}" + (f" ({'; '.join(bits)})" if bits else "")


#: the areas whose rules matter for each kind of launch the launch reader knows; a command it does
#: not know (a shell, a script of the user's) is checked only for what the options name
SCOPE = {
    "tritonserver": None,  # everything: the model repository, its engine, ports, MPI, GPUs …
    "launch_triton_server": None,
    "trtllm-serve": ("tensorrt", "engine", "gpu", "memory", "llmapi", "mpi", "container", "ports", "tokenizer"),
}
TARGETS = ("model_repo", "engine_dir", "tokenizer_dir", "checkpoint_dir")


def scope(parsed: dict, args) -> list[str] | None:
    """The --only areas for this launch (None: every rule; []: nothing to check)."""
    kind = parsed.get("kind")
    if kind in SCOPE:
        return None if SCOPE[kind] is None else list(SCOPE[kind])
    named = [k for k in TARGETS if getattr(args, k, None)]
    if not named:
        return []
    areas = {"model_repo": ("triton", "tokenizer", "engine", "memory"), "engine_dir": ("tensorrt", "engine", "memory"),
             "tokenizer_dir": ("tokenizer",), "checkpoint_dir": ("build",)}
    return sorted({a for k in named for a in areas[k]})


def _check_then_launch(args, path: str, argv: list[str]) -> int:
    parsed = _apply_launch_options(args)
    if not getattr(args, "only", None):
        areas = scope(parsed, args)
        if areas == []:
            why = (f"{os.path.basename(argv[0])} is no server launch trtdiag knows and no --model-repo/--engine-dir "
                   "was named: launching it without checks")
            if not args.quiet and not getattr(args, "json", False):
                _say(why)
            if args.json_report:
                from ...core.finding import Report

                _write_json_report(args.json_report, Report("exec", [], {"launch": argv, "checked": False, "why": why},
                                                            empty="No pre-launch check applies to this command."))
            return launch(path, argv)
        if areas is not None:
            from ...core import catalogue

            present = {s.area for s in catalogue.select(command="exec")}
            args.only = [",".join(a for a in areas if a in present)]
    if not args.quiet and not getattr(args, "json", False):
        _say(describe(parsed, args, argv))
    t0 = time.perf_counter()
    budget = _timeout(args)
    worker = _Worker(args)
    worker.start()
    deadline = time.monotonic() + budget if budget > 0 else None
    # like a doctor that says "taking longer than expected": one line after SLOW_NOTICE seconds
    first = SLOW_NOTICE if deadline is None else min(SLOW_NOTICE, budget)
    worker.join(first)
    if worker.is_alive() and (deadline is None or time.monotonic() < deadline):
        spec = worker.current
        if not args.quiet:
            _say(f"still checking after {SLOW_NOTICE:g}s" + (f" ({spec.id}: {spec.title})" if spec else "")
                 + (f"; deciding at {budget:g}s on what has finished" if deadline else ""))
        worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        spec = worker.current
        worker.abandoned = True
        report = worker.partial_report(budget, time.perf_counter() - t0)  # what finished in time, before the probes are stopped
        killed = _kill_own_children()
        _say(f"warning: the checks did not finish within {budget:g}s"
             + (f" (still running {spec.id}: {spec.title})" if spec else "")
             + (f"; stopped {len(killed)} probe process(es)" if killed else "")
             + "; deciding on the checks that finished (the others are not checked). Raise the budget with --timeout"
             + (f", or skip that check with --skip {spec.id}." if spec else "."))
    else:
        report = None
    if report is None and worker.exc is not None:
        raise worker.exc  # TrtdiagError: exit 2; anything else: launched unchecked by run()
    if report is None:
        report = worker.report
    report.context["launch"] = argv
    if args.json_report:
        _write_json_report(args.json_report, report)
    blocked = _blocks(report, args.fail_on)
    c = report.counts()
    if args.quiet and c["error"] == 0 and c["warning"] == 0:
        _say(f"{c['ok'] + c['info']} checks passed ({time.perf_counter() - t0:.2f}s); launching {argv[0]}")
        return launch(path, argv)
    shown = _quiet_view(report, args) if args.quiet else report
    print_report(shown, args, stream=sys.stderr)
    if blocked:
        what = "errors" if args.fail_on == "error" or c["error"] else "warnings"
        _say(f"not launching {argv[0]}: {c['error']} error(s), {c['warning']} warning(s) (--fail-on {args.fail_on}). "
             f"Fix the {what} above, or launch anyway with --fail-on never (once: TRTDIAG_SKIP=1).")
        return 1
    import shlex

    line = shlex.join(argv)
    _say(f"launching {line if len(line) <= 300 else line[:297] + '...'}")
    return launch(path, argv)
