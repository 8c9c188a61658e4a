"""Facts about the paths named on the command line (so checks never stat the machine themselves,
and `check --from` sees what the machine saw)."""

from __future__ import annotations

import os
from typing import Any

from ..core.facts import probe

PATH_OPTIONS = ("engine_dir", "model_repo", "tokenizer_dir", "checkpoint_dir", "python")


@probe("paths.options")
def path_options(facts) -> dict[str, Any]:
    out: dict[str, Any] = {"cwd": os.getcwd()}
    for key in PATH_OPTIONS:
        p = facts.opt(key)
        if not p:
            continue
        is_dir = os.path.isdir(p)
        out[key] = {
            "path": p,
            "exists": os.path.exists(p),
            "is_dir": is_dir,
            "realpath": os.path.realpath(p),
            # the directory it names: itself, or the folder of a single file
            "dir_realpath": os.path.realpath(p if is_dir else os.path.dirname(p) or "."),
        }
    return out
