"""CTR006: the image's TensorRT / TensorRT-LLM versions are the ones installed."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _get, _same_version, error, info, ok, warning


@rule("CTR006", area="container", title="the image's TensorRT / TensorRT-LLM versions are the ones installed", kb="container-version-mismatch")
def image_versions(facts):
    """Compares the version variables an NGC image sets (TRT_VERSION / TENSORRT_VERSION,
    TRTLLM_VERSION / TENSORRT_LLM_VERSION; TRITON_SERVER_VERSION and
    NVIDIA_TRITON_SERVER_VERSION are shown as evidence) with the TensorRT and TensorRT-LLM that
    are actually installed (facts trt.installed, trtllm.installed).

    Why: a `pip install tensorrt_llm` or `pip install tensorrt` inside an NGC Triton image
    replaces the versions the image's tensorrtllm_backend was built against; engines built with
    one and served by the other fail with version-mismatch or undefined-symbol errors.

    Fix: use the image whose release matches the engine (the Triton/TensorRT-LLM support matrix),
    or rebuild the engine with the versions installed; do not pip-install over the image's.
    """
    env = facts["container.info"].get("versions") or {}
    if not env:
        return
    pairs = [("TensorRT", ("TRT_VERSION", "TENSORRT_VERSION", "NV_TENSORRT_VERSION"), "trt.installed"),
             ("TensorRT-LLM", ("TRTLLM_VERSION", "TENSORRT_LLM_VERSION", "TRT_LLM_VERSION"), "trtllm.installed")]
    compared = False
    context = {k: env[k] for k in ("NVIDIA_TRITON_SERVER_VERSION", "TRITON_SERVER_VERSION") if k in env}
    for name, vars_, fact in pairs:
        var = next((v for v in vars_ if env.get(v)), None)
        if var is None:
            continue
        inst = _get(facts, fact) or {}
        have = inst.get("version")
        ev = {f"image {var}": env[var], f"installed {name}": have or "not found", **context}
        if inst.get("source"):
            ev["installed from"] = inst["source"]
        if inst.get("path"):
            ev["installed at"] = inst["path"]
        if have is None:
            if fact in ("trt.installed", "trtllm.installed") and inst:
                compared = True
                yield warning(f"The image says {name} {env[var]}, but no {name} is installed",
                              f"{var} is set by the image, yet {name} was not found: it was uninstalled or the "
                              f"environment is another Python's.", evidence=ev)
            continue
        compared = True
        if _same_version(env[var], have):
            yield ok(f"{name} {have} as the image says ({var}={env[var]})", **ev)
        else:
            yield error(f"The image was built for {name} {env[var]}, but {have} is installed",
                        f"{var}={env[var]} is what this image's libraries and backends were built against; {name} {have} "
                        f"replaced it (usually a pip install inside the image). Engines and the backend will disagree "
                        f"about versions at load.", evidence=ev)
    if not compared and context:
        yield info("NGC Triton image " + " / ".join(f"{k}={v}" for k, v in context.items()), evidence=dict(env))
