"""The finding model, the registry, facts and snapshots, the renderers and the CLI's exit codes."""

from __future__ import annotations

import json

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import Facts, probe
from trtdiag.core.finding import Finding, Report, Severity, error, ok, warning
from trtdiag.core.catalogue import Rule as CheckSpec

from tests.conftest import run_cli


def test_crashing_check_becomes_a_finding_and_the_run_goes_on():
    def boom(facts):
        raise ValueError("bad data")

    def fine(facts):
        yield ok("all good", path="/x")

    specs = [CheckSpec("TST901", "environment", "crashes", boom), CheckSpec("TST902", "environment", "passes", fine)]
    findings, na = engine_run.run(specs, Facts())
    assert [f.check for f in findings] == ["TST901", "TST902"]
    assert findings[0].severity == Severity.WARNING and "ValueError: bad data" in findings[0].evidence["exception"]
    assert findings[1].severity == Severity.OK and na == []


def test_failed_probe_is_reported_once_and_remembered():
    calls = []

    @probe("tst.broken")
    def _broken(facts):
        calls.append(1)
        raise OSError("no such device")

    def needs(facts):
        facts["tst.broken"]
        return []

    specs = [CheckSpec("TST903", "environment", "needs probe", needs), CheckSpec("TST904", "environment", "needs probe too", needs)]
    findings, _ = engine_run.run(specs, Facts())
    assert len(calls) == 1
    assert all("Could not check" in f.title for f in findings)


def test_snapshot_round_trip_gives_the_same_facts():
    f = Facts({"engine_dir": "/e"})
    f.set("tst.value", {"a": [1, 2]})
    snap = json.loads(json.dumps(f.snapshot()))
    g = Facts({}, snapshot=snap)
    assert g["tst.value"] == {"a": [1, 2]} and g.opt("engine_dir") == "/e"


def test_report_exit_codes():
    r = Report("check", [Finding("X1", Severity.WARNING, "w")])
    assert r.exit_code() == 0 and r.exit_code(strict=True) == 1
    r.findings.append(Finding("X2", Severity.ERROR, "e"))
    assert r.exit_code() == 1


def test_json_report_is_versioned_and_round_trips():
    from trtdiag.render import json as render

    f = error("Engine built by TensorRT 9.2.0.5, runtime is 9.3.0.1", "rebuild", evidence={"plan": "/e/rank0.engine"})
    f.check, f.area = "ENG001", "engine"
    d = json.loads(render.json_text(Report("check", [f, warning("w")])))
    assert d["schema"] == "trtdiag.report/1" and d["summary"]["error"] == 1
    assert Finding.from_dict(d["findings"][0]).evidence == {"plan": "/e/rank0.engine"}


def test_terminal_view_has_marks_and_no_colour_when_not_a_tty():
    from trtdiag.render import terminal as render

    f = error("broken", "because", evidence={"path": "/x"})
    f.check, f.area = "ENG001", "engine"
    text = render.terminal(Report("check", [f]), color=False)
    assert "✗ broken" in text and "path: /x" in text and "\x1b[" not in text


def test_cli_version_help_and_usage_errors():
    p = run_cli("--version")
    assert p.returncode == 0 and p.stdout.startswith("trtdiag ")
    p = run_cli("--help")
    assert p.returncode == 0 and "examples:" in p.stdout
    p = run_cli("check", "--no-such-option")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_every_check_has_id_area_title_and_known_kb_entry():
    from trtdiag.core import kb

    for spec in registry.load_all().values():
        if not spec.is_rule:  # ids commands make (PLAN001, EXP:…): documented, see test_catalogue.py
            continue
        assert spec.id[:3].isalpha() and spec.id[3:].isdigit(), spec.id
        assert spec.area in registry.AREAS, (spec.id, spec.area)
        assert spec.doc, f"{spec.id} has no docstring"
        if spec.kb:
            assert kb.get(spec.kb) is not None, f"{spec.id} points at missing knowledge_base/{spec.kb}.toml"


def test_the_wheel_ships_every_package_and_no_test_code():
    """pyproject's package list names every package under trtdiag/ (a rule area left out would be
    missing from the installed tool), and nothing installed imports test machinery."""
    import re
    import sys
    from pathlib import Path

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "trtdiag").rglob("__init__.py")}
    assert found - listed == set(), "add to [tool.setuptools] packages in pyproject.toml"
    assert not any(p.startswith("tests") for p in listed)
    for py in (root / "trtdiag").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+(pytest|hypothesis|atheris|tests)\b", py.read_text(), re.M), py
