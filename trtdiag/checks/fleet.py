"""FLT: checks across ranks — one machine of a multi-GPU or multi-node deployment that differs.

They read only ``fleet.snapshots`` (a list of snapshot dicts, in rank order: set by
``trtdiag check --mpi`` on rank 0 and by ``trtdiag check --from a.json --from b.json …``) and
``fleet.mpi``; on one machine they yield nothing.  Each names the odd rank, its host and its value
next to the value the other ranks agree on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..model import Finding, Fix, Severity, error, info, ok, warning
from ..registry import check

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
        f.fix = Fix(id=fix_id, summary=fix_summary.format(value=_fmt(value, keys), odd=_names(odd_ranks)))
    return [f]


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


@check("FLT000", area="fleet", title="Ranks gathered for the fleet checks")
def fleet_ranks(facts):
    """Says how many ranks the fleet checks compared and on which hosts — or, under ``--mpi``, why
    this process ran as one rank (not launched by mpirun/srun, or mpi4py missing).

    Why: ``mpirun -n 4 trtdiag check --mpi`` compares only what reached rank 0; a count that is not
    the world size means a rank is missing from the comparison.

    Fix: launch with ``mpirun -n N trtdiag check --mpi`` (mpi4py installed in the same
    environment), or collect one snapshot per node (``trtdiag collect -o nodeK.json``) and run
    ``trtdiag check --from node0.json --from node1.json …``."""
    mpi = facts.get("fleet.mpi")
    ranks = ranks_of(facts)
    if isinstance(mpi, dict) and mpi.get("note"):
        yield info("Checked as one rank", mpi["note"], evidence={"ranks": mpi.get("ranks", 1)})
        return
    if not ranks:
        return
    hosts = sorted({r.host for r in ranks})
    ev = {"ranks": len(ranks), "hosts": hosts, "per rank": [r.label + (f" gpu {r.gpu_index}" if r.gpu_index is not None else "") for r in ranks]}
    if isinstance(mpi, dict) and mpi.get("launcher"):
        ev["launcher"] = mpi["launcher"]
    paths = [r.path for r in ranks if r.path]
    if paths:
        ev["snapshots"] = paths
    yield info(f"{len(ranks)} ranks on {len(hosts)} host{'s' if len(hosts) != 1 else ''} compared", evidence=ev)


@check("FLT001", area="fleet", title="Same TensorRT on every rank", kb="fleet-rank-version-skew")
def same_tensorrt(facts):
    """Compares the TensorRT that will load the engine (``trt.installed``) across ranks.

    Why: an engine plan loads only in the TensorRT that built it; a node whose image carries another
    TensorRT fails with "The engine plan file is not compatible with this version of TensorRT" on
    that rank alone, and the other ranks hang waiting for it.

    Fix: run every rank from the same container image, or install the same ``tensorrt`` wheel on
    the odd node (``pip install tensorrt==VERSION``)."""
    ranks = ranks_of(facts)
    return _skew(ranks, "TensorRT", lambda r: _get(r.facts, "trt.installed", "version"),
                 fix_summary="install TensorRT {value} on {odd} — `pip install tensorrt=={value}` there, or run it from the image the other ranks use",
                 fix_id="FLT001-align-tensorrt")


@check("FLT002", area="fleet", title="Same TensorRT-LLM on every rank", kb="fleet-rank-version-skew")
def same_trtllm(facts):
    """Compares the TensorRT-LLM version and commit (``trtllm.installed``) across ranks.

    Why: the runtime of each rank must match the release that built the engine (the engine's
    config.json records it); one node with another wheel refuses the engine or disagrees with the
    others about the KV-cache layout.

    Fix: the same image everywhere, or ``pip install tensorrt_llm==VERSION`` on the odd node."""
    ranks = ranks_of(facts)

    def value(r):
        v = _get(r.facts, "trtllm.installed", "version")
        c = _get(r.facts, "trtllm.installed", "commit")
        return None if v is None else (f"{v} ({c[:12]})" if c else v)

    return _skew(ranks, "TensorRT-LLM", value,
                 fix_summary="install TensorRT-LLM {value} on {odd}, or run it from the image the other ranks use",
                 fix_id="FLT002-align-trtllm")


@check("FLT003", area="fleet", title="Same NVIDIA driver on every rank", kb="fleet-rank-version-skew")
def same_driver(facts):
    """Compares the NVIDIA driver version and the CUDA version it supports (``gpu.inventory``)
    across ranks.

    Why: the engine and its CUDA runtime need a driver at least as new as the one they were built
    for; nodes on different drivers behave differently (one fails with "CUDA driver version is
    insufficient", or NCCL picks other transports).

    Fix: install the same driver on every node (the version the other ranks run)."""
    ranks = ranks_of(facts)

    def value(r):
        inv = r.facts.get("gpu.inventory")
        if not isinstance(inv, dict) or not inv.get("driver"):
            return None
        cd = inv.get("cuda_driver")
        return f"{inv['driver']} (CUDA {cd // 1000}.{cd % 1000 // 10})" if isinstance(cd, int) else inv["driver"]

    return _skew(ranks, "NVIDIA driver", value, severity=Severity.WARNING,
                 fix_summary="install NVIDIA driver {value} on {odd}, the one the other ranks run",
                 fix_id="FLT003-align-driver")


def _world(ranks: list[Rank]) -> tuple[int | None, int | None, int | None, Rank | None]:
    for r in ranks:
        n = _get(r.facts, "engine.info", "normalized")
        if isinstance(n, dict):
            tp, pp, ws = n.get("tp"), n.get("pp"), n.get("world_size")
            if isinstance(tp, int) or isinstance(ws, int):
                return tp, pp, ws, r
    return None, None, None, None


@check("FLT004", area="fleet", title="Each rank has its own engine file, from the same build", kb="engine-rank-files-missing")
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
            f.fix = Fix(id="FLT004-copy-engine", summary=f"copy the complete engine directory of {src.label} to {_names([m[0] for m in missing])}: "
                        + "; ".join(dict.fromkeys(steps)))
        out.append(f)
    out += _skew(with_engine, "Engine build (config.json)", lambda r: _get(r.facts, "engine.info", "normalized"),
                 fix_summary="copy the engine directory the other ranks use to {odd}", fix_id="FLT004-same-build", value_in_title=False)
    out += _skew(with_engine, "Engine header", _header_of, severity=Severity.ERROR,
                 fix_summary="copy the engine directory the other ranks use to {odd}", fix_id="FLT004-same-build", value_in_title=False)
    if not missing and not covered and not any(f.severity != Severity.OK for f in out):
        out = [ok(f"rank<N>.engine present on all {len(ranks)} ranks, same build", ranks=[r.label for r in ranks])]
    return out


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


@check("FLT005", area="fleet", title="Ranks launched = tensor parallel × pipeline parallel", kb="world-size-mismatch")
def world_size(facts):
    """The number of ranks must equal the engine's world size (tp × pp from its config.json).

    Why: an engine built for tp=4 needs exactly 4 ranks; with fewer, TensorRT-LLM stops with
    "world_size … does not match"; with more, the extra ranks find no rankN.engine.

    Fix: launch with ``mpirun -n TP×PP`` (or ``--world_size`` in tensorrtllm_backend's
    launch_triton_server.py), or rebuild the engine for the number of GPUs you have."""
    ranks = ranks_of(facts)
    tp, pp, ws, src = _world(ranks)
    if src is None:
        return
    want = (tp or 1) * (pp or 1) if isinstance(tp, int) else ws
    ev = {"ranks": len(ranks), "tp": tp, "pp": pp, "world_size (config.json)": ws, "config": _get(src.facts, "engine.info", "config_path")}
    if want != len(ranks):
        f = error(f"{len(ranks)} ranks launched, the engine needs {want} (tp={tp} × pp={pp or 1})",
                  f"The engine was built for {want} ranks; {len(ranks)} were started, so "
                  + ("some ranks have no engine to load." if len(ranks) > want else "some rankN.engine files have no process to load them and the others wait forever."),
                  evidence=ev)
        f.fix = Fix(id="FLT005-world-size", summary=f"launch with `mpirun -n {want} …` (tensorrtllm_backend: `python3 scripts/launch_triton_server.py --world_size {want} …`), or rebuild the engine with --tp_size/--pp_size for {len(ranks)} GPUs")
        yield f
    else:
        yield ok(f"{len(ranks)} ranks = tp {tp} × pp {pp or 1}", **ev)


def _gpu_of(r: Rank) -> dict | None:
    inv = r.facts.get("gpu.inventory")
    if not isinstance(inv, dict) or not isinstance(inv.get("gpus"), list) or not inv["gpus"]:
        return None
    if len(inv["gpus"]) == 1:  # CUDA_VISIBLE_DEVICES left this rank one GPU: that is the one it uses
        return inv["gpus"][0] if isinstance(inv["gpus"][0], dict) else None
    gi = r.gpu_index if r.gpu_index is not None else 0
    for g in inv["gpus"]:
        if isinstance(g, dict) and g.get("index") == gi:
            return g
    return inv["gpus"][gi] if 0 <= gi < len(inv["gpus"]) and isinstance(inv["gpus"][gi], dict) else None


@check("FLT006", area="fleet", title="Free GPU memory alike on every rank; one GPU per rank", kb="gpu-memory-held-by-other-process")
def free_memory(facts):
    """Compares the free memory of the GPU each rank will use (local rank → GPU index) and that no
    two ranks on one host share a GPU.

    Why: TensorRT-LLM sizes the KV cache on each rank from its free memory
    (``kv_cache_free_gpu_mem_fraction``); tensor-parallel ranks must agree, so the rank with the
    least free memory limits all of them — or runs out of memory alone while loading. A GPU with
    less free memory than its peers usually holds another process. Two ranks on one GPU double its
    load and usually mean CUDA_VISIBLE_DEVICES was set the same for both.

    A GPU whose shortfall is the memory of processes NVML lists is left to MEM003 (which names
    them, per rank through FLT009) when it runs: one finding per problem.

    Fix: stop the process holding memory on the odd GPU (its pid is in the evidence), or set a
    lower ``kv_cache_free_gpu_mem_fraction``; give each local rank its own GPU."""
    ranks = ranks_of(facts)
    seen = [(r, _gpu_of(r)) for r in ranks]
    seen = [(r, g) for r, g in seen if g is not None and isinstance(g.get("free"), int)]
    if len(seen) < 2:
        return
    out = []
    by_gpu: dict[tuple, list[Rank]] = {}
    for r, g in seen:
        # the same GPU: the same UUID, or (no UUID recorded) the same index among all of the host's GPUs
        n_seen = len((r.facts.get("gpu.inventory") or {}).get("gpus") or [])
        gpu = g.get("uuid") or (f"GPU {g.get('index')}" if n_seen > 1 else None)
        if gpu is not None:
            by_gpu.setdefault((r.host, gpu), []).append(r)
    for (host, gpu), rs in by_gpu.items():
        if len(rs) > 1:
            f = error(f"{_names(rs)} share one GPU on {host}",
                      f"{len(rs)} ranks on {host} selected the same GPU ({gpu}); each TensorRT-LLM rank needs its own.",
                      evidence={"host": host, "gpu": gpu, "ranks": [r.label for r in rs]})
            f.fix = Fix(id="FLT006-one-gpu-per-rank", summary="give each local rank its own GPU: do not set one CUDA_VISIBLE_DEVICES for all ranks (mpirun maps local rank N to GPU N)")
            out.append(f)
    most = max(g["free"] for _, g in seen)
    low = [(r, g) for r, g in seen if most - g["free"] > max(1 * GiB, 0.10 * most)]
    ev_all = {r.label: f"{g['free'] / GiB:.1f} GiB free of {g.get('total', 0) / GiB:.1f} GiB (GPU {g.get('index')})" for r, g in seen}
    if low:
        for r, g in low:
            procs = [p for p in g.get("procs") or [] if isinstance(p, dict)]
            held = sum(p.get("used") or 0 for p in procs if isinstance(p.get("used"), int))
            if held >= 0.9 * (most - g["free"]) and "MEM003" in (getattr(facts, "selected_checks", None) or ()):
                continue  # the processes that hold it are MEM003's finding for that rank (FLT009 names the rank)
            ev = {"free bytes": g["free"], "most free on any rank (bytes)": most,
                  "short by": f"{(most - g['free']) / GiB:.1f} GiB", "per rank": ev_all}
            if procs:
                ev["processes on this GPU"] = [f"pid {p.get('pid')} {p.get('name') or ''} {(p.get('used') or 0) / GiB:.1f} GiB".replace("  ", " ") for p in procs]
            f = warning(f"{r.label}: GPU {g.get('index')} has {g['free'] / GiB:.1f} GiB free, others up to {most / GiB:.1f} GiB",
                        f"The GPU of {r.label} has {(most - g['free']) / GiB:.1f} GiB less free memory than the best rank; "
                        "the KV cache of every tensor-parallel rank is limited by it, or this rank runs out of memory alone.",
                        evidence=ev)
            pids = [str(p.get("pid")) for p in procs if p.get("pid") is not None]
            f.fix = Fix(id="FLT006-free-gpu", summary=(f"on {r.host}, stop what holds GPU {g.get('index')} (pid {', '.join(pids)}: see `nvidia-smi`)" if pids
                                                       else f"on {r.host}, free GPU {g.get('index')} (see `nvidia-smi`) or lower kv_cache_free_gpu_mem_fraction"))
            out.append(f)
    elif not out:
        out.append(ok(f"free GPU memory within {max(1, math.ceil(0.10 * most / GiB))} GiB on all {len(seen)} ranks", **ev_all))
    return out


@check("FLT007", area="fleet", title="Ranks can reach each other (host names resolve, TCP connects)", kb="fleet-rank-unreachable")
def reachability(facts):
    """With ``trtdiag check --mpi --reachability``, each rank resolved every other rank's host name
    and opened a TCP connection to a port that rank listened on (2 s limit each); this reports the
    pairs that failed.

    Why: NCCL and MPI bootstrap over TCP between the ranks' addresses; a host name that does not
    resolve on one node or a firewall between nodes makes the first collective hang with no error.

    Fix: make every node's host name resolvable on every node (DNS or /etc/hosts), open the ports
    between them (or set NCCL_SOCKET_IFNAME / OMPI_MCA_btl_tcp_if_include to the interface they
    share)."""
    ranks = ranks_of(facts)
    have = [r for r in ranks if isinstance(r.facts.get("fleet.reach"), dict)]
    if not have:
        return
    bad = []
    tried = 0
    for r in have:
        for p in r.facts["fleet.reach"].get("peers") or []:
            tried += 1
            if p.get("resolve_error") or p.get("resolved") is None:
                bad.append((r, p, f"cannot resolve {p.get('host')}: {p.get('resolve_error')}"))
            elif p.get("connect") != "ok":
                bad.append((r, p, f"cannot connect to {p.get('addr')}:{p.get('port')}: {p.get('connect')}"))
    if not bad:
        yield ok(f"all {tried} rank pairs resolve and connect", ranks=len(have))
        return
    ev = {f"{r.label} → rank {p.get('rank')} ({p.get('host')})": why for r, p, why in bad}
    f = error(f"{len(bad)} of {tried} rank pairs cannot reach each other",
              "NCCL and MPI connect the ranks over TCP; these pairs failed, so the first collective would hang.", evidence=ev)
    f.fix = Fix(id="FLT007-network", summary="make each host name resolvable on every node (/etc/hosts or DNS) and allow TCP between the nodes; "
                "pin the interface with NCCL_SOCKET_IFNAME=<iface> and OMPI_MCA_btl_tcp_if_include=<iface>")
    yield f


@check("FLT008", area="fleet", title="Same launch environment on every rank", kb="fleet-rank-env-differs")
def same_env(facts):
    """Compares the environment variables that decide what a rank loads and how it talks to the
    others (``LD_LIBRARY_PATH``, ``LD_PRELOAD``, ``PYTHONPATH``, ``PATH``, ``NCCL_*``, ``UCX_*``,
    ``OMPI_MCA_*``, ``TRTLLM_*``, ``CUDA_*``) across ranks; per-rank ones (``CUDA_VISIBLE_DEVICES``,
    rank numbers) are left out.

    Why: ``mpirun -x`` exports only what it is told; a node whose shell profile sets another
    ``LD_LIBRARY_PATH`` loads another libnvinfer, and an ``NCCL_*`` setting on one node only makes
    the ranks disagree about transports and hang.

    Fix: export the same values to every rank (``mpirun -x NAME=VALUE``, or the job spec's env for
    every pod), and remove the odd setting from that node's profile."""
    ranks = ranks_of(facts)
    have = [r for r in ranks if isinstance(r.facts.get("env.vars"), dict)]
    if len(have) < 2:
        return
    from ..probes.env import PER_RANK_VARS  # recorded, but per rank by design: never compared

    names = sorted({k for r in have for k in r.facts["env.vars"] if k not in PER_RANK_VARS})
    out = []
    for name in names:
        value, same, odd, unknown = _split(have, lambda r: r.facts["env.vars"].get(name, "(unset)"))
        if not odd:
            continue
        odd_ranks = [r for _, rs in odd.values() for r in rs]
        ev = {r.label: r.facts["env.vars"].get(name, "(unset)") for r in odd_ranks}
        ev[f"the other {len(same)} rank{'s' if len(same) != 1 else ''}"] = value
        f = warning(f"{name} differs on {_names(odd_ranks)}",
                    f"{name} is {ev[odd_ranks[0].label]!r} on {odd_ranks[0].label} but {value!r} on the other {len(same)} "
                    f"rank{'s' if len(same) != 1 else ''}; that rank may load other libraries or choose another transport.",
                    evidence=ev)
        f.fix = Fix(id="FLT008-same-env", summary=(f"export one value to every rank: `mpirun -x {name} …` (or unset it on {', '.join(sorted({r.host for r in odd_ranks}))})"
                                                   if value == "(unset)" else f"export one value to every rank: `mpirun -x {name}={value} …`"))
        out.append(f)
    if not out:
        out.append(ok(f"{len(names)} launch variables alike on all {len(have)} ranks"))
    return out


@check("FLT009", area="fleet", title="Findings on the other ranks")
def other_ranks(facts):
    """Runs every other check on the snapshot of each rank except the first and reports the errors
    and warnings that rank has and the first one does not, each under its own id with the rank
    named — so the exit code reflects every rank.

    Why: a rank-local problem (a missing tokenizer, a port in use, a broken library) on node 3
    stops the whole deployment just as surely as one on node 0.

    Fix: the fix each finding names, on the host it names."""
    ranks = ranks_of(facts)
    if len(ranks) < 2:
        return
    from .. import registry
    from ..facts import Facts

    specs = [s for s in registry.select(None, None, "check") if s.area != "fleet"]

    def key(f: Finding):
        return (f.check, f.severity.value, f.title)

    def run_on(r: Rank):
        snap = {"schema": "trtdiag.snapshot/1", "options": {}, "facts": r.facts, "errors": r.errors}
        raw = (facts.get("fleet.snapshots") or [])[r.index]
        if isinstance(raw, dict) and isinstance(raw.get("options"), dict):
            snap["options"] = raw["options"]
        return registry.run(specs, Facts({}, snapshot=snap))[0]

    base = {key(f) for f in run_on(ranks[0])}
    out = []
    for r in ranks[1:]:
        for f in run_on(r):
            if f.severity.rank >= Severity.WARNING.rank and key(f) not in base:
                f.title = f"{r.label}: {f.title}"
                f.evidence = {"rank": r.label, **f.evidence}
                out.append(f)
    if not out:
        out.append(ok(f"no findings on {'rank 1' if len(ranks) == 2 else f'ranks 1–{len(ranks) - 1}'} that rank 0 does not have"))
    return out
