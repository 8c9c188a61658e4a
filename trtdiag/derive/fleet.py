"""Derived facts of a fleet: what every rank's own snapshot says when the rules run on it."""

from __future__ import annotations

from ..core.facts import SNAPSHOT_SCHEMA, Facts, derived


@derived("fleet.rank_findings")
def rank_findings(facts) -> list[list]:
    """For each gathered rank (``fleet.snapshots``, in rank order), the findings of every
    non-fleet rule run on that rank's snapshot, with that rank's own options."""
    from ..core import catalogue
    from ..engine.run import run

    specs = [s for s in catalogue.select(None, None, "check") if s.area != "fleet"]
    out = []
    for raw in facts.get("fleet.snapshots") or []:
        raw = raw if isinstance(raw, dict) else {}
        snap = {"schema": SNAPSHOT_SCHEMA, "options": raw.get("options") if isinstance(raw.get("options"), dict) else {},
                "facts": raw.get("facts") if isinstance(raw.get("facts"), dict) else {},
                "errors": raw.get("errors") if isinstance(raw.get("errors"), dict) else {}}
        out.append(run(specs, Facts({}, snapshot=snap))[0])
    return out
