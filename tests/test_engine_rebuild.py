"""The matching rebuild: `trtdiag fix --engine-dir DIR` shows the trtllm-build command rebuilt from
the engine's own build_config; `--apply` runs it into a new directory and swaps only on success.

trtllm-build here is a STUB (a small script this test writes onto PATH: it records its argv and
exits with the code the test asks for; on success it writes rank0.engine + config.json into
--output_dir).  The real trtllm-build needs a GPU and NVIDIA's TensorRT-LLM wheel, neither of
which CI has.  The installed TensorRT-LLM is a real virtualenv holding tensorrt_llm's dist-info and
version.py (nothing of it is imported).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from trtdiag.derive.rebuild import legacy_build_argv, trtllm_build_argv

from tests.conftest import DATA, run_cli
from tests.test_engine_checks import engine_dir
from tests.test_trt_probe import install_fake_trtllm, make_venv

STUB = '''#!{python}
"""STUB trtllm-build for trtdiag's tests: records argv, exits STUB_RC."""
import json, os, struct, sys
log = os.environ["STUB_LOG"]
with open(log, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
rc = int(os.environ.get("STUB_RC", "0"))
out = sys.argv[sys.argv.index("--output_dir") + 1]
os.makedirs(out, exist_ok=True)
if rc == 0:
    head = b"ftrt" + b"\\0" * 4 + struct.pack("<QQ", 1, 64) + bytes([8, 6, 1, 6]) + b"\\0" * 4
    open(os.path.join(out, "rank0.engine"), "wb").write(head + b"\\0" * (64 - len(head)))
    json.dump({{"version": "0.10.0", "pretrained_config": {{}}, "build_config": {{}}}}, open(os.path.join(out, "config.json"), "w"))
else:
    open(os.path.join(out, "rank0.engine"), "wb").write(b"half")
    print("[TensorRT-LLM][ERROR] stub build failed", file=sys.stderr)
sys.exit(rc)
'''


@pytest.fixture
def stub_env(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "trtllm-build"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    log = tmp_path / "stub_argv.jsonl"
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "STUB_LOG": str(log)}
    return env, log


@pytest.fixture
def scene(tmp_path):
    """An engine built by TensorRT-LLM 0.9.0 (tp1 so one rank), its checkpoint beside it, and an
    environment where 0.10.0 is installed."""
    root = tmp_path / "models"
    root.mkdir()
    d = engine_dir(root, "trtllm-build-0.9.0_llama-7b_tp2", name="engine")
    (d / "rank1.engine").unlink()
    cfg = json.loads((d / "config.json").read_text())
    cfg["pretrained_config"]["mapping"] = {"world_size": 1, "tp_size": 1, "pp_size": 1}
    (d / "config.json").write_text(json.dumps(cfg, indent=4))
    ck = root / "tllm_checkpoint_1gpu_fp16"
    ck.mkdir()
    (ck / "config.json").write_text(json.dumps({"architecture": "LlamaForCausalLM", "dtype": "float16"}))
    venv = make_venv(tmp_path / "venv")
    install_fake_trtllm(venv, "0.10.0")
    return d, ck, venv


def tree_digest(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def test_preview_shows_trtllm_build_from_recorded_build_config_and_changes_nothing(scene, stub_env):
    d, ck, venv = scene
    before = tree_digest(d)
    env, log = stub_env
    p = run_cli("fix", "--engine-dir", str(d), "--python", str(venv), env=env)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert f"--checkpoint_dir {ck}" in p.stdout and "--max_batch_size 8" in p.stdout
    assert "--max_seq_len 2560" in p.stdout  # 0.10 has --max_seq_len: 2048 in + 512 out
    assert "--gemm_plugin float16" in p.stdout and "--paged_kv_cache enable" in p.stdout
    assert not log.exists() and tree_digest(d) == before


def test_apply_success_swaps_in_the_new_engine_and_keeps_the_old(scene, stub_env):
    d, ck, venv = scene
    env, log = stub_env
    old = tree_digest(d)
    p = run_cli("fix", "--engine-dir", str(d), "--python", str(venv), "--apply", "--yes", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    argv = json.loads(log.read_text().splitlines()[0])
    assert argv[:2] == ["--checkpoint_dir", str(ck)] and argv[argv.index("--output_dir") + 1] == f"{d}.rebuild-trtllm-0.10.0"
    assert json.loads((d / "config.json").read_text())["version"] == "0.10.0"
    kept = [x for x in d.parent.iterdir() if x.name.startswith("engine.before-rebuild-")]
    assert len(kept) == 1 and tree_digest(kept[0]) == old
    # and the check now passes
    p = run_cli("check", "--engine-dir", str(d), "--python", str(venv), "--only", "ENG002")
    assert p.returncode == 0
    # undo puts the old engine back
    p = run_cli("fix", "--undo", env=env)
    assert p.returncode == 0 and tree_digest(d) == old, p.stdout + p.stderr


def test_apply_failure_leaves_the_old_engine_byte_identical(scene, stub_env):
    d, ck, venv = scene
    env, log = stub_env
    env = dict(env, STUB_RC="3")
    old = tree_digest(d)
    p = run_cli("fix", "--engine-dir", str(d), "--python", str(venv), "--apply", "--yes", env=env)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert log.exists() and tree_digest(d) == old
    assert sorted(x.name for x in d.parent.iterdir()) == ["engine", "tllm_checkpoint_1gpu_fp16"]


def test_output_dir_option_is_used(scene, stub_env, tmp_path):
    d, ck, venv = scene
    env, log = stub_env
    out = tmp_path / "models" / "new_engine"
    p = run_cli("fix", "--engine-dir", str(d), "--python", str(venv), "--output-dir", str(out), env=env)
    assert f"--output_dir {out}" in p.stdout


def test_no_checkpoint_shows_the_command_and_asks_for_checkpoint_dir(tmp_path):
    d = engine_dir(tmp_path, "trtllm-build-0.9.0_llama-7b_tp2")
    venv = make_venv(tmp_path / "venv")
    install_fake_trtllm(venv, "0.10.0")
    p = run_cli("check", "--engine-dir", str(d), "--python", str(venv), "--only", "ENG002")
    assert p.returncode == 1 and "--checkpoint-dir" in p.stdout and "<CHECKPOINT_DIR>" in p.stdout


# ------------------------------------------------------------------ argv reconstruction per layout / release
def test_argv_for_an_older_installed_release_uses_max_output_len():
    cfg = json.loads((DATA / "engines" / "trtllm-build-0.9.0_llama-7b_tp2" / "config.json").read_text())
    argv = trtllm_build_argv(cfg, "/ck", "/out", "0.9.0")
    assert argv[argv.index("--max_output_len") + 1] == "512" and "--max_seq_len" not in argv


def test_argv_for_0_11_layout_keeps_seq_len_and_disabled_gemm_plugin():
    cfg = json.loads((DATA / "engines" / "trtllm-build-0.11.0_llama-7b_tp1" / "config.json").read_text())
    argv = trtllm_build_argv(cfg, "/ck", "/out", "0.11.0")
    assert argv[argv.index("--max_seq_len") + 1] == "4096"
    assert argv[argv.index("--gemm_plugin") + 1] == "disable"
    assert argv[argv.index("--use_paged_context_fmha") + 1] == "enable"


def test_legacy_build_py_form():
    cfg = json.loads((DATA / "engines" / "legacy-0.7.1_chatglm3-6b_tp1" / "config.json").read_text())
    argv = legacy_build_argv(cfg, "/hf/chatglm3-6b", "/out")
    assert argv[:2] == ["python3", "examples/chatglm/build.py"]
    for flag in ("--use_gpt_attention_plugin", "--use_gemm_plugin", "--remove_input_padding", "--paged_kv_cache"):
        assert flag in argv
    assert argv[argv.index("--max_output_len") + 1] == "1024"


def test_output_dir_on_another_filesystem_is_not_run(scene, stub_env):
    """The applier swaps by rename, which fails across filesystems after the old engine was moved
    aside; such an --output-dir is shown but not run."""
    d, ck, venv = scene
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == os.stat(d.parent).st_dev:
        pytest.skip("no second filesystem here")
    env, log = stub_env
    out = f"/dev/shm/trtdiag-test-{os.getpid()}"
    p = run_cli("fix", "--engine-dir", str(d), "--python", str(venv), "--output-dir", out, "--apply", "--yes", env=env)
    assert "another filesystem" in p.stdout and not log.exists() and (d / "config.json").exists()
