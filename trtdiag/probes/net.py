"""Fact ``net.ports``: the ports tritonserver will listen on, and who holds the ones already taken.

Cheap by design: one bind attempt per port (3 by default) on the address tritonserver binds
(0.0.0.0, all interfaces).  Only when a port is taken is psutil imported to name the holder
(psutil.net_connections, then the process: pid, name, command line, user).  Without permission
to see another user's sockets the holder is reported as unknown.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

from ..core.facts import probe

DEFAULTS = (("http", 8000), ("grpc", 8001), ("metrics", 8002))
BIND_ADDR = "0.0.0.0"  # tritonserver's default --http-address / --grpc-address / --metrics-address


def bind_error(port: int, addr: str = BIND_ADDR) -> str | None:
    """None when ``port`` can be bound on ``addr`` for listening (as tritonserver will), else why not."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # like the servers: SO_REUSEADDR, so a port left in TIME_WAIT by a stopped server counts as free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        return None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return "in use"
        if exc.errno == errno.EACCES:
            return "permission denied (ports below 1024 need root)"
        return exc.strerror or str(exc)
    finally:
        s.close()


def holder(port: int) -> dict[str, Any] | None:
    """The process listening on ``port`` (pid, name, cmdline, user, is_tritonserver), if visible."""
    try:
        import psutil
    except ImportError:
        return None
    pid = None
    try:
        for c in psutil.net_connections(kind="inet"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN:
                pid = c.pid
                if pid:
                    break
    except (psutil.AccessDenied, OSError):
        pid = None
    if not pid:
        return {"pid": None, "name": None, "cmdline": None, "user": None, "is_tritonserver": None,
                "note": "the socket belongs to a process this user cannot see (another user's, or another network namespace); run as root to name it"}
    info: dict[str, Any] = {"pid": pid, "name": None, "cmdline": None, "user": None, "uid": None, "is_tritonserver": None}
    try:
        p = psutil.Process(pid)
        with p.oneshot():
            info["name"] = p.name()
            try:
                info["cmdline"] = p.cmdline()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                info["cmdline"] = None
            try:
                info["user"] = p.username()
                info["uid"] = p.uids().real
            except (psutil.AccessDenied, KeyError):
                pass
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return info
    argv0 = os.path.basename((info["cmdline"] or [""])[0]) if info["cmdline"] else ""
    info["is_tritonserver"] = "tritonserver" in (info["name"] or "") or argv0 == "tritonserver"
    info["is_docker_proxy"] = info["name"] == "docker-proxy"
    return info


def disabled_services(facts) -> list[str]:
    """The services the launch command turns off (``tritonserver --allow-http false`` …): their
    ports are never bound, so a busy default port there is no problem."""
    launch = facts.get("launch.command") if facts.opt("launch_argv") else None
    if not isinstance(launch, dict):
        return []
    return [name for name, _ in DEFAULTS if launch.get(f"allow_{name}") is False]


def wanted_ports(facts) -> list[tuple[str, int]]:
    from ..core.errors import InputError  # ends the run with exit code 2, like any bad option value

    out = []
    off = disabled_services(facts)
    for name, default in DEFAULTS:
        if name in off:
            continue
        v = facts.opt(f"{name}_port")
        port = int(v) if v is not None else default
        if not 1 <= port <= 65535:
            raise InputError(f"--{name}-port {port}: a TCP port is between 1 and 65535")
        out.append((name, port))
    return out


def free_block(n: int, avoid: set[int], start: int = 8010, stop: int = 9000, step: int = 10) -> list[int] | None:
    """``n`` consecutive ports from ``start`` (by ``step``) that can all be bound now."""
    for base in range(start, stop, step):
        block = list(range(base, base + n))
        if any(p in avoid for p in block):
            continue
        if all(bind_error(p) is None for p in block):
            return block
    return None


@probe("net.ports")
def ports(facts) -> dict[str, Any]:
    wanted = wanted_ports(facts)
    out: dict[str, Any] = {"address": BIND_ADDR, "ports": [], "disabled": disabled_services(facts)}
    for name, port in wanted:
        err = bind_error(port)
        rec: dict[str, Any] = {"service": name, "port": port, "free": err is None, "error": err}
        if err == "in use":
            rec["holder"] = holder(port)
        out["ports"].append(rec)
    if any(not r["free"] for r in out["ports"]):
        out["suggested"] = free_block(len(wanted), {p for _, p in wanted})
    else:
        out["suggested"] = None
    out["uid"] = os.getuid()
    return out
