"""`trtdiag fix --json` live and `trtdiag fix --from SNAPSHOT --json` plan the same fixes — kinds,
targets, diffs, commands — because the planner reads files, paths and the machine's package manager
only through recorded facts.  Whole fixes are compared, not ids."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tokenizer_kit as kit
from tests.triton_helpers import TEMPLATES, copy_templates

REPO = Path(__file__).resolve().parent.parent


def _cli(*argv, cwd=None, env=None):
    e = {**os.environ, "NO_COLOR": "1", **(env or {})}
    e.setdefault("TRTDIAG_STATE_DIR", str(Path(cwd or REPO) / ".state"))
    return subprocess.run([sys.executable, "-m", "trtdiag", *argv], capture_output=True, text=True, cwd=cwd or REPO, env=e, timeout=180)


def _fixes(p) -> list[dict]:
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)["fixes"]


def _live_and_replayed(tmp_path, target: list[str], extra: list[str] = (), env=None):
    live = _fixes(_cli("fix", "--json", *target, *extra, cwd=tmp_path, env=env))
    snap = tmp_path / "snap.json"
    c = _cli("collect", "-o", str(snap), *target, cwd=tmp_path, env=env)
    assert c.returncode == 0, c.stderr
    replayed = _fixes(_cli("fix", "--json", "--from", str(snap), *extra, cwd=tmp_path, env=env))
    return live, replayed, snap


@pytest.mark.skipif(TEMPLATES is None, reason="v0.9.0 templates not in tests/data")
def test_unfilled_repository_with_set_replays_to_the_same_fill(tmp_path):
    repo = copy_templates(tmp_path / "repo")
    tok = kit.bpe_dir(tmp_path / "tok")
    sets = ["--set", f"triton_max_batch_size=8,tokenizer_dir={tok},engine_dir=/engines/llama/tp1"]
    live, replayed, _ = _live_and_replayed(tmp_path, ["--model-repo", str(repo)], sets)
    fills = [f for f in live if f["id"] == "fill-placeholders"]
    assert fills and all(f["preview"].startswith("--- a/") for f in fills)
    assert replayed == live


def test_model_py_pad_token_patch_replays_to_the_same_diff(tmp_path):
    tok = kit.custom_dir(tmp_path / "chatglm", "chatglm")
    root, _ = kit.model_repo(tmp_path / "repo", str(tok), pre="preprocessing_v0.7_trusting.py")
    live, replayed, _ = _live_and_replayed(tmp_path, ["--model-repo", str(root)])
    patches = [f for f in live if f["id"] == "tok-model-py"]
    assert patches and "pad_token" in patches[0]["preview"]
    assert replayed == live


def test_system_package_fix_comes_from_the_snapshots_machine(tmp_path):
    """The package command is the snapshot machine's: replayed as recorded, and a snapshot from a
    Fedora machine proposes dnf wherever it is replayed."""
    from tests.test_mpi import base_env

    py = tmp_path / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    di = Path(site) / "tensorrt_llm-0.9.0.dist-info"
    di.mkdir(parents=True)
    (di / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorrt_llm\nVersion: 0.9.0\nRequires-Dist: mpi4py\n")
    env = base_env(PATH=str(tmp_path), TRTDIAG_MPI_INCLUDE_DIRS=str(tmp_path))
    live, replayed, snap = _live_and_replayed(tmp_path, ["--python", str(py), "--only", "MPI003"], env=env)
    # with an MPI library present MPI003 offers the mpi4py wheel (a command), without one the
    # distribution's package; only the latter is a system-package fix whose manager can move
    assert [f["id"] for f in live] in (["MPI003-install-mpi4py"], ["MPI003-install-mpi-dev"], [])
    assert replayed == live
    if live and live[0]["id"] == "MPI003-install-mpi-dev":
        doc = json.loads(snap.read_text())
        doc["facts"]["host.system"]["os_release"] = {"ID": "fedora"}
        doc["facts"]["host.system"]["tools"]["dnf"] = "/usr/bin/dnf"
        snap.write_text(json.dumps(doc))
        (fx,) = _fixes(_cli("fix", "--json", "--from", str(snap), cwd=tmp_path, env=env))
        assert fx["changes"][0]["argv"][:3] == ["dnf", "install", "-y"], fx
