"""Fixes that cannot lose data, through the real CLI: `trtdiag fix --apply` in a child process is
killed with SIGKILL (by itself, at the step named in TRTDIAG_CRASH_AT, read by the applier) while it
applies the real fixes of a real tree — placeholders filled in five config.pbtxt files, the
max_batch_size aligned with the engine, both model.py files patched, an engine rebuilt and swapped.
After each kill every file is wholly old or wholly new, and `trtdiag fix --undo` restores every
file byte for byte.  Two `fix --apply` at once: one waits or refuses, neither corrupts.

The GPU is a recorded inventory (TRTDIAG_GPU_INVENTORY, the one test double for NVML) and
trtllm-build is the STUB of tests/test_engine_rebuild.py (a script on PATH; the real one needs a GPU).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tokenizer_kit as K
from tests.conftest import DATA, REPO, cli_env
from tests.test_engine_rebuild import scene, stub_env, tree_digest  # noqa: F401  (fixtures)
from tests.triton_helpers import copy_templates, make_engine


def cli(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trtdiag", *args], capture_output=True, text=True, env=cli_env(env), cwd=REPO, timeout=timeout)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".trtdiag-tmp")}


@pytest.fixture
def tree(tmp_path):
    eng = make_engine(tmp_path / "eng", max_batch_size=4)
    tok = K.custom_dir(tmp_path / "tok", "chatglm")
    repo = copy_templates(tmp_path / "repo")
    for m, src in (("preprocessing", "preprocessing_v0.7.py"), ("postprocessing", "postprocessing_v0.7.py")):
        shutil.copy(DATA / "tokenizers" / src, repo / m / "1" / "model.py")
    env = {"TRTDIAG_STATE_DIR": str(tmp_path / "state"), "TRTDIAG_GPU_INVENTORY": str(DATA / "gpu" / "h100-80gb_torch-10GiB.json")}
    args = ["--model-repo", str(repo), "--engine-dir", str(eng), "--tokenizer-dir", str(tok), "--set", f"tokenizer_dir={tok}"]
    old = snapshot(repo)
    # a clean apply gives the new contents; undo must give the old ones back
    p = cli("fix", "--apply", "--yes", *args, env=env)
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stdout[-2000:] + p.stderr[-2000:]
    new = snapshot(repo)
    changed = sorted(k for k in old if new[k] != old[k])
    assert len(changed) >= 7, f"expected placeholders in 5 configs and 2 model.py patched, got {changed}"
    assert any(k.endswith("model.py") for k in changed)
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and snapshot(repo) == old, p.stderr
    return repo, args, env, old, new


# steps of the applier: after the backups, after the journal, after the first, fourth and last
# file write of the first round, after the journal says "applied"
@pytest.mark.parametrize("step", ["backup", "journal", "write0", "write3", "write6", "done"])
def test_sigkill_during_fix_apply_leaves_every_file_whole_and_undo_restores(tree, step):
    repo, args, env, old, new = tree
    p = cli("fix", "--apply", "--yes", *args, env={**env, "TRTDIAG_CRASH_AT": step})
    assert p.returncode == -9, f"the apply should have been killed at {step}: exit {p.returncode}\n{p.stderr[-1500:]}"
    now = snapshot(repo)
    assert set(now) == set(old), f"files appeared or vanished: {set(now) ^ set(old)}"
    for k, data in now.items():
        assert data in (old[k], new[k]), f"{k} is neither wholly old nor wholly new after a kill at {step}"
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert snapshot(repo) == old, f"undo after a kill at {step} did not restore every byte"
    # and a fresh apply after the crash reaches the same result as one that was never interrupted
    p = cli("fix", "--apply", "--yes", *args, env=env)
    assert p.returncode in (0, 1) and snapshot(repo) == new, p.stderr[-1500:]


def test_two_cli_applies_at_once_neither_corrupts(tree):
    repo, args, env, old, new = tree
    procs = [subprocess.Popen([sys.executable, "-m", "trtdiag", "fix", "--apply", "--yes", *args], env=cli_env(env), cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert "Traceback" not in err, err
        assert p.returncode in (0, 1) or (p.returncode == 2 and "another `trtdiag fix --apply` is running" in err), err
    assert snapshot(repo) == new  # one applied, the other waited (then found nothing to do) or refused
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and snapshot(repo) == old


def test_apply_refuses_when_the_lock_is_held_and_changes_nothing(tree, tmp_path):
    """The lock is held by another process (this test) longer than the 10 s wait: refused, one line."""
    from trtdiag.fixes.applier import Lock

    repo, args, env, old, new = tree
    with Lock(Path(env["TRTDIAG_STATE_DIR"]) / "lock", 1):
        p = cli("fix", "--apply", "--yes", *args, env=env, timeout=60)  # waits its 10 s, then refuses
    assert p.returncode == 2 and "another `trtdiag fix --apply` is running" in p.stderr, p.stderr[-1000:]
    assert snapshot(repo) == old


# ------------------------------------------------------------------------------ the rebuild swap
@pytest.mark.parametrize("step", ["rebuild-built", "rebuild-journal", "rebuild-aside", "rebuild-swapped"])
def test_sigkill_during_rebuild_never_loses_the_engine(scene, stub_env, step):  # noqa: F811
    """Killed after the (STUB) build, after the journal, between the two renames, after the swap:
    the old engine is always somewhere whole, and `fix --undo` puts it back in its place."""
    d, ck, venv = scene
    env, log = stub_env
    old = tree_digest(d)
    p = cli("fix", "--engine-dir", str(d), "--python", str(venv), "--apply", "--yes", env={**env, "TRTDIAG_CRASH_AT": step})
    assert p.returncode == -9, f"exit {p.returncode}\n{p.stdout[-1500:]}\n{p.stderr[-1500:]}"
    kept = [x for x in d.parent.iterdir() if x.name.startswith("engine.before-rebuild-")]
    where = [x for x in [d, *kept] if x.is_dir() and tree_digest(x) == old]
    assert where, f"after a kill at {step} the old engine is nowhere whole"
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stdout + p.stderr
    assert d.is_dir() and tree_digest(d) == old, f"undo after a kill at {step} did not put the old engine back"


def test_sigkill_during_the_build_itself_leaves_the_engine_alone(scene, stub_env, tmp_path):  # noqa: F811
    """The build is killed mid-way (the STUB hangs; the whole `fix --apply` process group gets SIGKILL):
    the engine directory is untouched and nothing needs undoing."""
    import signal
    import time

    d, ck, venv = scene
    env, log = stub_env
    old = tree_digest(d)
    stub = Path(env["PATH"].split(os.pathsep)[0]) / "trtllm-build"
    stub.write_text(stub.read_text().replace("sys.exit(rc)", "import time; time.sleep(60)\nsys.exit(rc)"))
    p = subprocess.Popen([sys.executable, "-m", "trtdiag", "fix", "--engine-dir", str(d), "--python", str(venv), "--apply", "--yes"],
                         env=cli_env(env), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.exists(), "the stub build never started"
    time.sleep(0.3)
    os.killpg(p.pid, signal.SIGKILL)  # trtdiag itself
    p.communicate(timeout=30)
    # the build runs in its own session: stop it too (this test started it)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if str(stub) in Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace"):
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    assert tree_digest(d) == old
    assert not [x for x in d.parent.iterdir() if x.name.startswith("engine.before-rebuild-")]
    p = cli("fix", "--undo", env=env)
    assert p.returncode == 0 and tree_digest(d) == old


# ------------------------------------------------------------------------------ the other writers
CHILD = """
import json, sys
from trtdiag.core.facts import Facts
from trtdiag.fixes.applier import Applier
from trtdiag.fixes.batch_size import aligned_text
from trtdiag.fixes.env_file import env_file_fix
from trtdiag.fixes.kv_cache import parameter_fix
from trtdiag.fixes.plan import edit_fix
s = json.loads(sys.argv[1])
cfg = open(s["config"]).read()
fixes = [
    parameter_fix(Facts({}), "kv-fraction", "kv", s["params"], "kv_cache_free_gpu_mem_fraction", "0.85"),
    edit_fix("align-max-batch-size", "align", s["config"], cfg, aligned_text(cfg, 4)),
    env_file_fix(Facts({}), "MPI004-allow-root-env", "env", s["env_file"], {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}),
]
assert all(fixes), fixes
Applier(roots=[s["root"]], journal_dir=s["state"]).apply(fixes)
"""


@pytest.mark.parametrize("step", ["backup", "journal", "write0", "write1", "write2", "done"])
def test_sigkill_while_kv_fraction_batch_size_and_env_file_fixes_apply(tmp_path, step):
    """The kv-cache fraction edit, the max_batch_size alignment and the env file (created: it did
    not exist) as their own planners make them, killed at each step: every file is wholly old or
    wholly new (the env file absent or whole), and undo restores the tree exactly (removing the env
    file it created)."""
    root = tmp_path / "root"
    (root / "tensorrt_llm").mkdir(parents=True)
    (root / "params").mkdir()
    config = root / "tensorrt_llm" / "config.pbtxt"
    config.write_text('name: "tensorrt_llm"\nbackend: "tensorrtllm"\nmax_batch_size: 64\ndynamic_batching {\n  preferred_batch_size: [ 32, 64 ]\n}\n')
    params = root / "params" / "config.pbtxt"
    params.write_text('name: "p"\nparameters: {\n  key: "kv_cache_free_gpu_mem_fraction"\n  value: {\n    string_value: "0.99"\n  }\n}\n')
    env_file = root / "trtdiag.env"
    spec = {"root": str(root), "state": str(tmp_path / "state"), "config": str(config), "params": str(params), "env_file": str(env_file)}
    old = snapshot(root)
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], env=cli_env(), cwd=REPO, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    new = snapshot(root)
    assert set(new) - set(old) == {"trtdiag.env"} and all(new[k] != old[k] for k in old)
    assert cli("fix", "--undo", env={"TRTDIAG_STATE_DIR": spec["state"]}).returncode == 0 and snapshot(root) == old

    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], env=cli_env({"TRTDIAG_CRASH_AT": step}), cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == -9, p.stderr
    now = snapshot(root)
    for k, data in now.items():
        assert data in (old.get(k), new[k]), f"{k} is neither wholly old nor wholly new after a kill at {step}"
    assert set(now) <= set(new)
    p = cli("fix", "--undo", env={"TRTDIAG_STATE_DIR": spec["state"]})
    assert p.returncode == 0 and snapshot(root) == old, p.stderr
