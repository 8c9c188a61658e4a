"""Bad input everywhere: every command that reads a user-named file or directory answers with one
clear line and exit code 2 — never a traceback, never a hang — for empty, truncated, random,
enormous (sparse), unreadable, directory-instead-of-file (and the reverse), symlink-loop, FIFO,
non-UTF-8 and changing inputs.  Where a finding is the right answer (a model repository whose
config.pbtxt is broken, a tokenizer folder whose files are garbage) the command reports it and exits
1.  `--debug` shows the traceback.  The choices per command are in docs/robustness.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, H100_NVML, REPO, cli_env


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    """conftest's run_cli, but output is decoded as the terminal would show it: a non-UTF-8 path is
    printed as its own bytes (surrogate escapes), which is right, and must not fail the test."""
    p = subprocess.run([*(prefix or []), sys.executable, "-m", "trtdiag", *args], capture_output=True, env=cli_env(env), cwd=REPO, timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode("utf-8", "surrogateescape"))

NON_UTF8 = os.fsdecode(b"latin1-\xe9")  # a name that is not UTF-8 (surrogate-escaped in Python)
ERR2 = 2  # one line "trtdiag: error: …", exit 2
FINDING = "finding"  # a report (stdout), exit 1 (or 0 for a warning), one-line-free stderr


def _assert_one_line_exit_2(kind: str, p: subprocess.CompletedProcess) -> None:
    assert p.returncode == 2, f"{kind}: exit {p.returncode}\n{p.stdout[-800:]}\n{p.stderr[-1500:]}"
    assert "Traceback" not in p.stderr, f"{kind}: {p.stderr}"
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("trtdiag: error:"), f"{kind}: {p.stderr!r}"


def _assert_finding(kind: str, p: subprocess.CompletedProcess) -> None:
    assert p.returncode in (0, 1), f"{kind}: exit {p.returncode}\n{p.stdout[-800:]}\n{p.stderr[-1500:]}"
    assert "Traceback" not in p.stderr + p.stdout and "internal error" not in p.stderr, f"{kind}: {p.stderr}"


def _check(kind: str, p: subprocess.CompletedProcess, want) -> None:
    (_assert_one_line_exit_2 if want == ERR2 else _assert_finding)(kind, p)


# ------------------------------------------------------------------------------ files
def _file_cases(d: Path, truncated: bytes, sparse: int = 4 << 30) -> dict[str, Path]:
    (d / "empty").write_bytes(b"")
    (d / "truncated").write_bytes(truncated)
    (d / "random").write_bytes(os.urandom(4096))
    (d / "adir").mkdir()
    (d / "loop").symlink_to(d / "loop")
    (d / NON_UTF8).write_bytes(b"\xff\xfe\x00garbage")
    big = d / "sparse"
    with open(big, "wb") as fh:
        fh.truncate(sparse)
    os.mkfifo(d / "fifo")
    return {
        "empty": d / "empty",
        "truncated": d / "truncated",
        "random": d / "random",
        "directory": d / "adir",
        "symlink loop": d / "loop",
        "missing": d / "does-not-exist",
        "non-utf8 name and content": d / NON_UTF8,
        f"sparse {sparse >> 20} MiB": big,
        "fifo": d / "fifo",
    }


# (argv with {} for the path, a valid-looking start of such a file, {case: expectation other than ERR2}, sparse size)
FILE_COMMANDS = [
    (["check", "--from", "{}"], b'{"schema": "trtdiag.snapshot/1", "facts": {"gpu.inv', {}, 4 << 30),
    (["plan", "--model-config", "{}", "--gpu-memory", "24GiB"], b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 40', {}, 4 << 30),
    # a log is any bytes: garbage or a huge log holds no known failure (exit 0); it is read to the
    # end (streamed), so the enormous case is 256 MiB here to keep the test fast
    (["explain", "{}"], b"[TensorRT-LLM][ERROR] Assertion failed: mpiSize == tp * pp (/app/tensorrt_l",
     {"truncated": FINDING, "random": FINDING, "non-utf8 name and content": FINDING, "sparse 256 MiB": FINDING}, 256 << 20),
    # a single engine file given as --engine-dir
    (["check", "--engine-dir", "{}", "--only", "engine"], b"ftrt\x00\x00", {}, 4 << 30),
    (["collect", "--engine-dir", "{}", "-o", "{out}"], b"ftrt\x00\x00", {}, 4 << 30),
]


@pytest.mark.parametrize("argv,truncated,expect,sparse", FILE_COMMANDS, ids=[" ".join(c[0][:2]) for c in FILE_COMMANDS])
def test_bad_files_exit_2_with_one_line(tmp_path, argv, truncated, expect, sparse):
    for kind, path in _file_cases(tmp_path, truncated, sparse).items():
        args = [os.fsdecode(path) if a == "{}" else str(tmp_path / "out.json") if a == "{out}" else a for a in argv]
        p = run_cli(*args, timeout=90)
        _check(kind, p, expect.get(kind, ERR2))


# ------------------------------------------------------------------------------ directories
def _dir_cases(d: Path, key: str, truncated: bytes) -> dict[str, Path]:
    """Folders whose file ``key`` (a path relative to the folder) is broken, and non-folders."""
    cases: dict[str, Path] = {}

    def folder(name: str, content: bytes | None = None, fifo: bool = False) -> Path:
        root = d / name
        f = root / key
        f.parent.mkdir(parents=True)
        if fifo:
            os.mkfifo(f)
        elif content is not None:
            f.write_bytes(content)
        return root

    cases["empty folder"] = (d / "emptydir").resolve()
    cases["empty folder"].mkdir()
    cases["empty key file"] = folder("empty", b"")
    cases["truncated key file"] = folder("trunc", truncated)
    cases["random key file"] = folder("random", os.urandom(4096))
    cases["key file is a directory"] = folder("keydir")
    (cases["key file is a directory"] / key).mkdir()
    cases["key file is a fifo"] = folder("fifo", fifo=True)
    cases["non-utf8 folder name"] = folder(NON_UTF8, b"\xff\xfe\x00garbage")
    loop = folder("loop")
    (loop / key).symlink_to(loop / key)
    cases["key file is a symlink loop"] = loop
    (d / "afile").write_bytes(b"x")
    cases["file instead of folder"] = d / "afile"
    (d / "dirloop").symlink_to(d / "dirloop")
    cases["folder is a symlink loop"] = d / "dirloop"
    cases["missing"] = d / "does-not-exist"
    return cases


# (argv with {} for the folder, the file inside that matters, a valid-looking start of it, {case: expectation other than ERR2})
_PB = b'name: "tensorrt_llm"\nbackend: "tensorrtllm"\nmax_batch_size: 8\ninput [ { name: "input_ids" '
_REPO_FINDINGS = {k: FINDING for k in ("empty key file", "truncated key file", "random key file", "non-utf8 folder name")}
_TOK_FINDINGS = {k: FINDING for k in ("empty folder", "empty key file", "truncated key file", "random key file", "key file is a directory",
                                      "key file is a fifo", "non-utf8 folder name", "key file is a symlink loop")}
DIR_COMMANDS = [
    # an engine folder whose config.json cannot be read is not an engine folder: exit 2
    (["check", "--engine-dir", "{}", "--only", "engine"], "config.json", b'{"pretrained_config": {"architecture": "Llama', {}),
    (["plan", "--engine-dir", "{}", "--gpu-memory", "24GiB"], "config.json", b'{"pretrained_config": {"architecture": "Llama', {}),
    (["collect", "--engine-dir", "{}", "-o", "{out}"], "config.json", b'{"pretrained_config": {"architecture": "Llama', {}),
    # a repository with a broken config.pbtxt is a repository with a finding (TRI002): exit 1
    (["check", "--model-repo", "{}", "--only", "triton"], "tensorrt_llm/config.pbtxt", _PB, _REPO_FINDINGS),
    (["fix", "--model-repo", "{}", "--only", "triton"], "tensorrt_llm/config.pbtxt", _PB, _REPO_FINDINGS),
    # a tokenizer folder with garbage in it is a finding (TOK001): exit 1
    (["check", "--tokenizer-dir", "{}", "--only", "tokenizer"], "tokenizer_config.json", b'{"tokenizer_class": "LlamaTok', _TOK_FINDINGS),
]


@pytest.mark.parametrize("argv,key,truncated,expect", DIR_COMMANDS, ids=[" ".join(c[0][:2]) for c in DIR_COMMANDS])
def test_bad_folders_exit_2_or_report_a_finding(tmp_path, argv, key, truncated, expect):
    for kind, path in _dir_cases(tmp_path, key, truncated).items():
        args = [os.fsdecode(path) if a == "{}" else str(tmp_path / "out.json") if a == "{out}" else a for a in argv]
        p = run_cli(*args, timeout=60)
        _check(kind, p, expect.get(kind, ERR2))


def test_recorded_gpu_inventory_that_is_bad_exits_2(tmp_path):
    """TRTDIAG_GPU_INVENTORY (the recorded-GPU test double's own input) is a user-named file too."""
    cases = _file_cases(tmp_path, b'{"driver": "550.54.15", "gpus": [{"index": 0, "name": "NVIDIA H1', sparse=4 << 30)
    (tmp_path / "wrong-type.json").write_text('{"gpus": [{"index": "zero", "total": -5}]}')
    cases["wrong types"] = tmp_path / "wrong-type.json"
    for kind, path in cases.items():
        p = run_cli("check", "--only", "gpu", env={"TRTDIAG_GPU_INVENTORY": os.fsdecode(path)}, timeout=60)
        _assert_one_line_exit_2(kind, p)


# ------------------------------------------------------------------------------ unreadable
def _unprivileged_prefix() -> list[str]:
    """Root reads everything, so when the tests run as root the child runs under setpriv with
    every capability dropped (still uid 0, but file permissions now apply to it)."""
    if os.getuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: nothing is unreadable")
        return ["setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"]
    return []


def _run_unprivileged(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env, timeout=60, prefix=_unprivileged_prefix())


def test_unreadable_file(tmp_path):
    f = tmp_path / "snap.json"
    f.write_text("{}")
    f.chmod(0o000)
    p = _run_unprivileged("check", "--from", str(f))
    assert p.returncode == 2 and "permission denied" in p.stderr and "Traceback" not in p.stderr, p.stderr


@pytest.mark.parametrize("argv,make", [
    (["plan", "--model-config", "{}", "--gpu-memory", "24GiB"], "file"),
    (["explain", "{}"], "file"),
    (["check", "--engine-dir", "{}", "--only", "engine"], "engine"),
    (["check", "--model-repo", "{}", "--only", "triton"], "repo"),
    (["check", "--tokenizer-dir", "{}", "--only", "tokenizer"], "tokenizer"),
], ids=["plan", "explain", "engine-dir", "model-repo", "tokenizer-dir"])
def test_unreadable_inputs_of_every_command(tmp_path, argv, make):
    """A file (or the one file inside a folder) with mode 000: one line, or a finding naming it."""
    if make == "file":
        target = locked = tmp_path / "in.json"
        locked.write_text('{"hidden_size": 1}')
    else:
        target = tmp_path / "d"
        key = {"engine": "config.json", "repo": "m/config.pbtxt", "tokenizer": "tokenizer_config.json"}[make]
        locked = target / key
        locked.parent.mkdir(parents=True)
        locked.write_text("{}")
    locked.chmod(0o000)
    p = _run_unprivileged(*[str(target) if a == "{}" else a for a in argv])
    assert "Traceback" not in p.stderr + p.stdout and "internal error" not in p.stderr, p.stderr
    if make in ("repo", "tokenizer"):
        assert p.returncode == 1 and "permission denied" in p.stdout, p.stdout + p.stderr
    else:
        _assert_one_line_exit_2("unreadable", p)
        assert "permission denied" in p.stderr


# ------------------------------------------------------------------------------ changing inputs
def test_log_truncated_and_replaced_while_explain_reads_it(tmp_path):
    """A log rotated under explain's feet (truncated, replaced, regrown): it finishes, no traceback."""
    log = tmp_path / "server.log"
    line = b"I1123 12:00:00.000 1 server.cc:1] noise noise noise noise noise noise noise noise\n"
    block = line * 20000
    with open(log, "wb") as fh:
        for _ in range(40):  # ~60 MiB
            fh.write(block)
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            i += 1
            if i % 3 == 0:
                os.truncate(log, 0)
            elif i % 3 == 1:
                tmp = tmp_path / "new.log"
                tmp.write_bytes(b"[TensorRT-LLM][ERROR] something\n" * 1000)
                os.replace(tmp, log)
            else:
                with open(log, "ab") as fh:
                    fh.write(block)
            time.sleep(0.01)

    t = threading.Thread(target=churn, daemon=True)
    for engine in ("grep", "python"):
        t0 = time.monotonic()
        if not t.is_alive():
            t.start()
        p = run_cli("explain", str(log), env={"TRTDIAG_EXPLAIN_ENGINE": engine}, timeout=60)
        assert time.monotonic() - t0 < 60
        assert p.returncode in (0, 1, 2) and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    stop.set()
    t.join()


def test_snapshot_rewritten_while_check_reads_it(tmp_path):
    """A snapshot replaced by garbage and back again, over and over, while `check --from` reads it:
    each run sees one whole version (exit 0/1) or garbage (exit 2), never a traceback."""
    good = (DATA / "memory" / "snapshot_qwen7b_fp16_24gib.json").read_bytes()
    snap = tmp_path / "snap.json"
    snap.write_bytes(good)
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            i += 1
            with open(snap, "r+b") as fh:  # in place, not atomically: a reader may see half of it
                fh.truncate(0 if i % 2 else len(good) // 2)
                fh.write(good if i % 2 else os.urandom(64))
            time.sleep(0.002)

    t = threading.Thread(target=churn, daemon=True)
    t.start()
    try:
        for _ in range(4):
            p = run_cli("check", "--from", str(snap), timeout=60)
            assert p.returncode in (0, 1, 2) and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
            if p.returncode == 2:
                assert len([ln for ln in p.stderr.splitlines() if ln.strip()]) == 1, p.stderr
    finally:
        stop.set()
        t.join()


def test_fifo_never_blocks_any_reader(tmp_path):
    """A FIFO where a file is expected must not wait for a writer: every reader opens non-blocking."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    for args in (["check", "--from", str(fifo)], ["explain", str(fifo)], ["plan", "--model-config", str(fifo), "--gpu-memory", "8GiB"]):
        p = run_cli(*args, timeout=30)
        _assert_one_line_exit_2(" ".join(args[:2]), p)
        assert "not a regular file" in p.stderr
    p = run_cli("check", "--only", "gpu", env={"TRTDIAG_GPU_INVENTORY": str(fifo)}, timeout=30)
    _assert_one_line_exit_2("inventory fifo", p)
    assert time.monotonic() - t0 < 30


# ------------------------------------------------------------------------------ exec --json-report
@pytest.mark.parametrize("where", ["missing folder", "a directory", "inside a file", "symlink loop", "unwritable folder"])
def test_exec_json_report_in_an_unwritable_place_warns_and_still_launches(tmp_path, where):
    """exec is a pre-launch hook: a report that cannot be written is one warning line, and the
    server is launched anyway (documented in docs/exec.md and docs/robustness.md)."""
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    path = {"missing folder": tmp_path / "no" / "r.json", "a directory": tmp_path / "adir", "inside a file": tmp_path / "afile" / "r.json",
            "symlink loop": tmp_path / "loop", "unwritable folder": ro / "r.json"}[where]
    marker = tmp_path / "launched"
    argv = ["exec", "--json-report", str(path), "--", sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    if where == "unwritable folder":
        p = _run_unprivileged(*argv)
    else:
        p = run_cli(*argv, timeout=60)
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    warn = [ln for ln in p.stderr.splitlines() if "could not write the JSON report" in ln]
    assert len(warn) == 1 and str(path) in warn[0], p.stderr
    assert marker.exists() and p.returncode == 0, p.stderr
    if where == "symlink loop":
        assert (tmp_path / "loop").is_symlink()  # the link was not replaced by a file


def test_exec_json_report_through_a_symlink_writes_the_target(tmp_path):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    p = run_cli("exec", "--json-report", str(link), "--", "true", timeout=60)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and real.is_file() and real.read_text().lstrip().startswith("{")


# ------------------------------------------------------------------------------ --debug
def test_debug_shows_the_traceback(tmp_path):
    p = run_cli("--debug", "check", "--from", str(tmp_path / "missing.json"))
    assert p.returncode != 0 and "Traceback" in p.stderr


def test_real_fixture_that_is_not_a_snapshot_is_refused():
    p = run_cli("check", "--from", str(H100_NVML))
    assert p.returncode == 2 and "not a trtdiag snapshot" in p.stderr


# ------------------------------------------------------------------------------ -o outputs
@pytest.mark.parametrize("command", ["collect", "report"])
def test_output_in_an_unwritable_place_is_one_line(tmp_path, command):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for kind, path in {"missing folder": tmp_path / "no" / "out", "a directory": tmp_path / "adir",
                       "inside a file": tmp_path / "afile" / "out", "symlink loop": tmp_path / "loop"}.items():
        p = run_cli(command, "--only", "PRT001", "-o", str(path), timeout=60)
        _assert_one_line_exit_2(f"{command} -o {kind}", p)
    assert (tmp_path / "loop").is_symlink()


def test_output_to_a_device_a_fifo_or_a_link_writes_it_in_place(tmp_path):
    """`-o /dev/null` must not replace the device (as root, a rename would); a FIFO is written to
    its reader; through a link, the file it points to is written and the link stays."""
    p = run_cli("collect", "-o", "/dev/null", timeout=60)
    assert p.returncode == 0 and Path("/dev/null").is_char_device(), p.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = {}
    reader = threading.Thread(target=lambda: got.setdefault("data", fifo.read_bytes()), daemon=True)
    reader.start()
    p = run_cli("collect", "-o", str(fifo), timeout=60)
    reader.join(30)
    assert p.returncode == 0 and got.get("data", b"").lstrip().startswith(b"{") and fifo.is_fifo(), p.stderr
    real, link = tmp_path / "real.md", tmp_path / "link.md"
    link.symlink_to(real)
    p = run_cli("report", "--only", "PRT001", "-o", str(link), timeout=60)
    assert p.returncode in (0, 1) and link.is_symlink() and real.read_text().strip(), p.stderr


def test_python_that_is_not_an_interpreter_is_one_line(tmp_path):
    """--python names a program trtdiag runs (in a child, with a timeout): garbage, a folder, a
    missing or non-executable file is one line and exit 2."""
    rnd = tmp_path / "random"
    rnd.write_bytes(os.urandom(256))
    rnd.chmod(0o755)
    (tmp_path / "plain").write_text("print('hi')\n")
    (tmp_path / "adir").mkdir()
    for kind, path in {"random bytes": rnd, "not executable": tmp_path / "plain", "directory": tmp_path / "adir",
                       "missing": tmp_path / "missing"}.items():
        p = run_cli("check", "--python", str(path), "--only", "environment,tensorrt", timeout=60)
        _assert_one_line_exit_2(kind, p)
