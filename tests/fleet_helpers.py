"""Helpers for the report, snapshot and fleet tests: snapshot dicts in the shape `trtdiag collect`
writes, and a small real engine directory."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from trtdiag.core.facts import SNAPSHOT_SCHEMA

from tests.conftest import H100_NVML

GiB = 1024**3


def h100_recording() -> dict:
    return json.loads(H100_NVML.read_text())


def inventory(n_gpus: int = 4, busy_index: int | None = None, uuid_prefix: str = "GPU-00000000-0000-0000-0000-00000000000") -> dict:
    """A gpu.inventory fact built from the real H100 NVML recording (a stand-in for NVML, which CI
    has no GPU for): every GPU as the idle reading, ``busy_index`` as the reading while a PyTorch
    process held 10 GiB."""
    rec = h100_recording()
    gpus = []
    for i in range(n_gpus):
        r = rec["during_10GiB"] if i == busy_index else rec["before"]
        gpus.append({"index": i, "name": rec["name"], "uuid": f"{uuid_prefix}{i}", "cc": rec["cc"], "total": r["total"],
                     "free": r["free"], "used": r["used"], "procs": [dict(p, name="python") for p in r["procs"]]})
    return {"nvml_error": None, "driver": rec["driver"], "cuda_driver": rec["cuda_driver"], "gpus": gpus}


def snapshot(rank: int, host: str = "node-a", trt: str = "10.0.1.6", trtllm: str = "0.9.0", driver: str | None = None,
             engine_ranks: list[int] | None = None, tp: int = 4, pp: int = 1, gpu_index: int | None = None,
             inv: dict | None = None, env: dict | None = None) -> dict:
    inv = copy.deepcopy(inv if inv is not None else inventory())
    if driver:
        inv["driver"] = driver
    engine = None
    if engine_ranks is not None:
        engine = {"path": "/engines/llama-70b/tp4", "config_path": "/engines/llama-70b/tp4/config.json",
                  "normalized": {"tp": tp, "pp": pp, "world_size": tp * pp, "trtllm_version": trtllm, "dtype": "float16"},
                  "ranks": [{"rank": r, "path": f"/engines/llama-70b/tp4/rank{r}.engine", "size": 1000 + r,
                             "header": {"trt_version": trt, "size": 1000 + r}} for r in engine_ranks],
                  "problems": []}
    return {
        "schema": SNAPSHOT_SCHEMA,
        "trtdiag_version": "0.1.0",
        "options": {"gpu_index": rank if gpu_index is None else gpu_index},
        "facts": {
            "env.summary": {"hostname": host, "user": "alice", "home": "/home/alice", "os": "Ubuntu 22.04.4 LTS", "python": "3.10.12"},
            "env.vars": env if env is not None else {"LD_LIBRARY_PATH": "/usr/local/tensorrt/lib", "NCCL_DEBUG": "WARN"},
            "fleet.rank": {"launcher": "openmpi", "rank": rank, "local_rank": rank, "size": 4},
            "trt.installed": {"version": trt, "source": "pip:tensorrt"},
            "trtllm.installed": {"version": trtllm, "commit": None, "path": None},
            "gpu.inventory": inv,
            "engine.info": engine,
        },
        "errors": {},
    }


def write(tmp_path: Path, snaps: list[dict]) -> list[str]:
    paths = []
    for i, s in enumerate(snaps):
        p = tmp_path / f"rank{i}.json"
        p.write_text(json.dumps(s))
        paths.append(str(p))
    return paths


def small_deployment(tmp_path):
    """A small real engine directory (trtllm-build layout, tp=1) and a Triton model repository tree."""
    eng = tmp_path / "engines" / "tiny"
    eng.mkdir(parents=True)
    cfg = {"version": "0.9.0", "pretrained_config": {"architecture": "LlamaForCausalLM", "dtype": "float16", "num_hidden_layers": 2,
                                                     "num_attention_heads": 4, "hidden_size": 64, "vocab_size": 320,
                                                     "mapping": {"world_size": 1, "tp_size": 1, "pp_size": 1}},
           "build_config": {"max_batch_size": 4, "max_input_len": 64, "max_output_len": 64, "plugin_config": {"paged_kv_cache": True}}}
    (eng / "config.json").write_text(json.dumps(cfg))
    (eng / "rank0.engine").write_bytes(b"ftrt" + bytes(252))
    repo = tmp_path / "model_repo"
    (repo / "tensorrt_llm" / "1").mkdir(parents=True)
    (repo / "tensorrt_llm" / "config.pbtxt").write_text(
        'name: "tensorrt_llm"\nbackend: "tensorrtllm"\nmax_batch_size: 4\n'
        f'parameters: {{ key: "gpt_model_path" value: {{ string_value: "{eng}" }} }}\n')
    return eng, repo
