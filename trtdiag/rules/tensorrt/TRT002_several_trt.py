"""TRT002: One TensorRT version on the library path."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import warning


@rule("TRT002", area="tensorrt", title="One TensorRT version on the library path", kb="engine-tensorrt-library-conflict")
def several_trt(facts):
    """Several different libnvinfer versions are reachable (pip, LD_LIBRARY_PATH, ld.so cache).

    Why: which one a process loads depends on how it starts (Python preloads pip's tensorrt_libs;
    tritonserver's C++ backend follows LD_LIBRARY_PATH and the ld.so cache), so the same engine
    can load in one and fail in the other with "The engine plan file is not compatible with this
    version of TensorRT".
    Fix: keep one TensorRT: remove the others from LD_LIBRARY_PATH or uninstall the extra pip
    packages, so every process loads the version the engines were built with.
    """
    libs = facts["trt.libraries"]
    cands = [c for c in libs.get("candidates", []) if c.get("version")]
    versions = sorted({c["version"] for c in cands})
    if len(versions) < 2:
        return
    sel = libs.get("selected") or {}
    lines = [f"{c['version']}  {c['path']}  ({c['source']})" for c in cands]
    yield warning(
        f"{len(versions)} different TensorRT versions are reachable: {', '.join(versions)}",
        f"A Python process would load TensorRT {sel.get('version')} from {sel.get('path')}; a process started "
        "another way (tritonserver, another LD_LIBRARY_PATH) may load a different one and refuse engines built "
        "for this one.",
        evidence={"libraries": lines, "selected": sel.get("path")},
    )
