"""`fix` proposes edits only to what the user named.

What a user saw: `trtdiag fix --engine-dir DIR` in a folder that holds a model repository at a
conventional place (./model_repo, /models …) proposed edits to that repository's config.pbtxt
files, although the user never named it.  The checks still report the repository found by
looking around; its fixes come when it is named with --model-repo.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import cli_env
from tests.triton_helpers import copy_templates, make_engine


def _fix(cwd, *argv):
    env = cli_env({"NO_COLOR": "1", "COLUMNS": "160"})
    return subprocess.run([sys.executable, "-m", "trtdiag", "fix", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=180)


def _edited(plan: dict) -> set[str]:
    return {c["path"] for fx in plan["fixes"] for c in fx["changes"] if c.get("path")}


def test_fix_with_engine_dir_leaves_a_repository_found_by_looking_around_alone(tmp_path):
    repo = copy_templates(tmp_path / "model_repo")  # unfilled templates: TRI001, found by looking around
    eng = make_engine(tmp_path / "engine")
    p = _fix(tmp_path, "--engine-dir", str(eng), "--json")
    assert "Traceback" not in p.stderr, p.stderr
    edited = _edited(json.loads(p.stdout))
    assert not [x for x in edited if x.startswith(str(repo))], edited
    # the terminal output still reports the repository and says how to get its fixes
    p = _fix(tmp_path, "--engine-dir", str(eng))
    assert "Traceback" not in p.stderr, p.stderr
    assert f"+++ {repo}" not in p.stdout, p.stdout
    assert f"{repo} was found, not named: no fix edits it" in p.stdout, p.stdout
    assert f"--model-repo {repo}" in p.stdout
    assert "none that trtdiag can fix itself" not in p.stdout  # it can, once the repository is named


def test_the_same_repository_named_gets_its_fixes(tmp_path):
    repo = copy_templates(tmp_path / "model_repo")
    eng = make_engine(tmp_path / "engine")
    p = _fix(tmp_path, "--engine-dir", str(eng), "--model-repo", str(repo), "--json")
    assert "Traceback" not in p.stderr, p.stderr
    edited = _edited(json.loads(p.stdout))
    assert [x for x in edited if x.startswith(str(repo))], edited


def test_check_still_reports_the_repository_found_and_says_how_to_fix_it(tmp_path):
    copy_templates(tmp_path / "model_repo")
    eng = make_engine(tmp_path / "engine")
    p = subprocess.run([sys.executable, "-m", "trtdiag", "check", "--engine-dir", str(eng), "--json"], capture_output=True,
                       text=True, cwd=tmp_path, env=cli_env({"NO_COLOR": "1"}), timeout=180)
    data = json.loads(p.stdout)
    tri = [f for f in data["findings"] if f["id"] == "TRI001"]
    assert tri, [f["id"] for f in data["findings"]]
    assert all(f.get("fix") is None for f in tri)
    assert any("--model-repo" in str(f["evidence"].get("fix", "")) for f in tri)
