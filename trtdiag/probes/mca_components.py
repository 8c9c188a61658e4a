"""Open MPI's MCA components as the process that opens them will see them (files only).

``component_facts(dirs, env)``: for each ``mca_*.so`` Open MPI would open from ``dirs`` (the
first directory holding a component name wins; later ones of the same name are shadowed), its
binding mode, its undefined MPI-family references in relocation order (data vs PLT, from
:mod:`trtdiag.probes.elf_dyn`), the NEEDED libraries it cannot find, and the symbols its own
NEEDED MPI-family libraries define (``libmca_common_*``, …).  The verdicts — not opened (Open MPI
prints ``unable to open … (ignored)``) or dies at first call (``symbol lookup error``) — are
:func:`trtdiag.derive.mpi_layout.component_verdicts`.

``process_defined(root, env)``: the MPI-family symbols the process that opens them defines (the
closure of mpirun, or of the rank's libmpi).
"""

from __future__ import annotations

import glob
import os

from . import elf, elf_dyn, elf_store, ldcache
from .mpi4py_search import MPI_SYMBOL_PREFIXES, _defined, closure_facts, split_defined


def component_facts(dirs: list[str], env: dict | None = None, process_sonames: set[str] | None = None, limit: int = 400) -> list[dict]:
    """``process_sonames``: the SONAMEs already in the process that opens the components (its
    libopen-pal, libopen-rte, …): a component's NEEDED entry of that name binds to the process's
    copy, not to the file the component's RUNPATH names, so that file's symbols do not count."""
    env = dict(os.environ if env is None else env)
    process_sonames = set(process_sonames or ())
    cache = ldcache.load_cache()
    seen_names: set[str] = set()
    out: list[dict] = []
    for d in dirs:
        for p in sorted(glob.glob(os.path.join(glob.escape(d), "mca_*.so"))):
            name = os.path.basename(p)
            if name in seen_names:
                continue
            seen_names.add(name)
            c: dict = {"path": p, "dir": d, "missing": [], "version_missing": [], "own_defined": []}
            try:
                info = elf.read(p)
                lf = elf_dyn.load_facts(p, MPI_SYMBOL_PREFIXES)
            except elf.ElfError as exc:
                c["error"] = str(exc)
                out.append(c)
                continue
            c["bind_now"] = lf.bind_now
            c["undefined_refs"] = [list(r) for r in lf.undefined_refs]
            own: set[str] = set()
            for n in info.needed:
                if n in process_sonames:
                    continue
                q = ldcache.resolve(n, rpath=info.rpath, runpath=info.runpath, origin=os.path.dirname(os.path.realpath(p)), env=env, cache=cache)
                if q is None:
                    c["missing"].append(n)
                elif not n.startswith(("libc.so", "libm.so", "libpthread", "libdl.so", "librt.so", "ld-linux")):
                    try:
                        own |= _defined(q)
                    except elf.ElfError:
                        pass
            # only what the loaded process lacks matters: keep the own definitions that are referenced
            refs = {r[0] for r in c["undefined_refs"]}
            c["own_defined"] = sorted(own & refs)
            out.append(c)
            if len(out) >= limit:
                return out
    return out


def process_defined(root: str, env: dict | None = None) -> tuple[set[str], set[str]]:
    """(the MPI-family symbols the closure of ``root`` defines, the SONAMEs in it)."""
    env = dict(os.environ if env is None else env)
    objs = closure_facts(root, env, ldcache.load_cache())
    defined, _lib = split_defined(objs)
    return defined, {o["soname"] for o in objs if o.get("soname")}


def _pkglibdirs(objs_paths: list[str]) -> list[str]:
    """Open MPI's pkglibdir beside the libopen-pal a process loads (``${libdir}/openmpi``;
    Debian ``…/openmpi/lib/openmpi3``), plus ``~/.openmpi/components``."""
    out = []
    for p in objs_paths:
        b = os.path.basename(p)
        if b.startswith("libopen-pal.so"):
            base = os.path.dirname(os.path.realpath(p))
            for rel in ("openmpi", "openmpi3", "openmpi/lib/openmpi3", "openmpi/lib/openmpi"):
                d = os.path.join(base, rel)
                if glob.glob(os.path.join(glob.escape(d), "mca_*.so")):
                    out.append(d)
                    break
            break
    home = os.path.join(os.path.expanduser("~"), ".openmpi", "components")
    if os.path.isdir(home):
        out.append(home)
    return out


from ..core.facts import probe  # noqa: E402
from ..fsutil import which


@probe("mca_components.verdicts")
@elf_store.keeping
def verdicts_probe(facts) -> dict:
    """For mpirun (on PATH) and for a rank (the libmpi mpi4py will load): the component
    directories Open MPI will open and the components that will be skipped or kill the process."""
    from ..derive.mpi_layout import component_verdicts

    env = dict(os.environ)
    pred = facts["mpi4py_search.prediction"]
    out: dict = {"source": "OMPI_MCA_mca_base_component_path" if env.get("OMPI_MCA_mca_base_component_path") else "pkglibdir beside libopen-pal"}
    openers = []
    mpirun = which("mpirun", path=env.get("PATH"))
    if mpirun:
        la = pred.get("launcher") or {}
        openers.append(("mpirun", la.get("checked") or os.path.realpath(mpirun)))
    if pred.get("libmpi"):
        openers.append(("rank", pred["libmpi"]))
    for who, root in openers:
        try:
            objs = closure_facts(root, env, ldcache.load_cache())
        except elf.ElfError as exc:
            out[who] = {"error": str(exc)}
            continue
        defined, _lib = split_defined(objs)
        sonames = {o["soname"] for o in objs if o.get("soname")}
        dirs = ([d for d in env["OMPI_MCA_mca_base_component_path"].split(":") if d] if env.get("OMPI_MCA_mca_base_component_path")
                else _pkglibdirs([o["path"] for o in objs]))
        comps = component_facts(dirs, env, process_sonames=sonames)
        out[who] = {"root": root, "dirs": dirs, "checked": len(comps),
                    "verdicts": component_verdicts(comps, defined, opener="mpirun" if who == "mpirun" else "rank")}
    return out
