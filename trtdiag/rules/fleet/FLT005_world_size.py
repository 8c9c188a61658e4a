"""FLT005: Ranks launched = tensor parallel × pipeline parallel."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import advice
from .common import _get, _world, error, ok, ranks_of


@rule("FLT005", area="fleet", title="Ranks launched = tensor parallel × pipeline parallel", kb="world-size-mismatch")
def world_size(facts):
    """The number of ranks must equal the engine's world size (tp × pp from its config.json).

    Why: an engine built for tp=4 needs exactly 4 ranks; with fewer, TensorRT-LLM stops with
    "world_size … does not match"; with more, the extra ranks find no rankN.engine.

    Fix: launch with ``mpirun -n TP×PP`` (or ``--world_size`` in tensorrtllm_backend's
    launch_triton_server.py), or rebuild the engine for the number of GPUs you have."""
    ranks = ranks_of(facts)
    tp, pp, ws, src = _world(ranks)
    if src is None:
        return
    want = (tp or 1) * (pp or 1) if isinstance(tp, int) else ws
    ev = {"ranks": len(ranks), "tp": tp, "pp": pp, "world_size (config.json)": ws, "config": _get(src.facts, "engine.info", "config_path")}
    if want != len(ranks):
        f = error(f"{len(ranks)} ranks launched, the engine needs {want} (tp={tp} × pp={pp or 1})",
                  f"The engine was built for {want} ranks; {len(ranks)} were started, so "
                  + ("some ranks have no engine to load." if len(ranks) > want else "some rankN.engine files have no process to load them and the others wait forever."),
                  evidence=ev)
        f.hint = advice(id="FLT005-world-size", summary=f"launch with `mpirun -n {want} …` (tensorrtllm_backend: `python3 scripts/launch_triton_server.py --world_size {want} …`), or rebuild the engine with --tp_size/--pp_size for {len(ranks)} GPUs")
        yield f
    else:
        yield ok(f"{len(ranks)} ranks = tp {tp} × pp {pp or 1}", **ev)
