"""MPI006: mpirun itself starts."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive.mpi_layout import launcher_findings
from .common import _fact, error, launch_plan, ok, warning

SEVERITY = {"error": error, "warning": warning}


@rule("MPI006", area="mpi", title="mpirun starts", kb="mpi-launcher-cannot-start")
def mpirun_starts(facts):
    """The ``mpirun`` that will start the ranks can itself start: its own libraries load together.

    With another installation's libraries first on LD_LIBRARY_PATH, a launcher can die before any
    rank starts: PyPI's Open MPI 5.0.11 ``mpirun`` (a wrapper running ``prterun``) with Debian's
    libdir on LD_LIBRARY_PATH gets Debian's libpmix and stops with ``prterun: symbol lookup
    error: prterun: undefined symbol: pmix_output_info`` (exit 127; recorded in
    tests/data/mpi/real_layouts.json).  How: the launcher's closure is resolved as ld.so does in
    this environment; symbol versions, data and copy relocations are checked at start (as ld.so
    does), functions are bound at first call.  Only checked when the launch goes through mpirun.

    Fix: the launcher's own installation first on LD_LIBRARY_PATH (MPI001/MPI002 name it), or the
    mpirun of the installation the ranks load.
    """
    if not launch_plan(facts)["uses_mpirun"]:
        return
    pred = _fact(facts, "mpi4py_search.prediction") or {}
    la = pred.get("launcher")
    if not la:
        return
    fs = [f for f in launcher_findings(la, pred.get("libmpi")) if f["id"] == "MPI006"]
    for f in fs:
        yield SEVERITY[f["severity"]](f["title"], f["message"], evidence=f["evidence"])
    if not fs:
        yield ok(f"mpirun starts ({la.get('checked')}: its libraries load together)", mpirun=la.get("path"), installation=la.get("prefix"))
