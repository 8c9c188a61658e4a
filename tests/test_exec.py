"""`trtdiag exec`: real child processes, real exec, real signals.

Each test starts trtdiag as a child whose pid the test knows, and checks what the launched
command saw: its pid, its exit code, its signals, a marker file it writes when it runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import cli_env, run_cli

PY = sys.executable
# Checks whose outcome does not depend on the machine the tests run on (ok or info only).
BENIGN = ["--only", "CTR003,CTR005"]


def start(*args: str, env: dict | None = None, script: str | None = None) -> subprocess.Popen:
    argv = [PY, script] if script else [PY, "-m", "trtdiag"]
    return subprocess.Popen([*argv, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(env))


def marker_cmd(path) -> list[str]:
    return [PY, "-c", f"open({str(path)!r}, 'w').write('ran')"]


def test_the_command_gets_trtdiags_pid_and_output():
    p = start("exec", *BENIGN, "--", PY, "-c", "import os; print(os.getpid())")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out.strip() == str(p.pid)
    assert "launching" in err and "Traceback" not in err


def test_the_commands_exit_code_is_trtdiags():
    p = start("exec", *BENIGN, "--", PY, "-c", "import sys; sys.exit(7)")
    p.communicate(timeout=60)
    assert p.returncode == 7


def test_death_by_signal_passes_through():
    p = start("exec", *BENIGN, "--", PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL


def test_a_signal_sent_to_the_pid_reaches_the_command():
    code = textwrap.dedent("""
        import signal, sys, time
        def bye(*a):
            print("got SIGTERM", flush=True)
            sys.exit(42)
        signal.signal(signal.SIGTERM, bye)
        print("ready", flush=True)
        time.sleep(60)
    """)
    p = start("exec", *BENIGN, "--", PY, "-c", code)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 42 and "got SIGTERM" in out, err


def test_sigpipe_is_default_again_in_the_command():
    """Python ignores SIGPIPE; exec must not hand that on (a `head` downstream would hang a writer)."""
    p = start("exec", *BENIGN, "--", "grep", "SigIgn", "/proc/self/status")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    ignored = int(out.split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))


def test_a_failing_check_stops_the_launch(tmp_path):
    marker = tmp_path / "started"
    p = run_cli("exec", "--only", "CTR004", "--world-size", "4", "--", *marker_cmd(marker), env={"CUDA_VISIBLE_DEVICES": "0"})
    assert p.returncode == 1
    assert not marker.exists()
    assert "4 ranks to start but only" in p.stderr and "not launching" in p.stderr
    assert "Traceback" not in p.stderr


def test_fail_on_never_launches_anyway(tmp_path):
    marker = tmp_path / "started"
    p = run_cli("exec", "--only", "CTR004", "--world-size", "4", "--fail-on", "never", "--", *marker_cmd(marker),
                env={"CUDA_VISIBLE_DEVICES": "0"})
    assert p.returncode == 0, p.stderr
    assert marker.read_text() == "ran"
    assert "4 ranks to start but only" in p.stderr  # the report is still shown


def test_world_size_read_from_mpirun_in_the_launch_command(tmp_path):
    """mpirun -n 2 …: the world size comes from the command line; the rank count is checked
    against the (one) GPU that CUDA_VISIBLE_DEVICES leaves.  The mpirun here is a stand-in
    script (it writes a marker), since only the argv is read."""
    marker = tmp_path / "started"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "mpirun"
    fake.write_text(f"#!/bin/sh\necho ran > {marker}\n")
    fake.chmod(0o755)
    env = {"CUDA_VISIBLE_DEVICES": "0", "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    p = run_cli("exec", "--only", "CTR004", "--", "mpirun", "-n", "2", "tritonserver", "--model-repository", str(tmp_path), env=env)
    assert p.returncode == 1 and not marker.exists()
    assert "2 ranks to start" in p.stderr


def _fake_root_with_leftover_shm(tmp_path):
    root = tmp_path / "root"
    (root / "proc" / "self").mkdir(parents=True)
    (root / "dev" / "shm").mkdir(parents=True)
    (root / "proc" / "self" / "mountinfo").write_text(
        "30 25 0:27 / /dev/shm rw,nosuid,nodev - tmpfs shm rw,size=4194304k\n")
    (root / "dev" / "shm" / "triton_python_backend_shm_region_3").write_bytes(b"\0" * 8192)
    return root


def test_fail_on_warning_stops_on_a_warning(tmp_path):
    marker = tmp_path / "started"
    env = {"TRTDIAG_ROOT": str(_fake_root_with_leftover_shm(tmp_path))}
    p = run_cli("exec", "--only", "CTR001", "--fail-on", "warning", "--", *marker_cmd(marker), env=env)
    assert p.returncode == 1 and not marker.exists(), p.stderr
    assert "left in /dev/shm" in p.stderr
    p = run_cli("exec", "--only", "CTR001", "--", *marker_cmd(marker), env=env)
    assert p.returncode == 0 and marker.exists(), p.stderr


SLOW_LAUNCHER = """
import sys
from trtdiag import proc
from trtdiag.core.finding import ok
from trtdiag.core.catalogue import rule as check

@check("CTR990", area="container", title="a check made slow for the time-budget test")
def slow(facts):
    "Test only: starts a child that sleeps, the way a hung probe would."
    proc.run(["sleep", "57"], timeout=120)
    yield ok("never reached")

from trtdiag.app.main import main
sys.exit(main(sys.argv[1:]))
"""

CHILDREN = """
import os, sys
me = str(os.getpid())
kids = []
for n in os.listdir("/proc"):
    if n.isdigit():
        try:
            st = open(f"/proc/{n}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if st[1] == me and st[0] != "Z":
            kids.append(n)
open(sys.argv[1], "w").write(",".join(kids))
"""


def test_time_budget_abandons_a_slow_check_and_launches(tmp_path):
    """A check registered only in this test's launcher script hangs in a child process; after the
    budget exec warns, stops that child, and launches (the command finds no orphan of it)."""
    launcher = tmp_path / "launcher.py"
    launcher.write_text(SLOW_LAUNCHER)
    out = tmp_path / "children"
    t0 = time.monotonic()
    report = tmp_path / "report.json"
    p = start("exec", "--only", "CTR990", "--timeout", "1.5", "--json-report", str(report), "--",
              PY, "-c", CHILDREN, str(out), script=str(launcher))
    _, err = p.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert p.returncode == 0, err
    assert "did not finish within 1.5s" in err and "--skip CTR990" in err and "launching" in err
    assert out.read_text() == ""  # the abandoned probe's `sleep` was stopped, not inherited
    ctx = json.loads(report.read_text())["context"]
    assert ctx["timed_out"] is True and ctx["still_running"] == "CTR990"


def test_skip_variable_launches_without_checking(tmp_path):
    marker = tmp_path / "started"
    p = run_cli("exec", "--only", "CTR004", "--world-size", "4", "--", *marker_cmd(marker),
                env={"TRTDIAG_SKIP": "1", "CUDA_VISIBLE_DEVICES": "0"})
    assert p.returncode == 0 and marker.exists()
    assert p.stderr.strip().count("\n") == 0 and "TRTDIAG_SKIP" in p.stderr


def test_missing_command_is_127_like_a_shell():
    p = run_cli("exec", "--", "no-such-command-trtdiag")
    assert p.returncode == 127
    assert p.stderr.strip() == "trtdiag: no-such-command-trtdiag: command not found"


def test_not_executable_is_126(tmp_path):
    f = tmp_path / "script"
    f.write_text("#!/bin/sh\n")
    f.chmod(stat.S_IRUSR | stat.S_IWUSR)
    p = run_cli("exec", "--", str(f))
    assert p.returncode == 126 and "permission denied" in p.stderr


def test_no_command_is_a_usage_error():
    p = run_cli("exec", "--only", "CTR003")
    assert p.returncode == 2 and "nothing to launch" in p.stderr and "Traceback" not in p.stderr


def test_command_resolved_through_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "my-server"
    tool.write_text("#!/bin/sh\necho \"server $0 $1\"\n")
    tool.chmod(0o755)
    p = run_cli("exec", *BENIGN, "--", "my-server", "x", env={"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"})
    assert p.returncode == 0 and p.stdout.strip() == "server " + str(tool) + " x"


def test_quiet_prints_one_line_when_all_is_well():
    p = run_cli("exec", "--quiet", *BENIGN, "--", "true")
    assert p.returncode == 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "checks passed" in lines[0] and "launching true" in lines[0]


def test_json_report_is_kept(tmp_path):
    path = tmp_path / "report.json"
    p = run_cli("exec", "--only", "CTR004", "--world-size", "4", "--json-report", str(path), "--", "true",
                env={"CUDA_VISIBLE_DEVICES": "0"})
    assert p.returncode == 1
    data = json.loads(path.read_text())
    assert data["schema"] == "trtdiag.report/1" and data["command"] == "exec"
    assert data["context"]["launch"] == ["true"]
    f = next(f for f in data["findings"] if f["id"] == "CTR004")
    assert f["severity"] == "error" and f["evidence"]["world size"] == 4
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".trtdiag-tmp")]


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    p = run_cli("exec", "--timeout", "abc", "--", "true")
    assert p.returncode == 2 and "Traceback" not in p.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_port_in_use_stops_tritonserver(tmp_path):
    """The ports check (another area's, PRT…) reads the ports exec took from the tritonserver
    command line.  `tritonserver` here is a stand-in script that writes a marker: Triton cannot
    run on a CPU machine, and only its argv matters."""
    pytest.importorskip("trtdiag.rules.ports.PRT001_ports_free")
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("0.0.0.0", 0))
    held.listen(1)
    port = held.getsockname()[1]
    try:
        marker = tmp_path / "started"
        bindir = tmp_path / "bin"
        bindir.mkdir()
        fake = bindir / "tritonserver"
        fake.write_text(f"#!/bin/sh\necho ran > {marker}\n")
        fake.chmod(0o755)
        env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
        grpc, metrics = _free_port(), _free_port()
        repo = tmp_path / "repo"
        (repo / "m").mkdir(parents=True)
        (repo / "m" / "config.pbtxt").write_text('name: "m"\nbackend: "python"\n')
        p = run_cli("exec", "--only", "ports", "--", "tritonserver", f"--http-port={port}", "--grpc-port", str(grpc),
                    "--metrics-port", str(metrics), "--model-repository", str(repo), env=env)
        assert p.returncode == 1 and not marker.exists(), p.stderr
        assert f"http port {port} is in use" in p.stderr
    finally:
        held.close()


BROKEN_LAUNCHER = """
import sys
from trtdiag.render import terminal as render

def broken(*a, **k):
    raise RuntimeError("renderer bug")

render.terminal = broken  # a bug in trtdiag itself, made on purpose for this test
from trtdiag.app.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_bug_in_trtdiag_does_not_keep_the_server_down(tmp_path):
    launcher = tmp_path / "launcher.py"
    launcher.write_text(BROKEN_LAUNCHER)
    marker = tmp_path / "started"
    p = start("exec", *BENIGN, "--", *marker_cmd(marker), script=str(launcher))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0 and marker.exists()
    assert "internal error: RuntimeError: renderer bug" in err and "unchecked" in err and "Traceback" not in err


def _can_unshare_pid() -> bool:
    import shutil

    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-pf", "--mount-proc", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _can_unshare_pid(), reason="needs a new PID namespace (unshare -pf: root or user namespaces)")
def test_as_pid_1_of_a_new_pid_namespace(tmp_path):
    """As a container ENTRYPOINT: trtdiag is PID 1, and after exec the command is PID 1."""
    p = subprocess.run(["unshare", "-pf", "--mount-proc", PY, "-m", "trtdiag", "exec", *BENIGN, "--",
                        PY, "-c", "import os, sys; print(os.getpid()); sys.exit(5)"],
                       capture_output=True, text=True, env=cli_env(), timeout=60)
    assert p.stdout.strip() == "1" and p.returncode == 5, p.stderr
