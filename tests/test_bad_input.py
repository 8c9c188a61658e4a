"""Bad input everywhere: every command that reads a user-named file answers with one clear line
and exit code 2 — never a traceback — for empty, truncated, random, enormous (sparse), unreadable,
directory, symlink-loop and non-UTF-8 inputs.  `--debug` shows the traceback for bug reports.
"""

from __future__ import annotations

import os

import pytest

from .conftest import FIXTURES, run_cli

# (command line with {} for the path, a valid-looking start of such a file for the "truncated" case)
COMMANDS = [
    (["check", "--from", "{}"], b'{"schema": "trtdiag.snapshot/1", "facts": {"gpu.inv'),
]


def _cases(tmp_path, truncated: bytes):
    d = tmp_path
    (d / "empty").write_bytes(b"")
    (d / "truncated").write_bytes(truncated)
    (d / "random").write_bytes(os.urandom(4096))
    (d / "adir").mkdir()
    (d / "loop").symlink_to(d / "loop")
    (d / "latin1-\udce9.bin".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_bytes(b"\xff\xfe\x00garbage")
    big = d / "sparse-4g"
    with open(big, "wb") as fh:
        fh.truncate(4 << 30)
    return {
        "empty": d / "empty",
        "truncated": d / "truncated",
        "random": d / "random",
        "directory": d / "adir",
        "symlink loop": d / "loop",
        "missing": d / "does-not-exist",
        "non-utf8 name": next(p for p in d.iterdir() if p.name.startswith("latin1")),
        "sparse 4 GiB": big,
    }


@pytest.mark.parametrize("argv,truncated", COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_bad_inputs_exit_2_with_one_line(tmp_path, argv, truncated):
    for kind, path in _cases(tmp_path, truncated).items():
        args = [a.replace("{}", os.fsdecode(path)) if a == "{}" else a for a in argv]
        p = run_cli(*args, timeout=60)
        assert p.returncode == 2, f"{kind}: exit {p.returncode}\n{p.stdout[-500:]}\n{p.stderr[-1500:]}"
        assert "Traceback" not in p.stderr, f"{kind}: {p.stderr}"
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("trtdiag: error:"), f"{kind}: {p.stderr!r}"


def test_unreadable_file(tmp_path):
    """Root reads everything, so when the tests run as root the child runs under setpriv with
    every capability dropped (still uid 0, but file permissions now apply to it)."""
    import shutil
    import subprocess
    import sys

    from .conftest import REPO, cli_env

    f = tmp_path / "snap.json"
    f.write_text("{}")
    f.chmod(0o000)
    prefix = []
    if os.getuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: nothing is unreadable")
        prefix = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"]
    p = subprocess.run([*prefix, sys.executable, "-m", "trtdiag", "check", "--from", str(f)], capture_output=True, text=True,
                       env=cli_env(), cwd=REPO, timeout=60)
    assert p.returncode == 2 and "permission denied" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_debug_shows_the_traceback(tmp_path):
    p = run_cli("--debug", "check", "--from", str(tmp_path / "missing.json"))
    assert p.returncode != 0 and "Traceback" in p.stderr


def test_real_fixture_that_is_not_a_snapshot_is_refused():
    p = run_cli("check", "--from", str(FIXTURES / "gpu" / "h100-80gb_nvml_torch-holding-10GiB.json"))
    assert p.returncode == 2 and "not a trtdiag snapshot" in p.stderr
