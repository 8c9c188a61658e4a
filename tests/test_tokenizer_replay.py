"""The replay (trtdiag/probes/tokenizer_replay.py): a repository's own model.py initialize() and one
execute() in a child process of the real transformers, with the documented stand-in for
triton_python_backend_utils.  Real tokenizers made by tests/tokenizer_kit.py; the model.py is
tests/data/tokenizers/replay_model.py (written for these tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trtdiag.probes import tokenizer_replay as rp

from . import tokenizer_kit as K

MODEL_PY = Path(__file__).resolve().parent / "data" / "tokenizers" / "replay_model.py"
PBTXT = """name: "preprocessing"
backend: "python"
max_batch_size: ${triton_max_batch_size}
input [ { name: "QUERY" data_type: TYPE_STRING dims: [ 1 ] },
        { name: "END_ID" data_type: TYPE_INT32 dims: [ 1 ] optional: true } ]
output [ { name: "INPUT_ID" data_type: TYPE_INT32 dims: [ -1 ] } ]
parameters { key: "tokenizer_dir" value: { string_value: "${tokenizer_dir}" } }
"""


def repo(tmp_path: Path, tokdir: Path) -> dict:
    m = tmp_path / "repo" / "preprocessing"
    (m / "1").mkdir(parents=True)
    (m / "1" / "model.py").write_text(MODEL_PY.read_text())
    (m / "config.pbtxt").write_text(PBTXT.replace("${tokenizer_dir}", str(tokdir)))
    return {"model": "preprocessing", "model_py": str(m / "1" / "model.py"), "config_path": str(m / "config.pbtxt"),
            "tokenizer_dir": str(tokdir), "dir_source": "config.pbtxt", "dir": {"generation_config": {}}}


def test_model_config_is_triton_json_with_placeholders_replaced():
    cfg = json.loads(rp.model_config_json(PBTXT, {"tokenizer_dir": "/tok"}))
    assert cfg["parameters"]["tokenizer_dir"] == {"string_value": "/tok"}
    assert cfg["input"][0] == {"name": "QUERY", "data_type": "TYPE_STRING", "dims": ["1"]}
    assert cfg["input"][1]["optional"] is True


def test_real_initialize_and_execute_give_the_ids(tmp_path):
    tok = K.bpe_dir(tmp_path / "bpe")
    [r] = rp.replay_targets([repo(tmp_path, tok)], None, trust_remote_code=False)
    assert r["initialize"] == "ok", r
    assert r["ids"]["tokenizer_end_id"] == r["tokenizer"]["eos_token_id"]
    assert r["ids"]["tokenizer_pad_id"] == r["tokenizer"]["eos_token_id"]  # pad_token = eos_token
    assert r["wrong_ids"] == []
    assert r["execute_verdict"] == {"fails": False}


def test_no_tokenizer_code_runs_without_trust_remote_code(tmp_path):
    marker = tmp_path / "imported.txt"
    tok = K.custom_dir(tmp_path / "glm", "chatglm", marker=str(marker))
    [r] = rp.replay_targets([repo(tmp_path, tok)], None, trust_remote_code=False)
    assert r["initialize"] == "remote-code-blocked", r
    assert not marker.exists()


def test_no_eos_raises_as_the_server_would(tmp_path):
    tok = K.custom_dir(tmp_path / "qwen", "qwen")
    [r] = rp.replay_targets([repo(tmp_path, tok)], None, trust_remote_code=True)
    assert r["initialize"] == "raised"
    assert r["cause"] == "encode-none"
    assert r["exception"]["model_py_frame"]["code"].startswith("self.tokenizer_end_id = self.tokenizer.encode(")


def test_a_hanging_model_py_is_killed(tmp_path):
    tok = K.bpe_dir(tmp_path / "bpe")
    t = repo(tmp_path, tok)
    Path(t["model_py"]).write_text("import time\nclass TritonPythonModel:\n    def initialize(self, args):\n        time.sleep(60)\n")
    [r] = rp.replay_targets([t], None, trust_remote_code=False, timeout=5)
    assert "timed out" in r["error"]


@pytest.mark.parametrize("exc,cls,judged", [
    ({"type": "AttributeError", "first_line": "'QWenTokenizer' object has no attribute 'vocab'", "raised_in": {"file": "model.py"}}, "QWenTokenizer", True),
    ({"type": "AttributeError", "first_line": "'NoneType' object has no attribute 'as_numpy'", "raised_in": {"file": "model.py"}}, "QWenTokenizer", False),
    ({"type": "TypeError", "first_line": "ChatGLMTokenizer._pad() got an unexpected keyword argument 'padding_side'",
      "raised_in": {"file": "tokenization_utils_base.py"}}, "ChatGLMTokenizer", True),
])
def test_execute_failures_count_only_when_they_are_the_tokenizer(exc, cls, judged):
    v = rp.execute_verdict({"execute": {"ok": False, "exception": exc}}, cls)
    assert (v is not None and v["fails"]) is judged
