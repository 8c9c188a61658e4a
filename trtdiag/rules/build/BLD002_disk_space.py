"""BLD002: Free disk for engines and builds."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import SOURCE_BUILD_DISK, _fmt, error, ok, source_build, warning


@rule("BLD002", area="build", title="Free disk for engines and builds", kb="disk-space-low")
def disk_space(facts):
    """There is room for what will be written: a rebuilt engine is written beside the current one
    before it is swapped in, so the engine directory's filesystem needs at least the engine's size
    free (plus 10 %); a TensorRT-LLM source build needs ~64 GiB (build tree, wheel, caches).  A full
    disk shows up late and obscurely: a truncated engine that fails to deserialize, or a build that
    dies in the linker.

    Fix: free space on that filesystem, or point --output-dir / the build at a larger one.
    """
    sb = source_build(facts)
    if not facts.opt("engine_dir") and sb is None:
        return
    disk = facts["host.disk"]
    out = []
    eng = None
    if facts.opt("engine_dir"):
        from ..mpi.common import _fact

        eng = _fact(facts, "engine.info")
    ranks = (eng or {}).get("ranks") or []
    # the size a rebuild writes is known only when every rank file is a plan (not an LFS pointer,
    # not empty): else there is nothing to measure against (ENG004/ENG005 say why)
    plans = [r for r in ranks if (r.get("header") or {}).get("kind", "plan") in ("plan", "ptrt")
             and isinstance(r.get("size"), int) and r["size"] > 0]
    if eng and disk.get("engine_dir") and ranks and len(plans) == len(ranks):
        size = sum(r["size"] for r in plans)
        d = disk["engine_dir"]
        need = int(size * 1.1)
        ev = {"engine": eng.get("path"), "engine size": _fmt(size), "free": f"{_fmt(d['free'])} on {d['path']}", "needed for a rebuild": _fmt(need)}
        if size and d["free"] < need:
            out.append(error(f"Not enough disk to rebuild the engine: {_fmt(d['free'])} free, {_fmt(need)} needed", 
                             f"A rebuild writes the new engine ({_fmt(size)}) beside the old one before swapping; {d['path']} has "
                             f"{_fmt(d['free'])} free. Free space there or build with --output-dir on another filesystem.", evidence=ev))
        elif size:
            out.append(ok(f"{_fmt(d['free'])} free beside the engine; a rebuild needs {_fmt(need)}", **ev))
    if sb and disk.get("cwd"):
        d = disk["cwd"]
        ev = {"build": sb["from"], "free": f"{_fmt(d['free'])} on {d['path']}", "needed": _fmt(SOURCE_BUILD_DISK)}
        if d["free"] < SOURCE_BUILD_DISK:
            out.append(warning(f"{_fmt(d['free'])} free for a TensorRT-LLM source build; ~{_fmt(SOURCE_BUILD_DISK)} needed",
                               f"The C++ build tree, the wheel and the compiler caches take tens of GB; {d['path']} has {_fmt(d['free'])} "
                               "free. Free space or build in a larger volume.", evidence=ev))
        else:
            out.append(ok(f"{_fmt(d['free'])} free for the source build", **ev))
    yield from out
