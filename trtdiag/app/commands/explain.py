"""trtdiag explain: name the known failure in a log — the evidence lines, the cause and the fix."""

from __future__ import annotations

import re

import argparse
import os
import sys
import time

from ..main import HelpFormatter

EXAMPLES = """\
examples:
  trtdiag explain server.log                       which known failure is this, and its fix
  tritonserver --model-repository /models 2>&1 | trtdiag explain -
  trtdiag explain rank0.log rank1.log --json       several logs, machine-readable
  trtdiag explain server.log.1.gz                  gzip-compressed logs are read as they are
  trtdiag explain --kb trt-engine-version-mismatch one knowledge-base entry in full
  trtdiag explain --list                           every known failure

exit codes: 0 no known failure found, 1 a known failure found, 2 unreadable input, 3 a bug in trtdiag
"""


def add_parser(sub) -> argparse.ArgumentParser:
    from ..main import add_output_options

    p = sub.add_parser("explain", help="name the known failure in a log, with evidence and fix", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    p.add_argument("logs", nargs="*", metavar="LOG", help="log files to read ('-' for standard input)")
    p.add_argument("--kb", metavar="ID", help="show one knowledge-base entry")
    p.add_argument("--list", action="store_true", help="list the knowledge-base entries")
    add_output_options(p)
    return p


def run(args) -> int:
    from ...core.errors import UsageError

    if args.kb:
        return show_entry(args.kb, args)
    if args.list:
        return list_entries(args)
    if not args.logs:
        raise UsageError("give a log file to explain, or '-' for standard input (see: trtdiag explain --help)")
    if args.logs.count("-") > 1:
        raise UsageError("'-' (standard input) can be given once")
    report = explain_logs(args.logs)
    from ..main import print_report

    print_report(report, args)
    return report.exit_code(getattr(args, "strict", False))


# --------------------------------------------------------------------------------------------


def explain_logs(paths: list[str]):
    """Scan the logs and build a Report with one finding per known failure, root cause first."""
    from ...core import kb
    from ...logscan.matcher import Matcher, rank
    from ...fsutil import _open_regular, describe_oserror
    from ...core.errors import InputError
    from ...core.finding import Report

    t0 = time.perf_counter()
    entries = {e["id"]: e for e in kb.all_entries()}
    matcher = Matcher(entries.values())
    engines = set()
    for i, path in enumerate(paths):
        if path == "-":
            stdin = sys.stdin.buffer
            if sys.stdin.isatty():
                print("trtdiag: reading the log from standard input (paste it, then Ctrl-D)", file=sys.stderr)
            try:
                import stat

                st = os.fstat(stdin.fileno())
                size = st.st_size if stat.S_ISREG(st.st_mode) else None
            except (OSError, ValueError, AttributeError):
                size = None
            try:
                engines.add(matcher.scan(stdin, "<stdin>", i, size))
            except OSError as exc:
                raise InputError(describe_oserror("<stdin>", exc)) from None
            continue
        fh, st = _open_regular(path)
        if st.st_size == 0:
            fh.close()
            raise InputError(f"{path}: empty file (0 bytes): nothing to explain; is the server's output going to another file?")
        with fh:
            try:
                if os.pread(fh.fileno(), 2, 0) == b"\x1f\x8b":  # a rotated, gzip-compressed log
                    import gzip
                    import zlib

                    try:
                        with gzip.GzipFile(fileobj=fh) as gz:
                            engines.add(matcher.scan(gz, path, i, None))
                    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                        raise InputError(f"{path}: not a readable gzip file ({exc})") from None
                else:
                    engines.add(matcher.scan(fh, path, i, st.st_size))
            except OSError as exc:
                raise InputError(describe_oserror(path, exc)) from None
    ranked = rank(matcher.hits.values())
    root = ranked[0] if ranked and ranked[0].fatal else None
    # the root cause of each log: its first fatal hit (ranked order); other hits of that log that
    # are only warnings or consequences are reported briefly after it
    roots: dict[int, object] = {}
    for h in ranked:
        if h.fatal:
            roots.setdefault((h.first_fatal or h.first)[0], h)
    findings = []
    for h in ranked:
        r = roots.get(h.first[0])
        findings.append(finding_for(entries[h.entry_id], h, r if r is not h else None, paths))
    dt = time.perf_counter() - t0
    report = Report(command="explain", findings=findings, duration_s=dt, empty="No known failure in the log.", quiet_info=False)
    report.context = {
        "logs": ["<stdin>" if p == "-" else p for p in paths],
        "bytes": matcher.bytes_scanned,
        "candidate_lines": matcher.candidates,
        "prefilter": ",".join(sorted(engines)),
        "known_failures": len(entries),
    }
    if root is not None:
        report.context["root_cause"] = root.entry_id
    if not findings:
        from ...core.finding import Finding, Severity

        report.findings = [Finding(
            "EXP", Severity.OK, f"No known failure in the log{'s' if len(paths) > 1 else ''}",
            message=f"None of the {len(entries)} knowledge-base entries' signatures occurs (trtdiag explain --list).",
            evidence={"bytes": matcher.bytes_scanned}, area="explain",
        )]
    return report


# areas whose checks can confirm a failure on this machine before launch (see registry.AREAS)
_CHECK_AREAS = ("environment", "tensorrt", "engine", "gpu", "memory", "mpi", "build", "container", "triton", "ports", "tokenizer")


def _human_bytes(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MiB"


def _target_hint(checks: list[str]) -> str:
    """The target a confirming check needs to apply at all (without it: 'No checks applied here'),
    as a placeholder to replace: the engine and memory checks read an engine directory, the Triton
    and tokenizer checks a model repository (which also names its engine)."""
    def wants(prefixes: tuple[str, ...]) -> bool:
        return any(c.upper().startswith(prefixes) or c.lower() in {p.lower() for p in prefixes} for c in checks)

    if wants(("TRI", "TOK", "MEM004", "triton", "tokenizer")):
        return " --model-repo MODEL_REPO"
    if wants(("ENG", "MEM001", "MEM002", "engine", "memory")):
        return " --engine-dir ENGINE_DIR"
    return ""


def _confirm_options(fields: dict) -> str:
    """Options that make the confirming check look at what the log names: the port that was taken
    (``--grpc-port 18001``), not the default one."""
    service = str(fields.get("service") or "").strip().lower()
    port = str(fields.get("port") or "").strip()
    if service in ("http", "grpc", "metrics") and port.isdigit() and 0 < int(port) < 65536:
        return f" --{service}-port {port}"
    return ""


# the lines trtdiag/derive/torch_memory.parse_log reads (the rest of a log is skipped)
_TORCH_MEMORY_KEYS = (b"memory usage profiling", b"for max tokens", b"max_tokens are set", b"tokens per block", b"for model weights",
                      b"max_num_requests=", b"LLM version", b"Estimated max memory in KV cache", b"Setting PyTorch memory fraction")


def _torch_memory_evidence(paths: list[str]) -> tuple[dict, bool]:
    """The PyTorch backend's KV-cache sizing as the logs print it (trtdiag/derive/torch_memory.py
    parse_log / explain_log): the KV cache the run got, the formula redone from the log's own numbers,
    the peak's parts.  Regular files only (standard input was read once); a log's figures are its last."""
    from ...derive import torch_memory as tm

    ev: dict = {}
    first_is_temporary = False
    for path in paths:
        if path == "-" or not os.path.isfile(path):
            continue
        keep = []
        try:
            with open(path, "rb") as fh:
                if fh.read(2) == b"\x1f\x8b":
                    continue
                fh.seek(0)
                for raw in fh:
                    if any(k in raw for k in _TORCH_MEMORY_KEYS):
                        keep.append(raw.decode("utf-8", "replace"))
                        if len(keep) > 20000:
                            break
        except OSError:
            continue
        story = tm.explain_log(tm.parse_log("".join(keep)))
        if not story:
            continue
        pre = f"{path}: " if len(paths) > 1 else ""
        if story.get("kv_tokens") is not None:
            line = f"{story['kv_tokens']:,} tokens, {story['kv_gib']} GiB"
            if story.get("kv_bytes_per_token"):
                line += f" (≈{story['kv_bytes_per_token']:,} B/token)"
            if story.get("temporary_allocation"):
                first_is_temporary = True
                t = story["temporary_allocation"]
                line += f"; the first allocation ({t['tokens']:,} tokens, {t['gib']} GiB) is the profiling pass's temporary cache"
            ev[pre + "kv cache"] = line
        if story.get("formula"):
            ev[pre + "kv formula"] = story["formula"]
        if story.get("peak_parts"):
            ev[pre + "peak"] = story["peak_parts"]
        if story.get("bounded_by"):
            ev[pre + "kv bound"] = story["bounded_by"]
        rt = story.get("runtime")
        if rt:
            ev[pre + "runtime"] = ", ".join(f"{k}={v}" for k, v in rt.items())
        if story.get("version"):
            ev[pre + "tensorrt_llm"] = story["version"]
    return ev, first_is_temporary


def finding_for(entry: dict, hit, root=None, paths: list[str] | None = None):
    """One finding per knowledge-base entry seen.  ``root`` is the first fatal hit of the same log:
    a hit seen only through cascade signatures is then shown briefly, as information; one seen only
    through other non-fatal signatures (warnings) is a warning."""
    from ...core import kb
    from ...core.finding import Finding, Severity

    sev = Severity(entry.get("severity", "error"))
    if not hit.fatal and sev == Severity.ERROR:
        sev = Severity.WARNING  # only cascade/warning lines seen: worth reading, not proof
    steps = kb.fix_text(entry)
    if root is not None and not hit.fatal and hit.cascade_only:
        evidence = {"count": hit.count, "first": f"{hit.first[1]}:{hit.first[2]}"}
        evidence["lines"] = "\n".join(f"{s}:{n}: {t}" for s, n, t in hit.lines[:1])
        return Finding(
            check=f"EXP:{entry['id']}",
            severity=Severity.INFO if sev != Severity.OK else sev,
            title=entry["title"],
            message=f"Most likely a consequence of {root.entry_id} (reported above).",
            evidence=evidence,
            kb=entry["id"],
            area="explain",
        )
    # the knowledge base's text is hard-wrapped in its TOML: one line a paragraph here, and the
    # renderer wraps it to the terminal
    cause = "\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", entry.get("cause", "").strip()))
    msg = [cause]
    if steps:
        msg.append("fix:")
        msg += [f"  {n}. {' '.join(str(s).split())}" for n, s in enumerate(steps, 1)]
    checks = entry.get("checks") or ([entry["area"]] if entry.get("area") in _CHECK_AREAS else [])
    if entry.get("confirm"):
        msg.append(f"confirm on this machine: {' '.join(str(entry['confirm']).split())}")
    elif checks:
        msg.append(f"confirm on this machine: trtdiag check --only {','.join(checks)}{_target_hint(checks)}{_confirm_options(hit.fields)}")
    evidence: dict = {}
    evidence["count"] = hit.count
    evidence["first"] = f"{hit.first[1]}:{hit.first[2]}"
    if hit.count > 1:
        evidence["last"] = f"{hit.last[1]}:{hit.last[2]}"
    for k, v in hit.fields.items():
        if k.endswith("_bytes") and str(v).isdigit() and int(v) >= 1 << 20:
            v = f"{v} ({_human_bytes(int(v))})"  # 1180463648 bytes reads as 1.10 GiB
        evidence[k if k not in ("count", "first", "last", "lines") else f"field_{k}"] = v
    if entry["id"] == "pytorch-kv-cache-sizing" and paths:
        story, first_is_temporary = _torch_memory_evidence(paths)
        if first_is_temporary:
            # the signatures' fields are the first matching line's: here the profiling pass's
            # temporary cache; the story holds the run's own figures
            for k in ("fraction", "max_tokens", "kv_gib", "tokens", "peak_gib", "available_gib"):
                evidence.pop(k, None)
        evidence.update(story)
    if entry["id"] == "trt-engine-version-mismatch" and hit.lines:
        # serialization versions name releases: say which (trtdiag/data/trt_serialization_versions.json)
        from ...derive.plan_verdict import releases_named

        evidence.update(releases_named(hit.lines[0][2]))
    evidence["lines"] = "\n".join(f"{s}:{n}: {t}" for s, n, t in hit.lines)
    return Finding(
        check=f"EXP:{entry['id']}",
        severity=sev,
        title=entry["title"],
        message="\n".join(m for m in msg if m),
        evidence=evidence,
        kb=entry["id"],
        area="explain",  # one group: the renderer keeps the root-cause order within it
    )


def show_entry(entry_id: str, args) -> int:
    import difflib
    import json

    from ...core import kb
    from ...core.errors import UsageError

    entry = kb.get(entry_id) if "/" not in entry_id and "\\" not in entry_id else None
    if entry is None:
        ids = [e["id"] for e in kb.all_entries()]
        near = difflib.get_close_matches(entry_id, ids, n=3)
        hint = f" (did you mean: {', '.join(near)}?)" if near else " (see: trtdiag explain --list)"
        raise UsageError(f"no knowledge-base entry {entry_id!r}{hint}")
    from ...render import kb as kb_render

    sys.stdout.write(kb_render.entry(entry, _fmt(args)))
    return 0


def _fmt(args) -> str:
    return "json" if getattr(args, "json", False) else "markdown" if getattr(args, "markdown", False) else "text"


def list_entries(args) -> int:
    import json

    from ...core import kb

    from ...render import kb as kb_render

    sys.stdout.write(kb_render.listing(kb.all_entries(), _fmt(args)))
    return 0
