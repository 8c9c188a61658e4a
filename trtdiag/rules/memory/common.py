"""Shared helpers of the memory rules (one rule a file beside this one); the plan they read is
:mod:`trtdiag.derive.memory_plan`."""

from __future__ import annotations

import os
from typing import Any

from ...core.finding import error, hint, info, ok, warning
from ...derive.memory_plan import DEFAULT_KV_FRACTION, GiB, KV_KEYS, Plan, _fact, _filled, _float, _int, own_rank, plan_of, rank_gpu, serving_of, trtllm_model  # noqa: F401


def _best_rebuild(plan: Plan):
    """The smallest rebuild that fits: weight-only first (keeps the batch), else a smaller batch."""

    ans = plan.answers()
    for row in ans["precisions"][1:]:
        if row["fits"] and "KV" not in row["precision"] and "weight-only" in row["precision"]:
            return hint("rebuild-smaller", plan.n, weight_only=row["precision"].split()[0])
    if ans["max_batch_size_at_built_lengths"] >= 1:
        return hint("rebuild-smaller", plan.n, max_batch_size=ans["max_batch_size_at_built_lengths"], checkpoint_dir=plan.checkpoint_dir,
                                 engine_dir=plan.engine_dir, output_dir=plan.output_dir)
    lt = ans["lengths_at_built_batch"]
    if lt:
        return hint("rebuild-smaller", plan.n, max_input_len=lt["max_input_len"], max_output_len=lt["max_output_len"], checkpoint_dir=plan.checkpoint_dir,
                                 engine_dir=plan.engine_dir, output_dir=plan.output_dir)
    return None
