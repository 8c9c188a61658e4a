"""Every command's terminal output over the repository's fixtures, at a given width: the inputs
the output tests (tests/test_output_words.py) read.  Real inputs only: the v0.9.0 Triton
templates (tests/data/triton/templates_v0.9.0), a sparse engine with a real TensorRT 8.6 plan header, the real
Git LFS pointer plan (tests/data/engines/plans), the public logs (tests/data/logs), a snapshot
`trtdiag collect` writes here, and a stand-in server script for exec (named as such)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import DATA, PLANS, cli_env
from tests.triton_helpers import copy_templates, make_tokenizer


def _qwen_engine(d: Path, max_batch_size=8) -> Path:
    from tests.test_engine_config_numbers import _engine

    d.mkdir(parents=True, exist_ok=True)
    return _engine(d, max_batch_size)


def build(root: Path) -> dict[str, Path]:
    """The inputs, under ``root`` (made once per test session)."""
    root.mkdir(parents=True, exist_ok=True)
    out = {"root": root}
    out["repo"] = copy_templates(root / "model_repo")  # unfilled templates: what TRI001 and fix are about
    out["engine"] = _qwen_engine(root / "engine")
    out["tokenizer"] = make_tokenizer(root / "tokenizer")
    lfs = root / "lfs_engine"
    lfs.mkdir()
    shutil.copy(PLANS / "lfs-pointer_model.plan", lfs / "rank0.engine")
    (lfs / "config.json").write_text((root / "engine" / "config.json").read_text())
    out["lfs"] = lfs
    server = root / "bin" / "tritonserver"  # a stand-in for the server: exec launches it if the checks pass
    server.parent.mkdir()
    server.write_text("#!/bin/sh\necho stand-in tritonserver started\n")
    server.chmod(0o755)
    out["server"] = server
    return out


def commands(inp: dict[str, Path]) -> dict[str, list[str]]:
    logs = sorted(str(p) for p in (DATA / "logs").glob("*.log"))
    snap = str(inp["root"] / "snap.json")
    return {
        "check": ["check"],
        "check-repo": ["check", "--model-repo", str(inp["repo"]), "--engine-dir", str(inp["engine"])],
        "check-engine": ["check", "--engine-dir", str(inp["engine"]), "-v"],
        "check-lfs": ["check", "--engine-dir", str(inp["lfs"])],
        "check-plan": ["check", "--engine-dir", str(PLANS / "trt8.6.1.6_hackathon2023_model.plan")],  # a single real plan, no config.json
        "check-from": ["check", "--from", snap],
        "plan-a10g": ["plan", "--engine-dir", str(inp["engine"]), "--gpu", "A10G"],
        "plan-h100": ["plan", "--engine-dir", str(inp["engine"]), "--gpu", "H100"],
        "plan-size": ["plan", "--engine-dir", str(inp["engine"]), "--gpu-memory", "24GiB", "--max-batch-size", "64"],
        "explain": ["explain", *logs],
        "fix": ["fix", "--model-repo", str(inp["repo"]), "--engine-dir", str(inp["engine"])],
        "fix-engine": ["fix", "--engine-dir", str(inp["engine"])],
        "report": ["report", "--model-repo", str(inp["repo"])],
        "checks": ["checks"],
        "checks-one": ["checks", "TRI001"],
        "exec": ["exec", "--", str(inp["server"]), "--model-repository", str(inp["repo"])],
    }


def run(inp: dict[str, Path], argv: list[str], columns: int) -> subprocess.CompletedProcess:
    env = cli_env({"COLUMNS": str(columns), "NO_COLOR": "1"})
    return subprocess.run([sys.executable, "-m", "trtdiag", *argv], capture_output=True, text=True, env=env,
                          cwd=inp["root"], timeout=300)


def collect(inp: dict[str, Path]) -> None:
    snap = inp["root"] / "snap.json"
    if not snap.exists():
        p = run(inp, ["collect", "--model-repo", str(inp["repo"]), "--engine-dir", str(inp["engine"]), "-o", str(snap)], 160)
        assert p.returncode == 0 and snap.exists(), p.stderr
        json.loads(snap.read_text())


if __name__ == "__main__":  # print every output: python -m tests.output_sweep DIR [COLUMNS]
    base = Path(sys.argv[1])
    cols = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    inp = build(base) if not (base / "model_repo").exists() else {
        "root": base, "repo": base / "model_repo", "engine": base / "engine", "tokenizer": base / "tokenizer",
        "lfs": base / "lfs_engine", "server": base / "bin" / "tritonserver"}
    collect(inp)
    for name, argv in commands(inp).items():
        p = run(inp, argv, cols)
        print(f"===== {name} (exit {p.returncode}): trtdiag {' '.join(argv[:4])}")
        print(p.stdout + p.stderr)
