"""CTR005: container memory limit leaves room to load the engine."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import Any, GiB, _get, _human, _world_size, error, ok


@rule("CTR005", area="container", title="container memory limit leaves room to load the engine", kb="ctr-memory-limit")
def memory_limit(facts):
    """Reports whether this runs in a container (/.dockerenv, /run/.containerenv, cgroup names) and
    its memory limit (cgroup v2 memory.max or v1 memory.limit_in_bytes), and compares the limit
    with the engine files the ranks on this machine will read.

    Why: TensorRT deserialises each rank's engine through host memory; a container limit below
    the engine sizes gets the server OOM-killed while loading: exit code 137, "Killed", no
    error in the log.

    Fix: raise the limit (`docker run --memory 64g`, Kubernetes resources.limits.memory) to more
    than the engine files of this machine plus a few GiB.
    """
    ci = facts["container.info"]
    rt = ci.get("runtime") or {}
    mem = ci.get("memory") or {}
    limit = mem.get("limit")
    if not rt.get("in_container") and limit is None:
        return
    ev: dict[str, Any] = {"runtime": rt.get("runtime") or "none detected", "memory limit": _human(limit)}
    if rt.get("markers"):
        ev["markers"] = rt["markers"]
    if mem.get("path"):
        ev["cgroup file"] = mem["path"]
    eng = _get(facts, "engine.info")
    need = None
    if eng and eng.get("ranks"):
        sizes = [r.get("size") or 0 for r in eng["ranks"]]
        ws = _world_size(facts) or len(sizes)
        need = sum(sorted(sizes, reverse=True)[: max(1, min(ws, len(sizes)))])
        ev["engine bytes on this machine"] = _human(need)
    if limit is not None and need is not None and limit < need + 2 * GiB:
        yield error(f"Container memory limit {_human(limit)} is below the engines' {_human(need)} plus working room",
                    "Each rank reads its engine into host memory while deserialising it; the kernel will OOM-kill the "
                    "server during load (exit code 137, no error in the log). Raise the limit (docker run --memory, or "
                    "resources.limits.memory) to at least " + _human(need + 4 * GiB) + ".", evidence=ev)
        return
    title = f"Running in {rt.get('runtime')}" if rt.get("in_container") else "Memory-limited cgroup"
    yield ok(f"{title}, memory limit {_human(limit)}", **ev)
