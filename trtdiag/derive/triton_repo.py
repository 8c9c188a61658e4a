"""What a Triton model repository's parsed configs mean: pure functions over the ``triton.repo`` fact."""

from __future__ import annotations

from typing import Any

REQUIRED_STRING_PARAMS = {
    # parameter key → what reads it; left as ${…} the model fails to load or to serve
    "gpt_model_path": "the tensorrtllm backend loads the engine from it",
    "gpt_model_type": "the tensorrtllm backend refuses any value but V1, inflight_batching or inflight_fused_batching",
    "tokenizer_dir": "model.py loads the tokenizer from it (AutoTokenizer.from_pretrained)",
    "tensorrt_llm_model_name": "the BLS model sends every request to the model of this name",
    "engine_dir": "the engine is loaded from it",
}


def blocks_loading(p: dict[str, Any]) -> bool:
    """Whether an unfilled placeholder keeps the model from loading or serving: outside quotes (the
    file does not parse), in a string field of the schema (``backend: "${triton_backend}"``), or
    in a parameter something reads unconditionally.  Other parameters are optional: the backend
    logs "… is not specified, will use default value"."""
    return not p["in_string"] or p.get("param") is None or p.get("param") in REQUIRED_STRING_PARAMS


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json", "vocab.txt",
                   "spiece.model", "merges.txt", "qwen.tiktoken", "tokenizer.tiktoken")
