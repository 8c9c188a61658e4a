"""probes/launch.py: what a launch command line says (model repository, ports, world size).

The command lines are the ones the projects document: tritonserver's flags, tensorrtllm_backend's
scripts/launch_triton_server.py (its argparse and the mpirun line it builds), trtllm-serve.
"""

from __future__ import annotations

import pytest

from trtdiag.core.facts import Facts
from trtdiag.probes.launch import options_from, parse


def test_tritonserver_flags_both_spellings():
    p = parse(["tritonserver", "--model-repository=/models", "--http-port", "9000", "--grpc-port=9001", "--metrics-port", "9002"])
    assert p["kind"] == "tritonserver" and p["model_repo"] == "/models"
    assert (p["http_port"], p["grpc_port"], p["metrics_port"]) == (9000, 9001, 9002)
    assert "world_size" not in p


def test_tritonserver_model_store_and_defaults():
    p = parse(["/opt/tritonserver/bin/tritonserver", "--model-store", "/m"])
    assert p["model_repo"] == "/m"
    assert options_from(p) == {"model_repo": "/m", "http_port": 8000, "grpc_port": 8001, "metrics_port": 8002}


def test_disabled_endpoints_get_no_port():
    p = parse(["tritonserver", "--model-repository=/m", "--allow-http", "false", "--allow-metrics=false"])
    assert p["allow_http"] is False and p["allow_metrics"] is False and "allow_grpc" not in p
    assert options_from(p) == {"model_repo": "/m", "grpc_port": 8001}


def test_python_backend_shm_sizes():
    p = parse(["tritonserver", "--model-repository=/m", "--backend-config=python,shm-default-byte-size=67108864",
               "--backend-config", "python,shm-growth-byte-size=1048576"])
    assert p["python_backend"] == {"shm-default-byte-size": 67108864, "shm-growth-byte-size": 1048576}


def test_launch_triton_server_script():
    p = parse(["python3", "scripts/launch_triton_server.py", "--world_size=2", "--model_repo", "/repo",
               "--http_port", "8100", "--grpc_port=8101", "--metrics_port", "8102"])
    assert p["kind"] == "launch_triton_server" and p["world_size"] == 2 and p["model_repo"] == "/repo"
    assert options_from(p) == {"model_repo": "/repo", "world_size": 2, "http_port": 8100, "grpc_port": 8101, "metrics_port": 8102}


def test_launch_triton_server_defaults_world_size_1():
    assert parse(["python", "/app/scripts/launch_triton_server.py"])["world_size"] == 1


def test_mpirun_mpmd_line_as_launch_triton_server_builds_it():
    # get_cmd() in scripts/launch_triton_server.py: one `-n 1 tritonserver …` segment per rank
    argv = ["mpirun", "--allow-run-as-root"]
    for i in range(4):
        argv += ["-n", "1", "/opt/tritonserver/bin/tritonserver", "--model-repository=/r",
                 f"--backend-config=python,shm-region-prefix-name=prefix{i}_", ":"]
    p = parse(argv)
    assert p["world_size"] == 4 and p["mpi"]["ranks"] == 4 and p["kind"] == "tritonserver" and p["model_repo"] == "/r"


@pytest.mark.parametrize("argv, ranks", [
    (["mpirun", "-np", "8", "tritonserver"], 8),
    (["mpiexec", "-n", "2", "--bind-to", "none", "-x", "NCCL_DEBUG=INFO", "tritonserver"], 2),
    (["mpirun", "--np=3", "--mca", "btl", "^openib", "tritonserver"], 3),
    (["mpirun", "--oversubscribe", "tritonserver"], 1),
])
def test_mpirun_rank_counts(argv, ranks):
    p = parse(argv)
    assert p["world_size"] == ranks and p["kind"] == "tritonserver"


def test_mpirun_with_hosts_is_marked_multi_node():
    p = parse(["mpirun", "-np", "16", "--hostfile", "hosts", "tritonserver"])
    assert p["mpi"]["hosts"] is True


def test_trtllm_serve(tmp_path):
    eng = tmp_path / "engine"
    eng.mkdir()
    (eng / "rank0.engine").write_bytes(b"x")
    p = parse(["trtllm-serve", str(eng), "--port", "8080", "--tp_size", "2", "--tokenizer", str(tmp_path)])
    assert p["kind"] == "trtllm-serve" and p["engine_dir"] == str(eng) and p["http_port"] == 8080 and p["world_size"] == 2
    assert options_from(p)["tokenizer_dir"] == str(tmp_path)
    p = parse(["trtllm-serve", "meta-llama/Llama-3-8B"])
    assert "engine_dir" not in p and options_from(p) == {"http_port": 8000}


def test_wrappers_env_and_sh_c():
    p = parse(["env", "NCCL_DEBUG=INFO", "tritonserver", "--model-repository=/m"])
    assert p["kind"] == "tritonserver" and p["model_repo"] == "/m"
    p = parse(["bash", "-c", "cd /app && exec mpirun -n 2 tritonserver --model-repository /m2 --http-port 7000"])
    assert p["kind"] == "tritonserver" and p["world_size"] == 2 and p["http_port"] == 7000


def test_other_commands_imply_nothing():
    for argv in (["true"], ["python3", "-c", "print(1)"], ["sh", "-c", "unterminated 'quote"], []):
        assert options_from(parse(argv)) == {}


def test_unparsable_numbers_are_none_not_a_crash():
    p = parse(["tritonserver", "--http-port", "eighty", "--model-repository"])
    assert p["http_port"] is None and "model_repo" not in p


def test_probe_reads_the_launch_argv_option():
    f = Facts({"launch_argv": ["tritonserver", "--model-repository", "/x"]})
    assert f["launch.command"]["model_repo"] == "/x"
    assert Facts({})["launch.command"] is None


def test_exec_options_fill_only_what_the_user_did_not_give(tmp_path):
    import argparse

    from trtdiag.app.commands.exec import _apply_launch_options

    args = argparse.Namespace(launch_argv=["tritonserver", "--model-repository", "/cmd", "--http-port", "9000"],
                              model_repo="/user", engine_dir=None, http_port=None, grpc_port=None, metrics_port=None, world_size=None)
    _apply_launch_options(args)
    assert args.model_repo == "/user" and args.http_port == 9000 and args.grpc_port == 8001 and args.world_size is None


def test_parse_never_crashes_on_any_argv():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["tritonserver", "mpirun", "-n", "-np", "2", ":", "--model-repository", "--http-port=",
                             "--http-port", "x", "python3", "launch_triton_server.py", "--world_size", "trtllm-serve",
                             "--tp_size", "sh", "-c", "env", "A=1", "--backend-config", "python,shm-default-byte-size=",
                             "--mca", "=", "", "--allow-http", "false", "bash", "&&", "'"])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.one_of(words, st.text(max_size=12)), max_size=12))
    def prop(argv):
        p = parse(argv)
        opts = options_from(p)
        assert set(opts) <= {"model_repo", "engine_dir", "world_size", "tokenizer_dir", "http_port", "grpc_port", "metrics_port"}
        assert opts.get("world_size", 1) >= 1

    prop()
