"""LLA010: Every --set override is PATH=VALUE."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA010", area="llmapi", title="Every --set override is PATH=VALUE", kb="llmapi-config-invalid")
def set_readable(facts):
    """Checks each `--set PATH=VALUE` of the command line: a dotted LlmArgs path, '=', and a YAML value.

    Why: trtllm-serve refuses a malformed override at start.

    Fix: `--set kv_cache_config.free_gpu_memory_fraction=0.8`.
    """
    yield from findings_for(facts, "LLA010")
