"""A report as markdown, ready to paste into a bug report."""

from __future__ import annotations

from ..core.finding import Report, Severity
from .terminal import MARK, _evidence_lines, _fmt_value, _group, summary_line


def markdown(report: Report) -> str:
    lines = [f"## trtdiag {report.command}", "", f"**{summary_line(report)}**", ""]
    if report.context:
        lines += ["<details><summary>Environment</summary>", "", "| | |", "|---|---|"]
        for k, v in report.context.items():
            lines.append(f"| {k} | {_md(_fmt_value(v))} |")
        lines += ["", "</details>", ""]
    for area, fs in _group(report.findings).items():
        lines.append(f"### {area}")
        lines.append("")
        for f in sorted(fs, key=lambda f: -f.severity.rank):
            lines.append(f"- {MARK[f.severity]} **{f.severity.value}** `{f.check}` {_md(f.title)}")
            if f.message and f.severity != Severity.OK:
                lines.append(f"  - {_md(f.message)}")
            for k, v in _evidence_lines(f.evidence if f.display is None else f.display):
                if k:
                    lines.append(f"  - {k}: `{v}`" if v else f"  - {k}:")
                else:
                    lines.append(f"    `{v}`")
            if f.fix:
                lines.append(f"  - fix: {_md(f.fix.summary)}")
                if f.fix.preview:
                    lines += ["", "    ```", *("    " + ln for ln in f.fix.preview.splitlines()), "    ```"]
        lines.append("")
    return "\n".join(lines)


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")
