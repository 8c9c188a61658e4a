"""`trtdiag report`: environment + findings as markdown or JSON; --redact hides who and where."""

from __future__ import annotations

import getpass
import json
import os
import re
import socket

from trtdiag.redact import SYSTEM_USERS, Redactor, redact

from tests.conftest import run_cli
from tests.fleet_helpers import inventory, small_deployment, snapshot, write

ROWS = ("os", "kernel", "python", "nvidia driver", "gpus", "tensorrt", "tensorrt-llm", "tensorrtllm_backend",
        "transformers", "mpi4py", "hwloc library", "container")


def word(name: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")


def test_report_markdown_has_the_environment_and_findings():
    p = run_cli("report")
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stderr
    assert p.stdout.startswith("## trtdiag report") and "<summary>Environment</summary>" in p.stdout
    for row in ROWS:
        assert f"| {row} | " in p.stdout, row
    assert "| mpi | " in p.stdout or "| mpi library | " in p.stdout  # the MPI area's mpi.runtime, or the library found here
    assert f"| host | {socket.gethostname()} |" in p.stdout


def test_report_json_context_says_not_found_for_what_is_missing(tmp_path):
    snap = snapshot(0, host="node-a")
    del snap["facts"]["trt.installed"]
    (path,) = write(tmp_path, [snap])
    p = run_cli("report", "--from", path, "--json")
    d = json.loads(p.stdout)
    assert d["schema"] == "trtdiag.report/1" and d["command"] == "report"
    ctx = d["context"]
    assert ctx["tensorrt"] == "not found" and ctx["tensorrt-llm"] == "0.9.0" and ctx["host"] == "node-a"
    assert ctx["nvidia driver"] == "580.159.04" and ctx["cuda (driver supports)"] == "13.0"
    assert ctx["gpus"][0].startswith("0: NVIDIA H100 80GB HBM3 (cc 9.0, 79.6 GiB")


def test_report_redact_hides_this_machine(tmp_path):
    host, user, home = socket.gethostname(), getpass.getuser(), os.path.expanduser("~")
    eng, repo = small_deployment(tmp_path)
    for args in (["report", "--redact"], ["report", "--redact", "--json"]):
        p = run_cli(*args, "--engine-dir", str(eng), "--model-repo", str(repo))
        assert "Traceback" not in p.stderr, p.stderr
        out = p.stdout
        assert not word(host).search(out), f"host name {host!r} in: {out}"
        assert not word(user).search(out), f"user name {user!r} in: {out}"
        if user not in SYSTEM_USERS:  # root stays readable in --allow-run-as-root; any other name goes, even inside words
            assert not re.search(rf"(?<!\w){re.escape(user)}(?!\w)", out), f"user name {user!r} in: {out}"
        if len(host) >= 4:
            assert host not in out
        assert home not in out
        assert "<host>" in out and "<user>" in out


def test_report_redact_hides_recorded_hosts_users_and_addresses(tmp_path):
    snaps = [snapshot(r, host=f"gpu-node-{17 + r}.corp.example.com", inv=inventory(2, uuid_prefix="GPU-5b0e8c1d-aaaa-bbbb-cccc-00000000000"))
             for r in range(2)]
    snaps[1]["facts"]["env.vars"]["NCCL_SOCKET_IFNAME"] = "eth0"
    snaps[1]["facts"]["env.vars"]["UCX_NET_DEVICES"] = "mlx5_0:1"
    snaps[0]["facts"]["fleet.reach"] = {"peers": [{"rank": 1, "host": "gpu-node-18.corp.example.com", "addr": "10.40.3.18", "port": 41234,
                                                   "resolved": "10.40.3.18", "resolve_error": None,
                                                   "connect": "ConnectionRefusedError: connect to 10.40.3.18:41234 refused"}]}
    snaps[1]["facts"]["fleet.reach"] = {"peers": []}
    paths = write(tmp_path, snaps)
    p = run_cli("report", "--redact", "--json", *[a for x in paths for a in ("--from", x)])
    out = p.stdout
    assert "Traceback" not in p.stderr, p.stderr
    for secret in ("gpu-node-17", "gpu-node-18", "alice", "/home/alice", "10.40.3.18", "GPU-5b0e8c1d"):
        assert secret not in out, secret
    d = json.loads(out)
    # other machines' names get numbered placeholders, in rank order: the ranks stay apart
    assert d["context"]["host"] == "<host-1>" and d["context"]["redacted"] is True
    assert d["context"]["ranks"] == ["rank 0 (<host-1>)", "rank 1 (<host-2>)"]
    flt7 = [f for f in d["findings"] if f["id"] == "FLT007"][0]
    assert "<ip>:41234" in json.dumps(flt7)
    assert "mlx5_0:1" in out  # a device name, not an address


def test_redactor_keeps_versions_and_loopback_hides_addresses():
    r = Redactor(hosts=["dgx-a100-07"], users=["bob"], homes=["/home/bob"], addrs=["192.168.7.21"])
    text = ("TensorRT 10.0.1.6 built on dgx-a100-07 by bob in /home/bob/engines; peer 10.1.2.3:29500, "
            "fe80::a00:27ff:fe4e:66a1 and 2001:db8::7 up; 127.0.0.1:8000 and ::1 stay; mac 00:1a:2b:3c:4d:5e; "
            "GPU-12345678-1234-1234-1234-123456789abc; from 192.168.7.21; /home/carol/x; at 14:22:31; std::vector")
    out = r(text)
    assert out == ("TensorRT 10.0.1.6 built on <host> by <user> in ~/engines; peer <ip>:29500, "
                   "<ip> and <ip> up; 127.0.0.1:8000 and ::1 stay; mac <mac>; "
                   "<gpu-uuid>; from <ip>; /home/<user>/x; at 14:22:31; std::vector")


def test_redact_walks_keys_and_values_of_the_whole_report():
    data = {"context": {"host": "n1", "user": "alice", "home": "/home/alice"}, "findings": [{"evidence": {"/home/alice/tok": "missing", "serial": "1652823055407",
                                                                                     "addr": "172.16.0.4"},
                                                                        "fix": {"preview": "$ ssh n1 rm -rf /home/alice/cache"}}]}
    out = redact(data, {"hosts": set(), "users": set(), "homes": set(), "addrs": set()})
    s = json.dumps(out)
    assert "alice" not in s and "n1" not in s and "1652823055407" not in s and "172.16.0.4" not in s
    assert out["findings"][0]["evidence"]["~/tok"] == "missing"
    assert out["findings"][0]["fix"]["preview"] == "$ ssh <host-1> rm -rf ~/cache"


def test_redactor_hides_addresses_in_nccl_lines_and_keeps_version_assignments():
    out = Redactor()("trt_version=10.0.1.6, upgrade from 9.2.0.5 to 9.3.0.1; NCCL WARN Connect to 10.38.10.112<21724> failed : "
                     "Connection refused; Bootstrap : Using eth0:10.38.10.4<0>; init_method tcp://162.105.146.176:22222")
    assert out == ("trt_version=10.0.1.6, upgrade from 9.2.0.5 to 9.3.0.1; NCCL WARN Connect to <ip><21724> failed : "
                   "Connection refused; Bootstrap : Using eth0:<ip><0>; init_method tcp://<ip>:22222")


def test_memlock_limit_reads_in_mib():
    """The real limit of this process, as `ulimit -l` would give it, in MiB (not 8388608 bytes)."""
    import re
    import resource

    from tests.conftest import run_cli

    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    p = run_cli("report", "--only", "CTR002")
    m = re.search(r"^\| ulimit memlock \| (.+) \|$", p.stdout, re.M)
    if m is None:
        return  # the container fact was not gathered here
    want = "unlimited" if soft == resource.RLIM_INFINITY else (f"{soft / (1 << 20):g} MiB" if soft >= 1 << 20 else f"{soft} bytes")
    assert m.group(1) == want
