"""`check` imports a rule file only when its area has something to look at.

The pipeline selects rules as stubs named by their files (``rules/<area>/<ID>_<name>.py``) and
imports an area's files only when the area's gate (``applies(facts)`` in its ``__init__.py``) says
yes.  These tests keep the stubs equal to the rules, and show that a bare check imports none of
the gated areas' files.  That no gate hides a finding is checked on every scenario of the suite:
conftest.py sets TRTDIAG_CHECK_GATES=1, under which the gated-out rules run too and must find nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from trtdiag.core import catalogue
from trtdiag.core.facts import Facts
from trtdiag.engine.run import run

from .conftest import cli_env

GATED = ("build", "engine", "fleet", "llmapi", "tokenizer", "triton")


@pytest.mark.parametrize("command", catalogue.DEFAULT_COMMANDS)
def test_lazy_selection_is_the_selection(command):
    eager = [(s.id, s.area) for s in catalogue.select(command=command)]
    lazy = [(s.id, s.area) for s in catalogue.select(command=command, lazy=True)]
    assert lazy == eager


@pytest.mark.parametrize("only,skip", [(["engine"], None), (["TRI0"], None), (None, ["tokenizer", "MPI001"]), (["gpu", "ENG007"], ["GPU001"])])
def test_lazy_selection_filters_alike(only, skip):
    assert [s.id for s in catalogue.select(only, skip, lazy=True)] == [s.id for s in catalogue.select(only, skip)]


def test_every_rule_file_is_named_after_its_rule():
    for area, rid, mod in catalogue._rule_files():
        stub = catalogue.Rule(id=rid, area=area, title=rid, func=None, module=mod)
        spec = catalogue.resolve(stub)
        assert spec.id == rid and spec.area == area and spec.module == mod


def test_the_gated_areas_have_gates():
    import importlib

    for area in GATED:
        assert callable(getattr(importlib.import_module(f"trtdiag.rules.{area}"), "applies", None)), area


def test_a_gate_that_fails_lets_the_rules_run():
    class Broken(Facts):
        def __getitem__(self, name):
            raise RuntimeError("probe exploded")

    assert catalogue.area_applies("engine", Broken({})) is True


def test_a_wrong_gate_is_caught_under_check_gates(monkeypatch):
    import trtdiag.rules.ports as ports  # a gate-less area: give it one that is wrong

    monkeypatch.setattr(ports, "applies", lambda facts: False, raising=False)
    monkeypatch.setenv("TRTDIAG_CHECK_GATES", "1")
    facts = Facts({"ports": [0]})
    with pytest.raises(AssertionError, match="PRT001"):
        run(catalogue.select(["ports"], lazy=True), facts)
    monkeypatch.delenv("TRTDIAG_CHECK_GATES")
    findings, na = run(catalogue.select(["ports"], lazy=True), facts)
    assert findings == [] and na == ["PRT001"]


def test_a_bare_check_imports_no_rule_file_of_a_gated_area(tmp_path):
    code = ("import io, contextlib, json, sys\nfrom trtdiag.app.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n    main(['check', '--json'])\n"
            "print(json.dumps({'modules': sorted(m for m in sys.modules if m.startswith('trtdiag.rules.')),"
            " 'na': json.loads(out.getvalue())['not_applicable']}))")
    env = cli_env({"TRTDIAG_CACHE_DIR": str(tmp_path / "cache")})
    env.pop("TRTDIAG_CHECK_GATES", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    loaded = {m.split(".")[2] for m in out["modules"] if m.count(".") == 3 and not m.endswith(".common")}
    assert not loaded & set(GATED), out["modules"]
    ids = {rid for area, rid, _ in catalogue._rule_files() if area in GATED}
    assert ids <= set(out["na"])  # listed as not applicable all the same
