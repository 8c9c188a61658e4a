"""The terminal renderer: a report in, text out.  Renderers format; they decide nothing.

- :func:`terminal`: the doctor view — findings grouped by area, ✓ ! ✗ marks, evidence indented,
  the fix under it, then a one-line summary.  The evidence of passing checks, of the checks'
  information findings and structured (dict) evidence only with -v.  Colour only when asked (a TTY without --no-color /
  NO_COLOR).
The same report as markdown is :mod:`trtdiag.render.markdown`, as JSON :mod:`trtdiag.render.json`.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from ..core.finding import Finding, Report, Severity

MARK = {Severity.OK: "✓", Severity.INFO: "·", Severity.WARNING: "!", Severity.ERROR: "✗"}
COLOR = {Severity.OK: "32", Severity.INFO: "36", Severity.WARNING: "33", Severity.ERROR: "31"}


_NBSP = "\u00a0"


def wrap(text: str, width: int | None, first: str, rest: str) -> list[str]:
    """``text`` wrapped to ``width`` columns with a hanging indent; words are never broken, nor is
    a `code span` (a command), an id or a path: a token longer than the line stays whole on its
    own line.  No width (not a terminal): one line."""
    if not width:
        return [first + text]
    protected = re.sub(r"``[^`]+``|`[^`]*`", lambda m: m.group(0).replace(" ", _NBSP), text)
    # a trtdiag command that ends the line ("confirm on this machine: trtdiag check --only …") is
    # a command too: kept whole
    protected = re.sub(r"(?<=: )trtdiag (?:check|fix|plan|explain|exec|collect|report|checks)\b[^`]*$",
                       lambda m: m.group(0).replace(" ", _NBSP), protected)
    # a number stays with its unit, and a name with its version ("524,288 B", "CUDA 13")
    protected = re.sub(r"(?<=\d) (?=(?:B|KiB|MiB|GiB|TiB|GB|MB|%)(?![\w]))|(?:(?<=CUDA)|(?<=TensorRT)|(?<=\bsm)) (?=\d)", _NBSP, protected)
    w = textwrap.TextWrapper(width=max(width, len(rest) + 20), initial_indent=first, subsequent_indent=rest,
                             break_long_words=False, break_on_hyphens=False)
    return [ln.replace(_NBSP, " ") for ln in w.wrap(protected)] or [first]


def prose(text: str, width: int | None, indent: str = "  ") -> str:
    """A paragraph of a command's own output (not a finding), wrapped like the findings: lines
    after the first indented by ``indent``; `code spans` whole.  No trailing newline."""
    return "\n".join(wrap(text, width, "", indent))


def with_command(text: str, argv_text: str, width: int | None, indent: str = "    ") -> str:
    """``text`` followed by a command line: on the same line when it fits, else the command on a
    line of its own (indented), never broken."""
    if not width or len(text) + 1 + len(argv_text) <= width:
        return f"{text} {argv_text}"
    return prose(text, width, "  ") + "\n" + indent + argv_text


def _c(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt_value(x) for x in v) if v else "(none)"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt_value(x)}" for k, x in v.items())
    return str(v)


def _structured(v: Any) -> bool:
    """A dict, or a list of dicts (memory's per_rank, answers): data for --json, too wide for one line."""
    return isinstance(v, dict) or (isinstance(v, (list, tuple)) and any(isinstance(x, dict) for x in v))


def _evidence_lines(ev: dict[str, Any], verbose: bool = True) -> list[tuple[str, str]]:
    """(key, value) lines; a key of "" continues the previous key on its own indented line.

    Structured values are left out unless ``verbose``; then they get one line per item."""
    out = []
    for k, v in ev.items():
        if v is None:  # an unknown is left out, never printed as "None"
            continue
        if isinstance(v, dict):
            v = {kk: x for kk, x in v.items() if x is not None}
        if isinstance(v, str) and re.fullmatch(r"\$\{\w+\}", v.strip()):  # a template placeholder is no value
            v = f"not set (the template's {v.strip()} is unfilled)"
        if isinstance(v, str) and "\n" in v:
            out.append((k, ""))
            out.extend(("", line) for line in v.splitlines())
        elif _structured(v):
            if not verbose:
                continue
            out.append((k, ""))
            if isinstance(v, dict):
                out.extend(("", f"{kk}: {_fmt_value(x)}") for kk, x in v.items())
            else:
                out.extend(("", "- " + _fmt_value(x)) for x in v)
        else:
            out.append((k, _fmt_value(v)))
    return out


def _group(findings: list[Finding]) -> dict[str, list[Finding]]:
    from ..core.catalogue import AREAS

    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.area or "other", []).append(f)
    order = {a: i for i, a in enumerate(AREAS)}
    return dict(sorted(groups.items(), key=lambda kv: order.get(kv[0], len(AREAS))))


def summary_line(report: Report) -> str:
    c = report.counts()
    parts = [f"{c['error']} error{'s' if c['error'] != 1 else ''}", f"{c['warning']} warning{'s' if c['warning'] != 1 else ''}", f"{c['ok']} ok"]
    if c["info"]:
        parts.append(f"{c['info']} info")
    text = ", ".join(parts) + (f" ({report.duration_s:.2f}s)" if report.duration_s >= 0.005 else "")
    if report.idle_hint:
        text += f"; {report.idle_hint}"
    return text


def terminal(report: Report, color: bool = False, verbose: bool = False, width: int | None = None) -> str:
    """The doctor view; prose wrapped to ``width`` columns (None: not wrapped), preformatted text
    (tables, diffs, multi-line evidence) never."""
    lines: list[str] = []
    for area, fs in _group(report.findings).items():
        worst = max((f.severity for f in fs), key=lambda s: s.rank)
        if worst == Severity.INFO:  # notes only: nothing is wrong in this area
            worst = Severity.OK
        lines.append(_c(f"[{MARK[worst]}] {area}", COLOR[worst], color))
        for f in sorted(fs, key=lambda f: -f.severity.rank):
            head = f"    {MARK[f.severity]} {f.title}"
            if width and len(head) + len(f.check) + 4 > width:
                lines.extend(_c(ln, COLOR[f.severity], color) for ln in wrap(f"{MARK[f.severity]} {f.title}  [{f.check}]", width, "    ", "      "))
            else:
                lines.append(_c(head, COLOR[f.severity], color) + _c(f"  [{f.check}]", "2", color))
            if f.severity == Severity.OK and not verbose:
                continue
            if f.message:
                for ln in f.message.splitlines():
                    item = re.match(r"(\s*(?:\d+[.)]|[-*•])\s+)", ln)  # a list item hangs under its text
                    lines.extend(wrap(ln, width, "        ", "        " + " " * (len(item.group(1)) if item else 0)))
            # a check's information: the message says it; its evidence (like a passing check's)
            # with -v.  plan's and explain's information findings are their content: shown whole
            quiet = report.quiet_info and not verbose and f.severity.rank < Severity.WARNING.rank
            shown = {} if quiet else (f.evidence if f.display is None else f.display)
            for k, v in _evidence_lines(shown, verbose):
                if k:  # a key's value wraps under itself; continuation lines are preformatted
                    lines.extend(wrap(f"{k}: {v}", width, "        ", "          ") if v else [f"        {k}:"])
                elif width and len(v) + 10 > width:  # a quoted log line: wrapped at spaces, not by the terminal mid-word
                    lines.extend(wrap(v, width, "          ", "              "))
                else:
                    lines.append(f"          {v}")
            if f.fix:
                lines.extend(_c(ln, "1", color) for ln in wrap(f"fix ({f.fix.id}{'' if f.fix.safe else ', review first'}): {f.fix.summary}", width, "        ", "          "))
                if f.fix.preview and verbose:
                    lines.extend("          " + ln for ln in f.fix.preview.splitlines())
            if f.kb and f.severity.rank >= Severity.WARNING.rank:
                lines.append(_c(f"        more: trtdiag explain --kb {f.kb}", "2", color))
    if not report.findings:
        lines.append(report.empty)
    lines.append("")
    worst = report.worst()
    mark = "✗ " if worst == Severity.ERROR else "! " if worst == Severity.WARNING else "✓ "
    lines.extend(_c(ln, COLOR[worst], color) for ln in wrap(summary_line(report), width, mark, "  "))
    return "\n".join(lines) + "\n"
