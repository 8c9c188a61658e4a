"""The catalogue as `trtdiag checks` prints it: one line per id, or one id's documentation."""

from __future__ import annotations


def listing(specs) -> str:
    out = []
    for spec in specs:
        out.append(f"{spec.id:8} {spec.area:12} {spec.title}" + (f"  [{spec.kb}]" if spec.kb else ""))
    return "\n".join(out) + "\n"


def document(spec, entry: dict | None = None) -> str:
    kind = "" if spec.is_rule else f", made by: trtdiag {', '.join(spec.commands)}" if spec.commands else ""
    out = [f"{spec.id}  {spec.title}  (area: {spec.area}{kind})", "", spec.doc or "(no documentation)"]
    if entry:
        out += ["", f"knowledge base: {entry['id']} — {entry['title']}"]
        if spec.family:
            out += ["", entry.get("cause", "").strip()]
    return "\n".join(out) + "\n"
