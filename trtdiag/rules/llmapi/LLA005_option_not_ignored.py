"""LLA005: No LLM-API option that this release ignores silently."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA005", area="llmapi", title="No LLM-API option that this release ignores silently", kb="llmapi-config-invalid")
def option_not_ignored(facts):
    """Checks keys inside sections that this release does not declare strict (in 0.2x-era releases
    KvCacheConfig and the other sections are plain pydantic models: an unknown key inside
    `kv_cache_config:` is dropped without a word).

    Why: a misspelt `kv_cache_config.free_gpu_mem_fraction` then silently leaves the default
    fraction in place.

    Fix: use the field name suggested.
    """
    yield from findings_for(facts, "LLA005")
