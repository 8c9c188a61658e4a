"""A size that is not a number in an engine's config.json is a finding, never a default.

What a user saw: `"max_batch_size": "eight"` in config.json silently became max_batch_size 1
(`✓ Fits: float16, max_batch_size 1, …`).  Now `check` says so (ENG009) and `plan` asks for
--max-batch-size instead of planning for 1.
"""

from __future__ import annotations

import json

from trtdiag.parsers.engine_config import normalize

from tests.conftest import run_cli, run_json
from tests.test_memory import QWEN_ENGINE_BYTES


def _engine(tmp_path, max_batch_size):
    from tests.test_plan_header import crafted

    cfg = {"version": "0.9.0",
           "pretrained_config": {"architecture": "QWenForCausalLM", "dtype": "float16", "num_hidden_layers": 32, "num_attention_heads": 32,
                                 "num_key_value_heads": 32, "hidden_size": 4096, "vocab_size": 151936, "head_size": 128,
                                 "mapping": {"world_size": 1, "tp_size": 1, "pp_size": 1}, "quantization": {"quant_algo": None}},
           "build_config": {"max_batch_size": max_batch_size, "max_input_len": 2048, "max_output_len": 2048, "max_beam_width": 1,
                            "plugin_config": {"paged_kv_cache": True, "remove_input_padding": True, "tokens_per_block": 64,
                                              "gpt_attention_plugin": "float16"}}}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with open(tmp_path / "rank0.engine", "wb") as fh:  # an 'ftrt' header as TensorRT 8.6 writes it, the rest sparse
        fh.write(crafted(size=64, size_field=QWEN_ENGINE_BYTES))
        fh.truncate(QWEN_ENGINE_BYTES)
    return tmp_path


def test_normalize_keeps_what_is_not_a_number():
    n = normalize({"pretrained_config": {"num_hidden_layers": 2}, "build_config": {"max_batch_size": "eight", "max_input_len": "512"}})
    assert n["max_batch_size"] is None and n["max_input_len"] == 512
    assert n["unreadable"] == {"build_config.max_batch_size": "eight"}
    assert normalize({"build_config": {"max_batch_size": 8}})["unreadable"] is None


def test_check_makes_it_a_finding(tmp_path):
    eng = _engine(tmp_path, "eight")
    code, rep = run_json("check", "--engine-dir", str(eng), "--only", "ENG009")
    (f,) = [x for x in rep["findings"] if x["id"] == "ENG009"]
    assert f["severity"] == "warning"
    assert f["title"] == "config.json: max_batch_size is not a whole number"
    assert "build_config.max_batch_size = 'eight'" in f["message"]


def test_plan_asks_for_the_size_instead_of_planning_for_one(tmp_path):
    eng = _engine(tmp_path, "eight")
    p = run_cli("plan", "--engine-dir", str(eng), "--gpu", "H100")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "build_config.max_batch_size is 'eight', not a whole number; give --max-batch-size N" in p.stderr
    assert "max_batch_size 1" not in p.stdout
    code, rep = run_json("plan", "--engine-dir", str(eng), "--gpu", "H100", "--max-batch-size", "8")
    assert code == 0 and "max_batch_size 8" in json.dumps(rep)


def test_a_good_config_passes(tmp_path):
    eng = _engine(tmp_path, 8)
    code, rep = run_json("check", "--engine-dir", str(eng), "--only", "ENG009")
    assert [x["severity"] for x in rep["findings"] if x["id"] == "ENG009"] == ["ok"]
