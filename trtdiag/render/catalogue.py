"""The catalogue as `trtdiag checks` prints it: one line per id, or one id's documentation.
With a width (a terminal, or $COLUMNS), titles and documentation are wrapped to it."""

from __future__ import annotations

import re


def listing(specs, width: int | None = None) -> str:
    from .terminal import wrap

    out = []
    for spec in specs:
        line = f"{spec.id:8} {spec.area:12} {spec.title}" + (f"  [{spec.kb}]" if spec.kb else "")
        out.extend(wrap(line, width, "", " " * 22))
    return "\n".join(out) + "\n"


def _reflow(doc: str, width: int | None) -> str:
    """A docstring's paragraphs wrapped to ``width``; a line that starts a list item, or is
    indented more than its paragraph (an example), keeps its own line."""
    from .terminal import wrap

    if not width:
        return doc
    out: list[str] = []
    para: list[str] = []

    def flush():
        if para:
            out.extend(wrap(" ".join(s.strip() for s in para), width, "", ""))
            para.clear()

    for line in doc.splitlines():
        if not line.strip():
            flush()
            out.append("")
        elif re.match(r"[A-Z][\w-]*(?: [\w-]+){0,3}:\s", line):  # "Why:", "Fix:", "No knowledge-base entry:" start a paragraph
            flush()
            para.append(line)
        elif re.match(r"\s*([-*•]|\d+[.)])\s", line) or line.startswith("    "):
            flush()
            ind = re.match(r"\s*", line).group(0)
            out.extend(wrap(line.strip(), width, ind, ind + "  "))
        else:
            para.append(line)
    flush()
    return "\n".join(out)


def document(spec, entry: dict | None = None, width: int | None = None) -> str:
    from .terminal import wrap

    kind = "" if spec.is_rule else f", made by: trtdiag {', '.join(spec.commands)}" if spec.commands else ""
    out = [*wrap(f"{spec.id}  {spec.title}  (area: {spec.area}{kind})", width, "", "  "), "",
           _reflow(spec.doc or "(no documentation)", width)]
    if entry:
        out += ["", *wrap(f"knowledge base: {entry['id']} — {entry['title']}", width, "", "  ")]
        if spec.family:
            out += ["", _reflow(entry.get("cause", "").strip(), width)]
    return "\n".join(out) + "\n"
