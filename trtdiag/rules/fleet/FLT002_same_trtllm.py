"""FLT002: Same TensorRT-LLM on every rank."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _get, _skew, ranks_of


@rule("FLT002", area="fleet", title="Same TensorRT-LLM on every rank", kb="fleet-rank-version-skew")
def same_trtllm(facts):
    """Compares the TensorRT-LLM version and commit (``trtllm.installed``) across ranks.

    Why: the runtime of each rank must match the release that built the engine (the engine's
    config.json records it); one node with another wheel refuses the engine or disagrees with the
    others about the KV-cache layout.

    Fix: the same image everywhere, or ``pip install tensorrt_llm==VERSION`` on the odd node."""
    ranks = ranks_of(facts)

    def value(r):
        v = _get(r.facts, "trtllm.installed", "version")
        c = _get(r.facts, "trtllm.installed", "commit")
        return None if v is None else (f"{v} ({c[:12]})" if c else v)

    return _skew(ranks, "TensorRT-LLM", value,
                 fix_summary="install TensorRT-LLM {value} on {odd}, or run it from the image the other ranks use",
                 fix_id="FLT002-align-trtllm")
