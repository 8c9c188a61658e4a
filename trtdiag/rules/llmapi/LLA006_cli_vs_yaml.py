"""LLA006: Command-line flags and the YAML do not contradict each other."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA006", area="llmapi", title="Command-line flags and the YAML do not contradict each other", kb=None)
def cli_vs_yaml(facts):
    """Checks how trtllm-serve merges its flags with the YAML in this release: where a YAML section
    replaces the one the flags built (`llm_args | yaml`), a flag such as
    --kv_cache_free_gpu_memory_fraction is lost under a YAML `kv_cache_config:` (warning); where
    the release merges key by key and typed flags win (explicit_cli_keys), the override is shown (info).

    No knowledge-base entry: nothing fails; the server runs with other settings than the command
    line says.

    Fix: put the setting in one place (the YAML's section, or the flag alone).
    """
    yield from findings_for(facts, "LLA006")
