"""Fixes for ports tritonserver cannot bind: launch on free ports, or stop the holder (--kill).

Launching elsewhere is always offered as the launch command with ``--http-port/--grpc-port/
--metrics-port`` set to a block of ports verified free when the check ran (nothing to apply: you
run the command).  Stopping the holder is offered only for a process of the same user that looks
like an earlier tritonserver, never for PID 1 or another user's process, and only runs with
``trtdiag fix --apply --kill`` (the applier checks the same rules again before it signals).
"""

from __future__ import annotations

from typing import Any

from ..model import Change, Fix
from .plan import command_line

PORT_FLAGS = {"http": "--http-port", "grpc": "--grpc-port", "metrics": "--metrics-port"}


def launch_argv(launch: list[str] | None, assignment: dict[str, int]) -> list[str]:
    """The launch command with the port options set (replaced when present, appended when not)."""
    argv = list(launch or ["tritonserver", "--model-repository", "<repo>"])
    flags = {PORT_FLAGS[s]: str(p) for s, p in assignment.items()}
    out: list[str] = []
    i = 0
    seen = set()
    while i < len(argv):
        a = argv[i]
        key = a.split("=", 1)[0]
        if key in flags:
            seen.add(key)
            out.append(f"{key}={flags[key]}" if "=" in a else a)
            if "=" not in a:
                out.append(flags[key])
                i += 1
            i += 1
            continue
        out.append(a)
        i += 1
    for k, v in flags.items():
        if k not in seen:
            out += [k, v]
    return out


def free_ports_fix(ports: list[dict[str, Any]], suggested: list[int] | None, launch: list[str] | None) -> Fix | None:
    if not suggested:
        return None
    assignment = {r["service"]: p for r, p in zip(ports, suggested)}
    argv = launch_argv(launch, assignment)
    return Fix(id="use-free-ports", summary="launch on ports that are free now: " + ", ".join(f"{s} {p}" for s, p in assignment.items()),
               safe=True, changes=[], preview="$ " + command_line(argv))


def may_kill(holder: dict[str, Any] | None, my_uid: int) -> str | None:
    """None when stopping ``holder`` may be offered, else why not."""
    if not holder or not holder.get("pid"):
        return "the holder is not visible to this user"
    if holder["pid"] <= 1:
        return f"PID {holder['pid']} is the init process (in a container: the container itself); trtdiag never stops it"
    if holder.get("uid") is None or (holder["uid"] != my_uid):
        return f"PID {holder['pid']} belongs to another user ({holder.get('user') or 'unknown'}); trtdiag never stops it"
    if not holder.get("is_tritonserver"):
        return f"PID {holder['pid']} ({holder.get('name')}) is not a tritonserver; stop it yourself if you are sure"
    return None


def kill_fix(holder: dict[str, Any], port: int, my_uid: int) -> Fix | None:
    if may_kill(holder, my_uid) is not None:
        return None
    pid = int(holder["pid"])
    return Fix(id="stop-port-holder", summary=f"stop the earlier tritonserver (PID {pid}) that holds port {port}",
               safe=False, requires="--kill", changes=[Change("kill", pid=pid, note=f"holds port {port}")],
               preview=f"kill -TERM {pid}    # {command_line(holder.get('cmdline') or [holder.get('name') or '?'])}")
