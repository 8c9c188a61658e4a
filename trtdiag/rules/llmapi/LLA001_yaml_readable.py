"""LLA001: The LLM-API YAML can be read and is a mapping."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA001", area="llmapi", title="The LLM-API YAML can be read and is a mapping", kb="llmapi-config-invalid")
def yaml_readable(facts):
    """Reads the file of `trtllm-serve --config` / `--extra_llm_api_options` (or the llmapi model's
    model.yaml) as `yaml.safe_load` does, and checks that its top level is a mapping.

    Why: trtllm-serve loads the file with yaml.safe_load and hands it to LLM() as LlmArgs; a syntax
    error or a list at the top stops the server at start ("Configuration file root must be a
    mapping." in the releases that check it).

    Fix: correct the YAML at the line shown; the top level is `key: value` pairs of LlmArgs fields.
    """
    yield from findings_for(facts, "LLA001", "The LLM-API YAML is a mapping", scope="yaml")
