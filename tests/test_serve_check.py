"""Pre-launch findings for trtllm-serve and the Triton llmapi model (trtdiag/derive/serve_check.py)
over real files: a model directory, YAML files, a model repository made here.  The installed
tensorrt_llm is the TEST DOUBLE of tests/data/llmapi/site (the real package does not install on a
CPU machine)."""

from __future__ import annotations

import json

import pytest

from trtdiag.derive import serve_check as sc
from trtdiag.derive import serve_launch as sl
from trtdiag.probes import llmapi as probe

from .conftest import DATA

SITE = DATA / "llmapi" / "site"
PACKAGES = {"packages": {"tensorrt-llm": "1.2.0"}, "locations": {"tensorrt-llm": str(SITE / "tensorrt_llm-1.2.0.dist-info")}}
LLAMA = json.loads((DATA / "torch_memory" / "llama-3.1-8b-fp8.config.json").read_text())


@pytest.fixture()
def model_dir(tmp_path):
    d = tmp_path / "Llama-3.1-8B-Instruct-FP8"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(LLAMA))
    (d / "model-00001-of-00002.safetensors").write_bytes(b"")
    (d / "tokenizer.json").write_text("{}")
    return d


def run(tmp_path, model_dir, yaml_text, *extra, visible=1, in_container=False, schema=None):
    y = tmp_path / "config.yaml"
    y.write_text(yaml_text)
    cmd = sl.parse([str(model_dir), "--config", str(y), *extra])
    doc, err = probe.read_yaml(cmd["yaml"])
    schema = schema or probe.schema_for(PACKAGES)
    return sc.check(cmd, doc, yaml_path=cmd["yaml"], yaml_error=err, schema=schema, installed_version="1.2.0",
                    visible_gpus=visible, in_container=in_container, model_info=probe.model_dir_info(cmd["model"]))


def ids(res, severity=None):
    return [(f["id"], f["severity"]) for f in res["findings"] if severity is None or f["severity"] == severity]


def test_correct_launch_has_no_findings(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "kv_cache_config:\n  free_gpu_memory_fraction: 0.85\nmax_batch_size: 64\n", "--host", "0.0.0.0")
    assert res["findings"] == [] and res["world_size"] == 1


def test_misplaced_fraction(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "free_gpu_memory_fraction: 0.85\n")
    (f,) = res["findings"]
    assert (f["id"], f["severity"]) == ("LLA002", "error")
    assert "did you mean kv_cache_config.free_gpu_memory_fraction?" in f["message"]
    assert f["evidence"]["schema"].startswith("the installed tensorrt_llm 1.2.0")


def test_unknown_key_fraction_above_one_and_too_many_ranks(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "kv_cache_config:\n  free_gpu_memory_fraction: 1.2\nenable_turbo: true\n", "--tp_size", "4")
    assert sorted(ids(res)) == [("LLA002", "error"), ("LLA003", "error"), ("LLA007", "error")]


def test_yaml_problems_are_one_line(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "kv_cache_config: [\n")
    (f,) = res["findings"]
    assert f["id"] == "LLA001" and "not valid YAML (line" in f["message"]
    res = run(tmp_path, model_dir, "- a\n- b\n")
    assert res["findings"][0]["id"] == "LLA001" and "Configuration file root must be a mapping." in res["findings"][0]["message"]


def test_set_overrides_and_bad_set(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "max_batch_size: 64\n", "--set", "kv_cache_config.free_gpu_memory_fraction=2", "--set", "oops")
    assert sorted(ids(res)) == [("LLA003", "error"), ("LLA010", "error")]
    assert res["origin"]["kv_cache_config.free_gpu_memory_fraction"] == "set"


def test_localhost_in_a_container(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "max_batch_size: 8\n", in_container=True)
    assert ids(res) == [("LLA008", "warning")]


def test_cli_flag_replaced_by_the_yaml_section_in_releases_that_replace(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "kv_cache_config:\n  enable_block_reuse: false\n", "--kv_cache_free_gpu_memory_fraction", "0.5", "--host", "0.0.0.0")
    assert ids(res) == [("LLA006", "warning")]


def test_shipped_table_of_another_release_only_warns(tmp_path, model_dir):
    res = run(tmp_path, model_dir, "free_gpu_memory_fraction: 0.85\n", "--host", "0.0.0.0", schema=probe.shipped("main"))
    assert ids(res) == [("LLA002", "warning")]


def test_model_directory_problems(tmp_path, model_dir):
    res = sc.check(sl.parse([str(tmp_path / "nope"), "--host", "0.0.0.0"]), None, schema=probe.shipped("main"),
                   model_info=probe.model_dir_info(str(tmp_path / "nope")))
    assert ids(res) == [("LLA009", "error")] and "no such directory" in res["findings"][0]["message"]
    empty = tmp_path / "empty"
    empty.mkdir()
    info = probe.model_dir_info(str(empty))
    assert info["error"].startswith("Failed to infer model format because no config.json exists")
    eng = tmp_path / "engine"
    eng.mkdir()
    (eng / "config.json").write_text(json.dumps({"pretrained_config": {}, "build_config": {}}))
    (eng / "rank0.engine").write_bytes(b"")
    res = sc.check(sl.parse([str(eng), "--host", "0.0.0.0"]), None, schema=probe.shipped("main"), model_info=probe.model_dir_info(str(eng)))
    assert ids(res) == [("LLA009", "error")] and "backend 'pytorch' only" in res["findings"][0]["message"]
    assert probe.model_dir_info("meta-llama/Llama-3.1-8B") is None  # a hub name: nothing local to check
    info = probe.model_dir_info(str(model_dir))
    assert info["format"] == "HF" and info["hf"]["num_key_value_heads"] == 8 and info["tokenizer"] == ["tokenizer.json"]


def test_triton_llmapi_repository(tmp_path):
    from trtdiag.derive import triton_llmapi as tl

    repo = tmp_path / "repo"
    (repo / "tensorrt_llm" / "1").mkdir(parents=True)
    (repo / "tensorrt_llm" / "config.pbtxt").write_text(
        'name: "tensorrt_llm"\nbackend: "python"\n# model_transaction_policy { decoupled: True }\n'
        'instance_group [ { count: 1 kind: KIND_CPU } ]\n')
    (repo / "tensorrt_llm" / "1" / "model.yaml").write_text(
        "model: /no/such/model\nbackend: pytorch\ntensor_parallel_size: 2\nfree_gpu_memory_fraction: 0.9\n"
        "triton_config:\n  max_batch_size: 0\n  decoupled: false\n")
    (m,) = probe.llmapi_models(str(repo))
    assert m["pbtxt"]["transaction_policy_set"] is False and m["yaml"]["triton_config"]["decoupled"] is False
    problems = tl.check(m["pbtxt"], m["yaml"], yaml_path=m["yaml_path"], visible_gpus=1, model_dir_info=probe.model_dir_info(m["yaml"]["model"]))
    assert {p["id"] for p in problems} == {"model-path", "ranks-gt-gpus"}
    llm_args = {k: v for k, v in m["yaml"].items() if k != "triton_config"}
    res = sc.check(None, llm_args, yaml_path=m["yaml_path"], schema=probe.schema_for(PACKAGES), installed_version="1.2.0", visible_gpus=1)
    assert sorted(ids(res)) == [("LLA002", "error"), ("LLA007", "error")]
    alt = tmp_path / "llm.yaml"
    alt.write_text("model: x\ntriton_config: {max_batch_size: 0, decoupled: true}\n")
    (m2,) = probe.llmapi_models(str(repo), env={"LLM_CONFIG_PATH": str(alt)})
    assert m2["yaml_path"] == str(alt) and m2["yaml"]["triton_config"]["decoupled"] is True


def test_options_the_installed_trtllm_serve_does_not_have(tmp_path, model_dir):
    opts = probe.serve_options_for(PACKAGES)
    assert opts["path"].endswith("tensorrt_llm/commands/serve.py") and any("--tp_size" in o["names"] for o in opts["options"])
    y = tmp_path / "c.yaml"
    y.write_text("max_batch_size: 8\n")
    cmd = sl.parse([str(model_dir), "--config", str(y), "--host", "0.0.0.0", "--set", "max_batch_size=4", "--max_bach_size", "8"])
    res = sc.check(cmd, {"max_batch_size": 8}, schema=probe.schema_for(PACKAGES), installed_version="1.2.0", serve_options=opts)
    assert [f["evidence"]["option"] for f in res["findings"] if f["id"] == "LLA011"] == ["--max_bach_size", "--set"]


def test_shipped_serve_options_table():
    import json as _json

    from trtdiag.probes.llmapi import DATA_DIR

    t = _json.loads((DATA.parent.parent / "trtdiag" / "data" / "serve_options" / "00209af.json").read_text())
    names = {n for o in t["options"] for n in o["names"]}
    assert {"--config", "--extra_llm_api_options", "--tp_size", "--kv_cache_free_gpu_memory_fraction", "--host"} <= names
    assert "--set" not in names
    host = next(o for o in t["options"] if o["names"] == ["--host"])
    assert host["default"] == "localhost" and host["source"].endswith("tensorrt_llm/commands/serve.py:serve:--host")
    assert DATA_DIR.endswith("llmargs")


def test_the_llmapi_serve_fact(tmp_path, model_dir, monkeypatch):
    """The registered probe over a real Facts: launch argv through mpirun, this interpreter's packages
    replaced by the TEST DOUBLE of an installed tensorrt_llm."""
    from trtdiag.core.facts import Facts

    y = tmp_path / "c.yaml"
    y.write_text("free_gpu_memory_fraction: 0.85\n")
    facts = Facts(options={"launch_argv": ["mpirun", "-n", "1", "trtllm-serve", str(model_dir), "--config", str(y), "--host", "0.0.0.0"]})
    facts.set("python.packages", PACKAGES)
    facts.set("gpu.inventory", {"nvml_error": None, "gpus": [{"index": 0}]})
    facts.set("container.info", {"runtime": {"in_container": False}})
    fact = facts["llmapi.serve"]
    assert fact["command"]["model"] == str(model_dir) and fact["schema"]["source"]["kind"] == "installed"
    assert fact["yaml"] == {"free_gpu_memory_fraction": 0.85} and fact["visible_gpus"] == 1 and fact["in_container"] is False
    derived = facts.derived("serve_check")["serve"]
    assert [(f["id"], f["severity"]) for f in derived["findings"]] == [("LLA002", "error")]
    assert probe.serve_args(["python3", "-m", "tensorrt_llm.commands.serve", "m", "--port", "1"]) == ["m", "--port", "1"]
    assert probe.serve_args(["tritonserver", "--model-repository", "/m"]) is None
    assert Facts(options={"launch_argv": ["tritonserver"]})["llmapi.serve"] is None
