"""TRT001: TensorRT runtime that will load engines."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import info, ok


@rule("TRT001", area="tensorrt", title="TensorRT runtime that will load engines")
def trt_runtime(facts):
    """Which libnvinfer will deserialize engines, its own getInferLibVersion(), and where it lies.

    Why: an engine plan loads only in the TensorRT release that built it; this is the version the
    engine checks (ENG001) compare against.  Found without importing tensorrt: pip's
    tensorrt_libs/ (preloaded by the tensorrt package), LD_LIBRARY_PATH, the ld.so cache; the
    version is asked of the library itself in a child process.
    Fix: none needed; if this is not the TensorRT you expect, see TRT002/TRT003.  When none is
    found: the pip package for the driver's CUDA major version (tensorrt-cu12, tensorrt-cu13), or
    an NGC container (trtdiag/data/tensorrt_install.json names NVIDIA's installation guide).
    """
    from ...derive.trt_install import install_advice

    inst = facts["trt.installed"]
    if not inst.get("version"):
        inv = facts.get("gpu.inventory") or {}
        adv = install_advice(None if inv.get("nvml_error") else inv.get("cuda_driver"))
        yield info("TensorRT: not found", "No libnvinfer on LD_LIBRARY_PATH, in the ld.so cache or in pip's "
                   "tensorrt_libs, and no tensorrt Python package: nothing here can load an engine. " + adv["text"],
                   evidence={"searched": ["pip tensorrt_libs/tensorrt_lean_libs", "LD_LIBRARY_PATH", "/etc/ld.so.cache"],
                             "install": adv["commands"]})
        return
    kind = {"nvinfer": "full runtime", "nvinfer_lean": "lean runtime: loads only plans built version-compatible",
            "nvinfer_dispatch": "dispatch runtime"}.get(inst.get("kind"), "from package metadata")
    ev = {"path": inst.get("path"), "source": inst.get("source"), "python_package": inst.get("python_package")}
    ev.update({f"pip {n}": v for n, v in (inst.get("pip") or {}).items()})
    yield ok(f"TensorRT {inst['version']} will load engines ({kind})", **{k: v for k, v in ev.items() if v})
