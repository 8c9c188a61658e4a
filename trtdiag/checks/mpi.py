"""MPI checks (MPI0xx): the MPI that TensorRT-LLM's ranks will load, hwloc, mpi4py, mpirun.

TensorRT-LLM runs its ranks through MPI: mpi4py over Open MPI (often the HPC-X build inside
NVIDIA's containers).  These checks read the facts of :mod:`trtdiag.probes.mpi` — which libraries
the loader will pick, their dynamic symbols, mpi4py's extension — and, only where a multi-rank
launch is planned or a problem is predicted, the verdict of a real import in a child process.
"""

from __future__ import annotations

import os
import re
import shlex

from ..errors import ProbeError
from ..model import error, info, ok, warning
from ..registry import check

MPIRUN_NAMES = ("mpirun", "mpiexec", "orterun")


def _fact(facts, name: str):
    """A fact of another area, or None when its probe failed or is not part of this build."""
    try:
        return facts[name]
    except (ProbeError, ModuleNotFoundError, KeyError):
        return None


def _int(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def launch_plan(facts) -> dict:
    """What is known about the launch: does it go through mpirun, with how many ranks, does the
    command itself allow root.  Sources: --world-size, the launch command after ``--``, the engine."""
    argv = list(facts.opt("launch_argv") or [])
    plan: dict = {"argv": argv, "uses_mpirun": False, "reasons": [], "world_size": None, "world_size_from": None,
                  "allows_root": False}
    names = [os.path.basename(a) for a in argv]
    if any(n in MPIRUN_NAMES for n in names):
        plan["uses_mpirun"] = True
        plan["reasons"].append("the launch command runs " + next(n for n in names if n in MPIRUN_NAMES))
        for i, a in enumerate(argv):
            if a in ("-n", "-np", "--np", "-c") and i + 1 < len(argv) and _int(argv[i + 1]):
                plan["world_size"], plan["world_size_from"] = _int(argv[i + 1]), f"mpirun {a} {argv[i + 1]}"
                break
    if "--allow-run-as-root" in argv:
        plan["allows_root"] = True
    if any(n == "launch_triton_server.py" for n in names):
        # tensorrtllm_backend's launcher builds `mpirun --allow-run-as-root -n 1 tritonserver … : …`
        plan["uses_mpirun"] = True
        plan["allows_root"] = True
        plan["reasons"].append("launch_triton_server.py starts tritonserver through mpirun")
        for i, a in enumerate(argv):
            m = re.match(r"--world[_-]size(?:=(\d+))?$", a)
            if m:
                v = _int(m.group(1)) if m.group(1) else (_int(argv[i + 1]) if i + 1 < len(argv) else None)
                if v:
                    plan["world_size"], plan["world_size_from"] = v, "launch_triton_server.py --world_size"
        if plan["world_size"] is None:
            plan["world_size"], plan["world_size_from"] = 1, "launch_triton_server.py default --world_size 1"
    ws = _int(facts.opt("world_size"))
    if ws:
        if plan["world_size"] is None:
            plan["world_size"], plan["world_size_from"] = ws, "--world-size"
        plan["opt_world_size"] = ws
        if ws > 1:
            plan["uses_mpirun"] = True
            plan["reasons"].append(f"--world-size {ws}")
    eng = _fact(facts, "engine.info")
    norm = (eng or {}).get("normalized") or {}
    ews = _int(norm.get("world_size")) or ((_int(norm.get("tp")) or 1) * (_int(norm.get("pp")) or 1) if norm.get("tp") or norm.get("pp") else None)
    if ews and ews > 1:
        plan["uses_mpirun"] = True
        plan["reasons"].append(f"the engine has {ews} ranks")
    return plan


def _needs_dynamic(facts, predicted_problem: bool) -> bool:
    return predicted_problem or launch_plan(facts)["uses_mpirun"]


def mpi_version_text(rt: dict) -> str:
    lib = rt.get("libmpi") or {}
    if rt.get("version"):
        return f"{rt.get('implementation', 'MPI')} {rt['version']} (ompi_info: {rt.get('ompi_info')})"
    return f"unknown (no ompi_info beside {lib.get('path')}; library file version {lib.get('file_version') or '?'})"


def _short(paths: list[str], n: int = 5) -> list[str]:
    return paths[:n] + ([f"… and {len(paths) - n} more"] if len(paths) > n else [])


def _purge_fix():
    from ..fixes.system_packages import package_fix

    return package_fix("MPI001-purge-system-hwloc", "remove the system hwloc packages that conflict with Open MPI's own hwloc",
                       "purge-system-hwloc",
                       note="the package manager also removes packages that depend on these (e.g. libopenmpi-dev); reinstall those you need afterwards")


# --------------------------------------------------------------------------------- MPI001
@check("MPI001", area="mpi", title="hwloc symbols of the MPI libraries resolve", kb="mpi-hwloc-symbol-conflict")
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
    bad_plugins = [(d["dir"], p) for d in hw.get("plugin_dirs", []) for p in d["plugins"] if p.get("missing_count")]
    unresolved = hw.get("unresolved", [])
    if not unresolved and not bad_plugins:
        ev["libraries read"] = len(hw.get("read", []))
        ev["plugins checked"] = sum(len(d["plugins"]) for d in hw.get("plugin_dirs", []))
        if _needs_dynamic(facts, False) or rt.get("tensorrt_llm"):
            # MPI_Init will run (mpirun ranks; `import tensorrt_llm` initialises MPI): the MCA
            # components it loads must fit the loaded Open MPI too
            comps = _fact(facts, "mpi.components")
            if comps:
                ev["components checked"] = f"{comps['checked']} in {', '.join(comps['dirs']) or 'no directory'} ({comps.get('source')})"
                bad = [c for c in comps["unresolved"] if c.get("symbol")]
                if bad:
                    ev["components"] = _short([f"{c['component']}: {c['symbol']}" for c in bad])
                    srcvar = comps.get("source") == "OMPI_MCA_mca_base_component_path"
                    name = os.path.basename(bad[0]["component"])[:-3]
                    yield warning(f"Open MPI component {name} needs {bad[0]['symbol']}, which the loaded Open MPI lacks",
                                  f"{len({c['component'] for c in bad})} MCA component(s) in {os.path.dirname(bad[0]['component'])} were built "
                                  f"for another Open MPI/hwloc than the one loaded ({ev['hwloc']}). At startup (mpirun, MPI_Init in each "
                                  f"rank, `import tensorrt_llm`) Open MPI prints `mca_base_component_repository_open: unable to open {name}: "
                                  f"{bad[0]['component']}: undefined symbol: {bad[0]['symbol']} (ignored)` and runs without them; when "
                                  "they are components the job needs (its pml, btl, rmaps), it fails. "
                                  + ("They come from OMPI_MCA_mca_base_component_path: unset it or point it at the loaded installation's components."
                                     if srcvar else "Use one installation: its lib first on LD_LIBRARY_PATH and its bin first on PATH (OPAL_PREFIX if it was moved)."),
                                  evidence=ev)
                    return
        if _needs_dynamic(facts, False):  # a multi-rank launch: let the loader confirm
            dyn = _fact(facts, "mpi.import")
            if dyn is not None:
                err = str(dyn.get("error", ""))
                ev["import in a child"] = ("ok: " + str(dyn.get("library_version", ""))) if dyn.get("ok") else err
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
    dyn = _fact(facts, "mpi.import")
    if dyn is not None:
        ev["import in a child"] = ("ok: " + str(dyn.get("library_version", ""))) if dyn.get("ok") else dyn.get("error", "failed")
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


# --------------------------------------------------------------------------------- MPI002
@check("MPI002", area="mpi", title="mpi4py loads the MPI that will run the ranks", kb="mpi-mpi4py-libmpi-mismatch")
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
    sel = m4.get("selected") or {}
    ev = {"mpi4py": f"{m4.get('version') or '?'} at {m4.get('path')}", "python": rt.get("python")}
    exts = m4.get("extensions") or []
    ev["extensions"] = [f"{os.path.basename(e['path'])} needs {e.get('needs')} -> {e.get('resolves_to') or 'not found'}" for e in exts]
    py = rt.get("python") or "python3"
    mpicc = os.path.join(rt["mpirun"]["prefix"], "bin", "mpicc") if rt.get("mpirun") else "mpicc"
    rebuild = ["env", f"MPICC={mpicc}", py, "-m", "pip", "install", "--force-reinstall", "--no-binary=mpi4py", "--no-cache-dir", "mpi4py"]
    from ..fixes.plan import command_fix

    if not exts:
        yield error("mpi4py has no MPI extension", f"{m4.get('path')} holds no MPI*.so: the install is incomplete.", evidence=ev,
                    fix=command_fix("MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild))
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
                    evidence=ev, fix=command_fix("MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild))
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
    from ..probes.mpi import same_library

    trt = rt.get("tensorrt_llm") or {}
    other = [link for link in trt.get("mpi_links", []) if not same_library(link.get("resolves_to"), sel["resolves_to"])]
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
                          evidence=ev, fix=command_fix("MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild))
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
                        evidence=ev, fix=None if hw_cause else command_fix("MPI002-rebuild-mpi4py", "rebuild mpi4py against the MPI on PATH", rebuild),
                        kb="mpi-hwloc-symbol-conflict" if hw_cause else None)
            return
    if mr and lib_prefix and mr["prefix"] != lib_prefix and launch_plan(facts)["uses_mpirun"]:
        yield warning(f"mpirun and mpi4py's libmpi come from different MPI installations ({mr['prefix']} vs {lib_prefix})",
                      f"mpirun on PATH is {mr['path']} but mpi4py loads {sel['resolves_to']}; Open MPI's launcher and library must "
                      "be the same installation, or ranks fail at MPI_Init. Put one installation first on both PATH and "
                      "LD_LIBRARY_PATH, or rebuild mpi4py with that installation's mpicc.",
                      evidence=ev, fix=command_fix("MPI002-rebuild-mpi4py", f"rebuild mpi4py with {mpicc}", rebuild))
        return
    what = f"{rt.get('implementation', 'MPI')} {rt['version']}" if rt.get("version") else "libmpi"
    yield ok(f"mpi4py {m4.get('version') or ''} loads {what} from {sel['resolves_to']}".replace("  ", " "), **ev)


# --------------------------------------------------------------------------------- MPI003
@check("MPI003", area="mpi", title="mpicc and mpi.h present where mpi4py must be built", kb="mpi4py-build-failed")
def mpi_toolchain(facts):
    """When mpi4py is missing but needed (the installed tensorrt_llm requires it: ``import
    tensorrt_llm`` imports it), ``pip install mpi4py`` builds it from source and needs an MPI compiler wrapper
    (``mpicc``) and the MPI headers (``mpi.h``); without them pip ends with ``ERROR: Could not build
    wheels for mpi4py``.

    Fix: install the MPI development package (``apt-get install -y libopenmpi-dev openmpi-bin``;
    ``dnf install -y openmpi-devel``), then ``python -m pip install mpi4py``.
    """
    rt = facts["mpi.runtime"]
    if (rt.get("mpi4py") or {}).get("found"):
        return
    trt = rt.get("tensorrt_llm") or {}
    # only Python needs mpi4py: Triton's TensorRT-LLM backend is C++ and links libmpi itself, so a
    # multi-rank launch alone does not make mpi4py necessary
    if not trt.get("requires_mpi4py"):
        return
    why = [f"tensorrt_llm {trt.get('version')} requires mpi4py (`import tensorrt_llm` fails without it)"]
    tc = facts["mpi.toolchain"]
    py = rt.get("python") or "python3"
    ev = {"python": py, "needed because": "; ".join(why), "mpicc": tc.get("mpicc") or "not on PATH",
          "mpi.h": tc.get("mpi_h") or "not found in " + ", ".join(_short(tc.get("include_dirs", []), 4))}
    if tc.get("mpicc") and tc.get("mpi_h"):
        from ..fixes.plan import command_fix

        yield error(f"mpi4py is not installed in {py}",
                    f"mpi4py is needed ({'; '.join(why)}) but is not installed; mpicc and mpi.h are present, so it can be built.",
                    evidence=ev, fix=command_fix("MPI003-install-mpi4py", "install mpi4py", [py, "-m", "pip", "install", "mpi4py"]))
        return
    from ..fixes.system_packages import package_fix

    missing = [x for x, v in (("mpicc", tc.get("mpicc")), ("mpi.h", tc.get("mpi_h"))) if not v]
    yield error(f"mpi4py is missing and cannot be built: no {' and no '.join(missing)}",
                f"mpi4py is needed ({'; '.join(why)}) but is not installed, and `pip install mpi4py` will fail with "
                f"`ERROR: Could not build wheels for mpi4py`: building it needs the MPI compiler wrapper mpicc and the MPI "
                f"headers. Install the MPI development package, then `{py} -m pip install mpi4py`.",
                evidence=ev, fix=package_fix("MPI003-install-mpi-dev", "install the MPI compiler wrapper and headers", "mpi-dev"))


# --------------------------------------------------------------------------------- MPI004
@check("MPI004", area="mpi", title="mpirun may run as root", kb="mpirun-as-root")
def mpirun_root(facts):
    """As root, Open MPI's ``mpirun`` refuses to start ("mpirun has detected an attempt to run as
    root") unless given ``--allow-run-as-root`` or both ``OMPI_ALLOW_RUN_AS_ROOT=1`` and
    ``OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1``.  Only checked when the launch goes through mpirun
    (``--world-size`` > 1, ``mpirun`` in the launch command, or an engine with more than one rank);
    ``launch_triton_server.py`` passes ``--allow-run-as-root`` itself.

    Fix: write both settings to ./trtdiag.env (``trtdiag fix --apply``) and source it in the launch
    script, or add ``--allow-run-as-root`` to the mpirun command.
    """
    plan = launch_plan(facts)
    if not plan["uses_mpirun"]:
        return
    la = facts["mpi.launch"]
    ev = {"euid": la["euid"], "mpirun because": "; ".join(plan["reasons"])}
    if la["euid"] != 0:
        yield ok("mpirun runs as a regular user", **ev)
        return
    from ..probes.mpi import ALLOW_ROOT

    env_ok = all(la["env"].get(k) == "1" for k in ALLOW_ROOT)
    file_ok = all(la["env_file_values"].get(k) == "1" for k in ALLOW_ROOT)
    if plan["allows_root"]:
        yield ok("mpirun runs as root with --allow-run-as-root", **ev, command=shlex.join(plan["argv"]))
        return
    if env_ok:
        yield ok("mpirun may run as root: OMPI_ALLOW_RUN_AS_ROOT and _CONFIRM are set", **ev)
        return
    if file_ok:
        ev["env file"] = la["env_file"]
        yield info(f"Open MPI allow-root settings are in {la['env_file']}, not in this environment",
                   f"mpirun will run as root only if the launch script sources {la['env_file']}: set -a; . {la['env_file']}; set +a",
                   evidence=ev)
        return
    from ..fixes.env_file import env_file_fix

    ev["set"] = {k: la["env"].get(k, "unset") for k in ALLOW_ROOT}
    # with neither a launch command nor --world-size, mpirun is inferred from the engine's ranks
    # alone: the launcher is unknown, and tensorrtllm_backend's launch_triton_server.py (the usual
    # one) passes --allow-run-as-root itself: a warning, not an error
    guessed = not plan["argv"] and not plan.get("opt_world_size")
    report = warning if guessed else error
    yield report("mpirun will refuse to run as root" + (" (unless launched by launch_triton_server.py)" if guessed else ""),
                "The launch goes through mpirun as root (" + "; ".join(plan["reasons"]) + "), without --allow-run-as-root and "
                "without OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1: mpirun stops with "
                "\"mpirun has detected an attempt to run as root\"."
                + (" tensorrtllm_backend's scripts/launch_triton_server.py adds --allow-run-as-root itself; with your own mpirun "
                   "command, add it there or apply this fix. (`trtdiag exec -- LAUNCH COMMAND` checks the actual command.)" if guessed else ""),
                evidence=ev,
                fix=env_file_fix("MPI004-allow-root-env", f"set the Open MPI allow-root pair in {la['env_file']} (source it before mpirun)",
                                 la["env_file"], dict(ALLOW_ROOT)))


# --------------------------------------------------------------------------------- MPI005
def visible_gpus(facts) -> tuple[int | None, str]:
    inv = _fact(facts, "gpu.inventory")
    if not inv or inv.get("gpus") is None:
        return None, "unknown (no GPU inventory)"
    if inv.get("nvml_error"):  # no driver reachable: GPU001 says so; "0 GPUs" would be a guess
        return None, "unknown (NVML cannot be used here; see GPU001)"
    n = len(inv["gpus"])
    cvd = (_fact(facts, "mpi.launch") or {}).get("CUDA_VISIBLE_DEVICES")
    if cvd is not None:
        vis = [x for x in cvd.split(",") if x.strip() and x.strip() != "-1"]
        return min(n, len(vis)), f"{min(n, len(vis))} (CUDA_VISIBLE_DEVICES={cvd}, {n} in the machine)"
    return n, str(n)


def _ctr004_owns_gpu_count(facts) -> bool:
    """Whether CTR004 runs in this run and applies (a world size is known): then it alone compares
    the ranks with the visible GPUs, so one problem gives one finding."""
    if "CTR004" not in (getattr(facts, "selected_checks", None) or ()):
        return False
    from .container import _world_size

    return _world_size(facts) is not None


@check("MPI005", area="mpi", title="World size matches the engine's tp × pp and the GPUs", kb="world-size-mismatch")
def world_size(facts):
    """The number of ranks the server is launched with equals the engine's tensor × pipeline
    parallelism, and this node has at least that many GPUs.

    A TensorRT-LLM engine built with ``--tp_size 2 --pp_size 1`` has rank0.engine and rank1.engine
    and must run with exactly 2 MPI ranks (``launch_triton_server.py --world_size 2``); with any
    other number the backend stops at load.  Each rank takes one GPU.

    When CTR004 runs too and a world size is given, the GPU count is its finding (with why fewer
    GPUs are visible), not this one's.

    Fix: launch with ``--world_size`` = tp × pp, or rebuild the engine for the ranks you have.
    """
    plan = launch_plan(facts)
    eng = _fact(facts, "engine.info")
    norm = (eng or {}).get("normalized") or {}
    tp, pp, ews = _int(norm.get("tp")), _int(norm.get("pp")), _int(norm.get("world_size"))
    launch_ws = plan["world_size"]
    if not eng and launch_ws is None:
        return
    ev: dict = {}
    if eng:
        ev["engine"] = f"tp {tp or '?'} × pp {pp or '?'}" + (f", world_size {ews}" if ews else "") + f" ({eng.get('config_path') or eng.get('path')})"
    if launch_ws is not None:
        ev["launch"] = f"{launch_ws} rank(s) ({plan['world_size_from']})"
    ngpu, gpu_txt = visible_gpus(facts)
    ev["GPUs visible"] = gpu_txt
    product = (tp or 1) * (pp or 1) if (tp or pp) else None
    if product and ews and product != ews:
        yield error(f"Engine config is inconsistent: tp {tp} × pp {pp} = {product}, world_size {ews}",
                    "The engine's config.json disagrees with itself; it was edited or built by a broken script. Rebuild it.", evidence=ev)
        return
    need = ews or product
    opt_ws = plan.get("opt_world_size")
    if opt_ws and launch_ws and opt_ws != launch_ws:
        ev["--world-size"] = opt_ws
        yield error(f"--world-size {opt_ws} but the launch command starts {launch_ws} rank(s)",
                    "The two disagree; the ranks the launch command starts are what the server gets.", evidence=ev)
        return
    if need and launch_ws and launch_ws != need:
        yield error(f"Launch starts {launch_ws} rank(s) but the engine has tp × pp = {need}",
                    f"The engine was built for {need} rank(s) (one engine file per rank); launched with {launch_ws} the "
                    f"backend fails at load. Launch with --world_size {need} (launch_triton_server.py) or mpirun -n {need}, "
                    "or rebuild the engine for the ranks you have.", evidence=ev)
        return
    ranks = launch_ws or need
    if _ctr004_owns_gpu_count(facts):
        # CTR004 compares the ranks with the GPUs this process sees, with the better evidence
        # (device nodes, NVIDIA_/CUDA_VISIBLE_DEVICES, several hosts) and the container remedies
        ev.pop("GPUs visible", None)
        if not need:
            return  # nothing of the engine to compare: the world size alone is CTR004's question
        yield ok(f"World size {ranks} = tp {tp or 1} × pp {pp or 1}", **ev)
        return
    if ranks and ngpu is not None and ranks > ngpu:
        yield error(f"{ranks} rank(s) need {ranks} GPUs; {ngpu} visible",
                    f"Each rank takes one GPU; this node has {gpu_txt}. Make more GPUs visible (CUDA_VISIBLE_DEVICES, "
                    "docker --gpus), run the ranks across nodes with a hostfile, or rebuild with a smaller tp × pp.", evidence=ev)
        return
    yield ok(f"World size {ranks}" + (f" = tp {tp or 1} × pp {pp or 1}" if need else "") + (f", {ngpu} GPU(s) visible" if ngpu is not None else ""), **ev)
