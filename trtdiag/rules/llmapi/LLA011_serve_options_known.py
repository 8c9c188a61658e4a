"""LLA011: Every trtllm-serve option exists in the installed release."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA011", area="llmapi", title="Every trtllm-serve option exists in the installed release", kb="trtllm-serve-no-such-option")
def serve_options_known(facts):
    """Checks the command line's options against the installed trtllm-serve's own serve.py (its
    click options, parsed, never imported), e.g. --set where the release has none.

    Why: click stops trtllm-serve at once with "No such option".

    Fix: drop the option or use the release's spelling (trtllm-serve --help).
    """
    yield from findings_for(facts, "LLA011")
