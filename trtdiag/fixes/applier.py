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
    def __init__(self, path: Path, timeout: float):
        self.path, self.timeout, self.fh = path, timeout, None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.fh.seek(0)
                    holder = self.fh.read().strip() or "another process"
                    self.fh.close()
                    raise ApplyRefused(f"another `trtdiag fix --apply` is running ({holder}); try again when it has finished")
                time.sleep(0.05)
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()}")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        try:
            self.fh.seek(0)
            self.fh.truncate()
        finally:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()


def _inside(path: Path, roots: list[Path]) -> bool:
    real = Path(os.path.realpath(path))
    for r in roots:
        rr = Path(os.path.realpath(r))
        if real == rr or rr in real.parents:
            return True
    return False


class Applier:
    def __init__(
        self,
        roots: list[str | Path] | None = None,
        allow_kill: bool = False,
        allow_system: bool = False,
        lock_timeout: float = 10.0,
        echo: Callable[[str], None] | None = None,
        journal_dir: Path | None = None,
        session: str | None = None,
    ):
        self.roots = [Path(r) for r in (roots or [])]
        self.allow_kill = allow_kill
        self.allow_system = allow_system
        self.lock_timeout = lock_timeout
        self.echo = echo or (lambda s: print(s, file=sys.stderr))
        self.dir = Path(journal_dir) if journal_dir else state_dir()
        # one `fix --apply` may apply in rounds (a fix planned on the result of another);
        # `undo` restores every round of the last session
        self.session = session or f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"

    # ---------------------------------------------------------------- apply
    def apply(self, fixes: list[Fix]) -> ApplyResult:
        result = ApplyResult()
        with Lock(self.dir / "lock", self.lock_timeout):
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

    def _check_target(self, path: Path) -> None:
        if path.is_symlink():
            raise ApplyRefused(f"{path}: is a symbolic link; trtdiag does not write through links (edit the file it points to)")
        if self.roots and not _inside(path, self.roots):
            raise ApplyRefused(f"{path}: outside the trees trtdiag was asked to fix ({', '.join(map(str, self.roots))})")

    def _apply_edits(self, edits: list[tuple[Fix, Change]], result: ApplyResult) -> None:
        todo: list[tuple[Path, bytes | None, bytes]] = []
        for fix, ch in edits:
            path = Path(ch.path)
            self._check_target(path)
            try:
                current = path.read_bytes()
            except FileNotFoundError:
                current = None
            except OSError as exc:
                raise ApplyRefused(f"{path}: cannot read ({exc.strerror})") from None
            new = (ch.after or "").encode("utf-8")
            if current == new:
                result.unchanged.append(str(path))
                continue
            before = None if ch.before is None else ch.before.encode("utf-8")
            if before is not None and current != before:
                raise ApplyRefused(f"{path}: changed since the fix was planned; run `trtdiag fix` again")
            todo.append((path, current, new))
        if not todo:
            return
        entry = _new_entry(self.dir)
        (entry / "files").mkdir(parents=True, exist_ok=False)
        manifest = {"schema": JOURNAL_SCHEMA, "session": self.session, "created": time.time(), "status": "pending", "files": []}
        for i, (path, current, new) in enumerate(todo):
            rec = {"path": os.path.abspath(path), "existed": current is not None, "sha_before": _sha(current), "sha_after": _sha(new)}
            if current is not None:
                atomic_write_bytes(entry / "files" / f"{i}.bak", current)
                rec["backup"] = f"files/{i}.bak"
            manifest["files"].append(rec)
        _crash_point("backup")
        atomic_write_text(entry / "manifest.json", json.dumps(manifest, indent=1))
        _crash_point("journal")
        for i, (path, _current, new) in enumerate(todo):
            atomic_write_bytes(path, new)
            result.changed.append(str(path))
            _crash_point(f"write{i}")
        manifest["status"] = "applied"
        atomic_write_text(entry / "manifest.json", json.dumps(manifest, indent=1))
        _crash_point("done")
        result.journal = str(entry)

    def _run_change(self, fix: Fix, ch: Change, result: ApplyResult) -> None:
        if ch.kind == "rebuild":
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
    def undo(self) -> list[str]:
        """Restore every file of the last `fix --apply` (all its rounds), newest change first."""
        restored: list[str] = []
        with Lock(self.dir / "lock", self.lock_timeout):
            jdir = self.dir / "journal"
            session = None
            for entry in sorted(jdir.iterdir(), reverse=True) if jdir.is_dir() else []:
                mf = entry / "manifest.json"
                try:
                    manifest = json.loads(mf.read_text())
                except (OSError, ValueError):
                    continue  # an apply killed before its journal was written touched no file
                if manifest.get("status") not in ("pending", "applied"):
                    continue
                if session is None:
                    session = manifest.get("session", entry.name)
                elif manifest.get("session", entry.name) != session:
                    break
                for rec in manifest.get("files", []):
                    path = Path(rec["path"])
                    if rec.get("existed"):
                        data = (entry / rec["backup"]).read_bytes()
                        if _sha(data) != rec["sha_before"]:
                            raise ApplyRefused(f"backup of {path} in {entry} is damaged; not restoring it")
                        atomic_write_bytes(path, data)
                    else:
                        try:
                            path.unlink()
                        except FileNotFoundError:
                            pass
                    restored.append(str(path))
                for rec in manifest.get("swaps", []):
                    _swap_back(rec, manifest.get("status", "applied"))
                    restored.append(rec["target"])
                manifest["status"] = "undone"
                atomic_write_text(mf, json.dumps(manifest, indent=1))
        return restored


def _new_entry(sdir: Path, suffix: str = "") -> Path:
    """A journal entry folder whose name sorts after every earlier one."""
    base = sdir / "journal"
    base.mkdir(parents=True, exist_ok=True)
    n = len(list(base.iterdir()))
    while True:
        entry = base / f"{n:06d}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}{suffix}"
        if not entry.exists():
            return entry
        n += 1


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
    entry.mkdir(parents=True)
    manifest = {"schema": JOURNAL_SCHEMA, "session": session, "status": "pending", "files": [], "swaps": [rec]}
    atomic_write_text(entry / "manifest.json", json.dumps(manifest, indent=1))
    _crash_point("rebuild-journal")
    os.rename(target, aside)
    _crash_point("rebuild-aside")
    try:
        os.rename(output, target)
    except OSError as exc:
        os.rename(aside, target)  # put the old engine back: everything as it was
        manifest["status"] = "undone"
        atomic_write_text(entry / "manifest.json", json.dumps(manifest, indent=1))
        raise ApplyRefused(f"could not move the new engine into {target} ({exc.strerror}); the old engine is unchanged, the new one is in {output}") from None
    fsync_dir(target.parent)
    _crash_point("rebuild-swapped")
    manifest["status"] = "applied"
    atomic_write_text(entry / "manifest.json", json.dumps(manifest, indent=1))
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
