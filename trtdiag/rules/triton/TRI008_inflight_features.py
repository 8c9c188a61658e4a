"""TRI008: Inflight batching has the engine features it needs."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, Any, ENGINE_FEATURES, INFLIGHT, _engine, _trtllm_model, error, ok


@rule("TRI008", area=AREA, title="Inflight batching has the engine features it needs", kb="triton-inflight-needs-engine-features")
def inflight_features(facts):
    """``gpt_model_type`` (fill_template: batching_strategy) ``inflight_fused_batching`` or
    ``inflight_batching`` needs an engine built with paged KV cache, packed input
    (remove_input_padding) and the GPT attention plugin; anything else must be one of V1,
    inflight_batching, inflight_fused_batching.

    Why: TensorRT-LLM's GptModelConfig::supportsInflightBatching() is
    usePackedInput && usePagedKvCache && useGptAttentionPlugin; without them the tensorrt_llm model
    fails to load.

    Fix: rebuild with trtllm-build --gpt_attention_plugin <dtype> --remove_input_padding enable
    --paged_kv_cache enable, or serve with gpt_model_type V1 (static batching).
    """
    repo, name, m = _trtllm_model(facts)
    if m is None:
        return
    gmt = (m.get("parameters") or {}).get("gpt_model_type")
    if gmt is None:
        return
    ev: dict[str, Any] = {"file": m["config_path"], "gpt_model_type": gmt}
    if gmt not in ("V1",) + INFLIGHT:
        yield error(f"{name}: gpt_model_type '{gmt}' is not one the backend knows",
                    f"{m['config_path']} sets gpt_model_type to '{gmt}'; the tensorrtllm backend accepts V1, inflight_batching or inflight_fused_batching and refuses to load otherwise.",
                    evidence=ev)
        return
    eng = _engine(facts)
    if gmt not in INFLIGHT or eng is None:
        return
    n = eng["normalized"]
    ev["engine"] = eng.get("config_path") or eng.get("path")
    lacking = [(label, flag) for key, label, flag in ENGINE_FEATURES if n.get(key) is False]
    for key, _label, _flag in ENGINE_FEATURES:
        ev[f"engine {key}"] = n.get(key)
    if lacking:
        yield error(f"{name}: {gmt} needs " + " and ".join(l for l, _ in lacking) + ", which the engine lacks",
                    f"{m['config_path']} asks for {gmt}, which needs an engine built with paged KV cache, packed input and the GPT attention plugin; "
                    f"the engine ({ev['engine']}) was built without " + ", ".join(l for l, _ in lacking) + ". "
                    f"Rebuild with trtllm-build {' '.join(f for _, f in lacking)}, or set gpt_model_type to V1.",
                    evidence=ev)
    elif all(n.get(k) for k, _, _ in ENGINE_FEATURES):
        yield ok(f"{name}: engine supports {gmt}", **ev)
