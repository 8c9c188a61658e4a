"""Reading snapshots written by ``trtdiag collect``."""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .facts import SNAPSHOT_SCHEMA
from .fsutil import read_json

MAX_SNAPSHOT = 64 * 1024 * 1024


def load_snapshot(path: str) -> dict[str, Any]:
    data = read_json(path, MAX_SNAPSHOT)
    if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
        raise InputError(f"{path}: not a trtdiag snapshot (expected schema {SNAPSHOT_SCHEMA!r})")
    for key in ("options", "facts", "errors"):
        if not isinstance(data.get(key, {}), dict):
            raise InputError(f"{path}: malformed snapshot ({key!r} is not an object)")
    data["_path"] = path
    return data
