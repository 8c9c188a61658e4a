"""What the ELF readers found in a library, kept between runs under the file's identity.

Reading which symbols libmpi, libopen-pal or hwloc define, and which relocations refer to which,
is pure Python over a few thousand table entries: tens of milliseconds per library, and the MPI
probes read a dozen of them on every ``trtdiag check``.  The answer depends on the file alone, so
it is kept under the file's identity (:func:`trtdiag.probes.answer_cache.identity`: device and
inode, size, modification and change times) and the kind of question.  A library that is
upgraded, rebuilt or replaced has another key and is read again: a stale answer cannot be
returned.

Two layers: a dictionary for this process (what the same run asks twice), and
``elf-facts.json`` beside the library-answer cache (``$TRTDIAG_CACHE_DIR``, else
``$XDG_CACHE_HOME/trtdiag``; ``TRTDIAG_NO_CACHE=1`` keeps only the first layer).  Only successful
reads are kept.  A store that cannot be read or written is ignored: it never changes a finding.
Probes that read ELF files call :func:`flush` when they are done; nothing is written before.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Callable

from . import answer_cache

FILE = "elf-facts.json"
SCHEMA = 1
MAX_ENTRIES = 4096

_lock = threading.Lock()
_memo: dict[tuple[str, str], Any] = {}  # (key, path asked) -> decoded value (this process)
_disk: tuple[str, dict[str, Any]] | None = None  # (file, key -> encoded value), loaded at first use
_new: dict[str, Any] = {}  # encoded values found by this process, not yet written


def _path() -> str | None:
    d = answer_cache.cache_dir()
    return os.path.join(d, FILE) if d else None


def _load_disk(p: str) -> dict[str, Any]:
    global _disk
    if _disk is None or _disk[0] != p:
        data: dict[str, Any] = {}
        if p:
            try:
                with open(p, encoding="utf-8") as fh:
                    raw = json.load(fh)
                if isinstance(raw, dict) and raw.get("schema") == SCHEMA and isinstance(raw.get("facts"), dict):
                    data = raw["facts"]
            except (OSError, ValueError):
                data = {}
        _disk = (p, data)
    return _disk[1]


def cached(kind: str, path, read: Callable[[], Any], encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> Any:
    """``read()``'s answer about the file at ``path``, from the store when its identity is known.
    ``encode``/``decode`` turn the answer into JSON data and back."""
    ident = answer_cache.identity(path)
    if ident is None:
        return read()
    key = f"{kind}|{ident}"
    mkey = (key, os.fspath(path))  # answers name the path they were asked for
    p = _path()
    with _lock:
        if mkey in _memo:
            return _memo[mkey]
        enc = _load_disk(p).get(key) if p else None
    if enc is not None:
        try:
            value = decode(enc)
        except (TypeError, ValueError, KeyError, AttributeError):
            value = None
        if value is not None:
            with _lock:
                _memo[mkey] = value
            return value
    value = read()  # raises on a malformed file: nothing is kept
    with _lock:
        _memo[mkey] = value
        if p:
            _new[key] = encode(value)
    return value


def flush() -> None:
    """Write what this process found (silently nothing when the store cannot be written)."""
    global _disk
    p = _path()
    with _lock:
        if not p or not _new:
            return
        _disk = None  # another process may have written meanwhile: merge into its version
        facts = dict(_load_disk(p))
        facts.update(_new)
        if len(facts) > MAX_ENTRIES:  # oldest first out (insertion order)
            for k in list(facts)[: len(facts) - MAX_ENTRIES]:
                del facts[k]
        tmp = f"{p}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            os.makedirs(os.path.dirname(p), mode=0o700, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"schema": SCHEMA, "facts": facts}, fh, separators=(",", ":"))
            os.replace(tmp, p)
            _disk = (p, facts)
            _new.clear()
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def forget() -> None:
    """Drop this process's layer (tests that rewrite a file in place within one process)."""
    global _disk
    with _lock:
        _memo.clear()
        _new.clear()
        _disk = None


def keeping(fn: Callable) -> Callable:
    """A probe that reads ELF files: links it resolves are remembered while it runs
    (:func:`trtdiag.probes.ldcache.realpath`), and what it found is written when it returns (or raises)."""
    import functools

    from . import ldcache

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with ldcache.remembered_links():
                return fn(*args, **kwargs)
        finally:
            flush()

    return wrapper
