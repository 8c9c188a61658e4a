"""ENG008: The numbers in the engine's config.json are possible."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _engine, error


@rule("ENG008", area="engine", title="The engine's config.json holds possible numbers", kb="engine-config-impossible-value")
def engine_numbers(facts):
    """Every rank count, size and length in config.json fits TensorRT-LLM's own type for it: a
    32-bit signed integer (SizeType32), and at least 1 for tp_size, pp_size and world_size.

    Why: trtllm-build never writes such a value; the file was edited or damaged, and the engine
    will not load as described.  trtdiag does not use the value (the checks that need it say so).
    Fix: restore config.json from the build, or rebuild the engine.
    """
    e = _engine(facts)
    if not e or e.get("is_file"):
        return
    bad = (e.get("normalized") or {}).get("out_of_range")
    if not isinstance(bad, dict) or not bad:
        return
    shown = ", ".join(f"{k}={v.get('value') if isinstance(v, dict) else v}" for k, v in sorted(bad.items()))
    yield error(f"Impossible value(s) in the engine's config.json: {shown}",
                f"{e.get('config_path') or 'config.json'} holds {shown}: outside what TensorRT-LLM can represent "
                "(a 32-bit count or size; at least 1 rank). trtllm-build does not write this; restore the file from the "
                "build or rebuild the engine. These values were not used by the other checks.",
                evidence={"config": e.get("config_path"), "out_of_range": bad}, subject=f"engine-config:{e.get('config_path')}")
