"""Child processes: the only way trtdiag runs what might crash, hang or be the broken thing.

:func:`run` takes an argv list (never a shell string), always has a timeout, starts the child in
its own session and kills the whole process group when the time is up, so a hung import or a
daemon the child started cannot outlive the check.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass


@dataclass
class Result:
    argv: list[str]
    returncode: int | None  # None: killed on timeout, or could not start
    stdout: str
    stderr: str
    timed_out: bool = False
    error: str | None = None  # could not start (no such file, permission)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run(argv: list[str], timeout: float = 10.0, env: dict | None = None, cwd: str | None = None, input: str | None = None) -> Result:
    if isinstance(argv, str):  # pragma: no cover - a programming error, never user input
        raise TypeError("proc.run takes an argv list, not a shell string")
    import signal
    import subprocess  # only when a child runs: a check answered from the caches starts none

    try:
        p = subprocess.Popen(
            argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True,
        )
    except OSError as exc:
        return Result(list(argv), None, "", "", error=f"{argv[0]}: {exc.strerror or exc}")
    try:
        out, err = p.communicate(input=input.encode() if input is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            out, err = p.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            # a grandchild that left the process group (setsid) still holds the pipes open: stop
            # waiting for their end, or a timeout would not bound anything
            for f in (p.stdout, p.stderr, p.stdin):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass
            p.wait()
            out, err = b"", b""
        return Result(list(argv), None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), timed_out=True)
    return Result(list(argv), p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def run_python(code: str, python: str | None = None, timeout: float = 10.0, env: dict | None = None, args: list[str] | None = None) -> Result:
    """Run a snippet in a (possibly other) Python interpreter, isolated (-I: no user site, no cwd on path)."""
    return run([python or sys.executable, "-I", "-c", code, *(args or [])], timeout=timeout, env=env)


def run_python_json(code: str, python: str | None = None, timeout: float = 10.0, env: dict | None = None, args: list[str] | None = None):
    """Run a snippet that prints one JSON document as its last line of stdout; return (data, result)."""
    res = run_python(code, python, timeout, env, args)
    data = None
    if res.stdout.strip():
        try:
            data = json.loads(res.stdout.strip().splitlines()[-1])
        except ValueError:
            data = None
    return data, res
