"""What the LLA rules share: the derived findings (trtdiag/derive/serve_check.py), as Findings."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.finding import Finding, error, info, ok, warning

from . import applies  # noqa: E402  (the area's gate, with a scope)

_MAKE = {"error": error, "warning": warning, "info": info}


def _all(facts, scope: str = "any") -> list[dict[str, Any]]:
    d = facts.derived("serve_check") or {}
    out = list(((d.get("serve") or {}).get("findings")) or []) if scope in ("any", "serve") else []
    if scope in ("any", "triton"):
        for m in d.get("triton") or []:
            out += m.get("findings") or []
    return out


def findings_for(facts, fid: str, ok_title: str | None = None, scope: str = "any") -> Iterator[Finding]:
    """The derived findings of ``fid``; an ok line (``ok_title``) when the rule applied (``scope``,
    see :func:`applies`) and found nothing."""
    found = False
    for f in _all(facts, "triton" if scope == "triton" else "any"):
        if f.get("id") != fid:
            continue
        found = True
        make = _MAKE.get(f.get("severity"), info)
        yield make(f.get("title") or fid, f.get("message") or "", evidence=dict(f.get("evidence") or {}), subject=f.get("subject"))
    if not found and ok_title and applies(facts, scope):
        yield ok(ok_title)
