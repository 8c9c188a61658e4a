"""MPI, hwloc and mpi4py as the dynamic loader will see them — read from files, not by loading.

Facts:

``mpi.runtime``
    Which ``libmpi`` the loader picks (for mpi4py's MPI extension, else for ``libmpi.so.40`` /
    ``.12``), found through RPATH, LD_LIBRARY_PATH, RUNPATH, /etc/ld.so.cache and the default
    directories (:mod:`trtdiag.probes.ldcache`), plus HPC-X's ``/opt/hpcx/ompi/lib``; the
    version (``ompi_info --version`` of the same installation, in a child with a timeout); the
    load closure (every library the MPI extension pulls in, NEEDED by NEEDED); the hwloc each
    library needs and defines (``opal_hwloc201_*`` is an embedded, renamed hwloc; ``hwloc_*`` a
    system one) read from ``.dynsym`` of the MPI/hwloc libraries only; hwloc symbols that
    nothing in the closure defines; hwloc plugin directories and the plugins that would load
    into a hwloc that lacks what they need; mpi4py (found, version, extensions, which libmpi each
    needs and where that resolves); whether tensorrt_llm is installed and wants mpi4py.
``mpi.toolchain``
    ``mpicc`` on PATH and ``mpi.h`` in the include directories (what building mpi4py needs).
``mpi.launch``
    The effective user and the Open MPI allow-root settings (process environment and ./trtdiag.env).
``mpi.import``
    The dynamic confirmation: imports mpi4py (and tensorrt_llm, when installed) in a child
    process of the target interpreter with a timeout, never in trtdiag.

Environment knobs (documented in docs/mpi.md): ``TRTDIAG_MPI_EXTRA_DIRS`` (more directories to
search for MPI libraries, colon-separated), ``TRTDIAG_MPI_INCLUDE_DIRS`` (replaces the list of
directories searched for mpi.h).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

from ..core.facts import probe
from ..fsutil import which
from . import elf, elf_store, ldcache
from ..derive.mpi import ALLOW_ROOT, version_from_name  # noqa: F401

HPCX_DIRS = ["/opt/hpcx/ompi/lib", "/opt/hpcx/ucx/lib", "/usr/local/mpi/lib"]
HWLOC_PREFIXES = ("opal_hwloc", "hwloc_")
EMBEDDED_RE = re.compile(r"^(opal_hwloc\d+_)")
# libraries whose .dynsym is worth reading: MPI, its runtime, hwloc, PMIx, and Python extensions
RELEVANT_RE = re.compile(r"^(libmpi|libopen-pal|libopen-rte|libhwloc|libpmix|libprrte|libucp|libucs|MPI\.|mca_|hwloc_)")
LIBMPI_SONAMES = ("libmpi.so.40", "libmpi.so.12", "libmpi.so.0", "libmpi.so")




def _names(d: str, prefix: str, suffix: str = "", contains: str = "") -> list[str]:
    """The paths in folder ``d`` that ``glob`` would give for ``prefix*contains*suffix`` (no hidden
    names), sorted; [] for a folder that cannot be listed."""
    try:
        names = os.listdir(d)
    except OSError:
        return []
    out = []
    for n in names:
        if n.startswith(".") or not n.startswith(prefix) or not n.endswith(suffix) or len(n) < len(prefix) + len(suffix):
            continue
        if contains and contains not in n[len(prefix):]:
            continue
        out.append(os.path.join(d, n))
    return sorted(out)

def extra_dirs() -> list[str]:
    env = os.environ.get("TRTDIAG_MPI_EXTRA_DIRS", "")
    return [d for d in env.split(":") if d] + [d for d in HPCX_DIRS if os.path.isdir(d)]


# ------------------------------------------------------------------------ python packages
def _target_sys_path(facts) -> tuple[str, list[str]]:
    py = facts.opt("python")
    if not py:
        return sys.executable, [p for p in sys.path if p]
    from .. import proc
    from ..core.errors import InputError

    if not (os.path.isfile(py) and os.access(py, os.X_OK)):
        raise InputError(f"--python {py}: not an executable file")
    data, res = proc.run_python_json("import sys, json; print(json.dumps(sys.path))", python=py, timeout=15)
    if not isinstance(data, list):
        raise RuntimeError(f"could not read sys.path of {py}: {(res.error or res.stderr or res.stdout).strip()[-300:]}")
    return py, [p for p in data if p]


def _dist_info(paths: list[str], name: str) -> dict | None:
    """Version and Requires-Dist of an installed distribution, from its METADATA (no import)."""
    for d in paths:
        try:  # one listing, not a glob: site-packages of a PyTorch image hold a thousand entries
            names = os.listdir(d)
        except OSError:
            continue
        pre = name + "-"
        found = sorted(n for n in names if n.startswith(pre) and n.endswith(".dist-info")) + sorted(n for n in names if n.startswith(pre) and n.endswith(".egg-info"))
        for mdir in (os.path.join(d, n) for n in found):
            meta = os.path.join(mdir, "METADATA") if mdir.endswith(".dist-info") else os.path.join(mdir, "PKG-INFO")
            version, requires = None, []
            try:
                with open(meta, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        if not line.strip():
                            break  # headers end at the first blank line
                        if line.startswith("Version:"):
                            version = line.split(":", 1)[1].strip()
                        elif line.startswith("Requires-Dist:"):
                            requires.append(line.split(":", 1)[1].strip())
            except OSError:
                continue
            return {"dist_info": mdir, "version": version, "requires": requires}
    return None


def _find_package(paths: list[str], name: str) -> str | None:
    for d in paths:
        p = os.path.join(d, name)
        if os.path.isfile(os.path.join(p, "__init__.py")):
            return p
    return None


# ------------------------------------------------------------------------ closure
def closure(roots: list[str], env=None, cache=None) -> tuple[list[dict], list[dict]]:
    """Every object the loader maps for ``roots`` (breadth first, as ld.so does), and the NEEDED
    entries it cannot find.  Each object: path, soname, needed, how it was found, by whom."""
    objs: list[dict] = []
    missing: list[dict] = []
    seen: dict[str, dict] = {}
    queue: list[tuple[str, str, str | None]] = [(r, "root", None) for r in roots]
    while queue:
        path, how, by = queue.pop(0)
        real = ldcache.realpath(path)
        if real in seen:
            continue
        try:
            info = elf.read(path)
        except elf.ElfError as exc:
            o = {"path": path, "how": how, "needed_by": by, "error": str(exc)}
            seen[real] = o
            objs.append(o)
            continue
        o = {"path": path, "realpath": real, "soname": info.soname, "needed": info.needed, "how": how, "needed_by": by}
        if info.rpath:
            o["rpath"] = info.rpath
        if info.runpath:
            o["runpath"] = info.runpath
        seen[real] = o
        objs.append(o)
        for n in info.needed:
            p, h = ldcache.resolve_ex(n, rpath=info.rpath, runpath=info.runpath, origin=os.path.dirname(real), env=env, cache=cache)
            if p is None:
                missing.append({"library": path, "needs": n})
            else:
                queue.append((p, h, path))
    return objs, missing


def _relevant(o: dict) -> bool:
    name = os.path.basename(o.get("soname") or o["path"])
    return o.get("how") == "root" or bool(RELEVANT_RE.match(name))


def hwloc_analysis(objs: list[dict]) -> dict:
    """Read .dynsym of the MPI/hwloc objects of a closure: which hwloc symbols each needs, which
    the closure defines, and what stays undefined."""
    defined: dict[str, str] = {}
    needs: list[tuple[str, str]] = []
    read = []
    for o in objs:
        if "error" in o or not _relevant(o):
            continue
        try:
            s = elf.symbols(o["path"], HWLOC_PREFIXES)
        except elf.ElfError as exc:
            o["error"] = str(exc)
            continue
        read.append(o["path"])
        for name in s.defined:
            defined.setdefault(name, o["path"])
        needs.extend((o["path"], n) for n in sorted(s.undefined))
    # a library loaded into the process defines its symbols for everyone (global scope): so does
    # any non-relevant object in the closure, but hwloc symbols only come from the ones read
    unresolved = [{"library": lib, "symbol": sym} for lib, sym in needs if sym not in defined]
    embedded = sorted({m.group(1) for name in defined for m in [EMBEDDED_RE.match(name)] if m})
    wanted_embedded = sorted({m.group(1) for _l, name in needs for m in [EMBEDDED_RE.match(name)] if m})
    system_hwloc = [o["path"] for o in objs if os.path.basename(o.get("soname") or o["path"]).startswith("libhwloc.so")]
    return {"read": read, "defined_count": len(defined), "unresolved": unresolved,
            "embedded_prefixes": embedded, "wanted_embedded_prefixes": wanted_embedded,
            "system_hwloc": system_hwloc, "_defined": defined}


def plugin_dirs(objs: list[dict]) -> list[str]:
    """Where the hwloc in this closure looks for plugins: HWLOC_PLUGINS_PATH when set, else the
    ``hwloc`` directory beside the system libhwloc it loads (hwloc's compiled-in default,
    ``$libdir/hwloc``).  Open MPI's embedded hwloc is built without plugin loading, so a closure
    with only an embedded hwloc has no plugin directory."""
    env = os.environ.get("HWLOC_PLUGINS_PATH")
    if env is not None:
        dirs = [d for d in env.split(":") if d]
    else:
        dirs = [os.path.join(os.path.dirname(o.get("realpath") or o["path"]), "hwloc") for o in objs
                if os.path.basename(o.get("soname") or o["path"]).startswith("libhwloc.so")]
    out, seen = [], set()
    for d in dirs:
        r = ldcache.realpath(d)
        if r not in seen and os.path.isdir(d):
            seen.add(r)
            out.append(d)
    return out


def plugin_analysis(objs: list[dict], defined: dict[str, str]) -> list[dict]:
    """Each hwloc plugin directory, its plugins, and the hwloc symbols a plugin needs that the
    hwloc in this closure does not define (the plugin would fail to load into it)."""
    out = []
    for d in plugin_dirs(objs):
        plugins = []
        for p in _names(d, "hwloc_", ".so"):
            try:
                s = elf.symbols(p, ("hwloc_",))
            except elf.ElfError as exc:
                plugins.append({"path": p, "error": str(exc)})
                continue
            missing = sorted(n for n in s.undefined if n not in defined)
            plugins.append({"path": p, "needs": len(s.undefined), "missing": missing[:5], "missing_count": len(missing)})
        out.append({"dir": d, "plugins": plugins})
    return out


def ompi_info_version(libmpi: str | None) -> dict:
    """``ompi_info --version`` of the installation that owns ``libmpi`` (its ../bin, else PATH)."""
    from .. import proc
    cands = []
    if libmpi:
        real = ldcache.realpath(libmpi)
        for up in (os.path.dirname(real), os.path.dirname(os.path.dirname(real))):
            cands.append(os.path.join(os.path.dirname(up), "bin", "ompi_info"))
    w = which("ompi_info")
    if w and (libmpi is None or install_prefix(w) == install_prefix(libmpi)):
        cands.append(w)  # only the ompi_info of the same installation speaks for this libmpi
    from . import answer_cache

    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            # the version ompi_info prints is compiled into it: kept per file identity, so the
            # next check asks no child (answer_cache; an upgraded ompi_info is asked again)
            kept = answer_cache.get("ompi-info-version", [c]).get(c)
            if isinstance(kept, dict) and kept.get("version"):
                return {"implementation": "Open MPI", "version": kept["version"], "ompi_info": c}
            res = proc.run([c, "--version"], timeout=5)
            m = re.search(r"Open MPI v?(\d+\.\d+\.\d+\S*)", res.stdout)
            if m:
                answer_cache.put("ompi-info-version", {c: {"version": m.group(1)}})
                return {"implementation": "Open MPI", "version": m.group(1), "ompi_info": c}
            return {"ompi_info": c, "error": (res.error or res.stderr.strip() or f"exit {res.returncode}")[-200:]}
    return {}




def trtllm_mpi_links(pkg: str, env, cache) -> list[dict]:
    """The libraries of an installed tensorrt_llm that NEED libmpi (libs/*.so, bindings*.so), and
    where each one's libmpi resolves — read from .dynamic only (these libraries are large; their
    symbol tables are not read)."""
    out = []
    files = _names(os.path.join(pkg, "libs"), "", contains=".so") + _names(pkg, "bindings", ".so")
    for f in files[:64]:
        try:
            info = elf.read(f)
        except elf.ElfError:
            continue
        need = next((n for n in info.needed if n.startswith("libmpi.so")), None)
        if need is None:
            continue
        where, how = ldcache.resolve_ex(need, rpath=info.rpath, runpath=info.runpath, origin=os.path.dirname(ldcache.realpath(f)), env=env, cache=cache)
        out.append({"library": f, "needs": need, "resolves_to": where, "how": how})
    return out




def install_prefix(path: str) -> str:
    """/opt/hpcx/ompi/lib/libmpi.so.40 -> /opt/hpcx/ompi; /usr/bin/mpirun -> /usr;
    /usr/lib/x86_64-linux-gnu/libmpi.so.40 -> /usr (the installation a file belongs to)."""
    real = ldcache.realpath(path)
    parts = real.split(os.sep)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] in ("lib", "lib64", "bin"):
            return os.sep.join(parts[:i]) or os.sep
    return os.path.dirname(real)


# ------------------------------------------------------------------------ the probe
@probe("mpi.runtime")
@elf_store.keeping
def runtime(facts) -> dict:
    t0 = time.perf_counter()
    env = os.environ
    cache = ldcache.load_cache()
    xdirs = extra_dirs()
    python, paths = _target_sys_path(facts)
    out: dict = {"python": python, "LD_LIBRARY_PATH": env.get("LD_LIBRARY_PATH"), "HWLOC_PLUGINS_PATH": env.get("HWLOC_PLUGINS_PATH")}

    # mpi4py and its MPI extension(s)
    pkg = _find_package(paths, "mpi4py")
    m4 = {"found": pkg is not None, "path": pkg}
    if pkg:
        meta = _dist_info([os.path.dirname(pkg)], "mpi4py")
        m4["version"] = meta and meta["version"]
        exts = []
        for p in _names(pkg, "MPI", ".so"):
            try:
                info = elf.read(p)
            except elf.ElfError as exc:
                exts.append({"path": p, "error": str(exc)})
                continue
            libmpi = next((n for n in info.needed if n.startswith("libmpi")), None)
            where, how = (ldcache.resolve_ex(libmpi, rpath=info.rpath, runpath=info.runpath, origin=pkg, env=env, cache=cache)
                          if libmpi else (None, None))
            abi = os.path.basename(p).split(".")[1] if os.path.basename(p).count(".") >= 3 else None
            exts.append({"path": p, "abi": abi, "needs": libmpi, "resolves_to": where, "how": how})
        m4["extensions"] = exts
        # mpi4py ≥ 4 ships one extension per MPI ABI and picks the one whose libmpi loads
        m4["selected"] = next((e for e in exts if e.get("resolves_to")), exts[0] if exts else None)
    out["mpi4py"] = m4
    trt = _dist_info(paths, "tensorrt_llm")
    out["tensorrt_llm"] = None if trt is None else {
        "version": trt["version"], "dist_info": trt["dist_info"],
        "requires_mpi4py": any(re.match(r"mpi4py\b", r) for r in trt["requires"]),
    }
    if trt is not None:
        tpkg = _find_package(paths, "tensorrt_llm")
        out["tensorrt_llm"]["path"] = tpkg
        out["tensorrt_llm"]["mpi_links"] = trtllm_mpi_links(tpkg, env, cache) if tpkg else []

    # which libmpi will be used
    candidates = ldcache.find("libmpi.so.", env=env, extra_dirs=xdirs, cache=cache)
    out["candidates"] = [{"soname": s, "path": p} for s, p in candidates]
    sel = m4.get("selected") if pkg else None
    roots: list[str] = []
    if sel and sel.get("resolves_to"):
        libmpi, how = sel["resolves_to"], sel["how"]
        roots.append(sel["path"])
    else:
        libmpi, how = None, None
        for son in LIBMPI_SONAMES:
            libmpi, how = ldcache.resolve_ex(son, env=env, cache=cache)
            if libmpi:
                break
        if not libmpi and candidates:
            libmpi, how = candidates[0][1], "extra dirs"
        if libmpi:
            roots.append(libmpi)
    # the libmpi tensorrt_llm's own libraries load (their RUNPATH may point elsewhere): its MPI
    # closure is part of the process too
    for link in (out["tensorrt_llm"] or {}).get("mpi_links", []):
        if link.get("resolves_to") and link["resolves_to"] not in roots:
            roots.append(link["resolves_to"])
            if libmpi is None:
                libmpi, how = link["resolves_to"], link["how"]
    mpirun = which("mpirun", path=env.get("PATH"))
    out["mpirun"] = None if not mpirun else {"path": mpirun, "realpath": ldcache.realpath(mpirun), "prefix": install_prefix(mpirun)}
    out["libmpi"] = None if not libmpi else {"path": libmpi, "realpath": ldcache.realpath(libmpi), "how": how, "file_version": version_from_name(ldcache.realpath(libmpi)), "prefix": install_prefix(libmpi)}
    if not roots:
        out["installed"] = False
        out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return out
    out["installed"] = libmpi is not None
    out.update(ompi_info_version(libmpi))

    objs, missing = closure(roots, env=env, cache=cache)
    hw = hwloc_analysis(objs)
    defined = hw.pop("_defined")
    out["closure"] = objs
    out["missing_libraries"] = missing
    out["hwloc"] = hw
    out["hwloc"]["plugin_dirs"] = plugin_analysis(objs, defined) if hw["system_hwloc"] or os.environ.get("HWLOC_PLUGINS_PATH") else []
    for name in ("libopen-pal", "libopen-rte", "libhwloc", "libpmix"):
        o = next((o for o in objs if os.path.basename(o.get("soname") or o["path"]).startswith(name + ".so")), None)
        if o:
            out.setdefault("libraries", {})[name] = {"path": o["path"], "how": o["how"], "file_version": version_from_name(o.get("realpath"))}
    out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def component_dirs(rt: dict, env) -> tuple[list[str], str]:
    """Where Open MPI will load its MCA components from: ``OMPI_MCA_mca_base_component_path``
    when set, else its pkglibdir (``${libdir}/openmpi``; Debian: ``${libdir}/openmpi3`` with
    libdir ``…/openmpi/lib``), found beside the libopen-pal that is loaded — not through
    ``ompi_info --path pkglibdir``, which opens every component and costs ~230 ms — plus
    ``~/.openmpi/components``, Open MPI's default user directory."""
    v = env.get("OMPI_MCA_mca_base_component_path") or env.get("OMPI_MCA_mca_component_path")
    if v:
        return [d for d in v.split(":") if d], "OMPI_MCA_mca_base_component_path"
    dirs: list[str] = []
    pal = rt.get("libraries", {}).get("libopen-pal")
    if pal:
        base = os.path.dirname(ldcache.realpath(pal["path"]))
        for rel in ("openmpi", "openmpi3", "openmpi/lib/openmpi3", "openmpi/lib/openmpi"):
            d = os.path.join(base, rel)
            if _names(d, "mca_", ".so"):
                dirs.append(d)
                break
    dirs.append(os.path.join(os.path.expanduser("~"), ".openmpi", "components"))
    return dirs, "pkglibdir beside libopen-pal"


@probe("mpi.components")
@elf_store.keeping
def components(facts) -> dict:
    """The MCA components Open MPI loads at MPI_Init (``mca_*.so``): which hwloc symbols each
    needs that neither the MPI load closure nor the component's own libraries define."""
    t0 = time.perf_counter()
    rt = facts["mpi.runtime"]
    env = os.environ
    out: dict = {"dirs": [], "checked": 0, "unresolved": []}
    if not rt.get("installed") or "closure" not in rt:
        return out
    dirs, source = component_dirs(rt, env)
    out["dirs"], out["source"] = [d for d in dirs if os.path.isdir(d)], source
    cache = ldcache.load_cache()
    defined: set[str] = set()
    for o in rt["closure"]:
        if "error" not in o and _relevant(o):
            try:
                defined |= elf.symbols(o["path"], HWLOC_PREFIXES).defined
            except elf.ElfError:
                pass
    own_cache: dict[str, set[str]] = {}
    for d in out["dirs"]:
        for comp in _names(d, "mca_", ".so"):
            out["checked"] += 1
            try:
                s = elf.symbols(comp, HWLOC_PREFIXES)
            except elf.ElfError as exc:
                out["unresolved"].append({"component": comp, "error": str(exc)})
                continue
            missing = s.undefined - defined
            if missing:  # the component's own NEEDED libraries may define them
                info = elf.read(comp)
                for n in info.needed:
                    if not RELEVANT_RE.match(n):
                        continue
                    p = ldcache.resolve(n, rpath=info.rpath, runpath=info.runpath, origin=os.path.dirname(ldcache.realpath(comp)), env=env, cache=cache)
                    if p and p not in own_cache:
                        try:
                            own_cache[p] = elf.symbols(p, HWLOC_PREFIXES).defined
                        except elf.ElfError:
                            own_cache[p] = set()
                    missing -= own_cache.get(p, set())
            for sym in sorted(missing):
                out["unresolved"].append({"component": comp, "symbol": sym})
    out["duration_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def include_dirs() -> list[str]:
    env = os.environ.get("TRTDIAG_MPI_INCLUDE_DIRS")
    if env is not None:
        return [d for d in env.split(":") if d]
    dirs = [d for v in ("CPATH", "C_INCLUDE_PATH") for d in os.environ.get(v, "").split(":") if d]
    mach = os.uname().machine
    triplet = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(mach, "")
    dirs += [f"/usr/lib/{triplet}/openmpi/include", "/usr/include/openmpi", f"/usr/include/{triplet}/openmpi",
             f"/usr/include/openmpi-{mach}", "/usr/lib64/openmpi/include", "/opt/hpcx/ompi/include", "/usr/local/mpi/include",
             "/usr/include/mpich", f"/usr/include/{triplet}/mpich", "/usr/local/include", "/usr/include"]
    return dirs


@probe("mpi.toolchain")
def toolchain(facts) -> dict:
    mpicc = os.environ.get("MPICC") if os.environ.get("MPICC") and os.path.isfile(os.environ["MPICC"]) else which("mpicc")
    dirs = include_dirs()
    mpi_h = next((os.path.join(d, "mpi.h") for d in dirs if os.path.isfile(os.path.join(d, "mpi.h"))), None)
    cc = which(os.environ.get("CC") or "cc") or which("gcc")
    return {"mpicc": mpicc, "mpi_h": mpi_h, "include_dirs": dirs, "cc": cc, "PATH": os.environ.get("PATH", "")}


ENV_FILE = "trtdiag.env"


def read_env_file(path: str) -> dict[str, str] | None:
    """``NAME=value`` / ``export NAME=value`` lines of a small env file; None when absent."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(1 << 20)
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip().strip("'\"")
    return out


@probe("mpi.launch")
def launch(facts) -> dict:
    path = os.path.abspath(ENV_FILE)
    return {
        "euid": os.geteuid(),
        "env": {k: os.environ[k] for k in ALLOW_ROOT if k in os.environ},
        "env_file": path,
        "env_file_values": {k: v for k, v in (read_env_file(path) or {}).items() if k in ALLOW_ROOT},
        "env_file_exists": os.path.exists(path),
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }


IMPORT_SNIPPET = r"""
import json, sys
out = {"python": sys.executable}
ext = [a for a in sys.argv[1:] if not a.startswith("--")]
if ext:
    # the loader's own verdict on the closure trtdiag predicted: load the extension the way any
    # library that NEEDs libmpi is loaded (RTLD_NOW: every symbol bound now), without mpi4py's
    # fallbacks
    import ctypes, os
    try:
        ctypes.CDLL(ext[0], mode=os.RTLD_NOW | os.RTLD_GLOBAL)
        out["loader"] = "ok"
    except OSError as e:
        out["loader"] = str(e)[-2000:]
try:
    import mpi4py
    mpi4py.rc.initialize = False
    mpi4py.rc.finalize = False
    from mpi4py import MPI
    out["mpi4py"] = mpi4py.__version__
    out["extension"] = MPI.__file__
    out["library_version"] = MPI.Get_library_version().replace(chr(0), "").strip().splitlines()[0]
    out["ok"] = True
except BaseException as e:
    out["ok"] = False
    out["error"] = (type(e).__name__ + ": " + str(e))[-2000:]
if out.get("loader", "ok") != "ok":
    out["ok"] = False
    out["error"] = out["loader"] + ("" if out.get("error") is None else " (and mpi4py: " + out["error"] + ")")
if out["ok"] and "--trtllm" in sys.argv:
    print(json.dumps(out), flush=True)  # the mpi4py verdict survives a tensorrt_llm import that hangs
    try:
        import tensorrt_llm
        from tensorrt_llm import _utils
        out["tensorrt_llm"] = getattr(tensorrt_llm, "__version__", "?")
    except BaseException as e:
        out["ok"] = False
        out["error"] = ("tensorrt_llm: " + type(e).__name__ + ": " + str(e))[-2000:]
print(json.dumps(out))
"""


@probe("mpi.import")
def import_in_child(facts) -> dict:
    """Import mpi4py's MPI extension (and tensorrt_llm when installed) in a child process of the
    target interpreter: the loader's own verdict on the prediction."""
    from .. import proc

    rt = facts["mpi.runtime"]
    args = ["--trtllm"] if rt.get("tensorrt_llm") else []
    sel = (rt.get("mpi4py") or {}).get("selected") or {}
    if sel.get("path") and sel.get("resolves_to"):
        args.append(sel["path"])
    t0 = time.perf_counter()
    timeout = 60 if "--trtllm" in args else 20
    res = proc.run_python(IMPORT_SNIPPET, python=rt.get("python"), timeout=timeout, args=args)
    data = None
    for line in reversed(res.stdout.strip().splitlines()):
        try:
            data = json.loads(line)
            break
        except ValueError:
            continue
    out = data if isinstance(data, dict) else {"ok": False, "error": (res.error or res.stderr.strip() or res.stdout.strip() or "no output")[-2000:]}
    if res.timed_out:
        # a hang is not a load failure: say what finished and what did not
        out["timed_out"] = True
        out["ok"] = bool(out.get("ok"))
        out["incomplete"] = f"{'import tensorrt_llm' if out.get('ok') else 'the import'} did not finish in {timeout} s (killed)"
        if not out.get("ok") and "error" not in out:
            out["error"] = out["incomplete"]
    out["argv"] = res.argv[:3] + (["<snippet>"] if len(res.argv) > 3 else [])
    out["duration_s"] = round(time.perf_counter() - t0, 2)
    return out
