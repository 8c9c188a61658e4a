"""ENG009: The engine's config.json gives its sizes as numbers."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _engine, ok, warning


@rule("ENG009", area="engine", title="The engine's config.json gives its sizes as numbers")
def config_numbers(facts):
    """Every size config.json gives (max_batch_size, max_input_len, the layer and head counts, tp/pp …)
    is a whole number, as trtllm-build writes it.

    Why: a value such as ``"max_batch_size": "eight"`` (a hand edit) is no size at all: trtdiag reads
    it as unknown rather than assume a default (it once became max_batch_size 1 without a word), and
    TensorRT-LLM's runtime reads these settings as numbers.
    Fix: put back the number trtllm-build wrote (or build the engine again); ``trtdiag plan`` takes
    ``--max-batch-size N`` and the other sizes as options to plan meanwhile.
    No knowledge-base entry: this is read from the file itself, not from a log message.
    """
    e = _engine(facts)
    if not e or not e.get("normalized") or not e["normalized"].get("layout"):
        return
    bad = e["normalized"].get("unreadable") or {}
    cfg = e.get("config_path") or "config.json"
    if not bad:
        yield ok("config.json gives its sizes as numbers", config=cfg)
        return
    items = [f"{k} = {v!r}" for k, v in bad.items()]
    names = [k.rsplit(".", 1)[-1] for k in bad]
    yield warning(f"config.json: {names[0]} is not a whole number" if len(names) == 1
                  else f"config.json: {len(names)} sizes are not whole numbers: {', '.join(names)}",
                  f"{cfg} gives {'; '.join(items)}. trtdiag reads {'it' if len(bad) == 1 else 'them'} as unknown (no default "
                  "is assumed), and TensorRT-LLM's runtime reads these settings as numbers. Put back the number trtllm-build "
                  "wrote, or build the engine again.", evidence={"config": cfg, "not numbers": items})
