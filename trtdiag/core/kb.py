"""The knowledge base: one TOML file per known failure, the single source of truth.

Each entry (``knowledge_base/<id>.toml``) follows the shape of Ruff's rule docs — what happens,
why, how to recognise it, how to fix it and whether trtdiag may fix it itself::

    id = "trt-engine-version-mismatch"
    title = "Engine plan built by another TensorRT version"
    severity = "error"              # error | warning | info
    area = "engine"                 # one of registry.AREAS: `trtdiag check --only AREA` confirms it
    checks = ["ENG001"]             # checks that find it before launch (may be empty)
    cause = "…"
    fix = ["…", "…"]                # steps, in order
    autofix = "rebuild"             # the fix kind trtdiag can apply, if any ("" = none)
    references = ["https://github.com/…/issues/…"]   # public threads / docs
    no_log_signature = "why"        # instead of [[signatures]]: a failure only a check can see

    [[signatures]]                  # how `trtdiag explain` recognises it in a log (0 or more)
    regex = 'expecting library version (?P<expected>[\\d.]+) got (?P<found>[\\d.]+)'
    literal = "expecting library version"   # prefilter; optional, derived from the regex if absent
    fatal = true                    # a root cause (default); false: a warning, or …
    cascade = false                 # … with fatal = false: a consequence of another failure
    examples = ["… a line exactly as a user posted it …"]   # tests: must match, and rank first if fatal

Rules for signatures (tests/test_kb.py enforces them):

- ``regex`` is a Python regular expression applied to one log line, as bytes (UTF-8); its named
  groups are the values `explain` reports (``expected``, ``found``, ``port`` …).  No IGNORECASE:
  the prefilter is case-sensitive.
- ``literal`` must be a substring of a run of characters every match contains
  (:func:`trtdiag.explain.required_literals` computes those runs; without ``literal`` the longest is
  used).  Lines without any signature's literal never reach a regex, so a long, rare literal keeps
  `explain` fast on gigabyte logs.
- ``examples`` quote real lines from the threads in ``references``.

Both ``check`` (through a finding's ``kb`` field) and ``explain`` read these entries.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def kb_dir() -> Path:
    """The knowledge_base folder: inside the installed package, or at the source tree's root."""
    pkg = Path(__file__).resolve().parent.parent  # trtdiag/
    for cand in (pkg / "knowledge_base", pkg.parent / "knowledge_base"):
        if cand.is_dir():
            return cand
    raise FileNotFoundError("knowledge_base/ not found next to the trtdiag package")


REQUIRED = ("id", "title", "cause", "fix")


@functools.lru_cache(maxsize=None)
def get(entry_id: str) -> dict[str, Any] | None:
    try:
        path = kb_dir() / f"{entry_id}.toml"
    except FileNotFoundError:
        return None
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@functools.lru_cache(maxsize=1)
def all_entries() -> tuple[dict[str, Any], ...]:
    out = []
    for path in sorted(kb_dir().glob("*.toml")):
        with open(path, "rb") as fh:
            out.append(tomllib.load(fh))
    return tuple(out)


def fix_text(entry: dict[str, Any]) -> list[str]:
    fix = entry.get("fix", [])
    return [fix] if isinstance(fix, str) else list(fix)
