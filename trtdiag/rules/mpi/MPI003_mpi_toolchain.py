"""MPI003: mpicc and mpi.h present where mpi4py must be built."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from .common import _short, error


# --------------------------------------------------------------------------------- MPI003
@rule("MPI003", area="mpi", title="mpicc and mpi.h present where mpi4py must be built", kb="mpi4py-build-failed")
def mpi_toolchain(facts):
    """When mpi4py is missing but needed (the installed tensorrt_llm requires it: ``import
    tensorrt_llm`` imports it), ``pip install mpi4py`` builds it from source and needs an MPI compiler wrapper
    (``mpicc``) and the MPI headers (``mpi.h``); without them pip ends with ``ERROR: Could not build
    wheels for mpi4py``.

    Fix: install the MPI development package (``apt-get install -y libopenmpi-dev openmpi-bin``;
    ``dnf install -y openmpi-devel``), then ``python -m pip install mpi4py``.
    """
    rt = facts["mpi.runtime"]
    if (rt.get("mpi4py") or {}).get("found"):
        return
    trt = rt.get("tensorrt_llm") or {}
    # only Python needs mpi4py: Triton's TensorRT-LLM backend is C++ and links libmpi itself, so a
    # multi-rank launch alone does not make mpi4py necessary
    if not trt.get("requires_mpi4py"):
        return
    why = [f"tensorrt_llm {trt.get('version')} requires mpi4py (`import tensorrt_llm` fails without it)"]
    tc = facts["mpi.toolchain"]
    py = rt.get("python") or "python3"
    ev = {"python": py, "needed because": "; ".join(why), "mpicc": tc.get("mpicc") or "not on PATH",
          "mpi.h": tc.get("mpi_h") or "not found in " + ", ".join(_short(tc.get("include_dirs", []), 4))}
    if tc.get("mpicc") and tc.get("mpi_h"):

        yield error(f"mpi4py is not installed in {py}",
                    f"mpi4py is needed ({'; '.join(why)}) but is not installed; mpicc and mpi.h are present, so it can be built.",
                    evidence=ev, fix=hint("command", "MPI003-install-mpi4py", "install mpi4py", [py, "-m", "pip", "install", "mpi4py"]))
        return

    missing = [x for x, v in (("mpicc", tc.get("mpicc")), ("mpi.h", tc.get("mpi_h"))) if not v]
    yield error(f"mpi4py is missing and cannot be built: no {' and no '.join(missing)}",
                f"mpi4py is needed ({'; '.join(why)}) but is not installed, and `pip install mpi4py` will fail with "
                f"`ERROR: Could not build wheels for mpi4py`: building it needs the MPI compiler wrapper mpicc and the MPI "
                f"headers. Install the MPI development package, then `{py} -m pip install mpi4py`.",
                evidence=ev, fix=hint("system-package", "MPI003-install-mpi-dev", "install the MPI compiler wrapper and headers", "mpi-dev"))
