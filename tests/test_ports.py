"""PRT001: ports held by real listening sockets in child processes, on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from trtdiag.fixes.ports import kill_fix, launch_argv, may_kill
from trtdiag.probes.net import bind_error

LISTENER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', 0)); s.listen(1)\n"
    "print(s.getsockname()[1], flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def listener():
    """A real process holding a real listening socket; yields (pid, port)."""
    procs = []

    def start(argv0: str | None = None):
        argv = [sys.executable, "-c", LISTENER]
        if argv0:  # run under another argv[0] (bash's exec -a), as a leftover tritonserver would look
            argv = ["bash", "-c", f'exec -a {argv0} "$0" -c "$1"', sys.executable, LISTENER]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        port = int(p.stdout.readline())
        return p.pid, port

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def findings(cli, *args):
    code, out, err = cli("check", "--only", "ports", "--json", *args)
    assert "Traceback" not in err
    return code, [f for f in json.loads(out)["findings"] if f["id"] == "PRT001"]


def test_port_held_by_child_process_named_with_pid_and_name(cli, listener):
    pid, port = listener()
    code, fs = findings(cli, "--http-port", str(port))
    assert code == 1
    [f] = [f for f in fs if f["severity"] == "error"]
    assert f["evidence"]["pid"] == pid and f["evidence"]["port"] == port
    assert f["evidence"]["name"].startswith("python")
    assert f"PID {pid}" in f["title"]
    # a python process is not stopped: free ports are offered instead, and they are free
    assert f["fix"]["id"] == "use-free-ports" and f["fix"]["changes"] == []
    preview = f["fix"]["preview"]
    ports = [int(preview.split(flag)[1].split()[0]) for flag in ("--http-port", "--grpc-port", "--metrics-port")]
    assert all(bind_error(p) is None for p in ports)
    assert port not in ports


def test_free_ports_pass(cli):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    code, fs = findings(cli, "--http-port", str(port), "--grpc-port", str(port + 1), "--metrics-port", str(port + 2))
    if bind_error(port + 1) is None and bind_error(port + 2) is None:
        assert code == 0 and fs[0]["severity"] == "ok"


def test_earlier_tritonserver_of_this_user_is_stopped_only_with_kill(cli, listener):
    pid, port = listener("tritonserver")
    code, fs = findings(cli, "--http-port", str(port))
    [f] = [f for f in fs if f["severity"] == "error"]
    assert f["evidence"]["is_tritonserver"] is True
    assert f["fix"]["id"] == "stop-port-holder" and f["fix"]["requires"] == "--kill"
    code, out, err = cli("fix", "--apply", "--yes", "--only", "ports", "--http-port", str(port))
    assert "skipped stop-port-holder: needs --kill" in out
    assert os.path.exists(f"/proc/{pid}")
    code, out, err = cli("fix", "--apply", "--yes", "--kill", "--only", "ports", "--http-port", str(port))
    deadline = time.monotonic() + 10
    while bind_error(port) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bind_error(port) is None


def test_holder_pid_1_is_never_killed(cli, tmp_path):
    """A recorded ports fact (a snapshot, since no test may hold a port as PID 1): the holder looks
    like tritonserver of this user, yet PID 1 is never offered for stopping, even with --kill."""
    snap = {"schema": "trtdiag.snapshot/1", "options": {}, "errors": {},
            "facts": {"net.ports": {"address": "0.0.0.0", "uid": os.getuid(), "suggested": [8010, 8011, 8012],
                                    "ports": [{"service": "http", "port": 8000, "free": False, "error": "in use",
                                               "holder": {"pid": 1, "name": "tritonserver", "cmdline": ["tritonserver", "--model-repository", "/models"],
                                                          "user": "root", "uid": os.getuid(), "is_tritonserver": True}},
                                              {"service": "grpc", "port": 8001, "free": True, "error": None},
                                              {"service": "metrics", "port": 8002, "free": True, "error": None}]},
                      "triton.repo": None}}
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snap))
    code, fs = findings(cli, "--from", str(path))
    [f] = [f for f in fs if f["severity"] != "ok"]
    assert f["severity"] == "warning"  # no launch in view (no repository, no port options): a warning
    assert f["fix"]["id"] == "use-free-ports"
    assert "init process" in f["evidence"]["not stopped because"]
    code, out, err = cli("fix", "--json", "--from", str(path), "--only", "ports")
    assert all(c.get("kind") != "kill" for fx in json.loads(out)["fixes"] for c in fx["changes"])
    holder = snap["facts"]["net.ports"]["ports"][0]["holder"]
    assert may_kill(holder, os.getuid()) and kill_fix(holder, 8000, os.getuid()) is None
    other = dict(holder, pid=4242, uid=os.getuid() + 1, user="someone")
    assert "another user" in may_kill(other, os.getuid())


def test_launch_command_ports_replaced_or_added():
    argv = ["tritonserver", "--model-repository=/m", "--http-port", "8000", "--grpc-port=8001"]
    assert launch_argv(argv, {"http": 8010, "grpc": 8011, "metrics": 8012}) == [
        "tritonserver", "--metrics-port", "8012", "--model-repository=/m", "--http-port", "8010", "--grpc-port=8011"]


def test_launch_command_mpirun_and_launch_script():
    argv = ["mpirun", "--allow-run-as-root", "-n", "1", "/opt/tritonserver/bin/tritonserver", "--model-repository=/m", ":", "-n", "1", "/opt/tritonserver/bin/tritonserver"]
    out = launch_argv(argv, {"http": 8010, "grpc": 8011, "metrics": 8012})
    assert out[:11] == ["mpirun", "--allow-run-as-root", "-n", "1", "/opt/tritonserver/bin/tritonserver",
                        "--http-port", "8010", "--grpc-port", "8011", "--metrics-port", "8012"]
    assert out[11:] == ["--model-repository=/m", ":", "-n", "1", "/opt/tritonserver/bin/tritonserver"]
    argv = ["python3", "scripts/launch_triton_server.py", "--world_size", "2", "--model_repo", "/m"]
    assert launch_argv(argv, {"http": 8010, "grpc": 8011, "metrics": 8012})[-6:] == [
        "--http_port", "8010", "--grpc_port", "8011", "--metrics_port", "8012"]


def test_port_out_of_range_is_a_usage_error():
    from tests.conftest import run_cli

    p = run_cli("check", "--only", "ports", "--http-port", "70000")
    assert p.returncode == 2 and "between 1 and 65535" in p.stderr and "Traceback" not in p.stderr


# --- services the launch command turns off -------------------------------------------------------

def _hold_8000():
    """A real listening socket on 0.0.0.0:8000, Triton's default HTTP port.  When something else
    on this machine already holds 8000 the port is just as busy: the test goes on with that."""
    import errno

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("0.0.0.0", 8000))
        s.listen(1)
    except OSError as exc:
        s.close()
        if exc.errno != errno.EADDRINUSE:
            pytest.skip(f"cannot bind port 8000 here: {exc}")
        return None
    return s


def _free() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def test_allow_http_false_skips_the_busy_http_port(tmp_path):
    """`tritonserver --allow-http false` binds no HTTP port: a busy 8000 must not stop it.
    `tritonserver` is a stand-in script that writes a marker (Triton cannot run on a CPU machine)."""
    from tests.conftest import run_cli

    held = _hold_8000()
    try:
        assert bind_error(8000) == "in use"
        bindir = tmp_path / "bin"
        bindir.mkdir()
        marker = tmp_path / "started"
        fake = bindir / "tritonserver"
        fake.write_text(f"#!/bin/sh\necho \"$@\" > {marker}\n")
        fake.chmod(0o755)
        env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
        repo = tmp_path / "repo"
        (repo / "m").mkdir(parents=True)
        (repo / "m" / "config.pbtxt").write_text('name: "m"\nbackend: "python"\n')
        rest = ["--grpc-port", str(_free()), "--metrics-port", str(_free()), "--model-repository", str(repo)]
        # with HTTP on, the busy 8000 stops the launch (the held socket is what the check sees)
        p = run_cli("exec", "--fail-on", "error", "--only", "ports", "--", "tritonserver", *rest, env=env)
        assert p.returncode == 1 and not marker.exists(), p.stderr
        assert "8000" in p.stderr
        # with HTTP off, 8000 is not checked and the server starts
        p = run_cli("exec", "--fail-on", "error", "--only", "ports", "--", "tritonserver", "--allow-http", "false", *rest, env=env)
        assert p.returncode == 0, p.stderr
        assert marker.read_text().startswith("--allow-http false"), p.stderr
        assert "8000" not in p.stderr.split("launching")[0]
        assert "http turned off by the launch command" in p.stderr
    finally:
        if held:
            held.close()


def test_every_service_turned_off_checks_no_port():
    from trtdiag.core.facts import Facts
    from trtdiag.core.catalogue import CHECKS
    from trtdiag.engine.run import run_one

    import trtdiag.rules.ports.PRT001_ports_free  # noqa: F401

    facts = Facts({"launch_argv": ["tritonserver", "--model-repository", "/m", "--allow-http=false",
                                   "--allow-grpc", "false", "--allow-metrics", "0"]})
    assert facts["net.ports"]["ports"] == []
    assert run_one(CHECKS["PRT001"], facts, False) == []


def test_holder_command_line_is_one_quoted_line(cli, listener):
    """The holder's command line (here `python -c '<script with newlines>'`) is evidence on one
    line, shell-quoted: a multi-line argument must not break the report's layout."""
    import shlex

    pid, port = listener()
    code, fs = findings(cli, "--http-port", str(port))
    (f,) = [f for f in fs if f["severity"] == "error"]
    assert isinstance(f["evidence"]["cmdline"], str) and "\n" not in f["evidence"]["cmdline"]
    assert shlex.split(f["evidence"]["cmdline"])[1] == "-c"
