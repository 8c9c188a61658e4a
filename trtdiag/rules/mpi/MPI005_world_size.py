"""MPI005: World size matches the engine's tp × pp and the GPUs."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _fact, _int, error, launch_plan, ok, visible_gpus


@rule("MPI005", covers=("TRI010:world-size",), area="mpi", title="World size matches the engine's tp × pp and the GPUs", kb="world-size-mismatch")
def world_size(facts):
    """The number of ranks the server is launched with equals the engine's tensor × pipeline
    parallelism, and this node has at least that many GPUs.

    A TensorRT-LLM engine built with ``--tp_size 2 --pp_size 1`` has rank0.engine and rank1.engine
    and must run with exactly 2 MPI ranks (``launch_triton_server.py --world_size 2``); with any
    other number the backend stops at load.  Each rank takes one GPU.

    When CTR004 runs too and a world size is given, the GPU count is its finding (with why fewer
    GPUs are visible), not this one's.

    Fix: launch with ``--world_size`` = tp × pp, or rebuild the engine for the ranks you have.
    """
    plan = launch_plan(facts)
    eng = _fact(facts, "engine.info")
    norm = (eng or {}).get("normalized") or {}
    tp, pp, ews = _int(norm.get("tp")), _int(norm.get("pp")), _int(norm.get("world_size"))
    launch_ws = plan["world_size"]
    if not eng and launch_ws is None:
        return
    ev: dict = {}
    if eng:
        ev["engine"] = f"tp {tp or '?'} × pp {pp or '?'}" + (f", world_size {ews}" if ews else "") + f" ({eng.get('config_path') or eng.get('path')})"
    if launch_ws is not None:
        ev["launch"] = f"{launch_ws} rank(s) ({plan['world_size_from']})"
    ngpu, gpu_txt = visible_gpus(facts)
    ev["GPUs visible"] = gpu_txt
    product = (tp or 1) * (pp or 1) if (tp or pp) else None
    if product and ews and product != ews:
        yield error(f"Engine config is inconsistent: tp {tp} × pp {pp} = {product}, world_size {ews}",
                    "The engine's config.json disagrees with itself; it was edited or built by a broken script. Rebuild it.", evidence=ev)
        return
    need = ews or product
    opt_ws = plan.get("opt_world_size")
    if opt_ws and launch_ws and opt_ws != launch_ws:
        ev["--world-size"] = opt_ws
        yield error(f"--world-size {opt_ws} but the launch command starts {launch_ws} rank(s)",
                    "The two disagree; the ranks the launch command starts are what the server gets.", evidence=ev)
        return
    if need and launch_ws and launch_ws != need:
        yield error(f"Launch starts {launch_ws} rank(s) but the engine has tp × pp = {need}",
                    f"The engine was built for {need} rank(s) (one engine file per rank); launched with {launch_ws} the "
                    f"backend fails at load. Launch with --world_size {need} (launch_triton_server.py) or mpirun -n {need}, "
                    "or rebuild the engine for the ranks you have.", evidence=ev)
        return
    ranks = launch_ws or need
    if not ranks:  # neither the engine (a lone plan file: no config.json) nor a launch gives one: nothing to compare
        return
    if ranks and ngpu is not None and ranks > ngpu:
        # CTR004 compares the ranks with the GPUs this process sees, with the better evidence
        # (device nodes, NVIDIA_/CUDA_VISIBLE_DEVICES, several hosts) and the container remedies:
        # when it runs it covers this finding (subject gpu-count)
        yield error(f"{ranks} rank(s) need {ranks} GPUs; {ngpu} visible",
                    f"Each rank takes one GPU; this node has {gpu_txt}. Make more GPUs visible (CUDA_VISIBLE_DEVICES, "
                    "docker --gpus), run the ranks across nodes with a hostfile, or rebuild with a smaller tp × pp.", evidence=ev,
                    subject="gpu-count")
        if need:
            ev.pop("GPUs visible", None)
            yield ok(f"World size {ranks} = tp {tp or 1} × pp {pp or 1}", **ev)
        return
    yield ok(f"World size {ranks}" + (f" = tp {tp or 1} × pp {pp or 1}" if need else "") + (f", {ngpu} GPU(s) visible" if ngpu is not None else ""), **ev)
