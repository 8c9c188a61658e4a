"""TRT003: tensorrt Python package matches its libnvinfer."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import ok, warning


@rule("TRT003", area="tensorrt", title="tensorrt Python package matches its libnvinfer", kb="engine-tensorrt-library-conflict")
def python_vs_lib(facts):
    """The tensorrt Python package's version differs from the libnvinfer it will load.

    Why: the bindings are built against one libnvinfer; with another one `import tensorrt` fails or
    engines built through it do not load in the runtime that serves them.
    Fix: `pip install tensorrt==<libnvinfer version>` (or make the libraries match the package).
    """
    inst = facts["trt.installed"]
    py, lib = inst.get("python_package"), inst.get("version")
    if not py or not lib or not inst.get("path"):
        return
    if lib.split(".")[:3] == py.split(".")[:3]:
        yield ok(f"tensorrt package {py} matches libnvinfer {lib}")
        return
    yield warning(f"tensorrt Python package {py}, but libnvinfer {lib} will be loaded",
                  "The Python bindings and the library that loads engines are different TensorRT releases.",
                  evidence={"python_package": py, "library": inst.get("path"), "library_version": lib},
                  )
