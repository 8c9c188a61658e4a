"""LLA008: trtllm-serve listens where clients can reach it."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA008", area="llmapi", title="trtllm-serve listens where clients can reach it", kb="trtllm-serve-localhost")
def host_reachable(facts):
    """Checks trtllm-serve's --host inside a container: the default `localhost` binds the loopback
    of the container only.

    Why: clients outside the container (through `docker run -p 8000:8000` or a Kubernetes
    service) get "connection refused" or a reset although the server is up.

    Fix: `trtllm-serve … --host 0.0.0.0`.
    """
    yield from findings_for(facts, "LLA008")
