"""FLT007: Ranks can reach each other (host names resolve, TCP connects)."""

from __future__ import annotations

from ...core.catalogue import rule
from ...core.finding import advice
from .common import error, ok, ranks_of


@rule("FLT007", area="fleet", title="Ranks can reach each other (host names resolve, TCP connects)", kb="fleet-rank-unreachable")
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
    f.hint = advice(id="FLT007-network", summary="make each host name resolvable on every node (/etc/hosts or DNS) and allow TCP between the nodes; "
                "pin the interface with NCCL_SOCKET_IFNAME=<iface> and OMPI_MCA_btl_tcp_if_include=<iface>")
    yield f
