"""The one applier: executes fix plans with backup, journal, lock and undo.

Every change a fix makes goes through here:

``edit``     The new content replaces the file atomically (:func:`trtdiag.fsutil.atomic_write_bytes`).
             Before any file is touched, the old contents are copied into a journal entry and the
             entry's manifest is written (status ``pending``); after the last file, the manifest
             says ``applied``.  A crash (even SIGKILL) at any point leaves each file wholly old or
             wholly new, and ``trtdiag fix --undo`` puts every file of the last entry back.
             A file that already holds the new content is left alone (a second apply changes
             nothing); a file that no longer holds the content the plan was made from is refused.
             Files must lie inside the target trees and must not be symlinks.
``rebuild``  Runs the build (argv, never a shell string) into a new directory; only when it exits
             0 and left an engine there is the old directory renamed aside (kept) and the new one
             moved into its place.  A failed build leaves everything as it was.
``command``  Runs argv.  ``system`` (package managers) needs ``allow_system``; ``kill`` needs
             ``allow_kill`` and never touches PID 1 or another user's process.

Two appliers at once: the second waits up to ``lock_timeout`` seconds for the lock, then refuses.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.errors import TrtdiagError, UsageError
from ..fsutil import atomic_write_bytes, atomic_write_text, fsync_dir
from ..core.finding import Change, Fix

JOURNAL_SCHEMA = "trtdiag.journal/1"


def state_dir() -> Path:
    env = os.environ.get("TRTDIAG_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "trtdiag"


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _crash_point(step: str) -> None:
    """Fault injection for the crash-safety tests: TRTDIAG_CRASH_AT=<step> kills this process
    with SIGKILL when the applier reaches that step.  Never set outside tests."""
    if os.environ.get("TRTDIAG_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


class ApplyRefused(TrtdiagError):
    exit_code = 2


@dataclass
class ApplyResult:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # fixes that need a flag not given
    commands: list[tuple[list[str], int]] = field(default_factory=list)
    journal: str | None = None
    failed: list[str] = field(default_factory=list)
    deferred: list = field(default_factory=list)  # fixes that edit a file another fix of this apply edits


class Lock:
    """An exclusive lock held while one apply or undo runs.

    ``Lock(path)`` locks the file ``path`` (the journal's lock in the state directory; it says
    which process holds it).  ``Lock.tree(directory)`` locks the target directory itself (flock on
    the directory; a file ``.trtdiag.lock`` inside it where the filesystem cannot lock a
    directory), so that two applies with different state directories still take turns on one tree.
    """

    def __init__(self, path: Path, timeout: float, directory: bool = False):
        self.path, self.timeout, self.fh, self.fd, self.directory = Path(path), timeout, None, None, directory

    @classmethod
    def tree(cls, directory: str | os.PathLike, timeout: float) -> "Lock":
        return cls(Path(directory), timeout, directory=True)

    def _open(self) -> None:
        if self.directory:
            try:
                self.fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
                return
            except OSError as exc:
                raise ApplyRefused(_os_reason(self.path, exc, "cannot lock the folder")) from None
        _private_dir(self.path.parent)
        self.fh = open(self.path, "a+")
        self.fd = self.fh.fileno()

    def __enter__(self):
        self._open()
        deadline = time.monotonic() + self.timeout
        fallback = None
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = "another process"
                    if self.fh is not None:
                        self.fh.seek(0)
                        holder = self.fh.read().strip() or holder
                    self._close()
                    where = f" on {self.path}" if self.directory else ""
                    raise ApplyRefused(f"another `trtdiag fix --apply` is running{where} ({holder}); try again when it has finished")
                time.sleep(0.05)
            except OSError as exc:  # a filesystem that cannot lock a directory: a lock file inside it
                if not self.directory or fallback is not None:
                    self._close()
                    raise ApplyRefused(_os_reason(self.path, exc, "cannot lock")) from None
                os.close(self.fd)
                fallback = self.path / ".trtdiag.lock"
                try:
                    self.fh = open(fallback, "a+")
                except OSError as exc2:
                    self.fd = None
                    raise ApplyRefused(_os_reason(fallback, exc2, "cannot lock")) from None
                self.fd = self.fh.fileno()
        if self.fh is not None:
            self.fh.seek(0)
            self.fh.truncate()
            self.fh.write(f"pid {os.getpid()}")
            self.fh.flush()
        return self

    def _close(self) -> None:
        if self.fh is not None:
            self.fh.close()
        elif self.fd is not None:
            os.close(self.fd)
        self.fh = self.fd = None

    def __exit__(self, *exc):
        try:
            if self.fh is not None:
                self.fh.seek(0)
                self.fh.truncate()
        finally:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            self._close()


class _Locks:
    """Several locks taken in a fixed order (trees sorted by path, then the journal's)."""

    def __init__(self, locks: list[Lock]):
        self.locks, self.held = locks, []

    def __enter__(self):
        try:
            for lk in self.locks:
                lk.__enter__()
                self.held.append(lk)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        while self.held:
            self.held.pop().__exit__()


def _os_reason(path, exc: OSError, what: str = "") -> str:
    from ..fsutil import describe_oserror

    return (f"{what} " if what else "") + describe_oserror(path, exc)


def _private_dir(d: Path) -> None:
    """Create ``d`` (and its parents) for trtdiag's own state: the folders it creates are 0700."""
    d = Path(d)
    missing = []
    p = d
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for m in reversed(missing):
        try:
            m.mkdir(mode=0o700)
        except FileExistsError:
            pass
        os.chmod(m, 0o700)


def _inside(path: Path, roots: list[Path]) -> bool:
    real = Path(os.path.realpath(path))
    for r in roots:
        rr = Path(os.path.realpath(r))
        if real == rr or rr in real.parents:
            return True
    return False


def resolve_root(path: str | os.PathLike) -> str:
    """A target root as the applier keeps it: absolute, every symbolic link resolved (once)."""
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def _under(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip("/") + "/")


def _read_live(path: Path) -> bytes | None:
    """A target's bytes now (None: no such file).  Never follows a link at the last component."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise ApplyRefused(f"{path}: is now a symbolic link; trtdiag does not write through links")
    if not stat.S_ISREG(st.st_mode):
        raise ApplyRefused(f"{path}: is not a regular file")
    with open(path, "rb") as fh:
        return fh.read()


def clean_stale_temps(path: Path) -> list[str]:
    """Remove the temporary files a killed write of ``path`` left beside it (``.NAME.*.trtdiag-tmp``,
    made by :func:`trtdiag.fsutil.atomic_write_bytes`).  Called under the tree's lock."""
    gone = []
    d = path.parent
    prefix, suffix = f".{path.name}.", ".trtdiag-tmp"
    try:
        names = os.listdir(d)
    except OSError:
        return gone
    for n in names:
        if n.startswith(prefix) and n.endswith(suffix):
            p = d / n
            try:
                if stat.S_ISREG(os.lstat(p).st_mode):
                    os.unlink(p)
                    gone.append(str(p))
            except OSError:
                pass
    return gone


class Applier:
    """Applies fixes inside ``roots`` only.

    ``roots``: the directories named on the command line (resolved once, here); every file an
    edit writes must resolve (symbolic links followed) to a path inside one of them, and the file
    itself must not be a link.  ``files``: single files that may be written although no root holds
    them (the env file a fix creates in the current directory); the current directory itself is
    never a root.  With neither, no file is written.
    """

    def __init__(
        self,
        roots: list[str | Path] | None = None,
        allow_kill: bool = False,
        allow_system: bool = False,
        lock_timeout: float = 10.0,
        echo: Callable[[str], None] | None = None,
        journal_dir: Path | None = None,
        session: str | None = None,
        files: list[str | Path] | None = None,
        output_roots: list[str | Path] | None = None,
    ):
        self.roots = sorted({resolve_root(r) for r in (roots or [])})
        self.files = sorted({resolve_root(f) for f in (files or [])})
        self.output_roots = sorted({resolve_root(r) for r in (output_roots or [])})
        self.allow_kill = allow_kill
        self.allow_system = allow_system
        self.lock_timeout = lock_timeout
        self.echo = echo or (lambda s: print(s, file=sys.stderr))
        self.dir = Path(journal_dir) if journal_dir else state_dir()
        # one `fix --apply` may apply in rounds (a fix planned on the result of another);
        # `undo` restores every round of the last session
        self.session = session or f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"

    def _lock_dirs(self, roots: list[str]) -> list[Lock]:
        dirs = set()
        for r in roots:
            d = r if os.path.isdir(r) else os.path.dirname(r)
            if os.path.isdir(d):
                dirs.add(d)
        return [Lock.tree(d, self.lock_timeout) for d in sorted(dirs)]

    def _locks(self, roots: list[str]) -> _Locks:
        return _Locks(self._lock_dirs(roots) + [Lock(self.dir / "lock", self.lock_timeout)])

    # ---------------------------------------------------------------- apply
    def apply(self, fixes: list[Fix]) -> ApplyResult:
        result = ApplyResult()
        try:
            with self._locks(self.roots + self.files):
                edits: list[tuple[Fix, Change]] = []
                others: list[tuple[Fix, Change]] = []
                taken: set[str] = set()
                for fix in fixes:
                    need = self._needs_flag(fix)
                    if need:
                        result.skipped.append(f"{fix.id}: needs {need}")
                        continue
                    paths = {os.path.abspath(c.path) for c in fix.changes if c.kind == "edit"}
                    if paths & taken:
                        result.deferred.append(fix)  # re-plan after this round
                        continue
                    taken |= paths
                    for ch in fix.changes:
                        (edits if ch.kind == "edit" else others).append((fix, ch))
                self._apply_edits(edits, result)
                for fix, ch in others:
                    self._run_change(fix, ch, result)
        except OSError as exc:
            raise ApplyRefused(_os_reason(getattr(exc, "filename", None) or "?", exc, "cannot apply:")) from None
        return result

    def _needs_flag(self, fix: Fix) -> str | None:
        kinds = {c.kind for c in fix.changes}
        if "kill" in kinds and not self.allow_kill:
            return "--kill"
        if "system" in kinds and not self.allow_system:
            return "--allow-system-changes"
        if fix.requires == "--kill" and not self.allow_kill:
            return "--kill"
        if fix.requires == "--allow-system-changes" and not self.allow_system:
            return "--allow-system-changes"
        return None

    def _where(self) -> str:
        named = self.roots + self.files
        return ", ".join(named) if named else "none named"

    def _check_target(self, path: Path) -> Path:
        """The path to write for ``path``: its folder resolved, inside a root; refused otherwise."""
        path = Path(os.path.abspath(path))
        if path.is_symlink():
            raise ApplyRefused(f"{path}: is a symbolic link; trtdiag does not write through links (edit the file it points to)")
        real = os.path.join(os.path.realpath(path.parent), path.name)
        if real in self.files or any(_under(real, r) for r in self.roots):
            return Path(real)
        raise ApplyRefused(f"{path}: resolves to {real}, outside the folders named on the command line ({self._where()}); nothing was changed"
                           if real != str(path) else
                           f"{path}: outside the folders named on the command line ({self._where()}); nothing was changed")

    def _apply_edits(self, edits: list[tuple[Fix, Change]], result: ApplyResult) -> None:
        todo: list[tuple[Path, bytes | None, bytes, int | None]] = []
        for fix, ch in edits:
            shown = Path(ch.path)
            path = self._check_target(shown)
            clean_stale_temps(path)
            try:
                current = _read_live(path)
                mode = stat.S_IMODE(os.stat(path).st_mode) if current is not None else None
            except OSError as exc:
                raise ApplyRefused(_os_reason(path, exc, "cannot read")) from None
            new = (ch.after or "").encode("utf-8")
            if current == new:
                result.unchanged.append(str(shown))
                continue
            before = None if ch.before is None else ch.before.encode("utf-8")
            if before is None and current is not None:
                raise ApplyRefused(f"{shown}: exists now, but the fix was planned to create it; run `trtdiag fix` again")
            if before is not None and current != before:
                raise ApplyRefused(f"{shown}: changed since the fix was planned (or differs from the snapshot it was planned from); run `trtdiag fix` again")
            todo.append((path, current, new, mode))
        if not todo:
            return
        try:
            entry = _new_entry(self.dir)
            _private_dir(entry / "files")
            manifest = {"schema": JOURNAL_SCHEMA, "session": self.session, "created": time.time(), "status": "pending",
                        "roots": self.roots + self.files, "files": []}
            for i, (path, current, new, mode) in enumerate(todo):
                rec = {"path": str(path), "existed": current is not None, "sha_before": _sha(current), "sha_after": _sha(new), "mode": mode}
                if current is not None:
                    atomic_write_bytes(entry / "files" / f"{i}.bak", current, mode=(mode or 0o600) & 0o777)
                    rec["backup"] = f"files/{i}.bak"
                manifest["files"].append(rec)
            _crash_point("backup")
            _write_manifest(entry, manifest)
        except OSError as exc:
            raise ApplyRefused(f"cannot keep the backups in {self.dir} ({exc.strerror or exc}); nothing was changed "
                               "(set TRTDIAG_STATE_DIR to a writable folder)") from None
        _crash_point("journal")
        written: list[tuple[Path, bytes | None, int | None]] = []
        for i, (path, current, new, mode) in enumerate(todo):
            try:
                atomic_write_bytes(path, new)
            except OSError as exc:
                self._roll_back(entry, manifest, written, path, exc)
            written.append((path, current, mode))
            result.changed.append(str(path))
            _crash_point(f"write{i}")
        manifest["status"] = "applied"
        try:
            _write_manifest(entry, manifest)
        except OSError:
            pass  # the entry stays "pending": undo handles a pending entry the same way
        _crash_point("done")
        result.journal = str(entry)

    def _roll_back(self, entry: Path, manifest: dict, written: list, failed: Path, exc: OSError) -> None:
        """A write failed (disk full, read-only, permission): put back the files written before it."""
        left = []
        for path, current, mode in reversed(written):
            try:
                if current is None:
                    os.unlink(path)
                else:
                    atomic_write_bytes(path, current, mode=mode)
            except OSError:
                left.append(str(path))
        why = f"cannot write {failed} ({exc.strerror or exc})"
        if not left:
            manifest["status"] = "undone"
            try:
                _write_manifest(entry, manifest)
            except OSError:
                pass
            raise ApplyRefused(f"{why}; the {len(written)} file(s) written before it were put back: nothing is changed")
        roots = " ".join(self.roots)
        raise ApplyRefused(f"{why}; still changed: {', '.join(left)}; the backups are in {entry}; "
                           f"undo with: trtdiag fix --undo{' (target ' + roots + ')' if roots else ''}")

    def _check_output(self, ch: Change) -> None:
        """A rebuild replaces ``target`` (inside a root) with ``output``, built beside it or in a
        folder named with --output-dir."""
        target = resolve_root(ch.target)
        if not any(_under(target, r) for r in self.roots):
            raise ApplyRefused(f"{ch.target}: outside the folders named on the command line ({self._where()}); not rebuilt")
        out_parent = resolve_root(os.path.dirname(os.path.abspath(ch.output)))
        allowed = self.roots + self.output_roots + [os.path.dirname(target)]
        if not any(_under(out_parent, r) for r in allowed):
            raise ApplyRefused(f"{ch.output}: a rebuild writes beside the engine or into --output-dir; not rebuilt")

    def _run_change(self, fix: Fix, ch: Change, result: ApplyResult) -> None:
        if ch.kind == "rebuild":
            try:
                self._check_output(ch)
            except ApplyRefused as exc:  # the edits of this apply stand; this one is reported, not run
                result.failed.append(f"{fix.id}: {exc}")
                return
            rc = run_rebuild(ch, self.echo, self.dir, self.session)
            result.commands.append((list(ch.argv or []), rc))
            (result.changed if rc == 0 else result.failed).append(ch.target or fix.id)
        elif ch.kind in ("command", "system"):
            self.echo("$ " + " ".join(ch.argv or []))
            rc = run_streaming(list(ch.argv or []), cwd=ch.cwd, echo=self.echo)
            result.commands.append((list(ch.argv or []), rc))
            if rc != 0:
                result.failed.append(f"{fix.id}: `{' '.join(ch.argv or [])}` exited {rc}")
        elif ch.kind == "kill":
            kill_process(int(ch.pid), self.echo)
            result.changed.append(f"pid {ch.pid} stopped")
        else:
            raise UsageError(f"unknown change kind {ch.kind!r} in fix {fix.id}")

    # ---------------------------------------------------------------- undo
    def last_apply(self, target: list[str | Path] | None = None) -> "UndoPlan":
        """What `undo` would restore: the last apply (all its rounds) to ``target`` (folders; None:
        the last apply anywhere), every file checked, nothing touched."""
        try:
            return _plan_undo(self.dir, [resolve_root(t) for t in (target or [])])
        except OSError as exc:
            raise ApplyRefused(_os_reason(getattr(exc, "filename", None) or self.dir, exc, "cannot read the journal:")) from None

    def undo(self, target: list[str | Path] | None = None, plan: "UndoPlan | None" = None) -> list[str]:
        """Restore every file of the last `fix --apply` (to ``target``), newest change first.

        A checked transaction: every file must still hold what the apply wrote (or, already, what
        it held before), every backup must be there with its recorded hash, and the journal must
        be whole; otherwise nothing is restored and :class:`ApplyRefused` names the problems and
        what could still be restored."""
        try:
            with Lock(self.dir / "lock", self.lock_timeout):
                first = plan or self.last_apply(target)
                if first.empty:
                    return []
                with _Locks(self._lock_dirs(first.roots)):
                    up = self.last_apply(target)  # again, under the trees' locks
                    if up.entries != first.entries:
                        raise ApplyRefused("the journal changed while undo was starting; run `trtdiag fix --undo` again")
                    up.raise_problems()
                    return up.execute()
        except OSError as exc:
            raise ApplyRefused(_os_reason(getattr(exc, "filename", None) or self.dir, exc, "cannot undo:")) from None


def _write_manifest(entry: Path, manifest: dict) -> None:
    atomic_write_text(entry / "manifest.json", json.dumps(manifest, indent=1), mode=0o600)


@dataclass
class _Step:
    path: str
    action: str  # "restore" | "remove" | "none"
    data: bytes | None = None
    mode: int | None = None


@dataclass
class UndoPlan:
    entries: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    created: float | None = None
    steps: list[_Step] = field(default_factory=list)
    swaps: list[tuple[dict, str]] = field(default_factory=list)
    manifests: list[tuple[Path, dict]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # files edited after the apply
    damaged: list[str] = field(default_factory=list)  # journal problems
    restorable: list[str] = field(default_factory=list)  # what a whole journal would still restore

    @property
    def empty(self) -> bool:
        return not self.entries and not self.damaged

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created)) if self.created else "an unknown time"
        return f"the apply of {when} to {', '.join(self.roots) or 'unrecorded folders'} ({len(self.entries)} journal entr{'y' if len(self.entries) == 1 else 'ies'})"

    def raise_problems(self) -> None:
        if not (self.changed or self.damaged):
            return
        parts = []
        if self.changed:
            parts.append("changed after the apply (undo would lose those edits): " + ", ".join(self.changed))
        if self.damaged:
            parts.append("journal damaged: " + "; ".join(self.damaged))
        tail = ("; these could still be restored by hand from their backups: " + ", ".join(self.restorable)) if self.restorable else ""
        raise ApplyRefused("nothing was restored: " + "; ".join(parts) + tail)

    def execute(self) -> list[str]:
        restored: list[str] = []
        for st in self.steps:
            p = Path(st.path)
            if st.action == "none":
                continue
            clean_stale_temps(p)
            try:
                if st.action == "restore":
                    atomic_write_bytes(p, st.data or b"", mode=st.mode)
                else:
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
            except OSError as exc:
                raise ApplyRefused(f"{_os_reason(p, exc, 'cannot restore')}; restored before it: {', '.join(restored) or 'none'}; "
                                   "`trtdiag fix --undo` again (once that is fixed) restores the rest") from None
            restored.append(st.path)
        for rec, status in self.swaps:
            _swap_back(rec, status)
            restored.append(rec["target"])
        for entry, manifest in self.manifests:
            manifest["status"] = "undone"
            _write_manifest(entry, manifest)
        return sorted(set(restored), key=restored.index)


def _load_manifest(entry: Path) -> tuple[dict | None, str | None]:
    """(manifest, None), (None, None) for an entry whose apply was killed before its journal was
    written (it touched no file), or (None, why) for a damaged one."""
    mf = entry / "manifest.json"
    try:
        text = mf.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{mf}: cannot read ({getattr(exc, 'strerror', None) or exc})"
    try:
        m = json.loads(text)
    except (ValueError, RecursionError):
        return None, f"{mf}: not valid JSON"
    if not isinstance(m, dict) or not isinstance(m.get("files", []), list) or not isinstance(m.get("swaps", []), list) \
            or not all(isinstance(r, dict) and isinstance(r.get("path"), str) for r in m.get("files", [])):
        return None, f"{mf}: not a trtdiag journal manifest"
    return m, None


def _entry_roots(m: dict) -> list[str]:
    roots = [r for r in m.get("roots") or [] if isinstance(r, str)]
    if not roots:  # journals written before roots were recorded: the folders of the files
        roots = sorted({os.path.dirname(r["path"]) for r in m.get("files", [])} | {os.path.dirname(s.get("target", "")) for s in m.get("swaps", []) if isinstance(s, dict)})
    return roots


def _matches(m: dict, target: list[str]) -> bool:
    if not target:
        return True
    paths = [r["path"] for r in m.get("files", [])] + [s.get("target", "") for s in m.get("swaps", []) if isinstance(s, dict)]
    for t in target:
        if t in _entry_roots(m) or any(_under(p, t) for p in paths):
            return True
    return False


def _plan_undo(sdir: Path, target: list[str]) -> UndoPlan:
    plan = UndoPlan()
    jdir = sdir / "journal"
    try:
        names = sorted(os.listdir(jdir), reverse=True) if jdir.is_dir() else []
    except OSError as exc:
        raise ApplyRefused(_os_reason(jdir, exc, "cannot read the journal:")) from None
    session = None
    newer_damaged: list[str] = []
    chosen: list[tuple[Path, dict]] = []
    for name in names:
        entry = jdir / name
        if not entry.is_dir():
            continue
        m, why = _load_manifest(entry)
        if why:
            if session is None:
                newer_damaged.append(why)
            continue
        if m is None or m.get("status") not in ("pending", "applied"):
            continue
        sess = m.get("session", name)
        if session is None:
            if not _matches(m, target):
                continue
            session = sess
        if sess == session:
            chosen.append((entry, m))
    if not chosen:
        if newer_damaged:
            plan.damaged = newer_damaged
            plan.entries = []
            plan.raise_problems()
        return plan
    plan.damaged += [w + " (newer than the apply to undo; remove that entry folder if it is not needed)" for w in newer_damaged]
    plan.entries = [str(e) for e, _ in chosen]
    plan.manifests = chosen
    plan.roots = sorted({r for _, m in chosen for r in _entry_roots(m)})
    created = [m.get("created") for _, m in chosen if isinstance(m.get("created"), (int, float))]
    plan.created = min(created) if created else None
    state: dict[str, str | None] = {}  # path -> sha the file holds (as the undo goes along)
    for entry, m in chosen:  # newest entry first; within one, the files in reverse
        for rec in reversed(m.get("files", [])):
            path = rec["path"]
            if path not in state:
                try:
                    state[path] = _sha(_read_live(Path(path)))
                except ApplyRefused as exc:
                    plan.changed.append(f"{path} ({str(exc).split(': ', 1)[-1]})")
                    state[path] = "?"
                    continue
                except OSError as exc:
                    plan.damaged.append(_os_reason(path, exc, "cannot read"))
                    state[path] = "?"
                    continue
            now = state[path]
            if now == "?":
                continue
            before, after = rec.get("sha_before"), rec.get("sha_after")
            if now == before:
                continue  # already as before (a killed apply that never reached it, or undone)
            if now != after:
                plan.changed.append(path if now is not None else f"{path} (removed since the apply)")
                state[path] = "?"
                continue
            if rec.get("existed"):
                bak = entry / str(rec.get("backup", ""))
                try:
                    data = bak.read_bytes() if rec.get("backup") else None
                except OSError as exc:
                    data, err = None, exc.strerror
                else:
                    err = None if data is not None else "not recorded"
                if data is None:
                    plan.damaged.append(f"backup of {path} ({bak}) is missing ({err})")
                    state[path] = "?"
                    continue
                if _sha(data) != before:
                    plan.damaged.append(f"backup of {path} ({bak}) is damaged (its hash differs from the one recorded)")
                    state[path] = "?"
                    continue
                mode = rec.get("mode") if isinstance(rec.get("mode"), int) else None
                plan.steps.append(_Step(path, "restore", data, mode))
                plan.restorable.append(f"{path} <- {bak}")
            else:
                plan.steps.append(_Step(path, "remove"))
                plan.restorable.append(f"{path} (remove: the apply created it)")
            state[path] = before
        for rec in m.get("swaps", []):
            if not isinstance(rec, dict) or not all(isinstance(rec.get(k), str) for k in ("target", "aside")):
                plan.damaged.append(f"{entry / 'manifest.json'}: a rebuild record without its folders")
                continue
            status = m.get("status", "applied")
            aside, tgt = Path(rec["aside"]), Path(rec["target"])
            if not aside.exists() and not (status == "pending" and tgt.exists()):
                plan.damaged.append(f"{aside}: the engine kept before the rebuild is gone; cannot undo the swap of {tgt}")
                continue
            plan.swaps.append((rec, status))
            plan.restorable.append(f"{tgt} <- {aside}")
    return plan


def _new_entry(sdir: Path, suffix: str = "") -> Path:
    """A journal entry folder whose name sorts after every earlier one (created, mode 0700)."""
    base = sdir / "journal"
    _private_dir(base)
    n = len(os.listdir(base))
    while True:
        entry = base / f"{n:06d}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}{suffix}"
        try:
            entry.mkdir(mode=0o700)
        except FileExistsError:
            n += 1
            continue
        os.chmod(entry, 0o700)
        return entry


# -------------------------------------------------------------------- processes
def run_streaming(argv: list[str], cwd: str | None = None, echo: Callable[[str], None] | None = None, timeout: float | None = None) -> int:
    """Run argv (no shell), echoing its output line by line; kill its process group on timeout."""
    echo = echo or (lambda s: print(s, file=sys.stderr))
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        echo(f"cannot run {argv[0]}: {exc.strerror}")
        return 127
    deadline = None if timeout is None else time.monotonic() + timeout
    assert proc.stdout is not None
    for raw in proc.stdout:
        echo("  " + raw.decode("utf-8", "replace").rstrip())
        if deadline and time.monotonic() > deadline:
            break
    try:
        return proc.wait(timeout=None if deadline is None else max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return 124


def kill_process(pid: int, echo: Callable[[str], None]) -> None:
    import psutil

    if pid <= 1:
        raise ApplyRefused(f"refusing to stop PID {pid}")
    p = psutil.Process(pid)
    if p.uids().real != os.getuid() and os.getuid() != 0:
        raise ApplyRefused(f"PID {pid} belongs to another user; refusing to stop it")
    if os.getuid() == 0 and p.uids().real != 0 and p.username() != _username():
        raise ApplyRefused(f"PID {pid} belongs to another user ({p.username()}); refusing to stop it")
    echo(f"stopping PID {pid} ({p.name()}) with SIGTERM")
    p.terminate()
    try:
        p.wait(timeout=10)
    except psutil.TimeoutExpired:
        echo(f"PID {pid} did not stop in 10 s; sending SIGKILL")
        p.kill()


def _username() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return ""


# -------------------------------------------------------------------- rebuilds
def _has_engine(d: Path) -> bool:
    def nonempty(p: Path) -> bool:
        try:
            return p.is_file() and p.stat().st_size > 0
        except OSError:  # a broken link
            return False

    return d.is_dir() and any(p.suffix in (".engine", ".plan") and nonempty(p) for p in d.iterdir())


def run_rebuild(ch: Change, echo: Callable[[str], None], sdir: Path, session: str = "") -> int:
    """Build into ch.output; swap it into ch.target only on success."""
    output, target = Path(ch.output), Path(ch.target)
    if output.exists():
        raise ApplyRefused(f"{output} already exists; remove it or choose another --output-dir")
    if target.is_dir():
        # the swap is two renames: both folders must be on one filesystem, checked before building
        out_parent = output.parent if output.parent.exists() else output.parent.parent
        if os.stat(out_parent).st_dev != os.stat(target.parent).st_dev:
            raise ApplyRefused(f"{output} is on another filesystem than {target}; choose an --output-dir beside the engine")
    echo("$ " + " ".join(ch.argv or []))
    rc = run_streaming(list(ch.argv or []), cwd=ch.cwd, echo=echo)
    _crash_point("rebuild-built")
    if rc != 0 or not _has_engine(output):
        why = f"exited {rc}" if rc != 0 else f"left no engine in {output}"
        echo(f"build failed ({why}); {target} is unchanged")
        if output.exists():
            shutil.rmtree(output, ignore_errors=True)
        return rc or 1
    if target.is_file():  # a single plan file: keep it, point at the new directory
        echo(f"new engine built in {output}; the old plan {target} is kept")
        return 0
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = target.with_name(f"{target.name}.before-rebuild-{stamp}")
    n = 1
    while aside.exists():
        aside = target.with_name(f"{target.name}.before-rebuild-{stamp}-{n}")
        n += 1
    # journal first (status pending), then the two renames: a crash between them leaves the old
    # engine at `aside` and `trtdiag fix --undo` puts it back
    rec = {"target": str(target.resolve()), "aside": str(aside.parent.resolve() / aside.name), "output": str(output.resolve())}
    entry = _new_entry(sdir, "-rebuild")
    manifest = {"schema": JOURNAL_SCHEMA, "session": session, "created": time.time(), "status": "pending",
                "roots": [rec["target"]], "files": [], "swaps": [rec]}
    _write_manifest(entry, manifest)
    _crash_point("rebuild-journal")
    os.rename(target, aside)
    _crash_point("rebuild-aside")
    try:
        os.rename(output, target)
    except OSError as exc:
        os.rename(aside, target)  # put the old engine back: everything as it was
        manifest["status"] = "undone"
        _write_manifest(entry, manifest)
        raise ApplyRefused(f"could not move the new engine into {target} ({exc.strerror}); the old engine is unchanged, the new one is in {output}") from None
    fsync_dir(target.parent)
    _crash_point("rebuild-swapped")
    manifest["status"] = "applied"
    _write_manifest(entry, manifest)
    echo(f"engine rebuilt into {target}; the old one is kept at {aside}")
    return 0


def _swap_back(rec: dict, status: str = "applied") -> None:
    target, aside = Path(rec["target"]), Path(rec["aside"])
    if status == "pending" and not aside.exists() and target.exists():
        return  # killed before the old engine was moved aside: nothing was swapped
    if status == "pending" and aside.exists() and not target.exists():
        os.rename(aside, target)  # killed between the two renames
        return
    if not aside.exists():
        raise ApplyRefused(f"{aside}: the engine kept before the rebuild is gone; cannot undo the swap")
    failed = target.with_name(target.name + ".undone-" + time.strftime("%Y%m%dT%H%M%S"))
    if target.exists():
        os.rename(target, failed)
    os.rename(aside, target)
