"""MPI002: mpi4py loads the MPI that will run the ranks."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import hint
from ...derive.mpi_layout import import_findings, is_hwloc_conflict, launcher_findings, real_fallbacks
from .common import _fact, _needs_dynamic, _short, error, info, launch_plan, mpi_version_text, ok, os, remedy_fix, warning


# --------------------------------------------------------------------------------- MPI002
@rule("MPI002", area="mpi", title="mpi4py loads the MPI that will run the ranks", kb="mpi-mpi4py-libmpi-mismatch")
def mpi4py_libmpi(facts):
    """mpi4py is installed, its MPI extension finds its libmpi, and that libmpi belongs to the
    same installation as the ``mpirun`` on PATH.

    mpi4py's extension (``mpi4py/MPI*.so``) NEEDs the ``libmpi`` it was built against
    (``libmpi.so.40`` for Open MPI, ``libmpi.so.12`` for MPICH).  When no such library is on the
    loader's path, ``from mpi4py import MPI`` fails with ``libmpi.so.40: cannot open shared object
    file``.  When it loads one installation's libmpi while ``mpirun`` comes from another (the
    HPC-X one in /opt/hpcx vs the distribution's in /usr), ranks fail at MPI_Init.  When
    tensorrt_llm is installed, the libraries of its wheel that NEED libmpi (``libs/*.so``,
    ``bindings*.so``) are resolved too, through their own RUNPATH: if they get another libmpi file
    than mpi4py, the two share one SONAME and whichever loads first serves both.  Where a
    multi-rank launch is planned, the import is also run for real in a child process.

    Fix: rebuild mpi4py against the MPI that will run: ``MPICC=<prefix>/bin/mpicc python -m pip
    install --force-reinstall --no-binary=mpi4py --no-cache-dir mpi4py``, or put that MPI first on
    PATH and LD_LIBRARY_PATH.
    """
    rt = facts["mpi.runtime"]
    m4 = rt.get("mpi4py") or {}
    if not m4.get("found"):
        return
    pred = _fact(facts, "mpi4py_search.prediction") or {}
    from ...derive.mpi import same_library

    trt_other = [link for link in (rt.get("tensorrt_llm") or {}).get("mpi_links", [])
                 if not same_library(facts, link.get("resolves_to"), pred.get("libmpi"))]
    if pred.get("extensions") is not None and not trt_other:
        yield from _from_prediction(facts, rt, m4, pred)
        return
    sel = m4.get("selected") or {}
    ev = {"mpi4py": f"{m4.get('version') or '?'} at {m4.get('path')}", "python": rt.get("python")}
    exts = m4.get("extensions") or []
    ev["extensions"] = [f"{os.path.basename(e['path'])} needs {e.get('needs')} -> {e.get('resolves_to') or 'not found'}" for e in exts]
    py = rt.get("python") or "python3"
    mpicc = os.path.join(rt["mpirun"]["prefix"], "bin", "mpicc") if rt.get("mpirun") else "mpicc"
    rebuild = ["env", f"MPICC={mpicc}", py, "-m", "pip", "install", "--force-reinstall", "--no-binary=mpi4py", "--no-cache-dir", "mpi4py"]

    if not exts:
        yield error("mpi4py has no MPI extension", f"{m4.get('path')} holds no MPI*.so: the install is incomplete.", evidence=ev,
                    fix=hint("command", "MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild))
        return
    if not sel.get("resolves_to"):
        needs = sorted({e.get("needs") for e in exts if e.get("needs")})
        have = [c["path"] for c in rt.get("candidates", [])]
        ev["libmpi found"] = have or "none"
        if have:
            ev["hint"] = f"export LD_LIBRARY_PATH={os.path.dirname(have[0])}:$LD_LIBRARY_PATH"
        yield error(f"mpi4py cannot load its MPI: {' / '.join(needs)} not found",
                    f"mpi4py's extension needs {' or '.join(needs)}, and the loader finds none on RPATH, LD_LIBRARY_PATH, "
                    "RUNPATH, /etc/ld.so.cache or the default directories. `from mpi4py import MPI` will fail with "
                    f"`{needs[0] if needs else 'libmpi'}: cannot open shared object file`.",
                    evidence=ev, fix=hint("command", "MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild))
        return
    ev["libmpi"] = f"{sel['resolves_to']} (via {sel['how']})"
    ev["MPI"] = mpi_version_text(rt)
    missing = rt.get("missing_libraries") or []
    if missing:
        ev["not found"] = _short([f"{m['needs']} (needed by {m['library']})" for m in missing])
        yield error(f"mpi4py cannot load its MPI: {missing[0]['needs']} not found",
                    f"{os.path.basename(missing[0]['library'])} needs {missing[0]['needs']}, which the loader finds on none of RPATH, "
                    "LD_LIBRARY_PATH, RUNPATH, /etc/ld.so.cache or the default directories: the MPI installation is incomplete or "
                    "its lib directory is not on the loader's path. Add it to LD_LIBRARY_PATH (e.g. /opt/hpcx/ompi/lib) or reinstall the MPI.",
                    evidence=ev)
        return
    from ...derive.mpi import same_library

    trt = rt.get("tensorrt_llm") or {}
    other = [link for link in trt.get("mpi_links", []) if not same_library(facts, link.get("resolves_to"), sel["resolves_to"])]
    if other:
        o = other[0]
        ev["tensorrt_llm"] = _short([f"{link['library']} needs {link['needs']} -> {link.get('resolves_to') or 'not found'}"
                                     + (f" (via {link['how']})" if link.get("how") else "") for link in other])
        if o.get("resolves_to") is None:
            yield error(f"tensorrt_llm cannot load its MPI: {o['needs']} not found from {os.path.basename(o['library'])}",
                        f"{o['library']} needs {o['needs']}, which the loader does not find from there (its RUNPATH/RPATH, "
                        "LD_LIBRARY_PATH, the ld.so cache); `import tensorrt_llm` will fail.", evidence=ev)
        else:
            yield warning(f"mpi4py and tensorrt_llm load different libmpi files ({sel['resolves_to']} vs {o['resolves_to']})",
                          f"mpi4py's extension resolves {sel.get('needs')} to {sel['resolves_to']}, tensorrt_llm's "
                          f"{os.path.basename(o['library'])} resolves {o['needs']} to {o['resolves_to']}. Both have the same SONAME, so "
                          "whichever is imported first is used for both; if they are different MPI builds, the other side gets "
                          "missing symbols or a crash at MPI_Init. Make both resolve to one installation (LD_LIBRARY_PATH first "
                          "entry, or rebuild mpi4py with that installation's mpicc).",
                          evidence=ev, fix=hint("command", "MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild))
        return
    mr = rt.get("mpirun")
    lib_prefix = (rt.get("libmpi") or {}).get("prefix")
    if mr:
        ev["mpirun"] = f"{mr['path']} (installation {mr['prefix']})"
    predicted = bool((rt.get("hwloc") or {}).get("unresolved")) or bool(rt.get("missing_libraries"))
    dyn = _fact(facts, "mpi.import") if _needs_dynamic(facts, predicted) else None
    if dyn is not None:
        ev["import in a child"] = "ok: " + str(dyn.get("library_version", "")) if dyn.get("ok") else dyn.get("error", "failed")
        if dyn.get("timed_out"):
            ev["import in a child"] = dyn.get("incomplete")
        if dyn.get("timed_out") and not dyn.get("ok"):
            yield warning("Importing mpi4py did not finish", f"A child process of {py} was killed after the timeout while importing "
                          "mpi4py: it hangs instead of failing (a network/PMIx lookup, a stuck filesystem). Run "
                          f"`{py} -c 'from mpi4py import MPI'` by hand to see where.", evidence=ev)
            return
        if not dyn.get("ok"):
            hw_cause = bool((rt.get("hwloc") or {}).get("unresolved"))
            yield error("mpi4py fails to import", f"`from mpi4py import MPI` failed in a child process of {py}: {dyn.get('error')}"
                        + (" The cause is the hwloc symbol conflict reported by MPI001; its fix applies." if hw_cause else ""),
                        evidence=ev, fix=None if hw_cause else hint("command", "MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild),
                        kb="mpi-hwloc-symbol-conflict" if hw_cause else None)
            return
    if mr and lib_prefix and mr["prefix"] != lib_prefix and launch_plan(facts)["uses_mpirun"]:
        yield warning(f"mpirun and mpi4py's libmpi come from different MPI installations ({mr['prefix']} vs {lib_prefix})",
                      f"mpirun on PATH is {mr['path']} but mpi4py loads {sel['resolves_to']}; launcher and library of different Open MPI "
                      "installations are not supported together and MPI_Init may fail (mixed pairs were observed to start 2 ranks "
                      "here, so this is not certain). Put one installation first on both PATH and "
                      "LD_LIBRARY_PATH, or rebuild mpi4py with that installation's mpicc.",
                      evidence=ev, fix=hint("command", "MPI002-rebuild-mpi4py", f"rebuild mpi4py with {mpicc}", rebuild))
        return
    what = f"{rt.get('implementation', 'MPI')} {rt['version']}" if rt.get("version") else "libmpi"
    yield ok(f"mpi4py {m4.get('version') or ''} loads {what} from {sel['resolves_to']}".replace("  ", " "), **ev)


def _from_prediction(facts, rt, m4, pred):
    """MPI002 from mpi4py's own search order (trtdiag.probes.mpi4py_search) and a plain confirming
    import — the confirmation is asked only where a launch is planned or a problem predicted."""
    py = pred.get("python") or rt.get("python") or "python3"
    ev = {"mpi4py": f"{(pred.get('mpi4py') or {}).get('version') or m4.get('version') or '?'} at {(pred.get('mpi4py') or {}).get('path')}",
          "python": py, "search": pred.get("search"),
          "extensions": [f"{os.path.basename(e['path'])} needs {e.get('needs')}" for e in pred.get("extensions") or []]}
    problem = bool(pred.get("import_error") or real_fallbacks(pred))
    conf = _fact(facts, "mpi4py_search.confirm") if _needs_dynamic(facts, problem) else None
    le = pred.get("loader_error") or {}
    if is_hwloc_conflict(le):
        return  # MPI001 reports it, with the loader's symbol
    fs = import_findings(pred, conf, pred.get("consistent"), pred.get("purge"))
    for f in fs:
        sev = {"error": error, "warning": warning, "info": info}[f["severity"]]
        yield sev(f["title"], f["message"], evidence={**ev, **f["evidence"]}, fix=remedy_fix(facts, f["remedies"], "MPI002"))
        return
    ev["libmpi"] = pred.get("libmpi")
    if conf is not None:
        ev["real import"] = (f"ok: {conf.get('library_version')} from {conf.get('libmpi_mapped')}" if conf.get("ok") else conf.get("error"))
    if launch_plan(facts)["uses_mpirun"]:
        for f in launcher_findings(pred.get("launcher"), pred.get("libmpi")):
            if f["id"] == "MPI002":
                sev = {"warning": warning, "info": info}[f["severity"]]
                yield sev(f["title"], f["message"], evidence={**ev, **f["evidence"]})
                return
    what = (conf or {}).get("library_version", "").split(",")[0] if (conf or {}).get("ok") else (
        f"{rt.get('implementation', 'MPI')} {rt['version']}" if rt.get("version") and pred.get("prefix") and pred.get("prefix") == (rt.get("libmpi") or {}).get("prefix") else "libmpi")
    yield ok(f"mpi4py {(pred.get('mpi4py') or {}).get('version') or ''} loads {what} from {pred.get('libmpi')}".replace("  ", " "), **ev)
