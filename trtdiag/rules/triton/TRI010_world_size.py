"""TRI010: World size matches the engine's tp × pp."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _engine, _repo, error, ok


# ---------------------------------------------------------------- TRI010 world size
@rule("TRI010", area=AREA, title="World size matches the engine's tp × pp", kb="world-size-mismatch")
def world_size(facts):
    """The world size the server is launched with (--world-size, or what `exec` read from
    launch_triton_server.py --world_size / mpirun -n) equals the engine's tp_size × pp_size.

    Why: each rank loads rank<R>.engine; with fewer ranks the model waits forever or fails with
    "Assertion failed: mpiSize == tp * pp", with more some ranks have no engine.

    When MPI005 runs on the same engine (the repository's, or --engine-dir) it owns this question.

    Fix: launch with --world_size equal to tp × pp (python3 scripts/launch_triton_server.py
    --world_size N --model_repo …).
    """
    repo = _repo(facts)
    ws = facts.opt("world_size")
    eng = _engine(facts)
    if repo is None or ws is None or eng is None:
        return
    # MPI005 compares the launch with the same engine (and mpirun -n, --world-size): when it runs it
    # covers these findings (subject world-size)
    n = eng["normalized"]
    tp, pp = n.get("tp") or 1, n.get("pp") or 1
    ev = {"world_size": ws, "engine tp": tp, "engine pp": pp, "engine": eng.get("config_path") or eng.get("path")}
    if int(ws) != tp * pp:
        yield error(f"world size {ws} ≠ engine tp {tp} × pp {pp} = {tp * pp}",
                    f"The server is to be launched with {ws} rank(s), but the engine ({ev['engine']}) was built for {tp * pp} (tp {tp} × pp {pp}). "
                    f"Launch with: python3 scripts/launch_triton_server.py --world_size {tp * pp} --model_repo {repo['root']}",
                    evidence=ev, subject="world-size")
    else:
        yield ok(f"world size {ws} = tp {tp} × pp {pp}", **ev, subject="world-size")
