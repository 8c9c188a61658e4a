"""config.json of both engine layouts, normalised; and the parsers never crash on odd input."""

from __future__ import annotations

import re

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from trtdiag.parsers import engine_config, plan_header

from tests.conftest import DATA

CONFIGS = DATA / "engines"


def load(name: str) -> dict:
    return json.loads((CONFIGS / name / "config.json").read_text())


def test_trtllm_build_0_9_layout():
    n = engine_config.normalize(load("trtllm-build-0.9.0_llama-7b_tp2"))
    assert n["layout"] == "trtllm-build" and n["trtllm_version"] == "0.9.0" and n["trt_version"] is None
    assert (n["tp"], n["pp"], n["world_size"]) == (2, 1, 2)
    assert (n["max_batch_size"], n["max_input_len"], n["max_output_len"], n["max_seq_len"]) == (8, 2048, 512, 2560)
    assert n["gemm_plugin"] is True and n["paged_kv_cache"] is True and n["tokens_per_block"] == 128
    assert set(n) == set(engine_config.NORMALIZED_KEYS)


def test_trtllm_build_0_11_layout_with_max_seq_len_and_kv_cache_type():
    cfg = load("trtllm-build-0.11.0_llama-7b_tp1")
    n = engine_config.normalize(cfg)
    assert n["max_seq_len"] == 4096 and n["max_output_len"] is None and n["gemm_plugin"] is False
    # later releases: build_config.kv_cache_type instead of plugin_config.paged_kv_cache
    del cfg["build_config"]["plugin_config"]["paged_kv_cache"]
    cfg["build_config"]["kv_cache_type"] = "PAGED"
    assert engine_config.normalize(cfg)["paged_kv_cache"] is True


def test_legacy_layout_records_tensorrt_not_trtllm():
    n = engine_config.normalize(load("legacy-0.7.1_chatglm3-6b_tp1"))
    assert n["layout"] == "legacy" and n["trt_version"] == "9.2.0.5" and n["trtllm_version"] is None
    assert n["architecture"] == "chatglm3_6b" and n["num_kv_heads"] == 2 and n["max_seq_len"] == 3072


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(
        ["version", "pretrained_config", "build_config", "builder_config", "plugin_config", "mapping", "quantization",
         "tp_size", "max_batch_size", "tensorrt", "paged_kv_cache", "kv_cache_type", "quant_mode", "precision"]), children, max_size=5),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["version", "pretrained_config", "build_config", "builder_config", "plugin_config"]), json_values))
def test_normalize_never_crashes(cfg):
    n = engine_config.normalize(cfg)
    assert set(n) == set(engine_config.NORMALIZED_KEYS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=1 << 45))
def test_plan_header_parse_never_crashes(head, size):
    h = plan_header.parse(head, size)
    assert h["kind"] in ("plan", "ptrt", "lfs-pointer", "empty", "not-a-plan")
    assert h["version"] is None or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", h["version"])
    assert isinstance(plan_header.describe(h), str)
