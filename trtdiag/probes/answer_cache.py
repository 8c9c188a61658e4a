"""Answers a library gave about itself, kept between runs so the next ``trtdiag check`` asks no
child process.

An answer (the version libnvinfer reports through ``getInferLibVersion()``, say) is stored under the
library's identity (:func:`identity`: device and inode, size, modification and change times) and
the kind of question, so a library that is upgraded, rebuilt or replaced is asked again: a wrong
version after an upgrade cannot happen because the key changes.  Only successful answers are kept.  The file lives in
``$TRTDIAG_CACHE_DIR`` or ``$XDG_CACHE_HOME/trtdiag`` (``~/.cache/trtdiag``); ``TRTDIAG_NO_CACHE=1``
turns it off.  A cache that cannot be read or written is ignored: it never changes a finding.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

FILE = "library-answers.json"
MAX_ENTRIES = 512
_lock = threading.Lock()


def cache_dir() -> str | None:
    if os.environ.get("TRTDIAG_NO_CACHE"):
        return None
    d = os.environ.get("TRTDIAG_CACHE_DIR")
    if d:
        return d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "trtdiag")


def identity(path) -> str | None:
    """The key of the file ``path`` leads to, links followed, from one stat: device and inode,
    size, modification and change times (the change time cannot be set back by a user, unlike the
    modification time); None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return f"{st.st_dev}:{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}"


def _path() -> str | None:
    d = cache_dir()
    return os.path.join(d, FILE) if d else None


def _load() -> dict[str, Any]:
    p = _path()
    if not p:
        return {}
    try:
        with open(p, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) and data.get("schema") == 1 and isinstance(data.get("answers"), dict) else {}
    except (OSError, ValueError):
        return {}


def get(kind: str, paths: list[str]) -> dict[str, Any]:
    """path → the answer kept for it (only paths whose identity still matches)."""
    answers = _load().get("answers") or {}
    out = {}
    for p in paths:
        key = identity(p)
        if key and f"{kind}|{key}" in answers:
            out[p] = answers[f"{kind}|{key}"]
    return out


def put(kind: str, found: dict[str, Any]) -> None:
    """Keep ``found`` (path → answer); silently nothing when the cache cannot be written."""
    p = _path()
    if not p or not found:
        return
    with _lock:
        data = _load() or {"schema": 1, "answers": {}}
        answers = data.setdefault("answers", {})
        for path, ans in found.items():
            key = identity(path)
            if key:
                answers[f"{kind}|{key}"] = ans
        if len(answers) > MAX_ENTRIES:  # oldest first out (insertion order)
            for k in list(answers)[: len(answers) - MAX_ENTRIES]:
                del answers[k]
        try:
            os.makedirs(os.path.dirname(p), mode=0o700, exist_ok=True)
            tmp = f"{p}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, p)
        except OSError:
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass
