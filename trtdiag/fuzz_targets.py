"""Fuzz targets: every parser of untrusted input, as a function of raw bytes.

Used by the property-based tests (tests/test_fuzz.py, hypothesis) and the coverage-guided fuzzer
(tools/fuzz.py, atheris).  A target must either return or raise trtdiag's own
:class:`~trtdiag.errors.TrtdiagError` (a clear input error); any other exception is a bug.

Seeds are real files: ../shared/fixtures and tests/data.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Callable

from .errors import TrtdiagError


def _tmpfile(data: bytes, suffix: str = "") -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="trtdiag-fuzz-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _with_file(data: bytes, fn: Callable[[str], object], suffix: str = "") -> None:
    path = _tmpfile(data, suffix)
    try:
        fn(path)
    finally:
        os.unlink(path)


def t_read_json(data: bytes) -> None:
    from .fsutil import read_json

    _with_file(data, read_json, ".json")


def t_engine_config(data: bytes) -> None:
    """config.json of an engine directory: any JSON value must normalise or be refused cleanly."""
    from .parsers.engine_config import normalize

    try:
        cfg = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return
    if isinstance(cfg, dict):
        normalize(cfg)


def t_snapshot(data: bytes) -> None:
    from .facts import Facts
    from .snapshot import load_snapshot

    def go(path):
        Facts({}, snapshot=load_snapshot(path))

    _with_file(data, go, ".json")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "read_json": t_read_json,
    "engine_config": t_engine_config,
    "snapshot": t_snapshot,
}


def seeds(name: str, repo_root: str) -> list[bytes]:
    """Real files to start from (mutated by the fuzzers)."""
    import glob

    shared = os.path.join(os.path.dirname(repo_root), "shared", "fixtures")
    pats = SEEDS.get(name, [])
    out = []
    for pat in pats:
        for p in sorted(glob.glob(os.path.join(shared if pat.startswith("shared:") else repo_root, pat.split(":", 1)[-1]), recursive=True)):
            if os.path.isfile(p) and os.path.getsize(p) <= 1 << 20:
                with open(p, "rb") as fh:
                    out.append(fh.read())
    return out or [b""]


SEEDS: dict[str, list[str]] = {
    "read_json": ["shared:gpu/*.json", "shared:trt_runtime/lean-11.4.0.106_real-plans.json"],
    "engine_config": ["tests/data/**/config.json"],
    "snapshot": ["tests/data/**/*snapshot*.json"],
}


def run_target(name: str, data: bytes) -> None:
    try:
        TARGETS[name](data)
    except TrtdiagError:
        pass
