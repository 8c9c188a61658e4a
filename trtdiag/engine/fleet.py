"""Fleet mode: ``mpirun -n N trtdiag check --mpi`` — every rank inspects its own node and GPU,
rank 0 gathers their snapshots through mpi4py and reports for all.

Each rank runs the ordinary checks on its own machine (local rank → ``gpu_index`` option, the GPU
it will use), so its facts are gathered once, then sends its snapshot (the same dict
``trtdiag collect`` writes) to rank 0 with ``comm.gather``.  Rank 0 sets ``fleet.snapshots`` (the
list, in rank order) and ``fleet.mpi`` and runs the checks again on its own facts: the cross-rank
checks in :mod:`trtdiag.checks.fleet` compare the ranks and re-check the other ranks' snapshots.
``trtdiag check --from a.json --from b.json`` reaches the same checks without MPI.

mpi4py is imported only here, only with ``--mpi``, only when a launcher's rank variables are set.
Without them (or without mpi4py) it says so in one info finding and runs as one rank.  A rank that
fails still takes part in the gather (it sends its error), so rank 0 never waits for a dead rank.
Output comes from rank 0 only; every rank exits with rank 0's exit code.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from typing import Any

from ..core.errors import TrtdiagError
from ..probes.fleet import rank_from_env

# Facts every rank records even when no local check asked for them: what the cross-rank checks compare.
FLEET_FACTS = ("env.summary", "env.vars", "fleet.rank", "trt.installed", "trtllm.installed", "python.packages",
               "gpu.inventory", "engine.info")
REACH_TIMEOUT = 2.0  # seconds per name lookup and per TCP connect


def gather_local(facts) -> None:
    """Probe the facts the fleet checks compare (each failure is recorded, never raised)."""
    for name in FLEET_FACTS:
        try:
            facts.get(name)
        except TrtdiagError:
            raise
        except Exception:  # a probe module absent from this build: nothing to record
            pass


def _json_safe(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def _comm(ident: dict):
    """(communicator, None) under an MPI launcher with mpi4py, else (None, why not)."""
    if ident.get("launcher") in (None, "env"):
        return None, "not started by mpirun or srun (no OMPI_COMM_WORLD_RANK, SLURM_PROCID or PMI_RANK): checked this process only"
    try:
        from mpi4py import MPI
    except Exception as exc:  # ImportError, or libmpi that will not load
        return None, f"mpi4py cannot be imported ({type(exc).__name__}: {exc}): each rank checked itself alone; install mpi4py in this environment to gather the ranks"
    comm = MPI.COMM_WORLD
    if comm.Get_size() == 1 and (ident.get("size") or 1) > 1:
        return None, (f"the launcher ({ident['launcher']}) says {ident['size']} ranks but MPI sees 1 (srun without --mpi=pmix, "
                      "or mpi4py built against another MPI): checked this rank only")
    return comm, None


def _resolve(host: str, timeout: float = REACH_TIMEOUT) -> tuple[str | None, str | None]:
    """The IPv4/IPv6 address of ``host``, bounded in time (a lookup may hang on a dead DNS server)."""
    box: dict[str, Any] = {}

    def work():
        try:
            box["addr"] = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]
        except OSError as exc:
            box["error"] = str(exc)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        return None, f"name lookup took longer than {timeout:.0f}s"
    return box.get("addr"), box.get("error")


def _connect(addr: str, port: int, timeout: float = REACH_TIMEOUT) -> str:
    try:
        with socket.create_connection((addr, port), timeout=timeout):
            return "ok"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def reachability(comm, rank: int) -> dict:
    """Every rank listens on one TCP port; all exchange host/address/port; each resolves every other
    rank's host name and connects to its port.  Bounded: REACH_TIMEOUT per lookup and per connect."""
    host = socket.gethostname()
    addr, err = _resolve(host)
    listener = socket.socket(socket.AF_INET6 if addr and ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((addr or "127.0.0.1", 0))
    except OSError:
        listener.close()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("0.0.0.0", 0))
        addr = addr or "127.0.0.1"
    listener.listen(64)
    me = {"rank": rank, "host": host, "addr": addr or "127.0.0.1", "port": listener.getsockname()[1], "resolve_error": err}
    try:
        everyone = comm.allgather(me)
        peers = []
        for other in everyone:
            if other["rank"] == rank:
                continue
            resolved, rerr = _resolve(other["host"])
            peers.append({"rank": other["rank"], "host": other["host"], "addr": other["addr"], "port": other["port"],
                          "resolved": resolved, "resolve_error": rerr, "connect": _connect(other["addr"], other["port"])})
        comm.Barrier()  # keep listening until every rank has tried
    finally:
        listener.close()
    return {"self": me, "peers": peers}


def _local(args, ident: dict, comm, rank: int, size: int):
    from ..app.main import make_facts, run_checks

    facts = make_facts(args)
    local = ident.get("local_rank")
    if local is None:
        local = 0
    if facts.options.get("gpu_index") is None:
        facts.options["gpu_index"] = local
    facts.set("fleet.rank", {"launcher": ident.get("launcher"), "rank": rank, "local_rank": local, "size": size})
    facts.set("fleet.snapshots", None)
    facts.set("fleet.mpi", None)
    run_checks(args, "check", facts, progress=False)  # no progress line from every rank on a shared terminal
    gather_local(facts)
    return facts


def run_mpi(args) -> int:
    from ..app.main import make_facts, print_report, run_checks

    ident = rank_from_env()
    comm, why = _comm(ident)
    if comm is None:
        if ident.get("rank") not in (None, 0):
            return 0  # output on rank 0 only; the note there says why the ranks were not gathered
        facts = make_facts(args)
        facts.set("fleet.mpi", {"ranks": 1, "note": why})
        report, _ = run_checks(args, "check", facts)
        print_report(report, args)
        return report.exit_code(getattr(args, "strict", False))

    rank, size = comm.Get_rank(), comm.Get_size()
    payload: dict[str, Any]
    facts = None
    reach = None
    if getattr(args, "reachability", False):  # a collective step: every rank takes it, before anything can fail
        try:
            reach = reachability(comm, rank)
        except OSError as exc:
            reach = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        facts = _local(args, ident, comm, rank, size)
        if reach is not None:
            facts.set("fleet.reach", reach)
        payload = {"snapshot": _json_safe(facts.snapshot())}
    except TrtdiagError as exc:
        payload = {"error": str(exc), "code": exc.exit_code, "host": socket.gethostname()}
    except Exception as exc:  # never leave rank 0 waiting in gather
        payload = {"error": f"internal error: {type(exc).__name__}: {exc}", "code": 3, "host": socket.gethostname()}
    gathered = comm.gather(payload, root=0)
    code = 0
    if rank == 0:
        try:
            code = _report(args, facts, gathered, ident, size)
        except TrtdiagError as exc:  # say it, and still release the ranks waiting in bcast
            print(f"trtdiag: error: {exc}", file=sys.stderr)
            code = exc.exit_code
        except Exception as exc:
            print(f"trtdiag: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback, and please report it)", file=sys.stderr)
            code = 3
    return int(comm.bcast(code, root=0))


def _report(args, facts, gathered: list[dict], ident: dict, size: int) -> int:
    """On rank 0: name the ranks that failed, or run the checks with every rank's snapshot."""
    from ..app.main import print_report, run_checks

    failed = [(r, p) for r, p in enumerate(gathered) if "error" in p]
    if failed:
        from ..core.finding import Finding, Report, Severity

        findings = [Finding("FLT010", Severity.ERROR, f"rank {r} ({p.get('host')}) could not check itself: {p['error']}",
                            "That rank's own run stopped before it could send its snapshot; the other ranks were not "
                            "compared. Run `trtdiag check` on that host to see the error there.",
                            evidence={"rank": r, "host": p.get("host"), "error": p["error"], "exit code": p.get("code", 2)},
                            area="fleet") for r, p in failed]
        print_report(Report("check", findings, empty=""), args)
        for r, p in failed:  # the one line of a failed command, for scripts reading stderr
            print(f"trtdiag: error: rank {r} ({p.get('host')}): {p['error']}", file=sys.stderr)
        return max(p.get("code", 2) for _, p in failed)
    facts.set("fleet.snapshots", [p["snapshot"] for p in gathered])
    facts.set("fleet.mpi", {"ranks": size, "launcher": ident.get("launcher")})
    report, _ = run_checks(args, "check", facts)
    print_report(report, args)
    return report.exit_code(getattr(args, "strict", False))
