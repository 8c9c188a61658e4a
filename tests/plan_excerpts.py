"""Real plans rebuilt from the excerpts tests/data/engines/plans/MANIFEST.json records.

The plans themselves are not kept (only three are kept whole, see SOURCES.json):
the MANIFEST holds each one's first 256 bytes, its engine section's first bytes at their offset
and its last 4 bytes, which is all trtdiag's reader looks at.  :func:`rebuild` writes a sparse
file of the plan's real size with those bytes in their places, so the reader's real I/O path
(one read, one seek to the engine section, one to the footer) runs on it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from tests.conftest import DATA, REPO

PLANS = DATA / "engines" / "plans"
MANIFEST = json.loads((PLANS / "MANIFEST.json").read_text())["plans"]
BY_ID = {e["id"]: e for e in MANIFEST}
ANSWERS = json.loads((DATA / "trt_runtime" / "lean-11.4.0.106_real-plans-v2.json").read_text())
ANSWER_BY_SHA = {v["sha256"]: v for v in ANSWERS["engines"].values()}


def plan_bytes(e: dict) -> bytes:
    """The plan as a byte string: the excerpt in place, zeros elsewhere (real size)."""
    size = e["size"]
    d = bytearray(size)
    head = bytes.fromhex(e["head_hex"])
    d[: len(head)] = head
    if e.get("engine_prefix_hex"):
        eng = bytes.fromhex(e["engine_prefix_hex"])
        d[e["engine_offset"]: e["engine_offset"] + len(eng)] = eng
    if e.get("footer_hex"):
        ft = bytes.fromhex(e["footer_hex"])
        d[size - len(ft):] = ft
    return bytes(d)


def rebuild(e: dict, where: Path) -> Path:
    """A sparse file holding the plan's excerpt at the plan's real size."""
    p = where / e["id"]
    with open(p, "wb") as fh:
        head = bytes.fromhex(e["head_hex"])
        fh.write(head)
        if e.get("engine_prefix_hex"):
            fh.seek(e["engine_offset"])
            fh.write(bytes.fromhex(e["engine_prefix_hex"]))
        if e.get("footer_hex"):
            fh.seek(e["size"] - 4)
            fh.write(bytes.fromhex(e["footer_hex"]))
    os.truncate(p, e["size"])
    return p


def oracle_tool():
    """tools/plan_oracle.py as a module (its ``variants`` made the recorded variant cases)."""
    spec = importlib.util.spec_from_file_location("plan_oracle", REPO / "tools" / "plan_oracle.py")
    mod = importlib.util.module_from_spec(spec)
    import sys

    sys.path.insert(0, str(REPO / "tools"))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(REPO / "tools"))
    return mod
