"""The catalogue: every finding id trtdiag can print, with its area, title and documentation.

Most ids are *rules*: one file each under :mod:`trtdiag.rules` (``rules/<area>/<ID>_<name>.py``)
holding one function decorated with :func:`rule`::

    @rule("ENG001", area="engine", title="Engine plan built by the TensorRT that will load it",
          kb="trt-engine-version-mismatch")
    def engine_trt_version(facts):
        ...
        yield error("TensorRT 11.4.0.106 will refuse this plan", "…", evidence={…},
                    fix=hint("rebuild-engine"))

A rule reads facts (never the machine) and yields findings; the engine fills in id, area and
knowledge-base entry.  A rule that yields nothing did not apply.  A rule that supersedes another
on the same question declares it with ``covers=("MPI005",)``: when both run, the engine drops the
covered rule's findings on that question (see :func:`trtdiag.engine.run.run`).  No rule asks which
other rules run.

The other ids are findings that commands make outside the rule pipeline (``PLAN001`` of
``trtdiag plan``, ``EXP:<entry>`` of ``trtdiag explain``, ``FLT010`` for a rank that did not
answer); they are registered here with :func:`register` so that ``trtdiag checks ID`` documents
every id a user can see.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .facts import Facts
from .finding import Finding

#: Order in which areas are shown.
AREAS = ["environment", "tensorrt", "engine", "gpu", "memory", "llmapi", "mpi", "build", "container", "triton",
         "ports", "tokenizer", "fleet", "plan", "explain"]

#: The commands a rule runs under unless it says otherwise.
DEFAULT_COMMANDS = ("check", "exec", "fix", "report", "collect")


@dataclass(frozen=True)
class Rule:
    id: str
    area: str
    title: str
    func: Callable[[Facts], Iterable[Finding] | None] | None
    kb: str | None = None
    commands: tuple[str, ...] = DEFAULT_COMMANDS
    covers: tuple[str, ...] = ()
    #: for ids that are not rules: the documentation shown by `trtdiag checks ID`
    text: str = ""
    #: the knowledge-base entries this id may point at besides ``kb`` (explain's family)
    family: bool = False
    module: str = field(default="", compare=False)

    @property
    def doc(self) -> str:
        if self.func is not None:
            return _cleandoc(self.func.__doc__ or "")
        return _cleandoc(self.text)

    @property
    def is_rule(self) -> bool:
        return self.func is not None


CHECKS: dict[str, Rule] = {}


def rule(id: str, *, area: str, title: str, kb: str | None = None, commands: tuple[str, ...] | None = None,
         covers: tuple[str, ...] = ()):
    """Register the decorated function as rule ``id``."""

    def deco(func):
        if id in CHECKS and CHECKS[id].func is not None and CHECKS[id].func.__qualname__ != func.__qualname__:
            raise RuntimeError(f"rule id {id} registered twice ({CHECKS[id].module}, {func.__module__})")
        CHECKS[id] = Rule(id=id, area=area, title=title, func=func, kb=kb,
                          commands=tuple(commands) if commands else DEFAULT_COMMANDS, covers=tuple(covers),
                          module=func.__module__)
        return func

    return deco


def register(id: str, *, area: str, title: str, text: str, kb: str | None = None, commands: tuple[str, ...] = (),
             family: bool = False) -> Rule:
    """Register an id that a command produces outside the rule pipeline (documentation only)."""
    spec = Rule(id=id, area=area, title=title, func=None, kb=kb, commands=tuple(commands), text=text, family=family)
    CHECKS.setdefault(id, spec)
    return CHECKS[id]


_loaded = False


def _cleandoc(text: str) -> str:
    import inspect  # only where a rule's text is shown: its import costs every start-up

    return inspect.cleandoc(text)


def _listing(directory: str) -> list[tuple[str, bool]]:
    """(name, is a package) of the modules in ``directory``, sorted as pkgutil.iter_modules
    lists them (read with one scandir instead of importing pkgutil on every start-up)."""
    out = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return out
    for e in entries:
        if e.is_dir():
            if e.name.isidentifier() and os.path.isfile(os.path.join(e.path, "__init__.py")):
                out.append((e.name, True))
        elif e.name.endswith(".py") and e.name != "__init__.py" and e.name[:-3].isidentifier():
            out.append((e.name[:-3], False))
    return out


def load_all() -> dict[str, Rule]:
    """Import every rule file (and the ids commands produce) once; return the catalogue."""
    global _loaded
    if not _loaded:
        from .. import rules

        for rdir in rules.__path__:
            for area, ispkg in _listing(rdir):
                if not ispkg:
                    continue
                pkg = importlib.import_module(f"{rules.__name__}.{area}")
                for pdir in pkg.__path__:
                    for mod, _ in _listing(pdir):
                        if mod == "common" or mod.startswith("_"):
                            continue
                        importlib.import_module(f"{pkg.__name__}.{mod}")
        from . import command_ids  # noqa: F401  (PLAN, EXP, FLT010: ids made by commands)

        _loaded = True
    return CHECKS


def rule_files() -> dict[str, str]:
    """id → the source file of its rule (for tests and `trtdiag checks ID --source`)."""
    out = {}
    for spec in load_all().values():
        if spec.is_rule:
            mod = importlib.import_module(spec.module)
            out[spec.id] = os.path.abspath(mod.__file__ or "")
    return out


def _rule_files() -> list[tuple[str, str, str]]:
    """(area, rule id, module) of every rule file, from the file names alone (``<ID>_<name>.py``)."""
    from .. import rules

    out = []
    for rdir in rules.__path__:
        for area, ispkg in _listing(rdir):
            if not ispkg:
                continue
            for mod, _ in _listing(os.path.join(rdir, area)):
                if mod == "common" or mod.startswith("_"):
                    continue
                out.append((area, mod.split("_", 1)[0].upper(), f"{rules.__name__}.{area}.{mod}"))
    return out


def _stubs() -> list[Rule]:
    """A not yet imported rule per file: id and area from its path, imported by :func:`resolve`
    when it runs (what ``check`` needs from the rules of an area that does not apply is their ids)."""
    if _loaded:
        return [s for s in CHECKS.values() if s.is_rule]
    return [CHECKS[rid] if rid in CHECKS and CHECKS[rid].is_rule else Rule(id=rid, area=area, title=rid, func=None, module=mod)
            for area, rid, mod in _rule_files()]


def is_stub(spec: Rule) -> bool:
    return spec.func is None and bool(spec.module)


def resolve(spec: Rule) -> Rule:
    """The rule itself for a stub of :func:`select` (its file imported now); a rule as it is."""
    if not is_stub(spec):
        return spec
    importlib.import_module(spec.module)
    got = CHECKS.get(spec.id)
    if got is None or not got.is_rule:
        raise RuntimeError(f"{spec.module} registers no rule {spec.id} (a rule file is named after its id)")
    return got


def area_applies(area: str, facts: Facts) -> bool:
    """Whether any rule of ``area`` can have something to say: the area package's ``applies(facts)``
    (``rules/<area>/__init__.py``), True where it has none.  A gate that fails says True: the
    rules then run and report the failure as they always do."""
    from .. import rules

    try:
        pkg = importlib.import_module(f"{rules.__name__}.{area}")
    except ImportError:
        return True
    gate = getattr(pkg, "applies", None)
    if gate is None:
        return True
    try:
        return bool(gate(facts))
    except Exception:  # noqa: BLE001 - the rules will meet the same failure and report it
        return True


def matches(spec: Rule, pattern: str) -> bool:
    p = pattern.strip()
    if not p:
        return False
    return spec.id.upper() == p.upper() or spec.area == p.lower() or spec.id.upper().startswith(p.upper())


def select(only: list[str] | None = None, skip: list[str] | None = None, command: str = "check",
           lazy: bool = False) -> list[Rule]:
    """The rules that run under ``command``, filtered by --only/--skip, in display order.  With
    ``lazy`` the rules not imported yet are stubs (:func:`resolve`): the pipeline imports a rule
    file only when its area applies (:func:`area_applies`).  A stub runs under every command of
    DEFAULT_COMMANDS (tests/test_catalogue_lazy.py checks both selections agree)."""
    if lazy:
        specs = [s for s in _stubs() if command in s.commands]
    else:
        specs = [s for s in load_all().values() if s.is_rule and command in s.commands]
    if only:
        specs = [s for s in specs if any(matches(s, p) for p in only)]
    if skip:
        specs = [s for s in specs if not any(matches(s, p) for p in skip)]
    order = {a: i for i, a in enumerate(AREAS)}
    return sorted(specs, key=lambda s: (order.get(s.area, len(AREAS)), s.id))


def lookup(id: str) -> Rule | None:
    """The catalogue entry for an id as a user types it (case-insensitive; ``EXP:entry`` too)."""
    cat = load_all()
    key = id.strip()
    if key.upper() in cat:
        return cat[key.upper()]
    if ":" in key:
        fam = key.split(":", 1)[0].upper()
        spec = cat.get(fam)
        if spec is not None and spec.family:
            return spec
    return None
