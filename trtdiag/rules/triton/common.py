"""Triton model repository checks (TRI0xx): the five config.pbtxt files of tensorrtllm_backend's
inflight_batcher_llm, filled, parseable and in agreement with the engine they serve.

Every check reads ``triton.repo`` (None: no repository given or found, the check does not apply)
and, where it compares with the engine, ``triton.engine``.

Shared helpers of the triton rules (one rule a file beside this one)."""

from __future__ import annotations

import os

from typing import Any, Iterator

from ...core.finding import error, info, ok, warning

AREA = "triton"

def _repo(facts) -> dict[str, Any] | None:
    return facts["triton.repo"]

def _engine(facts) -> dict[str, Any] | None:
    eng = facts.get("triton.engine")
    return eng if eng and eng.get("normalized") else None

def _rel(repo: dict[str, Any], path: str) -> str:
    try:
        return os.path.relpath(path, repo["root"])
    except ValueError:
        return path

def _loc(repo, m, line) -> str:
    return f"{m['config_path']}:{line}"

def _parsed(repo) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, m in repo["models"].items():
        if not m.get("parse_error"):
            yield name, m

def _truthy(v: str | None) -> bool | None:
    if v is None:
        return None
    s = v.strip().lower()
    if s in ("true", "1", "yes", "y", "t", "on"):
        return True
    if s in ("false", "0", "no", "n", "f", "off", ""):
        return False
    return None

def _int(v: str | None) -> int | None:
    try:
        return int(str(v).strip()) if v is not None and str(v).strip() else None
    except ValueError:
        return None

def _trtllm(repo) -> tuple[str, dict[str, Any]] | tuple[None, None]:
    n = repo.get("trtllm_model")
    if n and not repo["models"][n].get("parse_error"):
        return n, repo["models"][n]
    return None, None

def _trtllm_model(facts) -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None]:
    """(repository, name, model) of the tensorrtllm model that parsed; Nones when there is none."""
    repo = _repo(facts)
    if repo is None:
        return None, None, None
    name, m = _trtllm(repo)
    return repo, name, m

# ---------------------------------------------------------------- TRI001 placeholders
def _judge(facts) -> dict[str, Any] | None:
    """The repository judged as Triton and its backend release would (derive/triton_judge.py)."""
    return facts.derived("triton_judge")


def required_placeholders(m: dict[str, Any], facts=None, folder: str | None = None) -> list[dict[str, Any]]:
    """Placeholders that keep the model from loading or serving in the release the repository came
    from (the per-release table, trtdiag/data/backend_templates.json); without facts, the file's
    shape alone (outside quotes: the file does not parse)."""
    if facts is not None and folder is not None:
        j = _judge(facts)
        names = set(((j or {}).get("models", {}).get(folder) or {}).get("blocking") or [])
        return [p for p in m.get("placeholders") or [] if p["name"] in names]
    return [p for p in m.get("placeholders") or [] if not p["in_string"]]

# ---------------------------------------------------------------- TRI004 tokenizer dir
def _tokenizer_problem(pi: dict[str, Any]) -> str | None:
    from ...derive.triton_repo import TOKENIZER_FILES

    if not pi.get("exists"):
        return "does not exist"
    if not pi.get("is_dir"):
        return "is not a directory"
    if pi.get("error"):
        return f"cannot be read ({pi['error']})"
    if not set(pi.get("entries") or []) & set(TOKENIZER_FILES):
        return "holds no tokenizer files (" + ", ".join(TOKENIZER_FILES[:4]) + ", …)"
    return None

# ---------------------------------------------------------------- TRI008 inflight batching
INFLIGHT = ("inflight_batching", "inflight_fused_batching")

ENGINE_FEATURES = (
    ("paged_kv_cache", "paged KV cache", "--paged_kv_cache enable"),
    ("remove_input_padding", "packed input (remove_input_padding)", "--remove_input_padding enable"),
    ("gpt_attention_plugin", "the GPT attention plugin", "--gpt_attention_plugin <dtype>"),
)

# ---------------------------------------------------------------- TRI009 parameters vs engine limits
def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None and v.strip() else None
    except ValueError:
        return None

# ---------------------------------------------------------------- TRI011 instances and queue delay
MAX_SANE_DELAY_US = 1_000_000
