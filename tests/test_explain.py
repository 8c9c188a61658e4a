"""`trtdiag explain`: the command (exit codes, three output forms, --kb, --list, several logs, stdin)
and the streaming matcher (chunk boundaries, odd bytes, ranking, constant memory, both prefilters)."""

from __future__ import annotations

import io
import json
import os
import tracemalloc

import pytest

from trtdiag.logscan import matcher as ex
from trtdiag.core import kb

from tests.conftest import DATA, run_cli

LOGS = DATA / "logs"
VERSION_LINE = "[05/02/2022-15:17:45] [TRT] [E] 6: The engine plan file is not compatible with this version of TensorRT, expecting library version 9.2.0.5 got 9.3.0.1, please rebuild."
NOISE = "[TensorRT-LLM][INFO] [MemUsageChange] Init cuBLAS/cuBLASLt: CPU +0, GPU +8, now: CPU 13201, GPU 13175 (MiB)"


def scan_bytes(data: bytes, engine: str = "python") -> ex.Matcher:
    m = ex.Matcher(kb.all_entries())
    if engine == "python":
        m._scan_python(io.BytesIO(data), "log", 0)
    else:
        m.scan(io.BytesIO(data), "log", 0)
    return m


# ---- the command ---------------------------------------------------------------------------------


def test_known_failure_exits_1_with_cause_evidence_and_fix(tmp_path):
    log = tmp_path / "server.log"
    log.write_text(f"{NOISE}\n{NOISE}\n{VERSION_LINE}\n{NOISE}\n")
    p = run_cli("explain", str(log))
    assert p.returncode == 1, p.stderr
    out = p.stdout
    assert "Engine plan built by another TensorRT version" in out
    assert "expected: 9.2.0.5" in out and "found: 9.3.0.1" in out
    assert f"first: {log}:3" in out
    assert "fix:" in out and "Rebuild the engine" in out
    assert "more: trtdiag explain --kb trt-engine-version-mismatch" in out
    assert "confirm on this machine: trtdiag check --only ENG001" in out


def test_healthy_log_exits_0_and_says_so():
    p = run_cli("explain", str(LOGS / "healthy_tritonserver-tensorrtllm.log"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "✓ No known failure in the log" in p.stdout and "0 errors" in p.stdout
    d = json.loads(run_cli("explain", str(LOGS / "healthy_trtllm-build.log"), "--json").stdout)
    assert [f["severity"] for f in d["findings"]] == ["ok"]


def test_json_and_markdown_forms(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(VERSION_LINE + "\n")
    p = run_cli("explain", str(log), "--json")
    assert p.returncode == 1
    d = json.loads(p.stdout)
    assert d["schema"] == "trtdiag.report/1" and d["command"] == "explain"
    f = d["findings"][0]
    assert f["id"] == "EXP:trt-engine-version-mismatch" and f["severity"] == "error"
    assert f["evidence"]["expected"] == "9.2.0.5" and f["evidence"]["count"] == 1
    assert d["context"]["logs"] == [str(log)] and d["context"]["bytes"] == log.stat().st_size
    p = run_cli("explain", str(log), "--markdown")
    assert p.returncode == 1 and "## trtdiag explain" in p.stdout and "`EXP:trt-engine-version-mismatch`" in p.stdout


def test_stdin_and_several_files_name_file_and_line(tmp_path):
    a = tmp_path / "rank0.log"
    b = tmp_path / "rank1.log"
    a.write_text(NOISE + "\n")
    b.write_text(NOISE + "\nKilled\n")
    code, d = _json("explain", str(a), str(b))
    assert code == 1
    assert d["findings"][0]["kb"] == "build-oom-killed"
    assert d["findings"][0]["evidence"]["first"] == f"{b}:2"
    p = run_cli("explain", "-", "--json", input=f"{NOISE}\n{VERSION_LINE}\n")
    assert p.returncode == 1
    f = json.loads(p.stdout)["findings"][0]
    assert f["evidence"]["first"] == "<stdin>:2"


def _json(*args):
    p = run_cli(*args, "--json")
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, json.loads(p.stdout)


@pytest.mark.parametrize("kind", ["missing", "directory", "no-args", "two-stdin"])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path, kind):
    args = {
        "missing": ["explain", str(tmp_path / "nope.log")],
        "directory": ["explain", str(tmp_path)],
        "no-args": ["explain"],
        "two-stdin": ["explain", "-", "-"],
    }[kind]
    p = run_cli(*args, input="")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("trtdiag: error:")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_is_exit_2(tmp_path):
    log = tmp_path / "secret.log"
    log.write_text(VERSION_LINE)
    log.chmod(0)
    p = run_cli("explain", str(log))
    assert p.returncode == 2 and "permission denied" in p.stderr


def test_kb_shows_one_entry_and_suggests_on_a_typo():
    p = run_cli("explain", "--kb", "trt-engine-version-mismatch")
    assert p.returncode == 0
    assert "cause:" in p.stdout and "fix:" in p.stdout and "references:" in p.stdout
    assert "https://github.com/triton-inference-server/server/issues/317" in p.stdout
    assert "expecting library version" in p.stdout  # its signatures
    p = run_cli("explain", "--kb", "trt-engine-version-mismatch", "--json")
    assert json.loads(p.stdout)["id"] == "trt-engine-version-mismatch"
    p = run_cli("explain", "--kb", "trt-engine-version-mismatc")
    assert p.returncode == 2 and "did you mean: trt-engine-version-mismatch" in p.stderr
    p = run_cli("explain", "--kb", "../../etc/passwd")
    assert p.returncode == 2


def test_list_shows_every_entry():
    p = run_cli("explain", "--list")
    assert p.returncode == 0
    for e in kb.all_entries():
        assert e["id"] in p.stdout
    rows = json.loads(run_cli("explain", "--list", "--json").stdout)
    assert len(rows) == len(kb.all_entries())


def test_consequences_are_reported_after_the_root_cause_as_information():
    code, d = _json("explain", str(LOGS / "backend-62_baichuan-tokenizer.log"))
    assert code == 1
    ids = [f["kb"] for f in d["findings"]]
    assert ids[0] == "tokenizer-remote-code-required"
    assert d["findings"][0]["severity"] == "error"
    later = {f["kb"]: f for f in d["findings"][1:]}
    assert later["triton-failed-to-load-all-models"]["severity"] == "info"
    assert "consequence of tokenizer-remote-code-required" in later["triton-failed-to-load-all-models"]["message"]


# ---- the matcher -----------------------------------------------------------------------------------


def test_each_failure_reported_once_with_count_first_last():
    data = "\n".join([NOISE, VERSION_LINE, NOISE, VERSION_LINE.replace("9.3.0.1", "9.3.0.2"), NOISE, VERSION_LINE]).encode()
    m = scan_bytes(data)
    h = m.hits["trt-engine-version-mismatch"]
    assert (h.count, h.first[2], h.last[2]) == (3, 2, 6)
    assert h.fields == {"expected": "9.2.0.5", "found": "9.3.0.1"}  # from the first match
    assert len(h.lines) == 3


def test_ranking_first_fatal_beats_earlier_warnings_and_later_fatals():
    lines = [
        "[TensorRT-LLM][WARNING] Using an engine plan file across different models of devices is not recommended and is likely to affect performance or even cause errors.",
        "error: creating server: Internal - failed to load all models",
        "Killed",
        VERSION_LINE,
    ]
    ranked = [h.entry_id for h in ex.rank(scan_bytes("\n".join(lines).encode()).hits.values())]
    assert ranked[:2] == ["build-oom-killed", "trt-engine-version-mismatch"]
    assert set(ranked[2:]) == {"engine-compute-capability-mismatch", "triton-failed-to-load-all-models"}


@pytest.mark.parametrize("chunk", [7, 64, 1000])
def test_lines_split_across_chunks_are_found_with_the_right_line_number(monkeypatch, chunk):
    monkeypatch.setattr(ex, "CHUNK", chunk)
    data = ("x" * 50 + "\n") * 37 + VERSION_LINE + "\n" + ("y" * 13 + "\n") * 5 + "Killed"  # no final newline
    m = scan_bytes(data.encode())
    assert m.hits["trt-engine-version-mismatch"].first[2] == 38
    assert m.hits["build-oom-killed"].first[2] == 44


def test_crlf_invalid_utf8_and_nul_bytes_do_not_break_matching():
    data = b"\xff\xfe garbage \x00\x00\r\n" + VERSION_LINE.encode() + b"\r\n\x80\x81\nKilled\r\n"
    for engine in ("python", "grep"):
        m = ex.Matcher(kb.all_entries())
        if engine == "grep" and not ex._grep():
            continue
        import tempfile

        with tempfile.TemporaryFile() as fh:
            fh.write(data)
            fh.seek(0)
            m._scan_grep(ex._grep(), fh, "log", 0) if engine == "grep" else m._scan_python(fh, "log", 0)
        assert m.hits["trt-engine-version-mismatch"].fields["found"] == "9.3.0.1", engine
        assert m.hits["trt-engine-version-mismatch"].first[2] == 2
        assert m.hits["build-oom-killed"].first[2] == 4, engine  # '^Killed$' despite the \r


def test_an_enormous_line_without_newline_is_cut_not_swallowed(monkeypatch):
    monkeypatch.setattr(ex, "CHUNK", 1 << 16)
    monkeypatch.setattr(ex, "MAX_LINE", 1 << 18)
    data = b"z" * (1 << 20) + b"\n" + VERSION_LINE.encode() + b"\n"
    m = scan_bytes(data)
    assert "trt-engine-version-mismatch" in m.hits


def test_python_and_grep_prefilters_agree_on_the_corpus(monkeypatch):
    if not ex._grep():
        pytest.skip("no GNU grep")
    for log in sorted(LOGS.glob("*.log")):
        res = {}
        for engine in ("python", "grep"):
            monkeypatch.setenv("TRTDIAG_EXPLAIN_ENGINE", engine)
            m = ex.Matcher(kb.all_entries())
            with open(log, "rb") as fh:
                assert m.scan(fh, log.name, 0, log.stat().st_size) == engine
            res[engine] = {k: (h.count, h.first, h.last, h.fields) for k, h in m.hits.items()}
        assert res["python"] == res["grep"], log.name


def test_memory_stays_constant_on_a_large_log(tmp_path, monkeypatch):
    """A 24 MB log scanned in 1 MB chunks: the Python prefilter's peak stays a few chunks."""
    monkeypatch.setattr(ex, "CHUNK", 1 << 20)
    log = tmp_path / "big.log"
    block = ((NOISE + "\n") * 2000).encode()
    with open(log, "wb") as fh:
        while fh.tell() < 24 << 20:
            fh.write(block)
        fh.write(VERSION_LINE.encode() + b"\n")
    m = ex.Matcher(kb.all_entries())
    tracemalloc.start()
    with open(log, "rb") as fh:
        m._scan_python(fh, "big.log", 0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "trt-engine-version-mismatch" in m.hits
    assert peak < 6 << 20, f"peak {peak / 1e6:.1f} MB"


def test_prefilter_keeps_most_lines_away_from_the_regexes():
    data = ((NOISE + "\n") * 5000 + VERSION_LINE + "\n").encode()
    m = scan_bytes(data)
    assert m.candidates == 1


def test_parallel_grep_segments_keep_absolute_line_numbers(tmp_path, monkeypatch):
    """A large file is split over several greps (one per CPU); the findings, counts and line
    numbers must be those of one sequential scan."""
    if not ex._grep():
        pytest.skip("no GNU grep")
    monkeypatch.setattr(ex, "PARALLEL_MIN_SIZE", 1 << 16)
    monkeypatch.setattr(ex.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    log = tmp_path / "big.log"
    lines = []
    for i in range(12000):
        lines.append(NOISE if i % 1000 else VERSION_LINE if i % 2000 else "Killed")
    log.write_text("\n".join(lines) + "\n")
    res = {}
    for engine in ("python", "grep"):
        monkeypatch.setenv("TRTDIAG_EXPLAIN_ENGINE", engine)
        m = ex.Matcher(kb.all_entries())
        with open(log, "rb") as fh:
            used = m.scan(fh, "big.log", 0, log.stat().st_size)
        res[engine] = {k: (h.count, h.first, h.last) for k, h in m.hits.items()}
        if engine == "grep":
            assert used.startswith("grep×"), used
    assert res["python"] == res["grep"]
    assert res["grep"]["build-oom-killed"][1][2] == 1 and res["grep"]["trt-engine-version-mismatch"][2][2] == 11001


def test_gzip_compressed_log_is_read_as_text(tmp_path):
    import gzip

    log = tmp_path / "server.log.1.gz"
    with gzip.open(log, "wb") as fh:
        fh.write(((NOISE + "\n") * 100 + VERSION_LINE + "\n").encode())
    code, d = _json("explain", str(log))
    assert code == 1
    f = d["findings"][0]
    assert f["kb"] == "trt-engine-version-mismatch" and f["evidence"]["first"] == f"{log}:101"
    bad = tmp_path / "broken.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    p = run_cli("explain", str(bad))
    assert p.returncode == 2 and "not a readable gzip file" in p.stderr and "Traceback" not in p.stderr


def test_independent_warnings_are_not_called_consequences():
    """The NGC banner's SHMEM note is its own warning, not a consequence of the driver error."""
    code, d = _json("explain", str(LOGS / "server-1838_container-driver.log"))
    assert code == 1
    by = {f["kb"]: f for f in d["findings"]}
    assert d["findings"][0]["kb"] == "cuda-driver-too-old"
    assert by["shm-too-small"]["severity"] == "warning" and "consequence" not in by["shm-too-small"]["message"]
    assert by["shm-too-small"]["message"].startswith("Docker gives a container 64 MB")


def test_confirm_command_checks_the_port_the_log_names():
    """A real field report (tensorrtllm_backend#524): gRPC port 18001 taken.  The suggested check
    must look at 18001, not at the default 8001."""
    from tests.conftest import DATA

    p = run_cli("explain", str(DATA / "logs" / "backend-524_grpc-port.log"))
    assert "confirm on this machine: trtdiag check --only PRT001 --grpc-port 18001" in p.stdout


def test_byte_counts_from_the_log_also_read_in_gib():
    """live2diff#9: "Requested amount of GPU memory (1180463648 bytes)": the number stays, the
    reader gets it in GiB too."""
    p = run_cli("explain", str(LOGS / "live2diff-9_load-oom.log"), "--json")
    (f,) = [x for x in json.loads(p.stdout)["findings"] if x["kb"] == "gpu-out-of-memory"]
    assert f["evidence"]["requested_bytes"] == "1180463648 (1.10 GiB)"


def test_confirm_command_names_the_target_the_check_needs():
    """tensorrtllm_backend#168 (KV cache): MEM002 applies only to an engine: the confirming command
    says so, with a placeholder to replace."""
    p = run_cli("explain", str(LOGS / "backend-168_kv-cache.log"))
    assert "confirm on this machine: trtdiag check --only MEM002 --engine-dir ENGINE_DIR" in p.stdout
