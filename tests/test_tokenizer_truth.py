"""The static tokenizer analysis (trtdiag/derive/tokenizer_model_py.py) against what really happens.

The data: trtdiag/data/model_py_statements.json (every tokenizer statement of the real
preprocessing/postprocessing/BLS model.py of tensorrtllm_backend v0.5.0-v0.19.0, harvested by
tools/harvest_model_py.py) and tests/data/tokenizers/ground_truth.json (the real initialize() of
those files run with real tokenizer directories under each transformers version,
tools/tokenizer_matrix.py).  No fetched file is needed here: the tests read the recorded facts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import tokenizer_truth as truth  # noqa: E402

from trtdiag.derive import tokenizer_model_py as tm  # noqa: E402
from trtdiag.probes import tokenizer_replay as rp  # noqa: E402

KINDS = {
    "import", "tokenizer_dir_param", "tokenizer_type_param", "type_branch", "type_else_raise", "load", "processor_load",
    "special_assign", "pad_guard", "id_from_encode", "id_from_token_id", "id_from_sp_model", "isinstance_branch",
    "vocab_size", "vocab_access", "vocab_bound_test", "encode_call", "decode_call", "request_id_default",
    "request_id_input", "request_id_test", "id_output", "id_use", "id_local", "id_name_mapping", "pad_as_decoder_start",
    "assert_tokenizer", "return_value", "tokenizer_attr", "param_use", "eos_guard", tm.NOT_UNDERSTOOD,
}


@pytest.fixture(scope="module")
def data():
    return truth.load()


def test_harvest_covers_every_tag_and_file(data):
    _, st, _ = data
    tags = st["sources"]["tags"]
    assert tags[0] == "v0.5.0" and tags[-1] == "v0.19.0" and len(tags) == 20
    for model in ("preprocessing", "postprocessing"):
        covered = {t for f in st["files"].values() if f["model"] == model for t in f["tags"]}
        assert covered == set(tags), model
    assert any(f["repo"] == "NVIDIA/TensorRT-LLM" for f in st["files"].values())


def test_every_harvested_statement_is_understood_or_named(data):
    _, st, _ = data
    n = 0
    for f in st["files"].values():
        for s in f["statements"]:
            n += 1
            assert s["kind"] in KINDS, s["cite"]
            if s["kind"] == tm.NOT_UNDERSTOOD:
                assert s["facts"].get("reason"), s["cite"]
            # the analyser gives the same kind from the cited excerpt alone
            assert tm.classify_excerpt(s["excerpt"]) == s["kind"], s["cite"]
            assert s["cite"].count("@") == 1 and s["cite"].rsplit(":", 1)[1] == str(s["line"])
    assert n == st["counts"]["statements"] and n > 400


def test_the_v07_pad_id_line_is_understood(data):
    """``self.pad_id = self.tokenizer.encode(self.tokenizer.pad_token, add_special_tokens=False)[0]``
    (v0.5-v0.7) is an id taken from encode(pad_token), not an unknown line."""
    _, st, _ = data
    v07 = next(f for f in st["files"].values() if f["model"] == "preprocessing" and "v0.7.1" in f["tags"])
    s = next(s for s in v07["statements"] if s["kind"] == "id_from_encode")
    assert s["facts"] == {"target": "pad_id", "token": "pad_token"}
    load = next(x for x in v07["profile"]["steps"] if x["step"] == "load" and x["branch"] == "auto")
    assert load["trust_remote_code"] is True  # v0.7.1 already trusts (the old test copy said otherwise)


def test_profiles_follow_from_the_statements(data):
    _, st, _ = data
    for f in st["files"].values():
        prof = tm.profile(f["statements"])
        prof.pop("not_understood")
        assert prof == f["profile"]


def test_failure_table_is_what_the_ground_truth_gives(data):
    import tokenizer_failure_table as tft

    gt, _, table = data
    assert tft.build(gt)["causes"] == table["causes"]


def _split(gt, frozen):
    names = {k for k, v in gt["axes"]["tokenizers"].items() if bool(v.get("frozen")) == frozen}
    return dict(gt, rows=[r for r in gt["rows"] if r["tokenizer"] in names])


@pytest.mark.parametrize("frozen", [False, True], ids=["tuning", "frozen"])
def test_static_prediction_against_the_real_initialize(data, frozen):
    gt, st, table = data
    s = truth.score(_split(gt, frozen), st, table)
    assert s["cases"] > 100
    assert s["false_error"] == 0, [d for d in s["details"] if d["verdict"] == "false error"][:3]
    assert s["wrong_id_false"] == 0
    assert s["wrong_id_named"] == s["wrong_id_cases"]
    if s["failing"]:
        assert s["right"] / s["failing"] >= 0.95, (s["right"], s["failing"], s["details"][:3])
    assert s["message_exact"] == s["message_measured"]


def test_every_offered_fix_makes_the_real_initialize_pass(data):
    gt, _, _ = data
    fixed = [r for r in gt["rows"] if r.get("variant") == "after-fix"]
    assert fixed
    bad = [(r["env"], r["tokenizer"], r["tags"][0], r["model"], r.get("initialize"), (r.get("exception") or {}).get("first_line"),
            r.get("wrong_ids")) for r in fixed if r.get("initialize") != "ok" or r.get("wrong_ids")]
    assert not bad, bad[:5]


def test_the_wrong_chatglm3_ids_are_the_measured_ones(data):
    gt, _, _ = data
    rows = [r for r in gt["rows"] if r["tokenizer"] == "chatglm3-6b@2023-12" and r["variant"] == "original"
            and r["model"] == "preprocessing" and "v0.19.0" in r["tags"] and r["transformers"] == "4.44.2"]
    assert rows
    for r in rows:
        assert r["ids"] == {"tokenizer_end_id": 2893, "tokenizer_pad_id": 906}
        assert {(w["attr"], w["expected"]) for w in r["wrong_ids"]} == {("tokenizer_end_id", 2), ("tokenizer_pad_id", 0)}
        # the replay's comparison gives the same from the recorded ids
        assert rp.compare_ids({"ids": r["ids"], "tokenizer": r["tokenizer_facts"]}, {}) == r["wrong_ids"]


def test_python_version_decides_the_readonly_message(data):
    _, _, table = data
    msgs = {(m["transformers"], m["python"]): m["message"] for m in table["causes"]["readonly-special-token"]["measured"]}
    assert msgs[("4.36.2", "3.10")] == "can't set attribute 'pad_token'"
    assert msgs[("4.36.2", "3.11")] == "property 'pad_token' of '{class}' object has no setter"
    remote = {m["transformers"]: m["message"] for m in table["causes"]["remote-code-not-trusted"]["measured"]}
    assert remote["4.36.2"].startswith("Tokenizer class {class} does not exist or is not currently imported")
    assert remote["4.44.2"].startswith("The repository for {dir} contains custom code")


def test_tok008_names_the_failing_line_and_the_fix_mends_it(tmp_path):
    """End to end on real files made here: the v0.7-shape model.py (no trust_remote_code) with a
    tokenizer that has its own class and no eos token; the serving transformers stated as 4.44.2.
    TOK008 names the from_pretrained line; the planned fix adds trust_remote_code and the
    generation_config ids; after it TOK008 predicts a clean start."""
    import tokenizer_kit as K

    from trtdiag.core import catalogue
    from trtdiag.core.facts import Facts
    from trtdiag.engine import run as engine_run
    from trtdiag.fixes.applier import Applier
    from trtdiag.fixes.planner import plan_all

    tok = K.custom_dir(tmp_path / "qwen", "qwen")
    root, fact = K.model_repo(tmp_path / "repo", str(tok), post=None)

    def run():
        facts = Facts({})
        facts.set("triton.repo", fact)
        facts.set("python.packages", {"packages": {"transformers": "4.44.2"}, "version": "3.11.7"})
        findings, _ = engine_run.run(catalogue.select(["TOK008", "TOK004", "TOK006"]), facts)
        return plan_all(findings, facts)

    fs = run()
    f = next(x for x in fs if x.check == "TOK008")
    assert f.severity.name == "ERROR" and "from_pretrained" in f.evidence["statement"], (f.title, f.evidence)
    assert f.evidence["cause"] == "remote-code-not-trusted"
    assert "The repository for" in f.title  # the message 4.44.2 really gives
    assert not [x for x in fs if x.check in ("TOK004", "TOK006") and x.severity.name == "ERROR"]  # covered by TOK008
    assert f.fix is not None and "trust_remote_code=True" in f.fix.preview and "generation_config.json" in f.fix.preview
    Applier(roots=[str(root)]).apply([f.fix])
    f = next(x for x in run() if x.check == "TOK008")
    assert f.severity.name == "OK", (f.title, f.evidence)
