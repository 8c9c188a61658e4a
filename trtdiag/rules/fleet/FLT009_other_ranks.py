"""FLT009: Findings on the other ranks."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import Finding, Rank, Severity, ok, ranks_of


@rule("FLT009", area="fleet", title="Findings on the other ranks")
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
    per_rank = facts.derived("fleet.rank_findings")

    def key(f: Finding):
        return (f.check, f.severity.value, f.title)

    base = {key(f) for f in per_rank[ranks[0].index]}
    out = []
    for r in ranks[1:]:
        for f in per_rank[r.index]:
            if f.severity.rank >= Severity.WARNING.rank and key(f) not in base:
                f.title = f"{r.label}: {f.title}"
                f.evidence = {"rank": r.label, **f.evidence}
                out.append(f)
    if not out:
        out.append(ok(f"no findings on {'rank 1' if len(ranks) == 2 else f'ranks 1–{len(ranks) - 1}'} that rank 0 does not have"))
    return out
