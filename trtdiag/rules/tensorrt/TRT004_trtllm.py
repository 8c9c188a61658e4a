"""TRT004: TensorRT-LLM installed."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import info, ok


@rule("TRT004", area="tensorrt", title="TensorRT-LLM installed")
def trtllm(facts):
    """The installed tensorrt_llm (distribution metadata and tensorrt_llm/version.py, commit where
    recorded) and the Triton TensorRT-LLM backend (its directory and version variables).

    Why: an engine must be run by the TensorRT-LLM release that built it (ENG002 compares them).
    Fix: none needed.
    """
    t = facts["trtllm.installed"]
    be = t.get("backend")
    if not t.get("version") and not be:
        return
    ev = {"path": t.get("path"), "commit": t.get("commit")}
    if be:
        ev["backend_dir"] = be.get("dir")
        ev.update({f"env {k}": v for k, v in (be.get("env") or {}).items()})
    if t.get("version"):
        yield ok(f"TensorRT-LLM {t['version']}" + (f" (commit {t['commit'][:10]})" if t.get("commit") else ""), **ev)
    else:
        yield info("Triton TensorRT-LLM backend found, tensorrt_llm Python package not found", **{"evidence": ev})
