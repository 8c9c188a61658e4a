"""Fixes for ports tritonserver cannot bind: launch on free ports, or stop the holder (--kill).

Launching elsewhere is always offered as the launch command with ``--http-port/--grpc-port/
--metrics-port`` set to a block of ports verified free when the check ran (nothing to apply: you
run the command).  Stopping the holder is offered only for a process of the same user that looks
like an earlier tritonserver, never for PID 1 or another user's process, and only runs with
``trtdiag fix --apply --kill`` (the applier checks the same rules again before it signals).
"""

from __future__ import annotations

from typing import Any

from ..core.finding import Change, Fix
from ..derive.ports import launch_argv, may_kill
from .plan import command_line







def free_ports_fix(ports: list[dict[str, Any]], suggested: list[int] | None, launch: list[str] | None) -> Fix | None:
    if not suggested:
        return None
    assignment = {r["service"]: p for r, p in zip(ports, suggested)}
    argv = launch_argv(launch, assignment)
    return Fix(id="use-free-ports", summary="launch on ports that are free now: " + ", ".join(f"{s} {p}" for s, p in assignment.items()),
               safe=True, changes=[], preview="$ " + command_line(argv))




def kill_fix(holder: dict[str, Any], port: int, my_uid: int) -> Fix | None:
    if may_kill(holder, my_uid) is not None:
        return None
    pid = int(holder["pid"])
    return Fix(id="stop-port-holder", summary=f"stop the earlier tritonserver (PID {pid}) that holds port {port}",
               safe=False, requires="--kill", changes=[Change("kill", pid=pid, note=f"holds port {port}")],
               preview=f"kill -TERM {pid}    # {command_line(holder.get('cmdline') or [holder.get('name') or '?'])}")
