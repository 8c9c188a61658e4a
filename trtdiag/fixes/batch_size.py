"""Align every model's max_batch_size (and dynamic_batching.preferred_batch_size) with the engine's.

One fix with one edit per config.pbtxt that allows more than the engine: the top-level
``max_batch_size:`` line is rewritten (found outside strings, comments and nested messages), and
preferred batch sizes above the new maximum are lowered to it, so Triton accepts the file
("preferred batch size must be <= max batch size").  Each edited file is parsed again with
Triton's schema before the fix is offered.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.errors import InputError
from ..core.finding import Change, Fix
from .plan import unified_diff


def aligned_text(text: str, limit: int) -> str:
    from ..parsers.pbtxt import top_level_field_lines

    lines = text.splitlines(keepends=True)
    for ln in top_level_field_lines(text, "max_batch_size"):
        lines[ln - 1] = re.sub(r"(max_batch_size\s*:\s*)(\d+)", lambda mm: mm.group(1) + (str(limit) if int(mm.group(2)) > limit else mm.group(2)), lines[ln - 1], count=1)
    for i, line in enumerate(lines):
        code = line.split("#", 1)[0]
        if re.match(r"^\s*preferred_batch_size\s*:", code):
            head, sep, rest = line.partition(":")
            body, hsh, comment = rest.partition("#")
            body = re.sub(r"\d+", lambda mm: str(min(int(mm.group(0)), limit)), body)
            lines[i] = head + sep + body + hsh + comment
    return "".join(lines)


def plan_align(facts, repo: dict[str, Any], limit: int, skip: set[str] | None = None) -> Fix | None:
    """``skip``: models another fix edits in the same apply (placeholder filling); the applier
    takes one edit per file, so those are aligned on the next run."""
    from ..parsers import pbtxt

    changes, previews, later = [], [], []
    for name, m in repo["models"].items():
        mb = m.get("max_batch_size")
        if m.get("parse_error") or mb is None or mb <= limit:
            continue
        if name in (skip or set()):
            later.append(name)
            continue
        try:
            before = facts.file_text(m["config_path"])
        except InputError:
            continue
        if before is None:
            continue
        after = aligned_text(before, limit)
        if after == before or pbtxt.parse_config(after)["parse_error"]:
            continue
        changes.append(Change("edit", path=m["config_path"], before=before, after=after, note=f"{name}: max_batch_size {mb} -> {limit}"))
        previews.append(unified_diff(m["config_path"], before, after))
    if not changes:
        return None
    summary = f"set max_batch_size to the engine's {limit} in {len(changes)} model config(s)"
    if later:
        summary += f"; {', '.join(later)} after its placeholders are filled (run trtdiag fix again)"
    return Fix(id="align-max-batch-size", summary=summary,
               safe=True, changes=changes, preview="".join(previews))
