"""LLA009: The model directory is one TensorRT-LLM can load."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA009", area="llmapi", title="The model directory is one TensorRT-LLM can load", kb="llmapi-model-format")
def model_readable(facts):
    """Checks MODEL when it is a local path: it exists, holds a config.json, and is a Hugging Face
    checkpoint, a TensorRT-LLM checkpoint or an engine as get_model_format tells them apart; an
    engine is refused for a release whose TorchLlmArgs accepts backend 'pytorch' only.

    Why: "Failed to infer model format because no config.json exists in …" after start.

    Fix: point MODEL at the checkpoint directory (the one with config.json and the weights).
    """
    yield from findings_for(facts, "LLA009")
