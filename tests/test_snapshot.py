"""Snapshots: `trtdiag collect -o snap.json` then `trtdiag check --from snap.json` gives the findings
the live check gives on the same machine; malformed snapshots end with one line and exit code 2."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.fleet_helpers import small_deployment, snapshot


def ids_and_severities(report: dict) -> list[tuple[str, str]]:
    return sorted((f["id"], f["severity"]) for f in report["findings"])


def whole_findings(report: dict) -> list[str]:
    """Every finding whole — title, message, evidence, fix with its diff — in a stable order."""
    return sorted(json.dumps(f, sort_keys=True) for f in report["findings"])


def test_check_from_snapshot_gives_the_live_findings(tmp_path):
    eng, repo = small_deployment(tmp_path)
    # ports are skipped: the live check and the collect are two runs, and another process may take
    # or free port 8000 between them (the ports' snapshot is tested in test_ports/test_triton)
    target = ["--engine-dir", str(eng), "--model-repo", str(repo), "--skip", "PRT"]
    live = run_cli("check", *target, "--json")
    assert "Traceback" not in live.stderr, live.stderr
    snap = tmp_path / "snap.json"
    c = run_cli("collect", *target, "-o", str(snap))
    assert c.returncode == 0, c.stderr
    replay = run_cli("check", "--from", str(snap), "--skip", "PRT", "--json")
    assert "Traceback" not in replay.stderr, replay.stderr
    a, b = json.loads(live.stdout), json.loads(replay.stdout)
    assert ids_and_severities(a) == ids_and_severities(b)
    assert whole_findings(a) == whole_findings(b)
    assert live.returncode == replay.returncode
    assert b["context"].get("snapshot") is True and b["context"]["engine_dir"] == str(eng)


def test_check_from_snapshot_elsewhere_reads_nothing_of_that_machine(tmp_path):
    """The replay runs where the recorded engine directory and model repository no longer exist,
    from another directory, with other CUDA_VISIBLE_DEVICES / LD_LIBRARY_PATH: a check that reads the
    machine instead of the facts gives other findings here."""
    eng, repo = small_deployment(tmp_path / "node")
    target = ["--engine-dir", str(eng), "--model-repo", str(repo)]
    live = run_cli("check", *target, "--json")
    snap = tmp_path / "snap.json"
    assert run_cli("collect", *target, "-o", str(snap)).returncode == 0
    (tmp_path / "node").rename(tmp_path / "gone")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replay = run_cli("check", "--from", str(snap), "--json", cwd=str(elsewhere),
                     env={"CUDA_VISIBLE_DEVICES": "7", "LD_LIBRARY_PATH": str(elsewhere)})
    assert "Traceback" not in replay.stderr, replay.stderr
    assert ids_and_severities(json.loads(live.stdout)) == ids_and_severities(json.loads(replay.stdout))


def test_collect_records_environment_launch_variables_and_rank(tmp_path):
    snap = tmp_path / "snap.json"
    p = run_cli("collect", "-o", str(snap), env={"NCCL_SOCKET_IFNAME": "eth0", "MY_API_TOKEN": "s3cret"})
    assert p.returncode == 0, p.stderr
    d = json.loads(snap.read_text())
    assert d["schema"] == "trtdiag.snapshot/1"
    assert d["facts"]["env.summary"]["python"] and d["facts"]["env.summary"]["hostname"]
    assert d["facts"]["env.vars"]["NCCL_SOCKET_IFNAME"] == "eth0"
    assert "MY_API_TOKEN" not in d["facts"]["env.vars"] and "s3cret" not in snap.read_text()
    assert set(d["facts"]["fleet.rank"]) == {"launcher", "rank", "local_rank", "size"}


BAD = {
    "not-json": "{\"schema\": ",
    "not-an-object": "[1, 2]",
    "wrong-schema": json.dumps({"schema": "trtdiag.report/1", "facts": {}}),
    "facts-a-list": json.dumps({"schema": "trtdiag.snapshot/1", "facts": []}),
    "inventory-a-string": json.dumps({"schema": "trtdiag.snapshot/1", "facts": {"gpu.inventory": "H100"}}),
    "error-not-text": json.dumps({"schema": "trtdiag.snapshot/1", "errors": {"gpu.inventory": 5}}),
    "world-size-text": json.dumps({"schema": "trtdiag.snapshot/1", "options": {"world_size": "4"}}),
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_snapshot_is_one_line_and_exit_2(tmp_path, cli, name):
    p = tmp_path / f"{name}.json"
    p.write_text(BAD[name])
    code, out, err = cli("check", "--from", str(p))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("trtdiag: error: ") and str(p) in err


def test_missing_snapshot_file(cli, tmp_path):
    code, _, err = cli("check", "--from", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err


def test_second_snapshot_is_validated_too(tmp_path, cli):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(snapshot(0)))
    badf = tmp_path / "bad.json"
    badf.write_text(json.dumps({"schema": "trtdiag.snapshot/1", "facts": {"engine.info": [1]}}))
    code, _, err = cli("check", "--from", str(good), "--from", str(badf))
    assert code == 2 and "bad.json: malformed snapshot (facts['engine.info'] is a list" in err


def test_collect_per_rank_file_names_and_gpu_of_the_local_rank(tmp_path):
    """What `mpirun -n N trtdiag collect -o snap-{rank}.json` does on rank 3 (launcher variables set by hand)."""
    p = run_cli("collect", "-o", str(tmp_path / "snap-{rank}.json"),
                env={"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4"})
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path / "snap-3.json").read_text())
    assert d["facts"]["fleet.rank"] == {"launcher": "openmpi", "rank": 3, "local_rank": 1, "size": 4}
    assert d["options"]["gpu_index"] == 1


def test_collect_redact_hides_this_machine_and_still_replays(tmp_path):
    import getpass
    import os
    import re
    import socket

    eng, repo = small_deployment(tmp_path)
    snap = tmp_path / "public.json"
    assert run_cli("collect", "--redact", "--engine-dir", str(eng), "-o", str(snap)).returncode == 0
    text = snap.read_text()
    for name in (socket.gethostname(), getpass.getuser()):
        assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name
    assert os.path.expanduser("~") not in text
    replay = run_cli("check", "--from", str(snap), "--json")
    assert replay.returncode in (0, 1) and "Traceback" not in replay.stderr, replay.stderr


def test_facts_a_snapshot_did_not_record_make_checks_not_applicable_not_warnings():
    """tests/data/memory's snapshot records the engine, GPU and repository only: the TensorRT,
    MPI and build checks have nothing to read; they are not applicable, not 'Could not check'
    warnings.  Its engine ranks carry no plan header: ENG001 must not crash on that."""
    from tests.conftest import DATA, run_json

    code, rep = run_json("check", "--from", str(DATA / "memory" / "snapshot_qwen7b_fp16_24gib.json"))
    titles = [f["title"] for f in rep["findings"]]
    assert not [t for t in titles if t.startswith(("Could not check", "Check crashed"))], titles
    assert {"TRT001", "MPI001", "BLD002"} <= set(rep["not_applicable"])
    assert any(f["id"] == "ENG001" for f in rep["findings"]) and any(f["id"] == "MEM002" for f in rep["findings"])
