"""Knowledge-base pages: one entry (`trtdiag explain --kb ID`) and the list (`--list`), as text,
markdown or JSON."""

from __future__ import annotations

import json


def entry(entry: dict, fmt: str = "text") -> str:
    from ..core import kb

    if fmt == "json":
        return json.dumps(entry, indent=2) + "\n"
    md = fmt == "markdown"
    out = []
    out.append(f"## {entry['title']}" if md else f"{entry['id']}  —  {entry['title']}")
    if md:
        out.append(f"\n`{entry['id']}` · severity **{entry.get('severity', 'error')}**")
    else:
        out.append(f"severity: {entry.get('severity', 'error')}    area: {entry.get('area', '-')}")
    if entry.get("checks"):
        out.append(f"checks before launch: trtdiag check --only {','.join(entry['checks'])}")
    out.append("")
    out.append("### Cause" if md else "cause:")
    out.append(_indent(entry.get("cause", "").strip(), "" if md else "  "))
    out.append("")
    out.append("### Fix" if md else "fix:")
    for n, s in enumerate(kb.fix_text(entry), 1):
        out.append(f"{n}. {s}" if md else f"  {n}. {s}")
    if entry.get("autofix"):
        out.append(f"\n{'**trtdiag can apply:**' if md else 'trtdiag can apply:'} {entry['autofix']} (trtdiag fix)")
    out.append("")
    out.append("### Recognised by" if md else "recognised in logs by:")
    for sig in entry.get("signatures") or []:
        tag = "" if sig.get("fatal", True) else " (not fatal)"
        out.append(f"- `{sig['regex']}`{tag}" if md else f"  /{sig['regex']}/{tag}")
    if entry.get("references"):
        out.append("")
        out.append("### References" if md else "references:")
        for r in entry["references"]:
            out.append(f"- {r}" if md else f"  {r}")
    return "\n".join(out) + "\n"


def listing(entries: list[dict], fmt: str = "text") -> str:
    if fmt == "json":
        rows = [{k: e.get(k) for k in ("id", "title", "severity", "area", "checks")} for e in entries]
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "markdown":
        lines = ["| id | severity | area | title |", "|---|---|---|---|"]
        lines += [f"| `{e['id']}` | {e.get('severity', 'error')} | {e.get('area', '')} | {e['title']} |" for e in entries]
        return "\n".join(lines) + "\n"
    width = max((len(e["id"]) for e in entries), default=10)
    out = [f"{e['id']:{width}}  {e.get('severity', 'error'):7}  {e['title']}" for e in entries]
    return "\n".join(out) + f"\n\n{len(entries)} known failures; details: trtdiag explain --kb ID\n"


def _indent(text: str, pre: str) -> str:
    return "\n".join(pre + ln for ln in text.splitlines())
