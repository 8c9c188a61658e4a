"""ENG002: Engine built by the installed TensorRT-LLM."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _clean, _dev_part, _engine, error, info, ok, rebuild_fix, release_tuple, trt_mismatch, warning


@rule("ENG002", area="engine", title="Engine built by the installed TensorRT-LLM", kb="trtllm-version-mismatch")
def engine_trtllm_version(facts):
    """The TensorRT-LLM version recorded in the engine's config.json ("version" for trtllm-build,
    none in the legacy build.py layout) against the installed tensorrt_llm.

    Why: TensorRT-LLM's plugins serialize their own fields; another release fails to load them,
    and another dev build of the same release fails deep inside a plugin, e.g. "Assertion failed:
    d == a + length (…/plugins/gemmPlugin/gemmPlugin.cpp:156)"; the Triton backend may instead say the
    "Tensor names in engine are not the same as expected" (triton-inference-server/tensorrtllm_backend#320).
    Fix: rebuild the engine with the installed TensorRT-LLM (`trtdiag fix --engine-dir DIR`), or
    install the release that built it (`pip install tensorrt_llm==VERSION`).
    """
    e = _engine(facts)
    if not e or not e.get("config"):
        return
    built = (e.get("normalized") or {}).get("trtllm_version")
    inst = facts.get("trtllm.installed") or {}
    have = inst.get("version")
    ev = _clean({"engine_config": e.get("config_path"), "engine_trtllm_version": built or "not recorded",
                 "installed": have or "not found", "installed_path": inst.get("path"), "installed_commit": inst.get("commit")})
    if not built:
        yield info("TensorRT-LLM version that built the engine: not recorded",
                   "Legacy build.py engines (TensorRT-LLM ≤ 0.7) do not record it in config.json.", evidence=ev)
        return
    if not have:
        yield info(f"Engine built by TensorRT-LLM {built}; tensorrt_llm is not installed here",
                   "Check the serving environment itself (`--python` for its interpreter).", evidence=ev)
        return
    if built == have:
        yield ok(f"Engine built by TensorRT-LLM {built}, the installed version", **ev)
        return
    fix, cmd = (None, "")
    if not trt_mismatch(facts)[0]:  # ENG001 already carries the rebuild when TensorRT differs too
        fix, cmd = rebuild_fix(facts, f"TensorRT-LLM {built} → {have}")
    else:
        cmd = rebuild_fix(facts, "")[1]
    if release_tuple(built)[:3] != release_tuple(have)[:3]:
        yield error(
            f"Engine built by TensorRT-LLM {built}, but TensorRT-LLM {have} is installed",
            f"{e.get('config_path')} records version {built}; the installed tensorrt_llm is {have} "
            f"({inst.get('path') or 'package metadata'}). Engines are not portable across TensorRT-LLM releases: the "
            f"runtime or its plugins will refuse or misread it. Rebuild with the installed versions: {cmd}",
            evidence=ev, fix=fix)
    else:
        yield warning(
            f"Engine built by TensorRT-LLM {built}, installed is {have} (same release, another build)",
            f"Both are release {'.'.join(map(str, release_tuple(have)))}, but different builds "
            f"({_dev_part(built) or 'release'} vs {_dev_part(have) or 'release'}). Plugin layouts change between "
            "commits: this is how \"Assertion failed: d == a + length (…/plugins/gemmPlugin/gemmPlugin.cpp:156)\" "
            f"happens at load time. Rebuild with the installed build: {cmd}",
            evidence=ev, fix=fix)
