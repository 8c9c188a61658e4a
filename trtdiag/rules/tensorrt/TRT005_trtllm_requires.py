"""TRT005: TensorRT-LLM's required TensorRT is the one installed."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _satisfies, _split_req, ok, warning


@rule("TRT005", area="tensorrt", title="TensorRT-LLM's required TensorRT is the one installed", kb="engine-tensorrt-library-conflict")
def trtllm_requires(facts):
    """tensorrt_llm's METADATA pins a TensorRT release (Requires-Dist: tensorrt==…); the TensorRT found
    here (its Python package, else its libnvinfer) must satisfy it.

    Why: TensorRT-LLM is built against one TensorRT; with another, `import tensorrt_llm` fails or
    the engines it builds are for a TensorRT that will not serve them.
    Fix: `pip install "<the requirement shown>"` in the serving environment.
    """
    t = facts["trtllm.installed"]
    req = t.get("requires_tensorrt")
    if not req:
        return
    inst = facts["trt.installed"]
    have = inst.get("python_package") or inst.get("version")
    name, spec = _split_req(req)
    if not have:
        yield warning(f"TensorRT-LLM {t.get('version')} requires {req}; no TensorRT found",
                      f"Install it: pip install \"{req}\"", evidence={"requirement": req})
        return
    if not spec or _satisfies(spec, have):
        yield ok(f"TensorRT {have} satisfies TensorRT-LLM's requirement {req}")
        return
    yield warning(f"TensorRT-LLM {t.get('version')} requires {req}, but TensorRT {have} is installed",
                  f"tensorrt_llm was built against {req}; with TensorRT {have} it may not import, and engines it builds "
                  f"will not match the TensorRT that serves them. Install it: pip install \"{req}\"",
                  evidence={"requirement": req, "installed": have, "source": inst.get("source")})
