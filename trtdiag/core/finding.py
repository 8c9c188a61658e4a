"""The finding model shared by every check, `explain`, `fix` and every renderer.

A *finding* says what a rule saw: a stable id (``ENG001``), a severity, a one-line title, an
explanation, the evidence it used (paths, versions, numbers) and, when trtdiag knows how to mend
it, a *fix*.  A fix carries a *plan*: a list of changes (file edits, commands, environment
settings) that the one applier in :mod:`trtdiag.fixes.applier` executes with backup and undo.

Everything here is plain data so that a report can be written as JSON and read back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.OK: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


@dataclass
class Change:
    """One step of a fix plan.

    kind:
      ``edit``     replace the whole content of ``path`` (``before`` is the text the plan was made
                   from; the applier refuses when the file no longer holds it).
      ``command``  run ``argv`` (a list, never a shell string) in ``cwd``.
      ``rebuild``  an engine rebuild: ``argv`` builds into ``output``; the applier swaps
                   ``output`` into ``target`` only when the build succeeds.
      ``env``      set ``name=value`` lines in the env file ``path`` (sourced by a launch script).
      ``kill``     stop process ``pid`` (only with --kill).
      ``system``   a system package command (only with --allow-system-changes).
    """

    kind: str
    path: str | None = None
    before: str | None = None
    after: str | None = None
    argv: list[str] | None = None
    cwd: str | None = None
    output: str | None = None
    target: str | None = None
    env: dict[str, str] | None = None
    pid: int | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if v not in (None, "", [])}
        # file contents are large and already shown in the preview diff
        d.pop("before", None)
        d.pop("after", None)
        return d


@dataclass
class Fix:
    id: str
    summary: str
    safe: bool = False  # may `fix --apply` run it without a further flag?
    changes: list[Change] = field(default_factory=list)
    preview: str = ""  # a unified diff or the command line, shown by `trtdiag fix`
    requires: str | None = None  # the flag the user must pass: "--kill", "--allow-system-changes" …

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "summary": self.summary,
            "safe": self.safe,
            "requires": self.requires,
            "preview": self.preview,
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass
class FixHint:
    """What a rule says about mending its finding, before anything is planned.

    ``kind`` names a planner in :mod:`trtdiag.fixes.planner`; ``args``/``kwargs`` are its
    parameters (plain values the rule already has).  The planner turns the hint into a concrete
    :class:`Fix` after the run, from facts only, so a snapshot replays to the same fix.
    """

    kind: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def hint(kind: str, *args: Any, **kwargs: Any) -> FixHint:
    return FixHint(kind, tuple(args), dict(kwargs))


def advice(id: str, summary: str, preview: str = "", safe: bool = False) -> FixHint:
    """A fix that is advice only (nothing to apply): the planner attaches it as it is."""
    return FixHint("fixed", ({"id": id, "summary": summary, "preview": preview, "safe": safe},))


@dataclass
class Finding:
    check: str  # stable id of the check that produced it, e.g. ENG001
    severity: Severity
    title: str
    message: str = ""  # the cause, in plain words
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: Fix | None = None
    kb: str | None = None  # knowledge_base entry id
    area: str = ""
    hint: FixHint | None = None  # set by rules (``fix=hint(...)``); the planner fills ``fix``
    #: the question this finding answers, for ``covers=`` (e.g. "world-size"); None: its own
    subject: str | None = None
    #: what the text renderers show instead of ``evidence`` (a summary of structured evidence that
    #: --json carries whole); None: the evidence itself
    display: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fix, FixHint):
            self.hint, self.fix = self.fix, None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.check,
            "area": self.area,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "evidence": self.evidence,
            "fix": self.fix.to_dict() if self.fix else None,
            "kb": self.kb,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        fix = None
        if d.get("fix"):
            f = d["fix"]
            fix = Fix(
                id=f["id"],
                summary=f["summary"],
                safe=f.get("safe", False),
                preview=f.get("preview", ""),
                requires=f.get("requires"),
                changes=[Change(**c) for c in f.get("changes", [])],
            )
        return cls(
            check=d["id"],
            severity=Severity(d["severity"]),
            title=d["title"],
            message=d.get("message", ""),
            evidence=d.get("evidence", {}),
            fix=fix,
            kb=d.get("kb"),
            area=d.get("area", ""),
        )


def ok(title: str, subject: str | None = None, **evidence: Any) -> Finding:
    return Finding("", Severity.OK, title, evidence=evidence, subject=subject)


def info(title: str, message: str = "", **kw: Any) -> Finding:
    return Finding("", Severity.INFO, title, message, **kw)


def warning(title: str, message: str = "", **kw: Any) -> Finding:
    return Finding("", Severity.WARNING, title, message, **kw)


def error(title: str, message: str = "", **kw: Any) -> Finding:
    return Finding("", Severity.ERROR, title, message, **kw)


@dataclass
class Report:
    """What one command produced: findings plus the context a reader needs."""

    command: str
    findings: list[Finding]
    context: dict[str, Any] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    #: what an empty report says (set by the command that made it)
    empty: str = "Nothing to report."
    #: what the summary adds about rules that did not apply (which options turn them on)
    idle_hint: str = ""
    #: information findings are the rules' side notes (their evidence only with -v); False where
    #: they are the content (plan's table, explain's consequences)
    quiet_info: bool = True

    SCHEMA = "trtdiag.report/1"

    def counts(self) -> dict[str, int]:
        c = {s.value: 0 for s in Severity}
        for f in self.findings:
            c[f.severity.value] += 1
        return c

    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=Severity.OK)

    def exit_code(self, strict: bool = False) -> int:
        w = self.worst()
        if w == Severity.ERROR or (strict and w == Severity.WARNING):
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__

        return {
            "schema": self.SCHEMA,
            "trtdiag_version": __version__,
            "command": self.command,
            "summary": self.counts(),
            "duration_s": round(self.duration_s, 3),
            "context": self.context,
            "findings": [f.to_dict() for f in self.findings],
            "not_applicable": self.not_applicable,
        }
