"""LLA012: Triton's llmapi model has its model.yaml in order."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA012", area="llmapi", title="Triton's llmapi model has its model.yaml in order", kb="triton-llmapi-model-yaml")
def triton_llmapi_model(facts):
    """Checks each Triton llmapi model (python backend with 1/model.yaml, or LLM_CONFIG_PATH):
    model.yaml holds triton_config.max_batch_size and triton_config.decoupled (model.py reads both
    at load), config.pbtxt sets neither max_batch_size nor model_transaction_policy (the template:
    "Please don't add it in config.pbtxt"), `decoupled` is not at the YAML top level (it would go
    to LLM()), the model path exists, gpu_device_ids matches tp × pp, tp × pp fits the visible GPUs.
    The rest of model.yaml is checked by LLA001-LLA005 like a trtllm-serve YAML.

    Fix: move max_batch_size and decoupled under triton_config in model.yaml.
    """
    yield from findings_for(facts, "LLA012", "The llmapi model.yaml has triton_config and a model", scope="triton")
