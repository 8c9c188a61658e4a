"""FLT004: Each rank has its own engine file, from the same build."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import advice
from .common import Severity, _get, _header_of, _names, _seen_by_eng006, _skew, error, ok, ranks_of


@rule("FLT004", area="fleet", title="Each rank has its own engine file, from the same build", kb="engine-rank-files-missing")
def rank_engines(facts):
    """Each rank needs ``rank<N>.engine`` (N = its MPI rank) in the engine directory it sees, and
    every rank's engine directory must hold the same build (the same normalized config.json and the
    same engine header fields).

    Why: TensorRT-LLM rank N loads ``rank<N>.engine`` only; a node whose copy of the engine
    directory lacks it (a partial rsync, a per-node volume) fails on that rank alone, and a node
    with an older build fails to join the others' collectives.

    Fix: copy the complete engine directory (all ``rank*.engine`` files and ``config.json``) from
    the node that built it to the same path on every node."""
    ranks = ranks_of(facts)
    with_engine = [r for r in ranks if isinstance(r.facts.get("engine.info"), dict)]
    if not with_engine:
        return
    missing = []
    for r in ranks:
        info_ = r.facts.get("engine.info")
        if not isinstance(info_, dict):
            missing.append((r, "no engine directory recorded on this rank (was --engine-dir given there?)", None))
            continue
        have = {e.get("rank") for e in info_.get("ranks") or [] if isinstance(e, dict)}
        if r.rank not in have:
            missing.append((r, f"rank{r.rank}.engine not found in {info_.get('path')}", info_.get("path")))
    # a rank file missing from the very directory this machine checks is ENG006's finding (with the
    # tp × pp evidence); FLT004 names only what one machine cannot see: other nodes' copies
    covered = [m for m in missing if _seen_by_eng006(facts, m[0], m[2])]
    missing = [m for m in missing if m not in covered]
    out = []
    if missing:
        ev = {r.label: why for r, why, _ in missing}
        src = next((r for r in with_engine if r not in [m[0] for m in missing]), None)
        f = error(f"Engine file missing on {_names([m[0] for m in missing])}",
                  "TensorRT-LLM rank N loads rankN.engine from the engine directory on its own node; these ranks would "
                  "fail at start while the others wait for them in the first collective.", evidence=ev)
        if src is not None:
            spath = src.facts["engine.info"].get("path")
            steps = []
            for r, _, tpath in missing:
                dest = tpath or spath
                steps.append(f"`rsync -a {spath}/ {dest}/` on {src.host}" if r.host == src.host
                             else f"`rsync -a {spath}/ {r.host}:{dest}/` from {src.host}")
            f.hint = advice(id="FLT004-copy-engine", summary=f"copy the complete engine directory of {src.label} to {_names([m[0] for m in missing])}: "
                        + "; ".join(dict.fromkeys(steps)))
        out.append(f)
    out += _skew(with_engine, "Engine build (config.json)", lambda r: _get(r.facts, "engine.info", "normalized"),
                 fix_summary="copy the engine directory the other ranks use to {odd}", fix_id="FLT004-same-build", value_in_title=False)
    out += _skew(with_engine, "Engine header", _header_of, severity=Severity.ERROR,
                 fix_summary="copy the engine directory the other ranks use to {odd}", fix_id="FLT004-same-build", value_in_title=False)
    if not missing and not covered and not any(f.severity != Severity.OK for f in out):
        out = [ok(f"rank<N>.engine present on all {len(ranks)} ranks, same build", ranks=[r.label for r in ranks])]
    return out
