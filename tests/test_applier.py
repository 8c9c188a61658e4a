"""The one applier: atomic writes, journal, undo, lock, idempotency, and crash safety under SIGKILL.

The crash tests are real: a child process applies a fix and is killed with SIGKILL (by itself, at
the step named in TRTDIAG_CRASH_AT); the test then checks every file is wholly old or wholly new
and that `undo` restores the old bytes exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from trtdiag.fixes.applier import Applier, ApplyRefused
from trtdiag.fixes.plan import edit_fix

from tests.conftest import REPO, cli_env

OLD_A = "name: \"tensorrt_llm\"\nmax_batch_size: ${triton_max_batch_size}\n"
NEW_A = "name: \"tensorrt_llm\"\nmax_batch_size: 8\n"
OLD_B = "parameters { key: \"tokenizer_dir\" value: { string_value: \"${tokenizer_dir}\" } }\n"
NEW_B = "parameters { key: \"tokenizer_dir\" value: { string_value: \"/hf/llama\" } }\n"


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    repo = tmp_path / "repo"
    (repo / "a").mkdir(parents=True)
    (repo / "b").mkdir()
    a, b = repo / "a" / "config.pbtxt", repo / "b" / "config.pbtxt"
    a.write_text(OLD_A)
    b.write_text(OLD_B)
    return repo, a, b


def _fixes(a: Path, b: Path):
    return [edit_fix("fill-a", "fill a", str(a), OLD_A, NEW_A), edit_fix("fill-b", "fill b", str(b), OLD_B, NEW_B)]


def test_apply_writes_backs_up_and_undo_restores_bytes(tmp_path):
    repo, a, b = _tree(tmp_path)
    ap = Applier(roots=[repo], journal_dir=tmp_path / "state")
    res = ap.apply(_fixes(a, b))
    assert sorted(res.changed) == sorted([str(a), str(b)])
    assert a.read_text() == NEW_A and b.read_text() == NEW_B
    manifest = json.loads((Path(res.journal) / "manifest.json").read_text())
    assert manifest["status"] == "applied" and len(manifest["files"]) == 2
    assert sorted(ap.undo()) == sorted([str(a.resolve()), str(b.resolve())])
    assert a.read_text() == OLD_A and b.read_text() == OLD_B
    assert ap.undo() == []  # nothing left to undo


def test_second_apply_changes_nothing(tmp_path):
    repo, a, b = _tree(tmp_path)
    ap = Applier(roots=[repo], journal_dir=tmp_path / "state")
    ap.apply(_fixes(a, b))
    mtimes = (a.stat().st_mtime_ns, b.stat().st_mtime_ns)
    res = ap.apply(_fixes(a, b))
    assert res.changed == [] and len(res.unchanged) == 2 and res.journal is None
    assert (a.stat().st_mtime_ns, b.stat().st_mtime_ns) == mtimes


def test_file_changed_since_plan_is_refused(tmp_path):
    repo, a, b = _tree(tmp_path)
    a.write_text("edited by hand\n")
    with pytest.raises(ApplyRefused, match="changed since the fix was planned"):
        Applier(roots=[repo], journal_dir=tmp_path / "state").apply(_fixes(a, b))
    assert a.read_text() == "edited by hand\n" and b.read_text() == OLD_B


def test_symlink_out_of_the_tree_is_refused_and_nothing_outside_is_written(tmp_path):
    repo, a, b = _tree(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text(OLD_A)
    link = repo / "a" / "linked.pbtxt"
    link.symlink_to(outside)
    with pytest.raises(ApplyRefused, match="symbolic link"):
        Applier(roots=[repo], journal_dir=tmp_path / "state").apply([edit_fix("x", "x", str(link), OLD_A, NEW_A)])
    assert outside.read_text() == OLD_A
    with pytest.raises(ApplyRefused, match="outside the folders named"):
        Applier(roots=[repo], journal_dir=tmp_path / "state").apply([edit_fix("x", "x", str(outside), OLD_A, NEW_A)])
    assert outside.read_text() == OLD_A


def test_fixes_that_need_flags_are_skipped_without_them(tmp_path):
    from trtdiag.core.finding import Change, Fix

    kill = Fix("stop-old-server", "stop PID 1", changes=[Change("kill", pid=1)], requires="--kill")
    system = Fix("purge-hwloc", "apt purge", changes=[Change("system", argv=["apt-get", "purge", "-y", "hwloc-nox"])])
    res = Applier(journal_dir=tmp_path / "state").apply([kill, system])
    assert res.skipped == ["stop-old-server: needs --kill", "purge-hwloc: needs --allow-system-changes"]


def test_pid_1_is_never_killed_even_with_kill(tmp_path):
    from trtdiag.core.finding import Change, Fix

    kill = Fix("stop", "stop PID 1", changes=[Change("kill", pid=1)], requires="--kill")
    with pytest.raises(ApplyRefused, match="refusing to stop PID 1"):
        Applier(allow_kill=True, journal_dir=tmp_path / "state").apply([kill])


CHILD = textwrap.dedent(
    """
    import json, sys
    from trtdiag.fixes.applier import Applier
    from trtdiag.fixes.plan import edit_fix
    spec = json.loads(sys.argv[1])
    fixes = [edit_fix(f"f{i}", "x", p, old, new) for i, (p, old, new) in enumerate(spec["edits"])]
    Applier(roots=[spec["root"]], journal_dir=spec["state"], lock_timeout=spec.get("lock_timeout", 10)).apply(fixes)
    print("applied")
    """
)


def _child(spec: dict, env_extra: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env=cli_env(env_extra), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("step", ["backup", "journal", "write0", "write1", "done"])
def test_sigkill_at_each_step_leaves_files_whole_and_undo_restores(tmp_path, step):
    repo, a, b = _tree(tmp_path)
    state = tmp_path / "state"
    spec = {"root": str(repo), "state": str(state), "edits": [[str(a), OLD_A, NEW_A], [str(b), OLD_B, NEW_B]]}
    p = _child(spec, {"TRTDIAG_CRASH_AT": step})
    p.communicate(timeout=60)
    assert p.returncode == -9, "the child should have been killed by SIGKILL"
    for path, old, new in ((a, OLD_A, NEW_A), (b, OLD_B, NEW_B)):
        assert path.read_text() in (old, new), f"{path} is neither wholly old nor wholly new after a kill at {step}"
    leftovers = [p.name for p in repo.rglob("*.trtdiag-tmp")]
    assert leftovers == [] or step.startswith("write")  # a temp file may be left only mid-write; never the target
    Applier(roots=[repo], journal_dir=state).undo()
    assert a.read_bytes() == OLD_A.encode() and b.read_bytes() == OLD_B.encode()


def test_two_applies_at_once_one_waits_or_refuses_and_nothing_is_corrupt(tmp_path):
    repo, a, b = _tree(tmp_path)
    state = tmp_path / "state"
    spec = {"root": str(repo), "state": str(state), "edits": [[str(a), OLD_A, NEW_A], [str(b), OLD_B, NEW_B]], "lock_timeout": 0.2}
    # hold the lock from this process while two children try
    from trtdiag.fixes.applier import Lock

    with Lock(state / "lock", 1):
        p1, p2 = _child(spec), _child(spec)
        out1, err1 = p1.communicate(timeout=60)
        out2, err2 = p2.communicate(timeout=60)
    assert p1.returncode != 0 and p2.returncode != 0
    assert "another `trtdiag fix --apply` is running" in err1 + err2
    assert a.read_text() == OLD_A and b.read_text() == OLD_B
    # and one after the other: the second finds nothing to do
    p1 = _child(dict(spec, lock_timeout=30))
    p2 = _child(dict(spec, lock_timeout=30))
    p1.communicate(timeout=60), p2.communicate(timeout=60)
    assert p1.returncode == 0 and p2.returncode == 0
    assert a.read_text() == NEW_A and b.read_text() == NEW_B


def test_atomic_write_keeps_mode_and_leaves_no_temp(tmp_path):
    from trtdiag.fsutil import atomic_write_text

    f = tmp_path / "x.sh"
    f.write_text("old")
    f.chmod(0o750)
    atomic_write_text(f, "new")
    assert f.read_text() == "new" and (f.stat().st_mode & 0o777) == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["x.sh"]
