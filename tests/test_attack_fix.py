"""Attacks on `fix --apply` and `fix --undo` (issue 20, High 1, 2, 4; Medium 7, 8, 10, 11; Low:
stale temporary files).  Each reproduction from the issue is one test, through the real CLI in a
child process unless it needs a fault no real machine gives on demand (a full disk): that one is
a test double of the OS write, named as such.

The tree is a copy of the real tensorrtllm_backend v0.9.0 templates (tests/triton_helpers.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, REPO, cli_env
from tests.triton_helpers import copy_templates


def cli(*args: str, env: dict, cwd: str | os.PathLike = REPO, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trtdiag", *args], capture_output=True, text=True, env=cli_env(env),
                          cwd=str(cwd), timeout=timeout)


def digest(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture
def scene(tmp_path):
    repo = copy_templates(tmp_path / "repo")
    env = {"TRTDIAG_STATE_DIR": str(tmp_path / "state"), "TRTDIAG_GPU_INVENTORY": str(DATA / "gpu" / "h100-80gb_torch-10GiB.json")}
    return tmp_path, repo, env


def fill(repo: Path, env: dict, value: str = "/hf/llama", cwd=REPO, extra=()):
    return cli("fix", "--apply", "--yes", "--only", "TRI001", "--model-repo", str(repo), "--set", f"tokenizer_dir={value}", *extra, env=env, cwd=cwd)


def no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr[-2000:]


# ----------------------------------------------------------------------------- High 1
@pytest.mark.parametrize("cwd", ["/", "ancestor"])
def test_symlinked_model_folder_outside_the_repo_is_never_written_from_any_current_directory(scene, cwd):
    """`preprocessing` moved out of the repository and linked back; `cd /` (the usual container
    working directory) or an ancestor of the link target: the outside file is not rewritten."""
    tmp, repo, env = scene
    outside = tmp / "elsewhere" / "preprocessing"
    outside.parent.mkdir()
    shutil.move(str(repo / "preprocessing"), str(outside))
    (repo / "preprocessing").symlink_to(outside, target_is_directory=True)
    before = digest(outside)
    p = fill(repo, env, cwd="/" if cwd == "/" else tmp)
    no_traceback(p)
    assert p.returncode == 2 and "outside the folders named on the command line" in p.stderr, p.stdout[-1500:] + p.stderr[-1500:]
    assert digest(outside) == before
    # and nothing else was written either (the refusal comes before the first write)
    assert "${tokenizer_dir}" in (repo / "postprocessing" / "config.pbtxt").read_text()


def test_a_plain_apply_still_writes_inside_the_named_repo_from_slash(scene):
    tmp, repo, env = scene
    p = fill(repo, env, cwd="/")
    no_traceback(p)
    assert p.returncode in (0, 1), p.stderr[-1500:]
    assert 'string_value: "/hf/llama"' in (repo / "preprocessing" / "config.pbtxt").read_text()


# ----------------------------------------------------------------------------- High 2
def _snapshot(repo: Path, env: dict, out: Path, model_repo: str | None = None) -> Path:
    p = cli("collect", "--model-repo", str(repo), "-o", str(out), env=env)
    assert p.returncode == 0, p.stderr[-1500:]
    if model_repo is not None:
        snap = json.loads(out.read_text())
        snap["options"]["model_repo"] = model_repo
        out.write_text(json.dumps(snap))
    return out


def test_a_snapshot_never_names_a_write_root(scene):
    """The snapshot's own options.model_repo "/" is no allowed root: without a folder on the command
    line nothing is written."""
    tmp, repo, env = scene
    snap = _snapshot(repo, env, tmp / "snap.json", model_repo="/")
    before = digest(repo)
    p = cli("fix", "--from", str(snap), "--apply", "--yes", "--only", "TRI001", "--set", "tokenizer_dir=/hf/llama", env=env, cwd="/")
    no_traceback(p)
    assert digest(repo) == before, "a snapshot named the folder trtdiag wrote in"
    assert p.returncode == 2 and "outside the folders named on the command line" in p.stderr, p.stdout[-800:] + p.stderr[-800:]


def test_applying_from_a_snapshot_writes_only_files_that_still_hold_what_it_recorded(scene):
    tmp, repo, env = scene
    snap = _snapshot(repo, env, tmp / "snap.json")
    pre = repo / "preprocessing" / "config.pbtxt"
    pre.write_text(pre.read_text() + "\n# edited after the snapshot\n")
    before = digest(repo)
    p = cli("fix", "--from", str(snap), "--model-repo", str(repo), "--apply", "--yes", "--only", "TRI001", "--set", "tokenizer_dir=/hf/llama", env=env)
    no_traceback(p)
    assert p.returncode == 2 and "changed since the fix was planned" in p.stderr and str(pre) in p.stderr, p.stderr[-1500:]
    assert digest(repo) == before


def test_from_a_snapshot_with_another_root_on_the_command_line_the_recorded_tree_is_untouched(scene):
    tmp, repo, env = scene
    snap = _snapshot(repo, env, tmp / "snap.json")
    other = tmp / "other"
    other.mkdir()
    before = digest(repo)
    p = cli("fix", "--from", str(snap), "--model-repo", str(other), "--apply", "--yes", "--only", "TRI001", "--set", "tokenizer_dir=/x", env=env)
    no_traceback(p)
    assert digest(repo) == before


# ----------------------------------------------------------------------------- High 4
def test_undo_never_overwrites_an_edit_made_after_the_apply(scene):
    tmp, repo, env = scene
    before = digest(repo)
    assert fill(repo, env).returncode in (0, 1)
    pre = repo / "preprocessing" / "config.pbtxt"
    pre.write_text(pre.read_text() + "# my own edit\n")
    edited = digest(repo)
    p = cli("fix", "--undo", env=env)
    no_traceback(p)
    assert p.returncode == 2 and "changed after the apply" in p.stderr and str(pre) in p.stderr, p.stdout + p.stderr
    assert "nothing was restored" in p.stderr
    assert digest(repo) == edited  # no file touched, the edited one nor the others
    pre.write_text(pre.read_text().replace("# my own edit\n", ""))  # the user takes the edit back out
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and digest(repo) == before, p.stderr


def test_undo_is_scoped_to_the_repository_named(scene):
    """Two applies in two repositories: `--undo --model-repo A` undoes A's, twice never reaches B's."""
    tmp, repo_a, env = scene
    repo_b = copy_templates(tmp / "repo_b")
    old_a, old_b = digest(repo_a), digest(repo_b)
    assert fill(repo_b, env).returncode in (0, 1)
    assert fill(repo_a, env).returncode in (0, 1)
    new_b = digest(repo_b)
    p = cli("fix", "--undo", "--model-repo", str(repo_b), env=env)
    assert p.returncode == 0 and digest(repo_b) == old_b and digest(repo_a) != old_a, p.stdout + p.stderr
    assert str(repo_b) in p.stdout  # says which apply it undoes
    p = cli("fix", "--undo", "--model-repo", str(repo_b), env=env)
    assert p.returncode == 0 and "nothing to undo" in p.stdout and digest(repo_a) != old_a, p.stdout
    # `--undo` alone says which apply it undoes: A's, the last one left
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and f"to {repo_a.resolve()}" in p.stdout and digest(repo_a) == old_a, p.stdout
    assert digest(repo_b) == old_b and new_b != old_b


def test_undo_keeps_a_file_the_apply_created_when_the_user_added_to_it(tmp_path):
    from trtdiag.fixes.applier import Applier, ApplyRefused
    from trtdiag.fixes.plan import edit_fix

    root = tmp_path / "root"
    root.mkdir()
    env_file = root / "trtdiag.env"
    ap = Applier(roots=[root], journal_dir=tmp_path / "state")
    ap.apply([edit_fix("env", "env", str(env_file), None, "export A=1\n")])
    env_file.write_text("export A=1\nexport MINE=2\n")
    with pytest.raises(ApplyRefused, match="changed after the apply"):
        ap.undo([root])
    assert env_file.read_text() == "export A=1\nexport MINE=2\n"


# ----------------------------------------------------------------------------- Medium 8
def _applied(scene):
    tmp, repo, env = scene
    before = digest(repo)
    assert fill(repo, env).returncode in (0, 1)
    entry = sorted((tmp / "state" / "journal").iterdir())[-1]
    return tmp, repo, env, before, entry


def test_missing_backup_stops_undo_before_any_restore(scene):
    tmp, repo, env, before, entry = _applied(scene)
    after = digest(repo)
    baks = sorted((entry / "files").iterdir())
    baks[-1].unlink()  # the backup of the last file: a restore in order would have done the others first
    p = cli("fix", "--undo", env=env)
    no_traceback(p)
    assert p.returncode == 2 and "is missing" in p.stderr and "could still be restored" in p.stderr, p.stderr
    assert digest(repo) == after
    p = cli("fix", "--undo", env=env)  # and again: the same answer, not exit 3
    assert p.returncode == 2 and digest(repo) == after


def test_damaged_backup_is_found_before_the_first_restore(scene):
    tmp, repo, env, before, entry = _applied(scene)
    after = digest(repo)
    bak = sorted((entry / "files").iterdir())[-1]
    bak.write_bytes(bak.read_bytes() + b"x")
    p = cli("fix", "--undo", env=env)
    no_traceback(p)
    assert p.returncode == 2 and "damaged" in p.stderr and digest(repo) == after, p.stderr


def test_deleted_model_folder_stops_undo_with_exit_2(scene):
    tmp, repo, env, before, entry = _applied(scene)
    shutil.rmtree(repo / "preprocessing")
    after = digest(repo)
    p = cli("fix", "--undo", env=env)
    no_traceback(p)
    assert p.returncode == 2 and "removed since the apply" in p.stderr and digest(repo) == after, p.stderr


def test_corrupt_manifest_is_reported_not_nothing_to_undo(scene):
    tmp, repo, env, before, entry = _applied(scene)
    (entry / "manifest.json").write_text('{"schema": "trtdiag.journal/1", "files": [')
    p = cli("fix", "--undo", env=env)
    no_traceback(p)
    assert p.returncode == 2 and "not valid JSON" in p.stderr and "nothing to undo" not in p.stdout, p.stdout + p.stderr


# ----------------------------------------------------------------------------- Medium 10
def test_journal_keeps_the_files_mode_and_its_folders_are_private(tmp_path):
    from trtdiag.fixes.applier import Applier
    from trtdiag.fixes.plan import edit_fix

    root = tmp_path / "root"
    root.mkdir()
    secret = root / "config.pbtxt"
    secret.write_text("a\n")
    secret.chmod(0o600)
    res = Applier(roots=[root], journal_dir=tmp_path / "state").apply([edit_fix("x", "x", str(secret), "a\n", "b\n")])
    entry = Path(res.journal)
    (bak,) = (entry / "files").iterdir()
    assert stat.S_IMODE(bak.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    for d in (tmp_path / "state", tmp_path / "state" / "journal", entry, entry / "files"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    assert stat.S_IMODE((entry / "manifest.json").stat().st_mode) == 0o600


# ----------------------------------------------------------------------------- Medium 11
def test_the_lock_lives_with_the_tree_across_state_directories(scene):
    """An apply holding the repository's lock with one state directory makes an apply with another
    state directory wait, then refuse: it never mixes into the tree."""
    from trtdiag.fixes.applier import Lock

    tmp, repo, env = scene
    before = digest(repo)
    other = dict(env, TRTDIAG_STATE_DIR=str(tmp / "state2"))
    with Lock.tree(repo.resolve(), 1):
        p = fill(repo, other)
    no_traceback(p)
    assert p.returncode == 2 and "another `trtdiag fix --apply` is running" in p.stderr, p.stderr[-800:]
    assert digest(repo) == before


def test_two_applies_with_different_state_directories_never_mix_their_values(scene):
    tmp, repo, env = scene
    envs = [dict(env, TRTDIAG_STATE_DIR=str(tmp / f"state{i}")) for i in range(2)]
    results = {}
    for i, value in enumerate(("/hf/one", "/hf/two")):  # each alone: what a whole apply of it gives
        r = copy_templates(tmp / f"alone{i}")
        assert fill(r, envs[i], value).returncode in (0, 1)
        results[value] = {k: v for k, v in digest(r).items()}
    for _ in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "trtdiag", "fix", "--apply", "--yes", "--only", "TRI001", "--model-repo", str(repo),
                                   "--set", f"tokenizer_dir={v}"], env=cli_env(envs[i]), cwd=REPO, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i, v in enumerate(("/hf/one", "/hf/two"))]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert "Traceback" not in err, err
        now = digest(repo)
        texts = "".join(v.decode() for k, v in now.items() if k.endswith("config.pbtxt"))
        assert not ("/hf/one" in texts and "/hf/two" in texts), "two applies mixed their values in one repository"
        shutil.rmtree(repo)
        copy_templates(repo)


# ----------------------------------------------------------------------------- Medium 7
def test_unwritable_state_directory_is_exit_2_with_the_reason_and_nothing_changed(scene):
    tmp, repo, env = scene
    blocker = tmp / "not-a-dir"
    blocker.write_text("")
    before = digest(repo)
    p = fill(repo, dict(env, TRTDIAG_STATE_DIR=str(blocker / "state")))
    no_traceback(p)
    assert p.returncode == 2 and "not a directory" in p.stderr.lower(), p.stderr[-800:]
    assert digest(repo) == before
    p = cli("fix", "--undo", env=dict(env, TRTDIAG_STATE_DIR=str(blocker / "state")))
    no_traceback(p)
    assert p.returncode in (0, 2)


def test_disk_full_midway_puts_back_what_was_written_TEST_DOUBLE_for_ENOSPC(tmp_path, monkeypatch):
    """Test double: the OS write of the third file fails with ENOSPC (a full disk cannot be had on
    demand here).  The two files written before it are put back; exit 2 with the reason; undo
    after it has nothing to undo and does not fail."""
    import errno

    from trtdiag.fixes import applier as A
    from trtdiag.fixes.plan import edit_fix

    root = tmp_path / "root"
    root.mkdir()
    files = [root / f"m{i}" / "config.pbtxt" for i in range(5)]
    for f in files:
        f.parent.mkdir()
        f.write_text("old\n")
    real = A.atomic_write_bytes
    calls = {"n": 0}

    def full_disk(path, data, mode=None):
        if Path(path).parent.parent == root.resolve():
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, mode)

    monkeypatch.setattr(A, "atomic_write_bytes", full_disk)
    ap = A.Applier(roots=[root], journal_dir=tmp_path / "state")
    with pytest.raises(A.ApplyRefused, match="No space left on device.*put back"):
        ap.apply([edit_fix(f"f{i}", "x", str(f), "old\n", "new\n") for i, f in enumerate(files)])
    assert [f.read_text() for f in files] == ["old\n"] * 5
    monkeypatch.setattr(A, "atomic_write_bytes", real)
    assert ap.undo([root]) == []


def test_os_errors_reach_main_as_exit_2(tmp_path, monkeypatch, capsys):
    """Any OSError the applier meets becomes one line and exit 2, never 'internal error' (exit 3)."""
    import errno

    from trtdiag.app.main import main
    from trtdiag.fixes import applier as A

    def broken(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "state" / "journal"))

    monkeypatch.setattr(A, "_plan_undo", broken)
    assert main(["fix", "--undo"]) == 2
    assert "permission denied" in capsys.readouterr().err.lower()


# ----------------------------------------------------------------------------- Low: stale temporary files
def test_a_killed_applys_temporary_files_are_removed_by_the_next_apply(scene):
    tmp, repo, env = scene
    cfg = repo / "preprocessing" / "config.pbtxt"
    stale = cfg.parent / ".config.pbtxt.k1ll3d.trtdiag-tmp"
    stale.write_text("half")
    assert fill(repo, env).returncode in (0, 1)
    assert not stale.exists()
    assert not list(repo.rglob("*.trtdiag-tmp"))


def test_sigkill_mid_write_then_next_apply_leaves_no_temp_files(scene):
    tmp, repo, env = scene
    p = cli("fix", "--apply", "--yes", "--only", "TRI001", "--model-repo", str(repo), "--set", "tokenizer_dir=/x",
            env=dict(env, TRTDIAG_CRASH_AT="write1"))
    assert p.returncode == -9
    p = cli("fix", "--undo", "--model-repo", str(repo), env=env)
    assert p.returncode == 0, p.stderr
    assert not list(repo.rglob("*.trtdiag-tmp"))
