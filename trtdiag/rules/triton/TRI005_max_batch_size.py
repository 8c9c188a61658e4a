"""TRI005: max_batch_size within the engine's."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import AREA, _engine, _repo, _trtllm, error, ok


# ---------------------------------------------------------------- TRI005 max_batch_size vs engine
@rule("TRI005", area=AREA, title="max_batch_size within the engine's", kb="triton-max-batch-size-exceeds-engine")
def max_batch_size(facts):
    """The tensorrt_llm model's max_batch_size is not above the engine's (build_config.max_batch_size).

    Why: Triton hands the backend batches as large as the config allows; the engine's
    optimisation profiles stop at the batch size it was built with, so larger batches fail at run
    time or are never used.  The ensemble and the Python models must then not allow more either.

    Fix: align max_batch_size (and dynamic_batching.preferred_batch_size) of every model with the
    engine's — a diff ``trtdiag fix --apply`` applies with a backup — or rebuild the engine with a
    larger --max_batch_size.
    """
    repo = _repo(facts)
    eng = _engine(facts)
    if repo is None or eng is None:
        return
    name, m = _trtllm(repo)
    emb = eng["normalized"].get("max_batch_size")
    if m is None or emb is None or m.get("max_batch_size") is None:
        return
    mb = m["max_batch_size"]
    ev = {"file": m["config_path"], "max_batch_size": mb, "engine max_batch_size": emb, "engine": eng.get("config_path") or eng.get("path")}
    if mb > emb:
        from ...derive.triton_fill import fill_plan

        filling = sorted(n for n in repo["models"] if repo["models"][n].get("placeholders") and fill_plan(facts, repo, n).get("after") is not None)
        fix = hint("align-max-batch-size", emb, filling)
        yield error(f"{name}: max_batch_size {mb} exceeds the engine's {emb}",
                    f"{m['config_path']} allows batches of {mb}, but the engine ({ev['engine']}) was built with max_batch_size {emb}. "
                    f"Set max_batch_size to {emb} in every model of the repository (trtdiag fix --apply does it), or rebuild the engine with --max_batch_size {mb}.",
                    evidence=ev, fix=fix)
    else:
        yield ok(f"{name}: max_batch_size {mb} ≤ engine's {emb}", **ev)
