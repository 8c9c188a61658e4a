"""File reading and writing that broken machines and hostile inputs cannot turn into tracebacks.

Reading: :func:`read_head` reads at most N bytes (an engine header, never a 20 GB file);
:func:`read_text` reads a small text file with a size limit; :func:`read_json` parses JSON.  Each
turns every OS or decoding problem into an :class:`~trtdiag.errors.InputError` with one clear line.

Writing: :func:`atomic_write_bytes` is the one way trtdiag writes a file: a temporary file in the
same directory, fsync, rename over the target, fsync the directory.  A reader (or a crash) sees
either the whole old file or the whole new one.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from typing import Any

from .core.errors import InputError

MAX_TEXT = 16 * 1024 * 1024  # config, JSON and pbtxt files are small; refuse to slurp a weight file


def describe_oserror(path: str | os.PathLike, exc: OSError) -> str:
    p = os.fsdecode(path)
    if exc.errno == errno.ENOENT:
        return f"{p}: no such file or directory"
    if exc.errno == errno.EACCES:
        return f"{p}: permission denied"
    if exc.errno == errno.EISDIR:
        return f"{p}: is a directory, expected a file"
    if exc.errno == errno.ELOOP:
        return f"{p}: too many levels of symbolic links (a symlink loop)"
    if exc.errno == errno.ENOTDIR:
        return f"{p}: a part of the path is not a directory"
    return f"{p}: {exc.strerror or exc}"


def _open_regular(path: str | os.PathLike):
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait forever for a writer; the
    # flag is cleared again once fstat has shown a regular file
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(describe_oserror(path, exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = open(fd, "rb")
    except OSError as exc:  # pragma: no cover
        os.close(fd)
        raise InputError(describe_oserror(path, exc)) from None
    if stat.S_ISDIR(st.st_mode):
        fh.close()
        raise InputError(f"{os.fsdecode(path)}: is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        fh.close()
        raise InputError(f"{os.fsdecode(path)}: not a regular file")
    return fh, st


def read_head(path: str | os.PathLike, n: int) -> tuple[bytes, int]:
    """The first ``n`` bytes of a file and its size; reads nothing more."""
    fh, st = _open_regular(path)
    with fh:
        try:
            return fh.read(n), st.st_size
        except OSError as exc:
            raise InputError(describe_oserror(path, exc)) from None


def read_bytes(path: str | os.PathLike, limit: int = MAX_TEXT) -> bytes:
    fh, st = _open_regular(path)
    with fh:
        if st.st_size > limit:
            raise InputError(f"{os.fsdecode(path)}: {st.st_size:,} bytes, larger than the {limit:,} expected of this kind of file")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise InputError(describe_oserror(path, exc)) from None
    if len(data) > limit:
        raise InputError(f"{os.fsdecode(path)}: grew past {limit:,} bytes while being read")
    return data


def read_text(path: str | os.PathLike, limit: int = MAX_TEXT) -> str:
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{os.fsdecode(path)}: not UTF-8 text (byte {exc.start})") from None


MAX_JSON_DEPTH = 100  # config, tokenizer and snapshot files nest a few levels; a file nested deeper is not one of them


def _finite(text: str) -> float:
    v = float(text)
    if v in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:24]} is out of range")
    return v


def _depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return False
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return True


def loads_json(text: str, where: str) -> Any:
    """JSON from an untrusted file, or one clear :class:`InputError`: malformed, nested deeper
    than MAX_JSON_DEPTH, an integer longer than Python converts (4,300 digits) or a number no
    float holds (1e400)."""
    try:
        value = json.loads(text, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # int digit limit, 1e400
        why = str(exc).split(";")[0].split(":")[0] if "digits" in str(exc) else str(exc)
        raise InputError(f"{where}: not usable JSON ({why})") from None
    if not _depth_ok(value):
        raise InputError(f"{where}: JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def read_json(path: str | os.PathLike, limit: int = MAX_TEXT) -> Any:
    return loads_json(read_text(path, limit), os.fsdecode(path))


def fsync_dir(path: str | os.PathLike) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that the file is always wholly old or wholly new."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = 0o644
    import tempfile  # only when writing

    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".trtdiag-tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)


def atomic_write_text(path: str | os.PathLike, text: str, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def write_output(path: str | os.PathLike, text: str) -> None:
    """Write a report or snapshot the user asked for with ``-o PATH``.

    A regular file (or a new one) is written atomically; through a symbolic link, the file it
    points to (the link stays); a FIFO or a device (``/dev/stdout``) is written in place, never
    replaced.  Any OS problem is one clear :class:`InputError`.
    """
    p = os.fspath(path)
    try:
        if os.path.islink(p):
            real = os.path.realpath(p)
            if os.path.islink(real):
                raise OSError(errno.ELOOP, "a symbolic link that does not resolve (a loop)")
            p = real
        try:
            st = os.stat(p)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise OSError(errno.EISDIR, "is a directory")
        if st is not None and not stat.S_ISREG(st.st_mode):  # a FIFO, /dev/stdout, a terminal
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(text)
            return
        atomic_write_text(p, text)
    except OSError as exc:
        msg = describe_oserror(path, exc) if exc.errno in (errno.ENOENT, errno.EACCES, errno.ELOOP, errno.ENOTDIR) else f"{os.fsdecode(path)}: {exc.strerror or exc}"
        if exc.errno == errno.EISDIR:
            msg = f"{os.fsdecode(path)}: is a directory; give a file name"
        elif exc.errno == errno.ENOENT:
            msg = f"{os.fsdecode(path)}: cannot write here: the folder {os.path.dirname(os.path.abspath(p)) or '.'} does not exist"
        raise InputError(msg) from None


def which(cmd: str, path: str | None = None) -> str | None:
    """``shutil.which`` on POSIX (the first executable ``cmd`` on ``path``, default $PATH), without
    importing shutil and the compression modules it pulls in on every start of the probes."""
    def ok(f: str) -> bool:
        return os.path.exists(f) and os.access(f, os.X_OK) and not os.path.isdir(f)

    if os.path.dirname(cmd):
        return cmd if ok(cmd) else None
    if path is None:
        path = os.environ.get("PATH", None)
        if path is None:
            try:
                path = os.confstr("CS_PATH")
            except (AttributeError, ValueError):
                path = os.defpath
    if not path:
        return None
    seen = set()
    for d in path.split(os.pathsep):
        if d in seen:
            continue
        seen.add(d)
        name = os.path.join(d, cmd)
        if ok(name):
            return name
    return None

