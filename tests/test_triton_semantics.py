"""Triton's and tensorrtllm_backend's semantics (trtdiag/derive/triton_*.py, the per-release table),
on the real v0.9.0 templates, on hand-made repositories of each qa defect class, and through the
outcomes recorded over the real inputs (tests/data/triton/eval_*.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.triton_helpers import TEMPLATES
from tests.triton_qa_like import CASES
from trtdiag.derive import backend_table as bt
from trtdiag.derive import triton_semantics as sem
from trtdiag.derive.triton_judge import judge_repository
from trtdiag.derive.triton_release import detect_release
from trtdiag.parsers import pbtxt
from trtdiag.probes.triton import read_model

EVAL = DATA / "triton"


def _repo_from_templates(tmp_path: Path) -> dict:
    import shutil

    shutil.copytree(TEMPLATES, tmp_path / "repo")
    for d in (tmp_path / "repo").iterdir():
        (d / "1").mkdir()
    return {d.name: read_model(str(d)) for d in sorted((tmp_path / "repo").iterdir())}


# ---------------------------------------------------------------- the table
def test_table_covers_every_tag_with_cited_rows():
    tags = bt.releases()
    assert tags[0] == "v0.5.0" and tags[-1] == "v0.19.0" and len(tags) == 20
    allowed = set(bt.table()["outcomes"])
    n = 0
    for tag in tags:
        for key, m in bt.template_models(tag).items():
            for r in m["placeholders"]:
                n += 1
                assert r["tag"] == tag and r["file"] == m["file"] and r["line"] >= 1
                assert r["outcome"] in allowed
                if r["outcome"] not in ("parse_error",) and r.get("param") and r["outcome"] != "unknown":
                    assert r.get("reader") or "does not read" in r["reason"], (tag, key, r)
    assert n > 1000


@pytest.mark.parametrize("tag,template,placeholder,outcome", [
    # the false errors of issue 17
    ("v0.19.0", "inflight_batcher_llm/preprocessing", "engine_dir", "ignored"),
    ("v0.19.0", "inflight_batcher_llm/tensorrt_llm", "tokenizer_dir", "ignored"),
    ("v0.13.0", "inflight_batcher_llm/tensorrt_llm_bls", "tensorrt_llm_model_name", "ignored"),
    ("v0.19.0", "inflight_batcher_llm/tensorrt_llm_bls", "tensorrt_llm_model_name", "ignored"),
    # … but before v0.13 the BLS sends requests to the literal name
    ("v0.9.0", "inflight_batcher_llm/tensorrt_llm_bls", "tensorrt_llm_model_name", "request_error"),
    ("v0.12.0", "inflight_batcher_llm/tensorrt_llm_bls", "tensorrt_llm_model_name", "request_error"),
    # the missed blocking ones
    ("v0.5.0", "inflight_batcher_llm/preprocessing", "tokenizer_type", "load_error"),
    ("v0.8.0", "inflight_batcher_llm/postprocessing", "tokenizer_type", "load_error"),
    ("v0.15.0", "whisper/whisper_bls", "n_mels", "load_error"),
    ("v0.19.0", "multimodal/multimodal_encoders", "multimodal_model_path", "load_error"),
    ("v0.15.0", "disaggregated_serving/disaggregated_serving_bls", "context_model_name", "request_error"),
    ("v0.19.0", "disaggregated_serving/disaggregated_serving_bls", "generation_model_name", "request_error"),
    # the ones that were right stay right
    ("v0.19.0", "inflight_batcher_llm/tensorrt_llm", "engine_dir", "load_error"),
    ("v0.19.0", "inflight_batcher_llm/tensorrt_llm", "batching_strategy", "load_error"),
    ("v0.19.0", "inflight_batcher_llm/tensorrt_llm", "triton_max_batch_size", "parse_error"),
    ("v0.19.0", "inflight_batcher_llm/tensorrt_llm", "max_beam_width", "ignored"),
    ("v0.9.0", "inflight_batcher_llm/preprocessing", "tokenizer_dir", "load_error"),
])
def test_table_outcomes_of_issue_17(tag, template, placeholder, outcome):
    r = next(r for r in bt.rows(tag, template) if r["placeholder"] == placeholder)
    assert r["outcome"] == outcome, r


def test_table_records_the_backend_defaults_it_read():
    r = next(r for r in bt.rows("v0.19.0", "inflight_batcher_llm/tensorrt_llm") if r["placeholder"] == "max_beam_width")
    assert r["default"] == "1" and "model_instance_state.cc:" in r["reader"]
    reuse = {t: next(r for r in bt.rows(t, "inflight_batcher_llm/tensorrt_llm") if r["placeholder"] == "enable_kv_cache_reuse")["default"]
             for t in ("v0.18.2", "v0.19.0")}
    assert reuse == {"v0.18.2": "false", "v0.19.0": "true"}  # the default changed in v0.19


def test_fill_template_defaults_per_tag():
    assert sem.inserted_defaults("v0.11.0") == {}
    assert sem.inserted_defaults("v0.12.0") == {"max_queue_size": "0"}
    assert sem.inserted_defaults("v0.15.0") == {"max_queue_size": "0", "participant_ids": ""}
    assert sem.inserted_defaults("v0.16.0") == {"max_queue_size": "0"}
    assert sem.inserted_defaults("v0.19.0") == {"max_queue_size": "0", "max_queue_delay_microseconds": "0"}


# ---------------------------------------------------------------- fill_template.py
def test_fill_equals_fill_template_with_its_own_defaults():
    text = "default_queue_policy: { max_queue_size: ${max_queue_size} }\nmax_queue_delay_microseconds: ${max_queue_delay_microseconds}\n"
    assert sem.fill_like_fill_template(text, {}, "v0.11.0")[0] == text
    assert sem.fill_like_fill_template(text, {}, "v0.12.0")[0] == text.replace("${max_queue_size}", "0")
    assert sem.fill_like_fill_template(text, {}, "v0.19.0")[0] == text.replace("${max_queue_size}", "0").replace("${max_queue_delay_microseconds}", "0")


def test_fill_newlines_and_v019_key_assertion():
    out, err = sem.fill_like_fill_template("a: ${x}\r\nb: 1\r", {"x": "2"}, "v0.9.0")
    assert out == "a: 2\nb: 1\n" and err is None  # text-mode open(): universal newlines in, "\n" out
    out, err = sem.fill_like_fill_template("a: ${x}\n", {"y": "2"}, "v0.19.0")
    assert out is None and "key 'y' does not exist" in err


def test_parse_substitutions_as_each_tag_splits():
    assert sem.parse_substitutions("a:1,b:2", "v0.9.0") == {"a": "1", "b": "2"}
    with pytest.raises(ValueError):
        sem.parse_substitutions("url:http://x", "v0.15.0")
    # v0.16+: the argument is split on ',' then each part on ':', each pass eating one backslash
    assert sem.parse_substitutions(r"url:http\\://x,l:a\,b", "v0.16.0") == {"url": "http://x", "l": "a,b"}
    with pytest.raises(ValueError):
        sem.parse_substitutions(r"url:http\://x", "v0.19.0")


def test_fill_of_the_v090_templates_parses(tmp_path):
    for cfg in TEMPLATES.glob("*/config.pbtxt"):
        text = cfg.read_text()
        vals = {p["name"]: ("false" if p.get("field") == "decoupled" else "4") for p in pbtxt.scan_placeholders(text)}
        out, err = sem.fill_like_fill_template(text, vals, "v0.9.0")
        assert err is None and not pbtxt.parse_config(out)["parse_error"], cfg


# ---------------------------------------------------------------- release and verdicts
def test_release_of_the_v090_templates(tmp_path):
    models = _repo_from_templates(tmp_path)
    r = detect_release(models)
    assert r["tags"] == ["v0.9.0"] and r["how"] == "exact" and not r["mixed"]
    assert r["models"]["tensorrt_llm"]["template"] == "inflight_batcher_llm/tensorrt_llm"


def test_release_of_a_filled_copy_is_structure(tmp_path):
    models = _repo_from_templates(tmp_path)
    for m in models.values():
        m["sha256"] = None  # as after fill_template.py
    r = detect_release(models)
    assert r["tags"] == ["v0.9.0"] and r["how"] == "structure"


def test_unfilled_v090_templates_block_exactly_as_the_table(tmp_path):
    models = _repo_from_templates(tmp_path)
    j = judge_repository(models)
    for name, m in j["models"].items():
        want = sorted({r["placeholder"] for r in bt.rows("v0.9.0", f"inflight_batcher_llm/{name}") if r["required"]})
        assert m["blocking"] == want, name
    # v0.9.0's BLS uses the literal name: blocking (request_error), with the reader cited
    v = next(v for v in j["models"]["tensorrt_llm_bls"]["placeholders"] if v["name"] == "tensorrt_llm_model_name")
    assert v["outcome"] == "request_error" and "tensorrt_llm_bls/1/model.py:" in v["source"]


def test_verdicts_take_the_least_severe_of_candidate_releases():
    m = {"placeholders": [{"name": "tensorrt_llm_model_name", "line": 1, "col": 1, "in_string": True, "param": "tensorrt_llm_model_name", "field": None}]}
    v = sem.placeholder_verdicts(m, "inflight_batcher_llm/tensorrt_llm_bls", ["v0.12.0", "v0.13.0"])[0]
    assert v["outcome"] == "ignored" and not v["required"]
    assert v["outcomes"] == {"v0.12.0": "request_error", "v0.13.0": "ignored"}


def test_unknown_placeholder_falls_back_to_the_file_shape():
    m = {"placeholders": [{"name": "mine", "line": 3, "col": 9, "in_string": False, "field": "max_batch_size"},
                          {"name": "other", "line": 4, "col": 9, "in_string": True, "param": "x", "field": None}]}
    v = sem.placeholder_verdicts(m, None, [])
    assert [x["outcome"] for x in v] == ["parse_error", "unknown"]


def test_bls_target_by_release():
    bls = {"name": "tensorrt_llm_bls", "parameters": {"tensorrt_llm_model_name": None}}
    assert sem.bls_target(bls, ["v0.19.0"])[0] == "tensorrt_llm"
    assert sem.bls_target(bls, ["v0.9.0"])[0] is None
    assert sem.bls_target({"parameters": {}}, ["v0.7.0"])[0] == "tensorrt_llm"
    assert sem.bls_target({"parameters": {"tensorrt_llm_model_name": "llm"}}, ["v0.19.0"]) == ("llm", "given")


def test_bls_batch_and_decoupled_coherence():
    out = sem.bls_coherence({"name": "bls", "max_batch_size": 2, "decoupled": True}, {"name": "tensorrt_llm", "max_batch_size": 1, "decoupled": False})
    kinds = {o["kind"]: o["message"] for o in out}
    assert "inference request batch-size must be <= 1 for 'tensorrt_llm'" in kinds["max_batch_size"]
    assert "Streaming is only supported" in kinds["decoupled"]
    assert sem.bls_coherence({"name": "b", "max_batch_size": 4, "decoupled": False}, {"name": "t", "max_batch_size": 4, "decoupled": True}) == []


# ---------------------------------------------------------------- --set values
@pytest.mark.parametrize("row,value,ok", [
    ({"in_string": False, "field": "decoupled"}, "maybe", False),
    ({"in_string": False, "field": "decoupled"}, "True", True),
    ({"in_string": False, "field": "max_batch_size"}, "eight", False),
    ({"in_string": False, "field": "max_batch_size"}, "8", True),
    ({"in_string": False, "field": "data_type"}, "TYPE_FP32", True),
    ({"in_string": False, "field": "data_type"}, "float32", False),
    ({"in_string": True, "param": "tokenizer_dir", "type": "path"}, '/a"b', False),
    ({"in_string": True, "param": "enable_kv_cache_reuse", "type": "bool", "backend": "tensorrtllm"}, "yes", False),
    ({"in_string": True, "param": "enable_kv_cache_reuse", "type": "bool", "backend": "tensorrtllm"}, "true", True),
    ({"in_string": True, "param": "gpt_model_type", "type": "enum(V1|inflight_batching|inflight_fused_batching)"}, "ifb", False),
])
def test_validate_set_value(row, value, ok):
    assert sem.validate_set_value(row, value)[0] is ok


# ---------------------------------------------------------------- Triton's normalisation
def test_instance_group_count_defaults_as_triton():
    m = pbtxt.parse_config('name: "m"\nbackend: "python"\ninstance_group [ { kind: KIND_CPU } ]\n')
    ig = sem.normalize_instance_groups(m)
    assert ig["groups"][0]["count"] == 1 and ig["groups"][0]["count_from"] == "default" and ig["error"] is None
    m = pbtxt.parse_config('name: "m"\nbackend: "onnxruntime"\ninstance_group [ { kind: KIND_CPU count: 0 } ]\n')
    assert sem.normalize_instance_groups(m)["total"] == 2  # SetDefaultInstanceCount: 2 on CPU for onnxruntime/tensorflow
    m = pbtxt.parse_config('name: "m"\nbackend: "python"\n')
    ig = sem.normalize_instance_groups(m, gpus=0)
    assert ig["groups"] == [{"name": "m", "kind": "KIND_CPU", "count": 1, "count_from": "default", "gpus": []}]


def test_kinds_by_number():
    m = pbtxt.parse_config('name: "m"\nbackend: "python"\ninstance_group [ { kind: 2 count: 3 } ]\n')
    assert m["instance_kinds"] == ["KIND_CPU"] and sem.normalize_instance_groups(m)["total"] == 3
    m = pbtxt.parse_config('name: "m"\nbackend: "python"\ninstance_group [ { kind: 7 } ]\n')
    assert m["instance_kinds"] == [7] and not m["parse_error"]
    assert sem.normalize_instance_groups(m)["error"] == "instance group m_0 of model m has unexpected kind KIND_AUTO"


def test_preferred_batch_size_checks():
    m = pbtxt.parse_config('name: "m"\nbackend: "python"\nmax_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 8 ] }\n')
    assert sem.validate_model_config(m) == ["dynamic batching preferred size must be <= max batch size for m"]
    m = pbtxt.parse_config('name: "m"\nbackend: "python"\nmax_batch_size: 4\ndynamic_batching { }\n')
    assert sem.preferred_batch_sizes(m) == [4] and sem.validate_model_config(m) == []


# ---------------------------------------------------------------- ensembles: one hand-made case per qa class
@pytest.mark.parametrize("case", sorted(CASES))
def test_ensemble_defect_classes_reach_tritons_verdict(case):
    c = CASES[case]
    models = {}
    for folder, text in c["models"].items():
        m = pbtxt.parse_config(text)
        assert not m["parse_error"], (folder, m["parse_error"])
        m["versions"] = c.get("versions", {}).get(folder, ["1"])
        models[folder] = m
    errs = []
    for folder, m in models.items():
        if m.get("platform") == "ensemble" or m.get("has_ensemble_scheduling"):
            errs += sem.validate_ensemble(m, models)["errors"]
    if c["expect"] is None:
        assert errs == []
    else:
        assert any(c["expect"] in e for e in errs), errs


def test_decoupled_step_makes_the_ensemble_decoupled():
    from tests.triton_qa_like import ensemble, model, step

    models = {"rep": pbtxt.parse_config(model("rep", decoupled=True)), "post": pbtxt.parse_config(model("post")),
              "e": pbtxt.parse_config(ensemble("e", [step("rep", {"INPUT0": "data"}, {"OUTPUT0": "t"}), step("post", {"INPUT0": "t"}, {"OUTPUT0": "prob"})]))}
    assert sem.validate_ensemble(models["e"], models) == {"errors": [], "decoupled": True, "first": None}


def test_v090_ensemble_filled_agrees_with_its_steps(tmp_path):
    models = _repo_from_templates(tmp_path)
    for name, m in list(models.items()):
        text = Path(m["config_path"]).read_text()
        vals = {p["name"]: ("false" if p.get("field") == "decoupled" else "4") for p in pbtxt.scan_placeholders(text)}
        Path(m["config_path"]).write_text(sem.fill_like_fill_template(text, vals, "v0.9.0")[0])
        models[name] = read_model(m["path"])
    assert sem.validate_ensemble(models["ensemble"], models)["errors"] == []
    # request_output_len as the v0.5.0-v0.6.x tensorrt_llm template declares it (UINT32) beside v0.9.0 pre/post-processing (INT32 from v0.7.0)
    t = Path(models["tensorrt_llm"]["config_path"])
    t.write_text(t.read_text().replace('name: "request_output_len"\n    data_type: TYPE_INT32', 'name: "request_output_len"\n    data_type: TYPE_UINT32'))
    models["tensorrt_llm"] = read_model(models["tensorrt_llm"]["path"])
    errs = sem.validate_ensemble(models["ensemble"], models)["errors"]
    assert errs == ["in ensemble ensemble, ensemble tensor _REQUEST_OUTPUT_LEN: inconsistent data type: TYPE_INT32 is inferred "
                    "from model preprocessing while TYPE_UINT32 is inferred from model tensorrt_llm"]


# ---------------------------------------------------------------- reader
def test_reader_takes_big_files_and_non_utf8_comments(tmp_path):
    d = tmp_path / "m"
    (d / "1").mkdir(parents=True)
    body = b'# caf\xe9 \xff\nname: "m"\nbackend: "python"\n' + b"# padding\n" * 500_000  # ~5 MB
    (d / "config.pbtxt").write_bytes(body)
    m = read_model(str(d))
    assert m["read_error"] is None and m["parse_error"] is None and m["name"] == "m"
    assert m["non_utf8"] and m["non_utf8"][0]["in"] == "comment" and m["non_utf8"][0]["line"] == 1


# ---------------------------------------------------------------- the recorded evaluations
def _load(name: str) -> dict:
    return json.loads((EVAL / f"eval_{name}.json").read_text())


def test_recorded_qa_cases_reach_tritons_verdict():
    s = _load("qa")["summary"]
    assert s["negative_ensemble_cases"] >= 30 and s["negative_ensemble_same_message"] == s["negative_ensemble_cases"]
    assert s["success_ensemble_no_error"] == s["success_ensemble_cases"] >= 4
    assert s["noautofill_in_scope_same_message"] == s["noautofill_in_scope"]
    assert s["noautofill_out_of_scope_false_error"] == 0


def test_recorded_fill_is_byte_identical_for_every_tag():
    d = _load("fill")
    assert d["summary"]["identical"] == d["summary"]["cases"] and d["summary"]["tags"] == 20
    assert {c["tag"] for c in d["cases"]} == set(bt.releases())
    assert d["summary"]["readme_flow_old_differs"] > 0  # what trtdiag wrote before differed


def test_recorded_flows_give_no_error_and_the_tables_blocking_set():
    d = _load("flows")
    assert d["summary"]["agree"] == d["summary"]["cases"]
    assert d["summary"]["readme_flows_without_error"] == 2
    assert d["summary"]["filled_repositories_without_error"] == d["summary"]["filled_repositories"] == 20


def test_recorded_corpus_has_no_false_instance_group_error():
    s = _load("corpus")["summary"]
    assert s["files"] >= 300 and s["parse_errors"] == 0
    assert s["old_tri011_false_error"] > 0 and s["new_instance_group_error"] == 0
    assert s["files_with_any_error"] == 0


def test_a_repositorys_own_model_py_decides_over_the_table(tmp_path):
    """A BLS whose model.py uses the name as given (as v0.9–v0.12 do) blocks even where the detected
    release would fall back; the finding cites the repository's own file and line."""
    models = _repo_from_templates(tmp_path)
    bls = models["tensorrt_llm_bls"]
    py = Path(bls["path"]) / "1" / "model.py"
    py.write_text('params = {}\nself.llm_model_name = "tensorrt_llm"\nif "tensorrt_llm_model_name" in params:\n'
                  '    self.llm_model_name = params["tensorrt_llm_model_name"]["string_value"]\n')
    m = read_model(bls["path"])
    assert m["reader_rules"]["tensorrt_llm_model_name"]["outcome"] == "request_error"
    v = next(v for v in sem.placeholder_verdicts(m, "inflight_batcher_llm/tensorrt_llm_bls", ["v0.19.0"]) if v["name"] == "tensorrt_llm_model_name")
    assert v["required"] and v["source"] == f"{py}:4" and v.get("from_model_py")


def test_reads_parameter_tokenizer_dir_of_the_cpp_backend():
    """TRI004's question: does the model use its tokenizer_dir?  v0.19's C++ backend does not."""
    assert sem.reads_parameter("inflight_batcher_llm/tensorrt_llm", ["v0.19.0"], "tokenizer_dir", "tensorrtllm")[0] is False
    assert sem.reads_parameter("inflight_batcher_llm/tensorrt_llm", ["v0.19.0"], "tokenizer_dir", "python") == (None, None)
    assert sem.reads_parameter("inflight_batcher_llm/preprocessing", ["v0.19.0"], "tokenizer_dir")[0] is True


def test_chosen_values_never_name_a_tokenizer_model(tmp_path):
    """v0.19's preprocessing holds a gpt_model_path: it is not the tensorrt_llm model."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(TEMPLATES, root)
    pre = (root / "preprocessing" / "config.pbtxt")
    pre.write_text(pre.read_text() + 'parameters {\n  key: "gpt_model_path"\n  value: {\n    string_value: "${engine_dir}"\n  }\n}\n')
    tl = root / "tensorrt_llm" / "config.pbtxt"
    tl.write_text(tl.read_text().replace('backend: "tensorrtllm"', 'backend: "${triton_backend}"'))

    from trtdiag.core.facts import Facts

    repo = Facts({"model_repo": str(root)})["triton.repo"]
    assert repo["trtllm_model"] == "tensorrt_llm"
    j = judge_repository(repo["models"])
    vals = sem.choose_values(repo["models"], j)
    assert vals["tensorrt_llm_model_name"]["value"] == "tensorrt_llm" and vals["tensorrt_llm_model_name"]["why"].startswith("chosen:")


def test_findings_on_the_unfilled_v090_templates(tmp_path):
    from trtdiag.derive import triton_findings as tf
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(TEMPLATES, root)
    for d in root.iterdir():
        (d / "1").mkdir()

    from trtdiag.core.facts import Facts

    repo = Facts({"model_repo": str(root)})["triton.repo"]
    j = judge_repository(repo["models"])
    ph = {f["evidence"]["file"].split("/")[-2]: f for f in tf.placeholders(repo, j)}
    assert ph["tensorrt_llm_bls"]["severity"] == "error" and "tensorrt_llm_model_name" in ph["tensorrt_llm_bls"]["blocking"]
    assert "v0.9.0" in ph["tensorrt_llm"]["evidence"]["release"]
    assert tf.instances(repo, j) == []  # counts from placeholders are not judged; none refused
    assert tf.tokenizer_dir_applies(repo, j, "preprocessing")[0] is True


def test_recorded_cli_run_meets_issue_17_done_when():
    """`trtdiag check` on the real inputs (tools/eval_triton_semantics.py cli), and the same inputs
    through the rules as they were before (eval_cli_before.json, main@8ed06d2)."""
    after, before = _load("cli"), _load("cli_before")
    s = after["summary"]
    neg = [c for c in after["cases"] if c["input"] == "qa" and c["triton"] == "fails"]
    assert len(neg) == 32 and all(any(e.startswith("TRI006") for e in c["trtdiag_errors"]) for c in neg)
    assert s["qa_loading_without_error"] == s["qa_loading"] == 4
    assert s["filled_tags_without_error"] == s["filled_tags"] == 20 and s["readme_flows_without_error"] == 2
    assert s["corpus_tri011_errors"] == 0 and s["corpus_files"] >= 300
    b = before["summary"]
    assert b["readme_flows_without_error"] == 0 and b["qa_loading_without_error"] == 0 and b["corpus_tri011_errors"] > 0
