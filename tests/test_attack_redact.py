"""--redact by shape (issue 20, Medium 9): the port holder's command line with `--hf-token hf_…`
in `report --redact`; credentials inside env values (HF_ENDPOINT) and other hosts' names in
`collect --redact`; token-shaped path components in both."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from tests.conftest import cli_env, run_cli

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123"
IDENT = {"hosts": set(), "users": set(), "homes": set(), "addrs": set()}


def R(data):
    from trtdiag.redact import redact

    return redact(data, identity=IDENT)


def test_argv_value_after_a_secret_flag_is_hidden():
    out = R({"cmdline": ["python3", "serve.py", "--hf-token", TOKEN, "--tokenizer_dir", "/m/tok", "--max-tokens", "5", "--api-key=abc"]})
    assert out["cmdline"] == ["python3", "serve.py", "--hf-token", "<secret>", "--tokenizer_dir", "/m/tok", "--max-tokens", "5", "--api-key=<secret>"]


def test_command_line_string_token_url_and_path_shapes():
    out = R({"line": f"mpirun python3 x.py --token {TOKEN} --password 'p w'",
             "HF_ENDPOINT": "https://alice:s3cr3t@mirror.internal/hf", "TRT_CACHE": f"/cache/{TOKEN}/x",
             "GH": "ghp_" + "a1B2" * 9, "AWS": "AKIAABCDEFGHIJKLMNOP", "NGC_API_KEY": "whatever", "TRT_LOGGER": "info"})
    text = json.dumps(out)
    assert TOKEN not in text and "s3cr3t" not in text and "alice" not in text and "ghp_" not in text and "AKIA" not in text
    assert "whatever" not in text and "'p w'" not in text
    assert out["TRT_LOGGER"] == "info" and out["TRT_CACHE"] == "/cache/<secret>/x"
    assert out["HF_ENDPOINT"] == "https://<user>:<secret>@mirror.internal/hf"


def test_what_is_not_a_secret_is_kept():
    keep = {"sha": "ab" * 32, "model": "meta-llama/Llama-2-7b-chat-hf", "pkg": "tensorrt_llm-0.9.0.dev2024041600-cp310-cp310-linux_x86_64",
            "v": "TensorRT 10.0.1.6", "eos_token": "</s>", "key": "tokenizer_dir", "flag": ["--tokenizer_dir", "/m/tok"],
            "path": "/opt/tritonserver/backends/tensorrtllm/libtriton_tensorrtllm.so"}
    assert R(keep) == keep


def test_other_hosts_under_host_keys_get_placeholders():
    out = R({"MASTER_ADDR": "gpu-node-7.cluster", "SLURM_NODELIST": "node[1-4]", "OMPI_MCA_orte_default_hostfile": "/etc/hosts.txt",
             "line": "connecting to gpu-node-7.cluster"})
    assert out["MASTER_ADDR"].startswith("<host-") and out["SLURM_NODELIST"].startswith("<host-")


def test_report_redact_hides_the_port_holders_token(tmp_path):
    """A real listener on a free port, started with a token on its command line; `report
    --redact` names the holder without the token."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    holder = subprocess.Popen([sys.executable, "-c", f"import socket,time; s=socket.socket(); s.bind(('0.0.0.0',{port})); s.listen(); time.sleep(60)",
                               "--hf-token", TOKEN])
    try:
        time.sleep(0.8)
        p = run_cli("report", "--redact", "--json", "--http-port", str(port), "--only", "PRT001")
        assert p.returncode in (0, 1), p.stderr
        assert TOKEN not in p.stdout and "Traceback" not in p.stderr
    finally:
        holder.kill()
        holder.wait()


def test_collect_redact_hides_credentials_in_recorded_env_values(tmp_path):
    out = tmp_path / "snap.json"
    env = {"HF_ENDPOINT": "https://bob:hunter2@mirror.example/hf", "TRT_SECRET_PATH": f"/srv/{TOKEN}", "MASTER_ADDR": "node-17.example",
           "HF_HUB_CACHE": f"/cache/{TOKEN}"}
    p = run_cli("collect", "--redact", "-o", str(out), env=env)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "hunter2" not in text and TOKEN not in text and "node-17" not in text
