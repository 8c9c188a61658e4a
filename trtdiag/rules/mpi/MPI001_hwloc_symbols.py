"""MPI001: hwloc symbols of the MPI libraries resolve."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive.mpi_layout import component_findings, import_findings, is_hwloc_conflict, symbol_families
from .common import _fact, _needs_dynamic, _purge_fix, _short, error, mpi_version_text, ok, os, re, remedy_fix, warning


# --------------------------------------------------------------------------------- MPI001
@rule("MPI001", area="mpi", title="hwloc symbols of the MPI libraries resolve", kb="mpi-hwloc-symbol-conflict")
def hwloc_symbols(facts):
    """Every hwloc symbol the MPI libraries need is defined by a library the loader will load.

    Open MPI can carry its own copy of hwloc with every symbol renamed (``opal_hwloc201_*``, as
    in HPC-X inside NVIDIA containers) or use the system's ``libhwloc.so.15``.  When the loader
    mixes them — an ``libmpi``/``libopen-rte`` that wants ``opal_hwloc201_hwloc_get_type_depth``
    meets a ``libopen-pal`` built against the system hwloc, because LD_LIBRARY_PATH, RUNPATH or
    the ld.so cache picked another installation — ``import mpi4py``/``tensorrt_llm`` fails with
    ``undefined symbol: opal_hwloc201_hwloc_get_type_depth``.  Likewise, system hwloc plugins
    (``/usr/lib/<triplet>/hwloc/hwloc_*.so``) fail to load into an hwloc that lacks their symbols.

    How: the load closure of mpi4py's MPI extension (else of ``libmpi``) is resolved as ld.so
    does; the ``.dynsym`` of its MPI/hwloc libraries is read; an undefined ``opal_hwloc*``/
    ``hwloc_*`` symbol that nothing in the closure defines is the conflict.  A predicted conflict
    is confirmed by importing mpi4py (and tensorrt_llm, if installed) in a child process.

    Fix: remove the system hwloc packages that shadow the embedded one
    (``apt-get purge -y hwloc-nox libhwloc-dev libhwloc-plugins``), then reinstall what needed
    them; or put the matching installation's ``lib`` first on LD_LIBRARY_PATH.
    """
    rt = facts["mpi.runtime"]
    pred = _fact(facts, "mpi4py_search.prediction") or {}
    extra_ev: dict = {}
    if (pred.get("mpi4py") or {}).get("path"):
        # mpi4py is installed: what its own search order loads decides (the static closure of its
        # extension's NEEDED libmpi is not what mpi4py ≥ 4.1 loads)
        le = pred.get("loader_error") or {}
        if is_hwloc_conflict(le):
            conf = _fact(facts, "mpi4py_search.confirm")
            f = import_findings(pred, conf, pred.get("consistent"), pred.get("purge"))[0]
            yield error(f["title"], f["message"], evidence=f["evidence"], fix=remedy_fix(facts, f["remedies"]))
            return
        lf = pred.get("later_failure")
        if lf and not pred.get("import_error"):
            fams = symbol_families(lf["symbols"])
            yield error(f"MPI will die at its first call: symbol lookup error: {os.path.basename(lf['referrer'])}: undefined symbol: "
                        + (fams[0] + "…" if fams else lf["symbol"]),
                        f"`from mpi4py import MPI` loads {pred.get('libmpi')}, but {lf['count']} function(s) its libraries call are "
                        f"defined by no library loaded ({', '.join(lf['symbols'][:3])}…): they are bound at first call (mpi4py opens "
                        f"libmpi lazily), so MPI_Init or the first MPI call kills the process with `{lf['text']}` (the symbol named "
                        "depends on which is called first).", evidence={"libmpi": pred.get("libmpi"), "missing": lf["all"][:6]},
                        fix=remedy_fix(facts, import_findings({**pred, "import_error": lf["text"]}, None, pred.get("consistent"), pred.get("purge"))[0]["remedies"]))
            return
        if (_needs_dynamic(facts, False) or rt.get("tensorrt_llm")):
            v = _fact(facts, "mca_components.verdicts") or {}
            for who in ("mpirun", "rank"):
                w = v.get(who) or {}
                if w.get("dirs") is not None:
                    extra_ev.setdefault("components checked", f"{w.get('checked')} in {', '.join(w['dirs']) or 'no directory'} ({v.get('source')})")
                cf = component_findings(w.get("verdicts") or [], who, v.get("source", ""))
                if cf:
                    f = cf[0]
                    yield (error if f["severity"] == "error" else warning)(f["title"], f["message"], evidence={**f["evidence"], "components checked": w.get("checked")})
                    return
        if not pred.get("import_error") or le.get("kind") == "symbol":
            # the prediction loads cleanly (or fails on a non-hwloc symbol: MPI002's): the static
            # analysis below only adds the hwloc plugins
            rt = {**rt, "hwloc": {**(rt.get("hwloc") or {}), "unresolved": []}}
    if not rt.get("installed") or "hwloc" not in rt:
        return
    hw = rt["hwloc"]
    libs = rt.get("libraries", {})
    ev = {
        "libmpi": f"{rt['libmpi']['path']} (via {rt['libmpi']['how']})",
        "MPI": mpi_version_text(rt),
    }
    for k in ("libopen-pal", "libhwloc"):
        if k in libs:
            ev[k] = f"{libs[k]['path']} (via {libs[k]['how']})"
    ev["hwloc"] = ("embedded in Open MPI, prefix " + ", ".join(hw["embedded_prefixes"])) if hw["embedded_prefixes"] else (
        "system " + ", ".join(hw["system_hwloc"]) if hw["system_hwloc"] else "none in the load closure")
    if rt.get("LD_LIBRARY_PATH") is not None:
        ev["LD_LIBRARY_PATH"] = rt["LD_LIBRARY_PATH"]
    ev.update(extra_ev)
    bad_plugins = [(d["dir"], p) for d in hw.get("plugin_dirs", []) for p in d["plugins"] if p.get("missing_count")]
    unresolved = hw.get("unresolved", [])
    if not unresolved and not bad_plugins:
        ev["libraries read"] = len(hw.get("read", []))
        ev["plugins checked"] = sum(len(d["plugins"]) for d in hw.get("plugin_dirs", []))
        if _needs_dynamic(facts, False):  # a multi-rank launch: let the loader confirm
            dyn = _fact(facts, "mpi4py_search.confirm" if (pred.get("mpi4py") or {}).get("path") else "mpi.import")
            if dyn is not None:
                err = str(dyn.get("error", ""))
                ev["real import" if (pred.get("mpi4py") or {}).get("path") else "import in a child"] = ("ok: " + str(dyn.get("library_version", ""))) if dyn.get("ok") else err
                m = re.search(r"undefined symbol: ((?:opal_)?hwloc\w+)", err)
                if m:
                    yield error(f"Undefined hwloc symbol {m.group(1)} (found by a real import)",
                                "The static analysis found no conflict, but loading mpi4py's MPI extension in a child failed on an hwloc "
                                f"symbol: {err}", evidence=ev,
                                fix=_purge_fix())
                    return
        yield ok(f"hwloc symbols resolve ({ev['hwloc']})", **ev)
        return
    fix = _purge_fix()
    dyn = _fact(facts, "mpi4py_search.confirm" if (pred.get("mpi4py") or {}).get("path") else "mpi.import")
    if dyn is not None:
        ev["real import" if (pred.get("mpi4py") or {}).get("path") else "import in a child"] = ("ok: " + str(dyn.get("library_version", ""))) if dyn.get("ok") else dyn.get("error", "failed")
    missing = rt.get("missing_libraries") or []
    if missing:
        ev["not found"] = _short([f"{m['needs']} (needed by {m['library']})" for m in missing])
    if unresolved:
        syms = sorted({u["symbol"] for u in unresolved})
        by_lib = sorted({u["library"] for u in unresolved})
        wanted = sorted({m.group(1) for s in syms for m in [re.match(r"(opal_hwloc\d+_)", s)] if m})
        ev["needs"] = _short([f"{u['library']}: {u['symbol']}" for u in unresolved])
        ev["undefined symbols"] = len(syms)
        if missing:
            why = (f"{', '.join(os.path.basename(b) for b in by_lib)} needs {syms[0]}, and the library that would define it is not found: "
                   + ", ".join(sorted({m['needs'] for m in missing})) + " (not on LD_LIBRARY_PATH, RUNPATH or in the ld.so cache).")
            fix = None  # nothing to purge: the missing library must be installed or put on the path
        elif wanted:
            why = (f"{', '.join(os.path.basename(b) for b in by_lib)} needs {syms[0]} from an Open MPI-embedded hwloc "
                   f"(prefix {', '.join(wanted)}), but no library the loader will load defines it")
            if hw["system_hwloc"]:
                why += f": the libopen-pal it gets ({libs.get('libopen-pal', {}).get('path', '?')}) uses the system hwloc {', '.join(hw['system_hwloc'])}"
            why += ". Two Open MPI installations (or an Open MPI and the system hwloc packages) are mixed."
        else:
            why = f"{', '.join(os.path.basename(b) for b in by_lib)} needs {syms[0]}, which no library the loader will load defines."
        confirmed = dyn is not None and not dyn.get("ok") and "undefined symbol" in str(dyn.get("error", ""))
        yield error(f"Undefined hwloc symbol {syms[0]}" + (" (confirmed by a real import)" if confirmed else " (predicted before launch)"),
                    why + (f" Importing mpi4py or tensorrt_llm will fail with `{missing[0]['needs']}: cannot open shared object file`."
                           if missing else " Importing mpi4py or tensorrt_llm will fail with `undefined symbol: " + syms[0] + "`."),
                    evidence=ev, fix=fix)
    if bad_plugins:
        d, p = bad_plugins[0]
        ev["plugins"] = _short([f"{pp['path']}: needs {', '.join(pp['missing'])}" for _d, pp in bad_plugins])
        env_path = rt.get("HWLOC_PLUGINS_PATH")
        if env_path is not None:
            ev["HWLOC_PLUGINS_PATH"] = env_path
            fix = None  # the plugins come from the environment, not from a package
        yield warning(f"hwloc plugins in {d} do not fit the hwloc Open MPI uses",
                      f"{len(bad_plugins)} plugin(s) need hwloc symbols ({', '.join(p['missing'][:3])}) that the hwloc in "
                      f"Open MPI's load closure ({ev['hwloc']}) does not define; hwloc will print load errors or the process "
                      "will fail when it loads them."
                      + (f" They come from HWLOC_PLUGINS_PATH={env_path}: unset it, or point it at the plugins of the hwloc that is loaded."
                         if env_path is not None else ""),
                      evidence=ev, fix=fix)
