"""Running the pipeline: rules over facts → findings (covered ones dropped) → planned fixes.

:func:`run` is what every command uses; it never prints.  A progress callback (the terminal's
"checking …" line) is told each rule before it runs.
"""

from __future__ import annotations

import os
from typing import Callable

from ..core.catalogue import Rule
from ..core.errors import InputError, ProbeError
from ..core.facts import Facts
from ..core.finding import Finding, Severity


def run_one(spec: Rule, facts: Facts, debug: bool = False, plan: bool = True) -> list[Finding]:
    """One rule's findings, with id, area and knowledge-base entry filled in (and fixes planned)."""
    try:
        out = list(spec.func(facts) or [])
    except InputError:
        raise
    except ProbeError as exc:
        if facts.from_snapshot and str(exc).endswith(": not recorded in the snapshot"):
            return []  # the snapshot does not say: not applicable (listed in not_applicable), not a warning
        out = [
            Finding(
                "",
                Severity.WARNING,
                f"Could not check: {spec.title}",
                "A probe this check needs failed; the check was not run.",
                evidence={"probe error": str(exc)},
            )
        ]
    except Exception as exc:  # a crashing rule is a finding, never the end of the run
        ev = {"exception": f"{type(exc).__name__}: {exc}"}
        if debug:
            import traceback  # only when a rule crashed

            ev["traceback"] = traceback.format_exc()
        out = [
            Finding(
                "",
                Severity.WARNING,
                f"Check crashed: {spec.title}",
                "This is a bug in trtdiag; the other checks ran. Re-run with --debug and report it.",
                evidence=ev,
            )
        ]
    for f in out:
        f.check = f.check or spec.id
        f.area = f.area or spec.area
        if f.kb is None:
            f.kb = spec.kb
    if plan:
        from ..fixes.planner import plan_all

        plan_all(out, facts)
    return out


def _covered(f: Finding, covers: dict[str, list[str | None]]) -> bool:
    """Whether a rule that ran covers this finding: ``covers=("ID",)`` takes every finding of ID
    that names a subject, ``("ID:subject",)`` the ones about that subject (or below it)."""
    if f.subject is None or f.check not in covers:
        return False
    for topic in covers[f.check]:
        if topic is None or f.subject == topic or f.subject.startswith(topic + ":"):
            return True
    return False


#: the probes that wait on a child process, a library, the driver or the network, by the area whose
#: rules read them: started together in threads before the rules run (only for areas selected)
PREFETCH: dict[str, tuple[str, ...]] = {
    "tensorrt": ("trt.libraries", "python.packages"),
    "engine": ("trt.libraries",),
    "gpu": ("gpu.inventory",),
    "memory": ("gpu.inventory",),
    "container": ("gpu.inventory", "container.info"),
    "mpi": ("mpi.runtime", "mpi4py_search.prediction"),
    "ports": ("net.ports",),
}


def _check_gate(spec: Rule, facts: Facts) -> None:
    """TRTDIAG_CHECK_GATES=1 (tests): a rule of an area whose gate said no must find nothing."""
    try:
        out = list(spec.func(facts) or [])
    except Exception:  # noqa: BLE001 - a rule that raises would have been a finding
        out = ["raised"]
    if out:
        raise AssertionError(f"rules/{spec.area}/__init__.py applies() said no, but {spec.id} finds {out!r}")


def _ready_first(specs: list[Rule], facts: Facts):
    """(index, rule) for every rule, an area's rules together, the areas whose probes are done
    first: while the driver initialises or a library is read in a thread, the rules that need
    neither import and run instead of waiting behind them.  The findings keep the rules' order."""
    areas: dict[str, list[tuple[int, Rule]]] = {}
    for i, spec in enumerate(specs):
        areas.setdefault(spec.area, []).append((i, spec))
    while areas:
        area = next((a for a in areas if all(facts.done(n) for n in PREFETCH.get(a, ()))), next(iter(areas)))
        yield from areas.pop(area)


def run(specs: list[Rule], facts: Facts, debug: bool = False,
        progress: Callable[[Rule], None] | None = None) -> tuple[list[Finding], list[str]]:
    """(findings, ids of the rules that did not apply).  ``specs`` may hold stubs
    (:func:`trtdiag.core.catalogue.select` with ``lazy``): the rules of an area whose gate says
    it has nothing to look at (:func:`trtdiag.core.catalogue.area_applies`) are not even imported."""
    from ..core import catalogue

    facts.prefetch(n for area in dict.fromkeys(s.area for s in specs) for n in PREFETCH.get(area, ()))
    found: list[tuple[int, list[Finding]]] = []
    idle: list[tuple[int, str]] = []
    applied: list[Rule] = []
    gates: dict[str, bool] = {}
    for i, spec in _ready_first(specs, facts):
        if spec.area not in gates:  # asked when the area's first rule would run, as the rules would ask
            gates[spec.area] = catalogue.area_applies(spec.area, facts)
        if not gates[spec.area]:
            if os.environ.get("TRTDIAG_CHECK_GATES"):
                _check_gate(catalogue.resolve(spec), facts)
            idle.append((i, spec.id))
            continue
        spec = catalogue.resolve(spec)
        if progress:
            progress(spec)
        out = run_one(spec, facts, debug, plan=False)
        if not out:
            idle.append((i, spec.id))
        else:
            applied.append(spec)
            found.append((i, out))
    findings = [f for _, out in sorted(found, key=lambda t: t[0]) for f in out]  # in the rules' order
    not_applicable = [rid for _, rid in sorted(idle)]
    covers: dict[str, list[str | None]] = {}
    for spec in applied:
        for c in spec.covers:
            rid, _, topic = c.partition(":")
            covers.setdefault(rid, []).append(topic or None)
    if covers:
        findings = [f for f in findings if not _covered(f, covers)]
    from ..fixes.planner import plan_all

    plan_all(findings, facts)
    return findings, not_applicable
