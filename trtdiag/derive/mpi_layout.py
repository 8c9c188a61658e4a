"""Which MPI library a process will really load, what the loader will say when it cannot, and the
remedies — pure functions over plain data (the facts of :mod:`trtdiag.probes.mpi4py_search` and
:mod:`trtdiag.probes.mpi`).

Sources of the behaviour modelled here (kept with the data in tests/data/mpi/real_layouts.json):

* mpi4py@4.1.2:src/mpi4py/_mpiabi.py — ``_site_prefixes`` (the virtualenv's ``sys.exec_prefix``
  when it differs from ``sys.base_exec_prefix``; ``site.USER_BASE`` when ``ENABLE_USER_SITE``;
  ``sys.base_exec_prefix`` when it is in ``site.PREFIXES``), ``_dlopen_rpath`` (``<prefix>/lib``
  for each prefix other than ``/usr``, then ``""``: the loader's own search), ``libmpi_names``
  (``libmpi.so``, ``libmpi.so.12``, ``libmpi.so.40``), ``_dlopen_libmpi`` (first ``dlopen(None)``:
  a libmpi already in the process wins; then ``MPI4PY_LIBMPI`` split on ``:`` or that list; mode
  ``RTLD_LAZY | RTLD_LOCAL``; the first file that loads and has ``MPI_Get_version`` is taken, a
  failure moves on silently to the next) and ``_get_mpiabi_from_libmpi`` (``openmpi`` when the
  library has ``ompi_mpi_comm_self``, else ``mpich``; ``MPI4PY_MPIABI`` overrides). The
  extension ``MPI.<abi>.<EXT_SUFFIX>`` is then imported; its NEEDED ``libmpi.so.40`` matches the
  SONAME of the library already loaded, so it binds to that file, whatever RUNPATH or the ld.so
  cache would say.
* glibc ld.so: NEEDED resolution (RPATH, LD_LIBRARY_PATH, RUNPATH — RUNPATH applies only to the
  object's own NEEDED entries, not transitively —, ld.so.cache, default dirs); symbol versions are
  checked at load in every mode; PLT (function) symbols bind at first call under ``RTLD_LAZY``,
  data relocations at load.  Messages: ``<needed>: cannot open shared object file: No such file or
  directory``, ``<referrer>: undefined symbol: <name>`` (dlopen), ``<provider>: version `<V>' not
  found (required by <referrer>)``, ``symbol lookup error: <referrer>: undefined symbol: <name>``
  (a lazy binding failing at its first call: the process dies).
* Open MPI 4.1.4 opal/mca/dl/dlopen/dl_dlopen_module.c:58 (components are opened ``RTLD_LAZY``)
  and opal/mca/base/mca_base_component_repository.c:433 (``unable to open %s: %s (ignored)`` is
  printed only when that dlopen fails).
"""

from __future__ import annotations

import os
import re

LIBMPI_NAMES = ("libmpi.so", "libmpi.so.12", "libmpi.so.40")  # mpi4py@4.1.2 _mpiabi.libmpi_names


# ------------------------------------------------------------------ mpi4py's own search order
def site_prefixes(interp: dict) -> list[str]:
    """mpi4py@4.1.2 ``_site_prefixes``: ``interp`` has exec_prefix, base_exec_prefix and
    ``site`` (ENABLE_USER_SITE, USER_BASE, PREFIXES) of the target interpreter."""
    out: list[str] = []
    site = interp.get("site")
    if site is None:
        return out
    if interp.get("exec_prefix") != interp.get("base_exec_prefix"):
        out.append(interp["exec_prefix"])
    if site.get("ENABLE_USER_SITE"):
        out.append(os.path.abspath(site["USER_BASE"]))
    if interp.get("base_exec_prefix") in (site.get("PREFIXES") or []):
        out.append(interp["base_exec_prefix"])
    return out


def dlopen_rpath(interp: dict) -> list[str]:
    """mpi4py@4.1.2 ``_dlopen_rpath`` on Linux: ``<prefix>/lib`` for each site prefix but /usr, then ""."""
    rpath: list[str] = []
    for p in site_prefixes(interp):
        if p != "/usr":
            d = os.path.join(p, "lib")
            if d not in rpath:
                rpath.append(d)
    if "" not in rpath:
        rpath.append("")
    return rpath


def candidate_names(interp: dict, mpiabi: dict | None, env: dict, isdir: set[str]) -> list[dict]:
    """The names mpi4py passes to ``dlopen``, in order (``dlopen(None)`` — a libmpi already in
    the process — is tried before these and is not listed).  ``mpiabi`` is what the interpreter's
    own ``mpi4py._mpiabi`` says (LIBMPI_PATH, LIBMPI, rpath) when it could be asked, else None;
    ``isdir`` holds the entries that are directories."""
    mpiabi = mpiabi or {}
    libmpi = mpiabi.get("LIBMPI") or env.get("MPI4PY_LIBMPI")
    if libmpi:
        path, source = libmpi.split(":"), "MPI4PY_LIBMPI"
    elif mpiabi.get("LIBMPI_PATH"):
        path, source = list(mpiabi["LIBMPI_PATH"]), "mpi4py._mpiabi.LIBMPI_PATH"
    else:
        path = list(mpiabi.get("rpath") or dlopen_rpath(interp)) or [""]
        source = "mpi4py site prefixes"
    out: list[dict] = []
    for entry in path:
        entry = os.path.expanduser(os.path.expandvars(entry)) if entry else ""
        if entry == "":
            out.extend({"name": n, "entry": "", "source": "the loader's search (LD_LIBRARY_PATH, ld.so.cache, default dirs)"} for n in LIBMPI_NAMES)
        elif entry in isdir:
            out.extend({"name": os.path.join(entry, n), "entry": entry, "source": source} for n in LIBMPI_NAMES)
        else:
            out.append({"name": entry, "entry": entry, "source": source})
    return out


def select_libmpi(outcomes: list[dict], already_loaded: str | None = None) -> dict:
    """mpi4py@4.1.2 ``_dlopen_libmpi``: the first candidate that loads and has MPI_Get_version.

    Each outcome: name, file (the path dlopen maps, None when none), loads (bool), error (what the
    loader would say), defines_MPI_Get_version, abi ("openmpi"/"mpich"/None).  Returns the chosen
    one with the candidates tried before it (``skipped``, each with its error) — a fallback that
    mpi4py takes silently — or ``{"file": None, "error": "cannot load MPI library\\n…"}``."""
    if already_loaded:
        return {"file": already_loaded, "how": "dlopen(None): a libmpi already loaded in the process", "skipped": []}
    skipped: list[dict] = []
    for o in outcomes:
        if o.get("loads") and o.get("defines_MPI_Get_version"):
            return {**o, "how": o.get("source"), "skipped": skipped}
        err = o.get("error") or (f"{o.get('file') or o['name']}: undefined symbol: MPI_Get_version" if o.get("loads")
                                 else f"{o['name']}: cannot open shared object file: No such file or directory")
        skipped.append({"name": o["name"], "file": o.get("file"), "error": err, "prefix": o.get("prefix"), "not_elf": bool(o.get("not_elf"))})
    # the RuntimeError mpi4py raises: "cannot load MPI library", then the error of every try
    return {"file": None, "skipped": skipped, "error": "\n".join(["cannot load MPI library", *(s["error"] for s in skipped)])}


def extension_for(selected: dict, extensions: list[dict], registered: list[str] | None, mpiabi_env: str | None) -> dict | None:
    """The MPI extension mpi4py imports for the selected library: ``MPI.<abi>.*.so`` when the
    installed mpi4py registers MPI ABIs (the PyPI wheel: mpich, openmpi), else its single
    ``MPI.*.so``."""
    if not extensions:
        return None
    if registered:
        abi = (mpiabi_env or "").replace("-", "").replace("_", "").replace(" ", "").lower() or selected.get("abi")
        if abi == "impi":
            abi = "mpich"
        return next((e for e in extensions if e.get("abi") == abi), None)
    return next((e for e in extensions if not e.get("abi")), extensions[0])


# ------------------------------------------------------------------ what the loader will say
def first_loader_error(objs: list[dict], defined: set[str], bind_now: bool, lib_defined: set[str] | None = None) -> dict | None:
    """The first error ld.so reports while loading a closure, and its exact text.

    ``objs``: the closure in load (breadth-first) order, each with path, missing (NEEDED names not
    found), version_missing ([provider, version]), undefined_refs ([[name, "load"|"lazy"]],
    relocation order), bind_now.  ld.so maps every object first (a missing NEEDED stops it
    there), checks versions, then relocates dependencies before their dependents (the reverse of
    load order) — so the deepest object with an unresolved load-time symbol is the one named.
    ``lib_defined``: the symbols libraries define (an executable's copy relocation is satisfied
    only by those; every other reference also finds the executable's copy)."""
    lib_defined = defined if lib_defined is None else lib_defined
    for o in objs:
        for n in o.get("missing", []):
            return {"kind": "missing", "library": n, "referrer": o["path"],
                    "text": f"{n}: cannot open shared object file: No such file or directory"}
    for o in objs:
        for provider, ver in o.get("version_missing", []):
            return {"kind": "version", "version": ver, "provider": provider, "referrer": o["path"],
                    "text": f"{provider}: version `{ver}' not found (required by {o['path']})"}
    for o in reversed(objs):
        now = bind_now or o.get("bind_now")
        for name, how in o.get("undefined_refs", []):
            if (how == "copy" and name not in lib_defined) or (how != "copy" and name not in defined and (now or how == "load")):
                return {"kind": "symbol", "symbol": name, "referrer": o["path"], "at": "load",
                        "text": f"{o['path']}: undefined symbol: {name}"}
    return None


def exec_message(argv0: str, err: dict) -> str:
    """What ld.so prints when an *executable* fails to start (glibc _dl_signal_error at start:
    "<program>: <occasion>: <object>: <error>"), e.g. ``prterun: symbol lookup error: prterun:
    undefined symbol: pmix_output_info`` or ``mpirun: error while loading shared libraries:
    libopen-rte.so.40: cannot open shared object file: No such file or directory``."""
    if err["kind"] == "symbol":
        return f"{argv0}: symbol lookup error: {err['text']}"
    return f"{argv0}: error while loading shared libraries: {err['text']}"


def first_lazy_failure(objs: list[dict], defined: set[str]) -> dict | None:
    """Function symbols nothing defines, bound only at their first call: the load succeeds and
    the process dies at the first call of any of them (``symbol lookup error: <referrer>:
    undefined symbol: <name>``).  Which one is called first is decided at run time; the root
    object's own (an executable calls first) are named first, then the dependencies' deepest
    first.  Returns the first with ``all`` (every such [referrer, symbol]) and ``count``."""
    found: list[tuple[str, str]] = []
    for o in (objs[:1] + list(reversed(objs[1:]))):
        for name, how in o.get("undefined_refs", []):
            if name not in defined and how == "lazy":
                found.append((o["path"], name))
    if not found:
        return None
    ref, name = found[0]
    return {"kind": "symbol", "symbol": name, "referrer": ref, "at": "first call", "count": len(found),
            "all": [list(f) for f in found[:20]], "symbols": sorted({n for _r, n in found}), "text": f"symbol lookup error: {ref}: undefined symbol: {name}"}


# ------------------------------------------------------------------ MCA components
EMBEDDED_FAMILY_RE = re.compile(r"^((?:opal|pmix|ompi)_[a-z]+\d+_)")


def symbol_families(names: list[str]) -> list[str]:
    """The renamed-library prefixes of missing symbols (``opal_libevent2022_``,
    ``opal_hwloc201_``): the mark of an Open MPI built with its embedded copy of that library."""
    return sorted({m.group(1) for n in names for m in [EMBEDDED_FAMILY_RE.match(n)] if m})


# symbols only an MPI rank (libmpi loaded) or an OpenSHMEM program defines: a component that
# needs them is opened by ranks, never by mpirun (ORTE opens only opal/orte frameworks)
RANK_ONLY = ("ompi_", "mca_pml", "mca_coll", "mca_io", "mca_osc", "mca_mtl", "mca_bml", "mca_fbtl", "mca_fcoll",
             "mca_sharedfp", "mca_topo", "mca_vprotocol", "mca_part", "mca_common_ompio", "mca_common_monitoring", "MPI_", "PMPI_")
OSHMEM_ONLY = ("oshmem_", "mca_spml", "mca_sshmem", "mca_atomic", "mca_memheap", "mca_scoll")


def component_scope(c: dict) -> str:
    """Who opens this component: "oshmem" programs, MPI "rank"s, or "any" process (mpirun too)."""
    refs = [r[0] for r in c.get("undefined_refs", [])]
    if any(n.startswith(OSHMEM_ONLY) for n in refs):
        return "oshmem"
    if any(n.startswith(RANK_ONLY) for n in refs):
        return "rank"
    return "any"


def component_verdicts(components: list[dict], defined: set[str], opener: str = "rank") -> list[dict]:
    """What Open MPI really does with each MCA component that needs symbols the loaded Open MPI
    lacks.  Components are opened ``RTLD_LAZY`` (Open MPI 4.1.4 dl_dlopen_module.c:58): a
    component linked ``-z now``, or needing a missing symbol through a data relocation or a
    missing library, fails to open and Open MPI prints ``mca_base_component_repository_open:
    unable to open <name>: <loader error> (ignored)`` and goes on without it; one that needs a
    missing *function* opens fine and the process dies at the first call of one of them with
    ``<program>: symbol lookup error: <component>: undefined symbol: <name>`` (exit 127).  Which
    function is called first is decided at run time: ``symbols`` lists them all, ``family`` is
    their renamed prefixes (``families``) (what any of the messages will show).
    ``opener``: "mpirun" (skips the components only ranks open) or "rank"; OpenSHMEM-only
    components are skipped."""
    out = []
    for c in components:
        scope = component_scope(c)
        if scope == "oshmem" or (opener == "mpirun" and scope == "rank"):
            continue
        have = defined | set(c.get("own_defined") or [])
        err = first_loader_error([c], have, bool(c.get("bind_now")))
        name = os.path.basename(c["path"])
        base = name[:-3] if name.endswith(".so") else name
        if err:
            out.append({"component": c["path"], "name": base, "outcome": "not opened", "symbol": err.get("symbol"),
                        "printed": f"mca_base_component_repository_open: unable to open {base}: {err['text']} (ignored)",
                        "fatal": False})
            continue
        lazy = first_lazy_failure([c], have)
        if lazy:
            out.append({"component": c["path"], "name": base, "outcome": "dies at first call", "symbol": lazy["symbol"],
                        "symbols": lazy["symbols"], "families": symbol_families(lazy["symbols"]),
                        "printed": lazy["text"], "fatal": True})
    return out


# ------------------------------------------------------------------ remedies
def ld_library_path_with(first: list[str], current: str | None, drop: list[str] | None = None) -> str:
    """LD_LIBRARY_PATH with ``first`` in front and ``drop`` removed (order kept, no duplicates)."""
    drop_r = {os.path.normpath(d) for d in (drop or [])}
    parts = [*first, *[p for p in (current or "").split(":") if p]]
    out: list[str] = []
    seen: set[str] = set()
    for p in parts:
        n = os.path.normpath(p)
        if n in seen or (n in drop_r and p not in first):
            continue
        seen.add(n)
        out.append(p)
    return ":".join(out)


def is_hpcx_layout(layout: dict) -> bool:
    """HPC-X/NGC: an Open MPI under /opt/hpcx or /usr/local/mpi, or one with an embedded hwloc
    (``opal_hwloc*_`` symbols: HPC-X's build) in the picture."""
    prefixes = [p for p in layout.get("installations", []) if p]
    return any(p.startswith(("/opt/hpcx", "/usr/local/mpi")) for p in prefixes) or bool(layout.get("embedded_hwloc"))


def remedies(layout: dict) -> list[dict]:
    """Remedies in the order to try them: the one that removes nothing first.

    ``layout``: consistent (the prefix whose lib dir makes the closure resolve from one
    installation, with its lib dirs), current LD_LIBRARY_PATH, drop (LD_LIBRARY_PATH entries that
    shadow it), launcher (the mpirun that will start the ranks, its prefix), purge ({packages,
    removes: what ``apt-get -s purge`` lists, still_fails: the error after it, when known}),
    installations, embedded_hwloc."""
    out: list[dict] = []
    cons = layout.get("consistent")
    if cons:
        ldp = ld_library_path_with(cons["lib_dirs"], layout.get("LD_LIBRARY_PATH"), layout.get("drop"))
        out.append({"kind": "env", "removes": [], "summary": f"put {cons['prefix']}'s libraries first on LD_LIBRARY_PATH",
                    "env": {"LD_LIBRARY_PATH": ldp}})
        la = layout.get("launcher") or {}
        if la.get("prefix") and la["prefix"] != cons["prefix"]:
            out.append({"kind": "launcher", "removes": [], "summary": f"start the ranks with {cons['prefix']}/bin/mpirun (same installation as the library)",
                        "argv0": os.path.join(cons["prefix"], "bin", "mpirun")})
        elif la.get("path"):
            out.append({"kind": "launcher-env", "removes": [], "summary": "pass the same LD_LIBRARY_PATH to every rank",
                        "argv_hint": f"{la['path']} -x LD_LIBRARY_PATH …"})
    purge = layout.get("purge")
    if purge and purge.get("packages"):
        out.append({"kind": "purge", "removes": list(purge.get("removes") or purge["packages"]),
                    "summary": "remove the packages: " + ", ".join(purge.get("removes") or purge["packages"]),
                    "still_fails": purge.get("still_fails"), "packages": purge["packages"]})
    return out


def install_advice(layout: dict) -> dict:
    """How to get mpi4py for this layout. In an HPC-X/NGC layout the distribution's Open MPI is
    never suggested (installing libopenmpi-dev there creates exactly the two-installation mix):
    build mpi4py with HPC-X's own mpicc, or take the PyPI wheel with HPC-X's lib on LD_LIBRARY_PATH."""
    py = layout.get("python") or "python3"
    hp = next((p for p in layout.get("installations", []) if p and p.startswith(("/opt/hpcx", "/usr/local/mpi"))), None)
    if is_hpcx_layout(layout) and hp:
        return {"kind": "hpcx", "argv": ["env", f"MPICC={hp}/bin/mpicc", py, "-m", "pip", "install", "--no-binary=mpi4py", "mpi4py"],
                "note": f"or `{py} -m pip install mpi4py` (the wheel) with LD_LIBRARY_PATH={hp}/lib; do not install the distribution's Open MPI beside HPC-X"}
    if layout.get("has_mpi"):
        return {"kind": "wheel", "argv": [py, "-m", "pip", "install", "mpi4py"],
                "note": "the mpi4py wheel installs without mpicc and loads the MPI found at import"}
    return {"kind": "wheel+mpi", "argv": [py, "-m", "pip", "install", "openmpi", "mpi4py"],
            "note": "no MPI library here: the openmpi wheel puts one inside the virtualenv, where mpi4py looks first"}


# ------------------------------------------------------------------ findings, as plain data
def _finding(fid: str, severity: str, title: str, message: str, evidence: dict, remedies_: list[dict] | None = None) -> dict:
    return {"id": fid, "severity": severity, "title": title, "message": message, "evidence": evidence, "remedies": remedies_ or []}


HWLOC_RE = re.compile(r"^(opal_hwloc\d*_|hwloc_)")


def is_hwloc_conflict(loader_error: dict | None) -> bool:
    """A loader error about an hwloc symbol (an embedded, renamed hwloc or the system one): MPI001's."""
    return bool(loader_error) and loader_error.get("kind") == "symbol" and bool(HWLOC_RE.match(loader_error.get("symbol") or ""))


def real_fallbacks(pred: dict) -> list[dict]:
    """The libraries mpi4py tried and skipped that belong to another installation than the one it
    loads (a linker script ``libmpi.so`` beside the real library is no fallback)."""
    sel = pred.get("selected") or {}
    chosen = sel.get("prefix")
    return [s for s in sel.get("skipped", []) if s.get("file") and not s.get("not_elf") and s.get("prefix") and s.get("prefix") != chosen]


def import_findings(pred: dict, conf: dict | None, consistent: dict | None, purge: dict | None, layout: dict | None = None) -> list[dict]:
    """What to say about ``from mpi4py import MPI`` (MPI001/MPI002): from the prediction
    (:func:`trtdiag.probes.mpi4py_search.search`), the plain confirming import (``conf``; None
    when not run), the consistent installation (verified), and the purge facts (``apt-get -s``).

    Titles quote the loader's own message (the symbol it prints). When the confirmation disagrees
    with the prediction, the confirmation is what is reported."""
    layout = dict(layout or {})
    out: list[dict] = []
    ev: dict = {"mpi4py search": pred.get("search"), "LD_LIBRARY_PATH": pred.get("LD_LIBRARY_PATH")}
    sel = pred.get("selected") or {}
    skipped = real_fallbacks(pred)
    if skipped:
        ev["tried before"] = [f"{s['name']}: {s['error']}" for s in skipped[:5]]
    ev["predicted libmpi"] = pred.get("libmpi")
    if conf is not None:
        ev["real import"] = (f"ok: {conf.get('library_version')} from {conf.get('libmpi_mapped')}" if conf.get("ok") else conf.get("error"))
    rem = remedies({**layout, "consistent": consistent if (consistent or {}).get("verified") else None,
                    "LD_LIBRARY_PATH": pred.get("LD_LIBRARY_PATH"), "purge": purge})
    if (consistent or {}).get("verified"):
        ev["consistent installation"] = f"{consistent['prefix']} (verified: with LD_LIBRARY_PATH={consistent['LD_LIBRARY_PATH']} mpi4py loads {consistent['libmpi_after']})"
    if purge and purge.get("removes"):
        ev["apt-get -s purge " + " ".join(purge.get("packages", []))] = "would remove " + ", ".join(purge["removes"])
        if purge.get("still_fails"):
            ev["after the purge"] = purge["still_fails"]
    err = pred.get("import_error")
    confirmed = conf is not None and not conf.get("ok")
    if conf is not None and conf.get("ok") and err:
        # the prediction said it fails, the real import worked: report the real outcome
        out.append(_finding("MPI002", "warning", f"mpi4py imports, but not as predicted: it loads {conf.get('libmpi_mapped')}",
                            f"trtdiag predicted `{err}`; the real import in a child succeeded ({conf.get('library_version')}).", ev))
        return out
    if err:
        le = pred.get("loader_error") or {}
        text = le.get("text") or err
        real = (conf or {}).get("error") or ""
        if confirmed and le.get("text") and le["text"] not in real:
            text = real.split(": ", 1)[-1] if real else text  # the loader's own words win
        title = f"`from mpi4py import MPI` fails: {text}" + (" (confirmed by a real import)" if confirmed else " (predicted before launch)")
        why = []
        if le.get("kind") == "symbol":
            why.append(f"{os.path.basename(le['referrer'])} needs {le['symbol']}, which no library the loader maps defines")
            fams = symbol_families([le["symbol"]])
            if fams:
                why.append(f"({fams[0]}* is Open MPI's embedded, renamed copy: the library was built with it, but the "
                           "libopen-pal it gets is another installation's)")
        elif le.get("kind") == "missing":
            why.append(f"{le['library']} (needed by {le['referrer']}) is on none of RPATH, LD_LIBRARY_PATH, RUNPATH, the ld.so cache")
        elif le.get("kind") == "version":
            why.append(f"{le['provider']} lacks symbol version {le['version']}: another installation's copy of it is found first")
        out.append(_finding("MPI001" if is_hwloc_conflict(le) else "MPI002", "error", title, "; ".join(why) + ".", ev, rem))
        return out
    if skipped and pred.get("libmpi"):
        first = skipped[0]
        out.append(_finding("MPI002", "warning",
                            f"mpi4py falls back to {pred['libmpi']}: {first['file']} does not load",
                            f"mpi4py tries {first['name']} first (its own search order) and silently takes the next library when "
                            f"one fails: {first['error']}. The ranks then run another MPI than the one installed for them.", ev, rem))
        return out
    return out


def launcher_findings(launcher: dict | None, rank_libmpi: str | None, observed_mixed_ok: bool = True) -> list[dict]:
    """mpirun itself (it must start), and mpirun vs the ranks' libmpi (a soft warning: mixed
    pairs were observed to run 2 ranks here — Open MPI 4.1.4's mpirun with 5.0.11 ranks and back —
    so only "may" is said)."""
    if not launcher:
        return []
    out = []
    ev = {"mpirun": launcher.get("path"), "checked": launcher.get("checked"), "installation": launcher.get("prefix")}
    if launcher.get("swapped"):
        ev["taken from another installation"] = launcher["swapped"][:6]
    le = launcher.get("loader_error")
    if le:
        out.append(_finding("MPI006", "error", f"mpirun cannot start: {le['text']}",
                            "The launcher's own libraries do not load together (exit 127 before any rank starts).", ev))
        return out
    lf = launcher.get("later_failure")
    if lf:
        own = [s for r, s in lf.get("all", []) if r == launcher.get("checked")]
        if own:
            # the launcher's own code calls it: a launch reaches that call (observed: Open MPI 4.1.4's
            # orterun with another libopen-pal dies on opal_libevent2022_event_base_loop, exit 127)
            out.append(_finding("MPI006", "error", f"mpirun will die at start: {launcher.get('path')}: {lf['text']}",
                                f"mpirun's own code calls {', '.join(own[:3])}, which no library it loads defines; the loader binds it at "
                                "the first call and the launcher exits 127 before any rank starts.", ev))
        else:
            out.append(_finding("MPI006", "warning", f"mpirun may die at start: {lf['count']} functions its libraries call are missing (e.g. {lf['symbol']})",
                                f"They are bound at first call; the first one called kills it with `{lf['text']}`.", ev))
        return out
    if rank_libmpi and launcher.get("prefix"):
        from_prefix = os.path.realpath(rank_libmpi).startswith(os.path.realpath(launcher["prefix"]) + os.sep)
        if not from_prefix:
            ev["ranks load"] = rank_libmpi
            out.append(_finding("MPI002", "warning" if not observed_mixed_ok else "info",
                                f"mpirun ({launcher['prefix']}) and the ranks' libmpi ({rank_libmpi}) are different installations",
                                "Launcher and library of different Open MPI installations are not supported together; here such pairs "
                                "were observed to start 2 ranks (Open MPI 4.1.4 mpirun with 5.0.11 ranks and the reverse), but "
                                "MPI_Init may fail with other versions or transports. Use one installation for both.", ev))
    return out


def component_findings(verdicts: list[dict], opener: str, source: str) -> list[dict]:
    """The MCA component finding: fatal (a component that dies at first call) is an error naming
    the loader's message pattern; components that are only skipped are a warning quoting the
    line Open MPI really prints."""
    if not verdicts:
        return []
    fatal = [v for v in verdicts if v["fatal"]]
    dirs = sorted({os.path.dirname(v["component"]) for v in verdicts})
    ev = {"components": [f"{v['component']}: {v['outcome']} ({v.get('symbol')})" for v in verdicts[:6]], "from": source}
    if fatal:
        fams = sorted({f for v in fatal for f in v.get("families") or []})
        first = fatal[0]
        # which function is called first is decided at run time: every renamed family is named
        sym = " or ".join(f + "…" for f in fams) if fams else first["symbol"]
        return [_finding("MPI001", "error",
                         f"{opener} will die loading Open MPI components from {dirs[0]}: undefined symbol: {sym}",
                         f"{len(fatal)} component(s) there need functions the loaded Open MPI lacks ({', '.join(fams) or first['symbol']}); "
                         f"Open MPI opens components lazily, so they load and the process dies at the first call, e.g. "
                         f"`{opener}: {first['printed']}` (exit 127). Point the component path at the loaded installation's "
                         "components, or unset it.", ev)]
    v0 = verdicts[0]
    return [_finding("MPI001", "warning", f"Open MPI will skip component {v0['name']}: undefined symbol: {v0['symbol']}"
                     + (f" (and {len(verdicts) - 1} more)" if len(verdicts) > 1 else ""),
                     f"{len(verdicts)} component(s) in {', '.join(dirs)} fail to open (a missing symbol bound at load: a data "
                     f"reference, or linked -z now): Open MPI prints `{v0['printed']}` and runs without them; the job fails only if "
                     "it needs one of them.", ev)]
