"""The TensorRT plan header in the shape the engine checks read: a thin layer over
:mod:`trtdiag.parsers.plan`, which reads every layout (``ptrt`` before 8.6, ``ftrt`` 8.6 and
10.x/11.x with sections) and says how sure each value is.

Kept for its callers (trtdiag.probes.engine, the engine checks, snapshots): ``kind`` is "plan"
for an ``ftrt`` plan, ``version`` is the release that built the plan (now also for 10.x and for
``ptrt`` plans, which record it in their archive), and the full reading is under ``plan``.
"""

from __future__ import annotations

import os
from typing import Any

from . import plan as _plan

HEAD = _plan.HEAD
MAGIC_FTRT = _plan.MAGIC_FTRT
MAGIC_PTRT = _plan.MAGIC_PTRT
LFS_PREFIX = _plan.LFS_PREFIX
magic_number = _plan.magic_number

#: platform tags the TensorRT 11.4.0.106 Linux x86-64 runtime accepts (0, 'rtrt'); see parsers/plan.py
ACCEPTED_PLATFORM_TAGS = _plan.ACCEPTED_PLATFORM_TAGS_11_4_LINUX_X86_64
PLATFORM_TAGS = {k: v[0] for k, v in _plan.PLATFORM_TAGS.items()}


def _legacy(p: dict[str, Any]) -> dict[str, Any]:
    k = p["kind"]
    kind = {"ftrt": "plan", "truncated": "plan"}.get(k, k)
    out: dict[str, Any] = {
        "kind": kind, "magic": p.get("magic"), "size": p.get("size"), "size_field": p.get("size_field") if k in ("ftrt", "truncated") else None,
        "truncated": None, "platform_tag": p.get("platform_tag"), "platform": p.get("platform"), "version": None,
        "candidate_version": None, "version_reason": None, "serialization_tag": p.get("magic_u32"), "plan": p,
        "serialization_version": p.get("serialization_version"),
    }
    if k == "lfs-pointer":
        out["lfs"] = p.get("lfs")
        out["version_reason"] = "unknown: a Git LFS pointer file, not a plan (run `git lfs pull`)"
    elif k == "empty":
        out["version_reason"] = "unknown: the file is empty (0 bytes)"
    elif k == "not-a-plan":
        out["version_reason"] = f"unknown: starts with {(p.get('magic') or '').encode('latin-1')!r}, not a TensorRT plan magic ('ftrt' or 'ptrt')"
    elif k == "truncated":
        out["truncated"] = True
        out["version_reason"] = f"unknown: only {p.get('size')} bytes, shorter than the 32-byte plan header"
    elif k in ("ftrt", "ptrt"):
        if k == "ftrt":
            out["truncated"] = p.get("size_matches") is False
            rb = p.get("release_bytes")
            out["candidate_version"] = ".".join(map(str, rb)) if rb else None
        out["version"] = p.get("release")
        if p.get("release"):
            out["version_basis"] = f"{p.get('release_source')} ({p['confidence']['release']})"
        else:
            out["version_reason"] = "unknown: " + "; ".join(p.get("notes") or ["the plan records no release trtdiag can read"])
    return out


def parse(head: bytes, size: int, engine: bytes | None = None, footer: bytes | None = None) -> dict[str, Any]:
    """Decode a plan from its first bytes and its size (see :func:`trtdiag.parsers.plan.parse`)."""
    return _legacy(_plan.parse(head, size, engine, footer))


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read and decode the plan at ``path`` (bounded reads only; InputError when it is no readable file)."""
    p = _plan.read(path)
    out = _legacy(p)
    out["path"] = os.fspath(path)
    return out


def is_foreign_platform(h: dict[str, Any]) -> bool:
    """True when the platform tag is one the runtime refuses ("Platform specific tag mismatch").

    0 (8.6 plans) and 'rtrt' (10.x plans built for the platform they were built on) are not."""
    return h.get("kind") == "plan" and h.get("platform_tag") not in (None, *ACCEPTED_PLATFORM_TAGS)


def describe(h: dict[str, Any]) -> str:
    """One plain line: what this file is, as a user would want it said."""
    p = h.get("plan")
    if h.get("kind") == "plan" and h.get("truncated"):
        if h.get("size_field") is None:
            return f"truncated: {h.get('size')} bytes, shorter than a plan header"
        return f"truncated or padded: header says {h['size_field']:,} bytes, file has {h['size']:,}"
    if p:
        return _plan.describe(p)
    return "unknown"


def is_loadable_shape(h: dict[str, Any]) -> bool:
    """True when nothing in the header alone says the runtime will refuse the file."""
    return h.get("kind") == "plan" and not h.get("truncated") and not is_foreign_platform(h)
