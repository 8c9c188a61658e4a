"""The one place checks are registered, selected and run.

A check is a small function in a module of :mod:`trtdiag.checks`, decorated with :func:`check`::

    @check("ENG001", area="engine", title="Engine plan built by the TensorRT that will load it",
           kb="trt-engine-version-mismatch")
    def engine_plan_version(facts):
        ...
        yield error("Engine built by TensorRT 9.2.0.5, runtime is 9.3.0.1", "…", evidence={…})

It reads facts (never the machine directly) and yields findings; the runner fills in the id, area
and knowledge-base entry.  A check that yields nothing was not applicable.  A check that raises
becomes a finding of its own (severity warning, the exception as evidence) and the run goes on.
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import InputError, ProbeError
from .facts import Facts
from .model import Finding, Severity


@dataclass(frozen=True)
class CheckSpec:
    id: str
    area: str
    title: str
    func: Callable[[Facts], Iterable[Finding] | None]
    kb: str | None = None
    commands: tuple[str, ...] = ("check", "exec", "fix", "report", "collect")

    @property
    def doc(self) -> str:
        import inspect

        return inspect.cleandoc(self.func.__doc__ or "")


CHECKS: dict[str, CheckSpec] = {}

# Order in which areas are shown.
AREAS = ["environment", "tensorrt", "engine", "gpu", "memory", "mpi", "build", "container", "triton", "ports", "tokenizer", "fleet"]


def check(id: str, *, area: str, title: str, kb: str | None = None, commands: tuple[str, ...] | None = None):
    def deco(func):
        if id in CHECKS and CHECKS[id].func.__qualname__ != func.__qualname__:
            raise RuntimeError(f"check id {id} registered twice ({CHECKS[id].func.__module__}, {func.__module__})")
        kw = {"commands": commands} if commands else {}
        CHECKS[id] = CheckSpec(id=id, area=area, title=title, func=func, kb=kb, **kw)
        return func

    return deco


_loaded = False


def load_all() -> dict[str, CheckSpec]:
    global _loaded
    if not _loaded:
        from . import checks

        for mod in pkgutil.iter_modules(checks.__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{checks.__name__}.{mod.name}")
        _loaded = True
    return CHECKS


def _matches(spec: CheckSpec, pattern: str) -> bool:
    p = pattern.strip()
    if not p:
        return False
    return spec.id.upper() == p.upper() or spec.area == p.lower() or spec.id.upper().startswith(p.upper())


def select(only: list[str] | None = None, skip: list[str] | None = None, command: str = "check") -> list[CheckSpec]:
    specs = [s for s in load_all().values() if command in s.commands]
    if only:
        specs = [s for s in specs if any(_matches(s, p) for p in only)]
    if skip:
        specs = [s for s in specs if not any(_matches(s, p) for p in skip)]
    order = {a: i for i, a in enumerate(AREAS)}
    return sorted(specs, key=lambda s: (order.get(s.area, len(AREAS)), s.id))


def run_one(spec: CheckSpec, facts: Facts, debug: bool = False) -> list[Finding]:
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
    except Exception as exc:  # a crashing check is a finding, never the end of the run
        ev = {"exception": f"{type(exc).__name__}: {exc}"}
        if debug:
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
    return out


def run(specs: list[CheckSpec], facts: Facts, debug: bool = False, progress=None) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    not_applicable: list[str] = []
    # which checks this run includes: a check that shares a question with another (MPI005 and
    # CTR004: ranks vs visible GPUs) leaves it to the other one only when that one runs too
    facts.selected_checks = {spec.id for spec in specs}
    for spec in specs:
        if progress:
            progress(spec)
        out = run_one(spec, facts, debug)
        if not out:
            not_applicable.append(spec.id)
        findings.extend(out)
    return findings, not_applicable
