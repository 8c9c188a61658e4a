"""FLT: checks across ranks — one machine of a multi-GPU or multi-node deployment that differs.

They read only ``fleet.snapshots`` (a list of snapshot dicts, in rank order: set by
``trtdiag check --mpi`` on rank 0 and by ``trtdiag check --from a.json --from b.json …``) and
``fleet.mpi``; on one machine they yield nothing.  Each names the odd rank, its host and its value
next to the value the other ranks agree on.

Shared helpers of the fleet rules (one rule a file beside this one)."""

from __future__ import annotations

import math

from dataclasses import dataclass, field

from typing import Any, Callable

from ...core.finding import Finding, Severity, advice, error, info, ok, warning

GiB = 1024**3

@dataclass
class Rank:
    index: int
    rank: int
    host: str
    facts: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    gpu_index: int | None = None

    @property
    def label(self) -> str:
        return f"rank {self.rank} ({self.host})"

def ranks_of(facts) -> list[Rank]:
    """The ranks of ``fleet.snapshots`` (none on one machine)."""
    snaps = facts.get("fleet.snapshots")
    if not isinstance(snaps, list) or len(snaps) < 2:
        return []
    out = []
    for i, s in enumerate(snaps):
        if not isinstance(s, dict):
            continue
        f = s.get("facts") if isinstance(s.get("facts"), dict) else {}
        ident = f.get("fleet.rank") if isinstance(f.get("fleet.rank"), dict) else {}
        r = ident.get("rank") if isinstance(ident.get("rank"), int) else i
        env = f.get("env.summary") if isinstance(f.get("env.summary"), dict) else {}
        opts = s.get("options") if isinstance(s.get("options"), dict) else {}
        gi = opts.get("gpu_index")
        out.append(Rank(i, r, str(env.get("hostname") or "?"), f, s.get("errors") or {}, s.get("_path"),
                        gi if isinstance(gi, int) else None))
    if len({r.rank for r in out}) != len(out):  # recorded ranks collide (snapshots taken one by one): the order given is the rank order
        for r in out:
            r.rank = r.index
    return out

def _names(rs: list[Rank]) -> str:
    if len(rs) == 1:
        return rs[0].label
    return "ranks " + ", ".join(str(r.rank) for r in rs)

def _split(ranks: list[Rank], value_of: Callable[[Rank], Any]):
    """(majority value, its ranks, {odd value: ranks}, ranks where the value is unknown)."""
    groups: dict[str, tuple[Any, list[Rank]]] = {}
    unknown = []
    for r in ranks:
        v = value_of(r)
        if v is None:
            unknown.append(r)
            continue
        groups.setdefault(repr(v), (v, []))[1].append(r)
    if not groups:
        return None, [], {}, unknown
    # the value most ranks share; on a tie, the one of the lowest rank
    key = max(groups, key=lambda k: (len(groups[k][1]), -min(r.rank for r in groups[k][1])))
    value, same = groups.pop(key)
    return value, same, {k: g for k, g in groups.items()}, unknown

def _fmt(v: Any, keys: list[str] | None = None) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}={v.get(k)}" for k in (keys if keys is not None else sorted(v)))
    return v if isinstance(v, str) else str(v)

def _differing(values: list[Any]) -> list[str] | None:
    """For dict values (a config, a header): the keys whose values differ between them."""
    if not all(isinstance(v, dict) for v in values):
        return None
    keys = sorted({k for v in values for k in v})
    return [k for k in keys if len({repr(v.get(k)) for v in values}) > 1]

def _skew(ranks: list[Rank], what: str, value_of, severity=Severity.ERROR, fix_summary: str = "", fix_id: str = "",
          value_in_title: bool = True) -> list[Finding]:
    """One finding: ok when every rank that recorded ``value_of`` agrees, else the odd ranks named."""
    value, same, odd, unknown = _split(ranks, value_of)
    if value is None:
        return []
    if not odd:
        head = f"{what} {_fmt(value)}" if value_in_title else f"Same {what[0].lower()}{what[1:]}"
        out = [ok(f"{head} on all {len(same)} ranks" if not unknown else f"{head} on {len(same)} ranks")]
        out[0].evidence = {"value": value, "ranks": [r.label for r in same]}
        if unknown:
            out[0].evidence["not recorded on"] = [r.label for r in unknown]
        return out
    odd_ranks = [r for _, rs in odd.values() for r in rs]
    keys = _differing([value] + [v for v, _ in odd.values()])  # a dict: show only what differs
    head = "; ".join(f"{_names(rs)}: {_fmt(v, keys)}" for v, rs in odd.values())
    others = f"{len(same)} other rank{'s' if len(same) != 1 else ''}"
    ev: dict[str, Any] = {r.label: _fmt(value_of(r), keys) for r in odd_ranks}
    ev[f"the {others}"] = _fmt(value, keys)
    ev["agreeing ranks"] = [r.label for r in same]
    if unknown:
        ev["not recorded on"] = [r.label for r in unknown]
    msg = (f"{what} differs between ranks: {head}, while {others} {'have' if len(same) != 1 else 'has'} {_fmt(value, keys)}. "
           "Every rank of one TensorRT-LLM deployment loads the same engine build and talks to the others through NCCL/MPI; "
           "a rank that differs fails to deserialize its engine, hangs in the first collective, or produces different results.")
    f = Finding("", severity, f"{what} differs on {head} (others: {_fmt(value, keys)})", msg, evidence=ev)
    if fix_summary:
        f.hint = advice(id=fix_id, summary=fix_summary.format(value=_fmt(value, keys), odd=_names(odd_ranks)))
    return [f]

def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d

def _world(ranks: list[Rank]) -> tuple[int | None, int | None, int | None, Rank | None]:
    for r in ranks:
        n = _get(r.facts, "engine.info", "normalized")
        if isinstance(n, dict):
            tp, pp, ws = n.get("tp"), n.get("pp"), n.get("world_size")
            if isinstance(tp, int) or isinstance(ws, int):
                return tp, pp, ws, r
    return None, None, None, None

def _seen_by_eng006(facts, r: Rank, path: str | None) -> bool:
    """Whether ENG006, run on this machine's own engine directory, already reports rank ``r``'s
    missing file: the same host, the same path, and that rank listed missing there."""
    own = facts.get("engine.info")
    if not path or not isinstance(own, dict) or own.get("path") != path:
        return False
    me = facts.get("env.summary")
    if not isinstance(me, dict) or me.get("hostname") != r.host:
        return False
    return any(isinstance(p, dict) and p.get("kind") == "missing-rank" and p.get("rank") == r.rank
               for p in own.get("problems") or [])

_PER_FILE = ("size", "path", "rank", "offset", "crc", "sha", "hash", "mtime")

def _header_of(r: Rank):
    """The engine header fields that must agree between ranks of one build (size and path differ)."""
    info_ = r.facts.get("engine.info")
    if not isinstance(info_, dict):
        return None
    for e in info_.get("ranks") or []:
        if isinstance(e, dict) and isinstance(e.get("header"), dict):
            h = {k: v for k, v in e["header"].items() if not any(p in k.lower() for p in _PER_FILE)}
            return h or None
    return None

def _gpu_of(r: Rank) -> dict | None:
    """The GPU rank ``r`` uses (its local rank's, or the only one visible): derive/ranks.py."""
    from ...derive.ranks import rank_gpu

    return rank_gpu(r.facts.get("gpu.inventory"), r.gpu_index if r.gpu_index is not None else 0)
