"""LLA004: No LLM-API option of a later release."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA004", area="llmapi", title="No LLM-API option of a later release", kb="llmapi-config-invalid")
def option_in_release(facts):
    """Checks that a key unknown to the installed release is not simply newer: when a later shipped
    table (the 2026 main) has it, the finding names that release.

    Why: configs copied from the main branch's docs use options the installed release does not have
    yet, and LlmArgs rejects them.

    Fix: drop the option, or run the release that has it.
    """
    yield from findings_for(facts, "LLA004")
