"""LLA003: Every LLM-API option has the type and range its field declares."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA003", area="llmapi", title="Every LLM-API option has the type and range its field declares", kb="llmapi-config-invalid")
def option_valid(facts):
    """Checks the values of the YAML and `--set` against the field's annotation (int, float, bool,
    str, a section), its Literal choices and its ge/gt/le/lt bounds (PositiveInt, NonNegativeInt,
    and the validators the source states, such as kv_cache_config.free_gpu_memory_fraction in [0, 1]).

    Why: pydantic rejects the value when LLM() is built ("kv_cache_config.free_gpu_memory_fraction
    must be a float between 0 and 1", "Input should be a valid integer").

    Fix: use a value of the declared type and range, shown in the finding.
    """
    yield from findings_for(facts, "LLA003", "LLM-API option values have the declared types and ranges", scope="yaml")
