"""CTR003: stack ulimit as the deployment guides set it."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import STACK_RECOMMENDED, _human, _launch, info, ok


@rule("CTR003", area="container", title="stack ulimit as the deployment guides set it")
def stack(facts):
    """Checks the stack-size limit (ulimit -s) that the server will inherit.

    Why: NVIDIA's container guides for Triton and TensorRT-LLM run containers with
    --ulimit stack=67108864 (64 MiB); deep recursion in model code, Python backend stubs and some
    plugins can overflow the usual 8 MiB default with a bare "Segmentation fault".

    Fix: `docker run --ulimit stack=67108864 …`.  Only reported inside a container or for a
    launch through `trtdiag exec`; severity info.
    """
    ci = facts["container.info"]
    lim = (ci.get("ulimits") or {}).get("stack")
    if not lim or not (_launch(facts) or (ci.get("runtime") or {}).get("in_container")):
        return
    soft = lim.get("soft")
    ev = {"soft limit": _human(soft), "hard limit": _human(lim.get("hard")), "recommended": "64 MiB (--ulimit stack=67108864)"}
    if soft is None or soft >= STACK_RECOMMENDED:
        yield ok(f"stack limit is {_human(soft)}", **{k: v for k, v in ev.items() if k != "recommended"})
    else:
        yield info(f"stack limit is {_human(soft)}, below the 64 MiB the NVIDIA guides set",
                   "Usually enough; if the server dies with a bare \"Segmentation fault\" while loading, restart the "
                   "container with `--ulimit stack=67108864`.", evidence=ev)
