#!/usr/bin/env python3
"""Record what really happens in mixed Open MPI layouts on this machine, as JSON facts.

It builds nothing: the layouts must already exist (how each was made is written into the output
by ``--how``).  For every scenario (an interpreter and an environment) it runs, for real:

* ``python -v -c 'from mpi4py import MPI'`` — the import's error text, and mpi4py's own trace of
  the names it dlopens (``# [mpi4py._mpiabi] trying to dlopen …``);
* the confirming child of :mod:`trtdiag.probes.mpi4py_search` (library version, mapped libmpi);
* trtdiag's prediction (:func:`trtdiag.probes.mpi4py_search.search`) beside it;
* ``ldd`` of the MPI extension(s) in that environment;
* optionally ``mpirun -n 2`` of a rank script (``--mpirun PATH``), each rank printing the libmpi
  mapped into it.

Also: ``apt-get -s purge`` of the field's hwloc packages (what it would remove) and ``dpkg -S``
of the libraries involved.

Usage: tools/record_mpi_layouts.py --layout NAME --how TEXT --scenario 'label|python|VAR=val;VAR=val' …
       [--mpirun label|path] … --out tests/data/mpi/real_layouts.json  (merged by layout name)
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from trtdiag.probes import mpi4py_search  # noqa: E402

RANK = ("from mpi4py import MPI\nc = MPI.COMM_WORLD\n"
        "lib = next((l.split()[-1] for l in open('/proc/self/maps') if 'libmpi.so' in l), None)\n"
        "print('rank', c.Get_rank(), 'of', c.Get_size(), MPI.Get_library_version().split(',')[0], lib, flush=True)\n")
PURGE = ["hwloc-nox", "libhwloc-dev", "libhwloc-plugins"]


def base_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "MPI4PY_LIBMPI", "MPI4PY_MPIABI", "OMPI_MCA_mca_base_component_path")}
    env.update(extra)
    return env


def run(argv, env=None, timeout=120, keep=4000):
    try:
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        return {"argv": argv, "rc": r.returncode, "stdout": r.stdout[-keep:], "stderr": r.stderr[-keep:]}
    except subprocess.TimeoutExpired:
        return {"argv": argv, "rc": None, "timed_out": True}
    except OSError as exc:
        return {"argv": argv, "rc": None, "error": str(exc)}


def scenario(label: str, python: str, env_extra: dict, mpiruns: list[tuple[str, str]], tmp: str) -> dict:
    env = base_env(env_extra)
    out: dict = {"label": label, "python": python, "env": env_extra}
    v = run([python, "-v", "-c", "from mpi4py import MPI; print(MPI.Get_library_version().split(',')[0])"], env, keep=10**7)
    out["import"] = {"rc": v["rc"], "stdout": v.get("stdout", "").strip(),
                     "mpi4py_trace": [l for l in v.get("stderr", "").splitlines() if l.startswith("# [mpi4py._mpiabi]")],
                     "error_tail": "\n".join(l for l in v.get("stderr", "").splitlines()[-6:] if not l.startswith("#"))}
    out["confirm"] = mpi4py_search.confirm(python, env)
    try:
        pred = mpi4py_search.search(python, env)
        out["prediction"] = {k: pred.get(k) for k in ("libmpi", "import_error", "later_failure", "search")}
        out["prediction"]["skipped"] = [{"name": s["name"], "error": s["error"]} for s in (pred.get("selected") or {}).get("skipped", []) if s.get("file")]
        out["prediction"]["agrees"] = mpi4py_search.agrees(pred, out["confirm"])
        exts = [e["path"] for e in pred.get("extensions") or []]
    except Exception as exc:  # recorded, not fatal: the point is to see what happens
        out["prediction"] = {"error": f"{type(exc).__name__}: {exc}"}
        exts = []
    out["ldd"] = {os.path.basename(e): run(["ldd", e], env)["stdout"].splitlines() for e in exts}
    script = os.path.join(tmp, "rank.py")
    with open(script, "w") as fh:
        fh.write(RANK)
    runs = []
    for mlabel, mpirun in mpiruns:
        r = run([mpirun, "--allow-run-as-root", "--oversubscribe", "-n", "2", python, script], env, timeout=120)
        runs.append({"mpirun": mpirun, "label": mlabel, "rc": r["rc"], "output": (r.get("stdout", "") + r.get("stderr", "")).strip().splitlines()[-12:]})
    out["mpirun"] = runs
    return out


def purge_facts() -> dict:
    r = run(["apt-get", "-s", "purge", *PURGE])
    removes = [l.split()[1] for l in r.get("stdout", "").splitlines() if l.startswith("Purg ")]
    notinst = [l.split("'")[1] for l in r.get("stdout", "").splitlines() if "is not installed" in l]
    return {"argv": ["apt-get", "-s", "purge", *PURGE], "removes": removes, "not_installed": notinst}


def dpkg_owner(paths: list[str]) -> dict:
    out = {}
    for p in paths:
        r = run(["dpkg", "-S", os.path.realpath(p)])
        out[p] = r["stdout"].split(":")[0] if r["rc"] == 0 else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layout", required=True)
    ap.add_argument("--how", required=True, action="append")
    ap.add_argument("--scenario", action="append", default=[])
    ap.add_argument("--mpirun", action="append", default=[])
    ap.add_argument("--owners", action="append", default=[])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import tempfile

    tmp = tempfile.mkdtemp()
    mpiruns = [tuple(m.split("|", 1)) for m in a.mpirun]
    scen = []
    for s in a.scenario:
        label, python, envs = (s.split("|") + [""])[:3]
        env = dict(kv.split("=", 1) for kv in envs.split(";") if kv)
        scen.append(scenario(label, python, env, mpiruns, tmp))
    try:
        with open(a.out) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        data = {"about": "Real mixed Open MPI layouts on a Debian 12 machine (2 cores, no GPU): what the loader, mpi4py and "
                         "mpirun really did. Recorded by tools/record_mpi_layouts.py.", "layouts": {}}
    data["layouts"][a.layout] = {"how": a.how, "scenarios": scen, "purge": purge_facts(),
                                 "owners": dpkg_owner(sorted({p for g in a.owners for p in glob.glob(g)}))}
    with open(a.out, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=False)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
