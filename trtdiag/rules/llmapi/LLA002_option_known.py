"""LLA002: Every LLM-API option is an LlmArgs field."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA002", area="llmapi", title="Every LLM-API option is an LlmArgs field", kb="llmapi-config-invalid")
def option_known(facts):
    """Checks every key of the YAML and of `--set` against the LlmArgs schema of the TensorRT-LLM
    that will run it: the installed package's own llm_args.py (parsed, never imported), else the
    shipped table of its release.  An unknown key gets the nearest valid path (a top-level
    `free_gpu_memory_fraction` → `kv_cache_config.free_gpu_memory_fraction`).

    Why: LlmArgs forbids unknown keys (extra="forbid"): pydantic stops LLM() with "Extra inputs
    are not permitted" after the server has started loading.

    Severity: an error with the installed release's schema; a warning with a table of another
    release (the release that runs decides).

    Fix: move or rename the key as suggested; `trtdiag checks LLA002` cites the schema's source.
    """
    yield from findings_for(facts, "LLA002", "Every LLM-API option is an LlmArgs field", scope="yaml")
