#!/usr/bin/env python3
"""Record the ELF facts of a real MPI layout as JSON, so the prediction logic can be tested on
them where the layout cannot be built (CI has no embedded-hwloc Open MPI).

For each case (a root library or executable, and an environment), it writes what the pure
functions of trtdiag/derive/mpi_layout.py take: the closure in load order (path, SONAME, NEEDED
and where each resolved and how, RPATH/RUNPATH, binding mode, missing NEEDED, missing symbol
versions, undefined MPI-family references in relocation order) and, per object, the symbols it
defines — only those some object of the closure references, to keep the file small — together
with the real outcome observed (the loader's message, from a real child process).

Usage: tools/record_mpi_layout_facts.py --out FILE --case 'name|root|VAR=val;…' … [--components 'name|opener-root|dir:dir|VAR=val;…']
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from trtdiag.probes import elf, ldcache, mca_components, mpi4py_search  # noqa: E402

PROBE = ("import ctypes, os, sys\nmode = os.RTLD_NOW if sys.argv[2] == 'now' else os.RTLD_LAZY\ntry:\n"
         "    ctypes.CDLL(sys.argv[1], mode | os.RTLD_LOCAL)\n    print('ok')\nexcept OSError as e:\n    print(str(e))\n")


def parse_env(s: str) -> dict:
    return dict(kv.split("=", 1) for kv in s.split(";") if kv)


def real_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "OMPI_MCA_mca_base_component_path", "PYTHONPATH")}
    env.update(extra)
    return env


def closure_case(name: str, root: str, extra: dict, mode: str = "lazy") -> dict:
    env = real_env(extra)
    objs = mpi4py_search.closure_facts(root, env, ldcache.load_cache())
    refs = {r[0] for o in objs for r in o.get("undefined_refs", [])}
    out_objs = []
    for o in objs:
        d = o.pop("_defined", set())
        c = o.pop("_copy", set())
        try:
            info = elf.read(o["path"])
            o["needed"], o["runpath"], o["rpath"] = info.needed, info.runpath, info.rpath
        except elf.ElfError:
            pass
        o["defines"] = sorted(d & refs)
        o["copy"] = sorted(c)
        out_objs.append(o)
    is_exe = os.access(root, os.X_OK) and not root.endswith(".so") and ".so." not in os.path.basename(root)
    if is_exe:
        r = subprocess.run([root, "--version"], capture_output=True, text=True, env=env, timeout=60)
        observed = (r.stderr.strip().splitlines() or [""])[0] if r.returncode == 127 else f"exit {r.returncode}"
    else:
        r = subprocess.run([sys.executable, "-c", PROBE, root, mode], capture_output=True, text=True, env=env, timeout=60)
        observed = r.stdout.strip()
    kind = "executable" if is_exe else ("dlopen RTLD_NOW|RTLD_LOCAL (as Python imports an extension)" if mode == "now" else "dlopen RTLD_LAZY|RTLD_LOCAL")
    return {"name": name, "root": root, "env": extra, "kind": kind, "bind_now": mode == "now",
            "objects": out_objs, "observed": observed}


def components_case(name: str, opener: str, dirs: list[str], extra: dict) -> dict:
    env = real_env(extra)
    defined, sonames = mca_components.process_defined(opener, env)
    comps = mca_components.component_facts(dirs, env, process_sonames=sonames)
    refs = {r[0] for c in comps for r in c.get("undefined_refs", [])}
    # what really happens: the launcher started with these components (one rank of /bin/true)
    renv = {**env, "OMPI_MCA_mca_base_component_path": ":".join(dirs), "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    r = subprocess.run([opener, "--oversubscribe", "-n", "1", "/bin/true"], capture_output=True, text=True, env=renv, timeout=120)
    return {"name": name, "opener": opener, "dirs": dirs, "env": extra, "process_sonames": sorted(sonames),
            "process_defines": sorted(defined & refs), "components": comps,
            "observed": {"rc": r.returncode, "output": (r.stdout + r.stderr).strip().splitlines()[-6:]}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--about", default="")
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--components", action="append", default=[])
    a = ap.parse_args()
    try:
        with open(a.out) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        data = {"about": a.about, "cases": {}, "components": {}}
    if a.about:
        data["about"] = a.about
    for c in a.case:
        name, root, envs, mode = (c.split("|") + ["", ""])[:4]
        data["cases"][name] = closure_case(name, root, parse_env(envs), mode or "lazy")
    for c in a.components:
        name, opener, dirs, envs = (c.split("|") + ["", ""])[:4]
        data["components"][name] = components_case(name, opener, dirs.split(":"), parse_env(envs))
    with open(a.out, "w") as fh:
        json.dump(data, fh, indent=None, separators=(",", ":"))
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
