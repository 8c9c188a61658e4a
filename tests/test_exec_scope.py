"""The hook checks what the launch will use: a debug shell in a container whose working directory
holds a broken model repository is launched, not stopped; a server launch is checked; a command
trtdiag does not know is checked for what the options name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.triton_helpers import TEMPLATES, copy_templates

pytestmark = pytest.mark.skipif(TEMPLATES is None, reason="v0.9.0 templates not in tests/data")


def _exec(tmp_path, *argv):
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "trtdiag", "exec", *argv], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=180)


def test_a_shell_is_launched_beside_a_broken_repository(tmp_path):
    copy_templates(tmp_path / "model_repo")  # unfilled: TRI001 errors, found by looking around
    marker = tmp_path / "ran"
    p = _exec(tmp_path, "--", "sh", "-c", f"touch {marker}")
    assert p.returncode == 0 and marker.exists(), p.stderr
    assert "launching it without checks" in p.stderr and "TRI001" not in p.stderr


def test_a_server_on_that_repository_is_stopped(tmp_path):
    repo = copy_templates(tmp_path / "model_repo")
    marker = tmp_path / "ran"
    fake = tmp_path / "bin" / "tritonserver"  # a stand-in launched only if the checks pass
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    p = _exec(tmp_path, "--", str(fake), "--model-repository", str(repo))
    assert p.returncode == 1 and not marker.exists(), p.stderr
    assert "TRI001" in p.stderr


def test_an_unknown_command_is_checked_for_the_repository_it_is_given(tmp_path):
    repo = copy_templates(tmp_path / "repo")
    marker = tmp_path / "ran"
    p = _exec(tmp_path, "--model-repo", str(repo), "--", "sh", "-c", f"touch {marker}")
    assert p.returncode == 1 and not marker.exists(), p.stderr
    assert "TRI001" in p.stderr
