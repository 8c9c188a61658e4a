"""Facts: what probes gather, once, for every check.

A probe is a function registered under a dotted name (``trt.libraries``, ``gpu.inventory``); the
part before the first dot names its module in :mod:`trtdiag.probes`, which is imported only when a
check first asks for one of its facts.  A probe returns plain JSON data (dicts, lists, strings,
numbers), so a :class:`Facts` can be written out as a snapshot (``trtdiag collect``) and read back
(``trtdiag check --from``) and every check gives the same findings on either.

A probe that fails raises; the failure is remembered, so the next check that asks gets the same
error without probing again.  :class:`~trtdiag.errors.InputError` (a file the user named cannot
be read) is not caught here: it ends the run with exit code 2.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Callable

from .errors import InputError, ProbeError

SNAPSHOT_SCHEMA = "trtdiag.snapshot/1"

PROBES: dict[str, Callable[["Facts"], Any]] = {}
#: derived facts: computed from other facts (never from the machine), cached per Facts and never
#: written to a snapshot (a replay derives them again); ``name`` → module ``trtdiag.derive.<part>``
DERIVED: dict[str, Callable[["Facts"], Any]] = {}


def probe(name: str):
    """Register ``func(facts) -> json-able data`` as the probe for ``name``."""

    def deco(func):
        PROBES[name] = func
        return func

    return deco


def derived(name: str):
    """Register ``func(facts) -> value`` as derived fact ``name`` (see :meth:`Facts.derived`)."""

    def deco(func):
        DERIVED[name] = func
        return func

    return deco


class Facts:
    def __init__(self, options: dict[str, Any] | None = None, snapshot: dict[str, Any] | None = None):
        self.options: dict[str, Any] = dict(options or {})
        self._values: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._derived: dict[str, Any] = {}
        self._locks: dict[str, threading.RLock] = {}  # one per fact: probes may run in threads (prefetch)
        self._threads: list[threading.Thread] = []  # started by prefetch (settle waits for them)
        self.from_snapshot = snapshot is not None
        if snapshot is not None:
            if snapshot.get("schema") != SNAPSHOT_SCHEMA:
                raise InputError(f"not a trtdiag snapshot (schema {snapshot.get('schema')!r}, expected {SNAPSHOT_SCHEMA!r})")
            self._values.update(snapshot.get("facts", {}))
            self._errors.update(snapshot.get("errors", {}))
            # options recorded on the machine win, except those given here explicitly
            merged = dict(snapshot.get("options", {}))
            merged.update({k: v for k, v in self.options.items() if v is not None and v is not False and v != []})
            self.options = merged

    def opt(self, name: str, default: Any = None) -> Any:
        v = self.options.get(name)
        return default if v is None else v

    def __getitem__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        if name in self._errors:
            raise ProbeError(self._errors[name])
        if self.from_snapshot:
            raise ProbeError(f"{name}: not recorded in the snapshot")
        with self._locks.setdefault(name, threading.RLock()):
            if name in self._values:  # another thread probed it while this one waited
                return self._values[name]
            if name in self._errors:
                raise ProbeError(self._errors[name])
            return self._probe(name)

    def _probe(self, name: str) -> Any:
        func = PROBES.get(name)
        if func is None:
            try:
                importlib.import_module(f"trtdiag.probes.{name.split('.')[0]}")
            except ImportError as exc:
                self._errors[name] = f"{name}: probe module missing ({exc})"
                raise ProbeError(self._errors[name]) from exc
            func = PROBES.get(name)
            if func is None:
                self._errors[name] = f"{name}: no such probe"
                raise ProbeError(self._errors[name])
        try:
            value = func(self)
        except InputError:
            raise
        except Exception as exc:  # a broken machine is what we diagnose: remember and report
            msg = f"{name}: {type(exc).__name__}: {exc}"
            self._errors[name] = msg
            raise ProbeError(msg) from exc
        self._values[name] = value
        return value

    def prefetch(self, names) -> list[threading.Thread]:
        """Start the probes ``names`` in threads, so that those that wait on a child process, a
        library or the driver overlap; the rules then find them done (or wait for them)."""
        if self.from_snapshot:
            return []

        def one(n: str) -> None:
            try:
                self[n]
            except Exception:  # remembered as the fact's error, or raised again when a rule asks
                pass

        threads = [threading.Thread(target=one, args=(n,), name=f"probe {n}", daemon=True)
                   for n in dict.fromkeys(names) if n not in self._values and n not in self._errors]
        for t in threads:
            t.start()
        self._threads += threads
        return threads

    def settle(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` seconds in all) for the probes :meth:`prefetch` started.  A run
        that stops early (bad input) calls it, so the interpreter never finalises under a probe
        thread still reading a library: a daemon thread caught in its C code there can crash
        the process after the error line was printed."""
        import time

        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, end - time.monotonic()))

    def done(self, name: str) -> bool:
        """Whether ``name`` was probed already (its value or its error is known): never probes."""
        return name in self._values or name in self._errors

    def known(self, name: str, default: Any = None) -> Any:
        """The fact when it was already probed (or recorded), else ``default``: never probes."""
        return self._values.get(name, default)

    def get(self, name: str, default: Any = None) -> Any:
        """The fact, or ``default`` when its probe failed."""
        try:
            return self[name]
        except ProbeError:
            return default

    def derived(self, name: str) -> Any:
        """A derived fact (the memory plan, the other ranks' findings …): computed once from the
        facts by the function registered under ``name`` in ``trtdiag.derive``."""
        if name not in self._derived:
            func = DERIVED.get(name)
            if func is None:
                importlib.import_module(f"trtdiag.derive.{name.split('.')[0]}")
                func = DERIVED[name]
            self._derived[name] = func(self)
        return self._derived[name]

    def set(self, name: str, value: Any) -> None:
        self._values[name] = value

    # ---------------------------------------------------------------- recorded file reads
    def file_text(self, path: str, limit: int = 16 << 20) -> str | None:
        """The text of ``path`` as this machine has it, recorded in the snapshot (``files.text``).

        None when the file is absent; :class:`~trtdiag.core.errors.InputError` (recorded too) when
        it exists but cannot be read as text.  The fix planner reads files only through here, so
        ``fix --from SNAPSHOT`` plans from what the machine held, byte for byte.
        """
        rec = self._values.setdefault("files.text", {})
        key = str(path)
        if key not in rec:
            if self.from_snapshot:
                raise ProbeError(f"files.text: {key}: not recorded in the snapshot")
            import os

            from ..fsutil import read_text

            if not os.path.lexists(key):
                rec[key] = None
            else:
                try:
                    rec[key] = {"text": read_text(key, limit=limit)}
                except InputError as exc:
                    rec[key] = {"error": str(exc)}
        v = rec[key]
        if v is None:
            return None
        if isinstance(v, dict) and "error" in v:
            raise InputError(str(v["error"]))
        return v.get("text") if isinstance(v, dict) else None

    def path_info(self, path: str) -> dict[str, Any]:
        """What ``path`` is on this machine (exists, is_dir, device of it or its nearest existing
        parent, absolute path), recorded in the snapshot (``files.info``)."""
        rec = self._values.setdefault("files.info", {})
        key = str(path)
        if key not in rec:
            if self.from_snapshot:
                raise ProbeError(f"files.info: {key}: not recorded in the snapshot")
            import os

            p = os.path.abspath(key)
            q = p
            while not os.path.exists(q) and os.path.dirname(q) != q:
                q = os.path.dirname(q)
            try:
                dev = os.stat(q).st_dev
            except OSError:
                dev = None
            rec[key] = {"abspath": p, "exists": os.path.exists(p), "is_dir": os.path.isdir(p),
                        "is_file": os.path.isfile(p), "executable": os.access(p, os.X_OK) and os.path.isfile(p),
                        "dev": dev, "realpath": os.path.realpath(p),
                        "size": os.path.getsize(p) if os.path.isfile(p) else None}
        return rec[key]

    def snapshot(self) -> dict[str, Any]:
        from .. import __version__

        return {
            "schema": SNAPSHOT_SCHEMA,
            "trtdiag_version": __version__,
            "options": self.options,
            "facts": self._values,
            "errors": self._errors,
        }
