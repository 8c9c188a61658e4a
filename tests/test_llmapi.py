"""LlmArgs schema from llm_args.py source (ast, no import), the trtllm-serve merge, the validator.

The installed tensorrt_llm is a TEST DOUBLE (tests/data/llmapi/site: a dist-info and a small
llm_args.py in the shape of TensorRT-LLM's); the real package does not install on a CPU machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from trtdiag.derive import llmapi as la
from trtdiag.derive.llmargs_schema import flatten, parse_source
from trtdiag.probes import llmapi as probe

from .conftest import DATA, REPO

SITE = DATA / "llmapi" / "site"
PACKAGES = {"packages": {"tensorrt-llm": "1.2.0"}, "locations": {"tensorrt-llm": str(SITE / "tensorrt_llm-1.2.0.dist-info")}}


@pytest.fixture(scope="module")
def schema():
    s = probe.schema_for(PACKAGES)
    assert s is not None and s["source"]["kind"] == "installed"
    return s


def test_schema_from_installed_source_without_import(schema):
    assert "tensorrt_llm" not in sys.modules
    assert schema["root"] == "TorchLlmArgs" and schema["release"] == "1.2.0"
    flat = flatten(schema)
    f = flat["kv_cache_config.free_gpu_memory_fraction"]
    assert f["default"] == 0.9 and f["types"] == ["None", "float"] and f["extra"] == "forbid" and f["line"] == 18
    assert flat["cuda_graph_config.max_batch_size"]["bounds"] == {"ge": 0}
    assert flat["max_beam_width"]["bounds"] == {"gt": 0}  # PositiveInt
    assert "model" in flat and flat["model"]["required"]
    assert "_private" not in flat and "kind" not in flat  # PrivateAttr and ClassVar are not fields
    assert flat["scheduler_config.capacity_scheduler_policy"]["choices"] == ["MAX_UTILIZATION", "GUARANTEED_NO_EVICT", "STATIC_BATCH"]


def test_parse_source_forms():
    text = '''
from pydantic import BaseModel, Field, AliasChoices
class StrictBaseModel(BaseModel):
    class Config:
        extra = "forbid"
class A(StrictBaseModel):
    x: int = 3
    y: "Optional[B]" = None
    z: float | None = Field(None, gt=0, le=1, validation_alias=AliasChoices("zz", "z"))
    w: int = Field(default_factory=lambda: 4)
    v: int = Field(default=some_call())
class B(StrictBaseModel):
    q: Literal["a", "b"] = "a"
class Loose(BaseModel):
    k: int = 1
class TorchLlmArgs(A):
    loose: Loose = Loose()
LlmArgs = TorchLlmArgs
'''
    s = parse_source(text)
    flat = flatten(s)
    assert s["root"] == "TorchLlmArgs"
    assert flat["x"]["default"] == 3 and flat["x"]["inherited_from"] == "A"
    assert flat["y"]["models"] == ["B"] and flat["y.q"]["choices"] == ["a", "b"]
    assert flat["z"]["bounds"] == {"gt": 0, "le": 1} and flat["z"]["aliases"] == ["zz"]
    assert flat["w"]["default"] == {"factory": "lambda: 4"} and flat["v"]["default"] == {"expr": "some_call()"}
    assert flat["loose.k"]["extra"] == "ignore"
    with pytest.raises(SyntaxError):
        parse_source("class (:")


def test_misplaced_fraction_suggests_the_nested_path(schema):
    m = la.merge({}, {"free_gpu_memory_fraction": 0.8})
    (p,) = la.validate(m["args"], schema, origin=m["origin"])
    assert p["kind"] == "unknown" and p["suggestion"] == "kv_cache_config.free_gpu_memory_fraction"
    assert "did you mean kv_cache_config.free_gpu_memory_fraction?" in p["message"] and p["from"] == "yaml"


def test_unknown_nested_key_and_typo(schema):
    m = la.merge({}, {"kv_cache_config": {"free_gpu_mem_fraction": 0.5}, "max_batch_sise": 8})
    probs = {p["path"]: p for p in la.validate(m["args"], schema)}
    assert probs["kv_cache_config.free_gpu_mem_fraction"]["suggestion"] == "kv_cache_config.free_gpu_memory_fraction"
    assert probs["max_batch_sise"]["suggestion"] == "max_batch_size"


def test_fraction_above_one_is_a_bound_error(schema):
    m = la.merge({}, {"kv_cache_config": {"free_gpu_memory_fraction": 1.5}})
    (p,) = la.validate(m["args"], schema)
    assert p["kind"] == "bound" and "must be <= 1" in p["message"]
    assert la.validate(la.merge({}, {"kv_cache_config": {"free_gpu_memory_fraction": 1.0}})["args"], schema) == []


def test_wrong_types(schema):
    m = la.merge({}, {"max_batch_size": "64", "kv_cache_config": 0.9, "trust_remote_code": "yes",
                       "scheduler_config": {"capacity_scheduler_policy": "FIFO"}})
    kinds = {p["path"]: p["kind"] for p in la.validate(m["args"], schema)}
    assert kinds == {"max_batch_size": "type", "kv_cache_config": "type", "trust_remote_code": "type",
                     "scheduler_config.capacity_scheduler_policy": "choice"}


def test_key_of_a_later_release_names_it(schema):
    later = parse_source(open(SITE / "tensorrt_llm" / "llmapi" / "llm_args.py").read().replace(
        "    attn_backend: str", "    sparse_attention_config: Optional[dict] = None\n    attn_backend: str"))
    m = la.merge({}, {"sparse_attention_config": {}})
    (p,) = la.validate(m["args"], schema, release="1.2.0", later={"main": later})
    assert p["kind"] == "not-yet" and p["added_in"] == "main" and "TensorRT-LLM main has it" in p["message"]


def test_merge_order_cli_then_yaml_then_set():
    cli = la.from_cli({"--tp_size": "2", "--kv_cache_free_gpu_memory_fraction": "0.7", "--trust_remote_code": True})
    assert cli == {"tensor_parallel_size": 2, "kv_cache_config.free_gpu_memory_fraction": 0.7, "trust_remote_code": True}
    sets, problems = la.parse_set(["kv_cache_config.dtype=fp8", "tensor_parallel_size=4", "broken"])
    assert sets == [("kv_cache_config.dtype", "fp8"), ("tensor_parallel_size", 4)] and problems[0]["kind"] == "bad-set"
    m = la.merge(cli, {"kv_cache_config": {"enable_block_reuse": False}, "tensor_parallel_size": 8}, sets)
    # the YAML's kv_cache_config replaces the CLI-built one whole: --kv_cache_free_gpu_memory_fraction is lost
    assert m["dropped"] == [{"path": "kv_cache_config.free_gpu_memory_fraction", "value": 0.7, "replaced_by": "kv_cache_config"}]
    assert m["args"] == {"tensor_parallel_size": 4, "kv_cache_config": {"enable_block_reuse": False, "dtype": "fp8"}, "trust_remote_code": True}
    assert m["origin"]["tensor_parallel_size"] == "set"


def test_shipped_table_fallback(tmp_path, monkeypatch):
    out = tmp_path / "llmargs"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "harvest_llmargs.py"), "--release", "9.9", "--commit", "0" * 40,
                        "--llm-args", str(SITE / "tensorrt_llm" / "llmapi" / "llm_args.py"), "--out", str(out)],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    data = json.loads((out / "9.9.json").read_text())
    assert data["models"]["KvCacheConfig"]["fields"]["free_gpu_memory_fraction"]["source"].endswith("tensorrt_llm/llmapi/llm_args.py:18")
    monkeypatch.setattr(probe, "DATA_DIR", str(out))
    s = probe.schema_for({"packages": {"tensorrt-llm": "9.9.1"}, "locations": {}})
    assert s["source"]["kind"] == "shipped" and s["release"] == "9.9"
    assert probe.schema_for({"packages": {}, "locations": {}}) is None
    assert probe.release_key("1.2.0rc6.post1") == "1.2"
