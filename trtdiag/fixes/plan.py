"""Helpers that build fix plans: file edits with their unified diff, and command lines."""

from __future__ import annotations

import difflib
import shlex

from ..core.finding import Change, Fix


def unified_diff(path: str, before: str | None, after: str) -> str:
    a = (before or "").splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    diff = difflib.unified_diff(a, b, fromfile=f"a/{path.lstrip('/')}" if before is not None else "/dev/null", tofile=f"b/{path.lstrip('/')}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)


def edit_fix(fix_id: str, summary: str, path: str, before: str | None, after: str, safe: bool = True, note: str = "") -> Fix:
    """A fix that replaces the content of one file (``before`` None: the file is created)."""
    return Fix(
        id=fix_id,
        summary=summary,
        safe=safe,
        changes=[Change("edit", path=str(path), before=before, after=after, note=note)],
        preview=unified_diff(str(path), before, after),
    )


def command_line(argv: list[str]) -> str:
    return shlex.join(argv)


def command_fix(fix_id: str, summary: str, argv: list[str], kind: str = "command", safe: bool = False, requires: str | None = None, cwd: str | None = None) -> Fix:
    return Fix(id=fix_id, summary=summary, safe=safe, requires=requires,
               changes=[Change(kind, argv=list(argv), cwd=cwd)], preview="$ " + command_line(argv))
