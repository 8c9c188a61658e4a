"""LLA007: The YAML's parallelism fits the visible GPUs."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import findings_for


@rule("LLA007", area="llmapi", title="The YAML's parallelism fits the visible GPUs", kb="world-size-mismatch")
def ranks_vs_gpus(facts):
    """Checks tensor_parallel_size × pipeline_parallel_size × context_parallel_size after the YAML and
    --set are merged against the GPUs this process sees (NVML).  The command line's own --tp_size ×
    --pp_size is CTR004's finding (exec passes it as the world size); this one reports what the YAML
    raised.

    Why: TensorRT-LLM runs one rank per GPU; it stops when it cannot place them.

    Fix: lower tensor_parallel_size / pipeline_parallel_size in the YAML, or give the container more GPUs.
    """
    yield from findings_for(facts, "LLA007")
