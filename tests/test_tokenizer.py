"""Tokenizer checks (TOK0xx), static part: real tokenizer directories made here with the real
tokenizers/transformers/sentencepiece packages, tiny custom tokenizer classes with ChatGLM's and
Qwen's traits, and model.py copies of tensorrtllm_backend's shapes.  Nothing here loads a tokenizer
in the test process or runs a tokenizer directory's code.

The ``triton.repo`` fact belongs to the Triton area: the tests set it directly (a probe registered
for the test, or ``facts.set``), as docs/ARCHITECTURE.md's contract describes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import PROBES, Facts
from trtdiag.core.finding import Severity

from tests import tokenizer_kit as K


def run_tok(fact: dict | None = None, transformers: str | None = "4.44.2", **options):
    """Run the tokenizer checks on facts holding ``triton.repo`` = fact.  The serving
    environment's transformers version is stated (default: a 4.x, as in the field reports),
    since several checks depend on it and this machine's own version may differ."""
    facts = Facts(options)
    if fact is not None:
        facts.set("triton.repo", fact)
    if transformers:
        facts.set("python.packages", {"packages": {"transformers": transformers}})
    # TOK008/TOK009 (the statement-by-statement prediction, tests/test_tokenizer_truth.py) cover
    # TOK004-TOK006's findings about a model.py; these tests check those rules themselves
    rules = [r for r in registry.select(["tokenizer"]) if r.id not in ("TOK008", "TOK009")]
    findings, _ = engine_run.run(rules, facts)
    return findings, facts


def by(findings, check_id, model="preprocessing"):
    return [f for f in findings if f.check == check_id and f.evidence.get("model", None) in (model, None)]


def worst(findings, check_id, model="preprocessing"):
    fs = by(findings, check_id, model)
    return max((f.severity for f in fs), key=lambda s: s.rank) if fs else None


@pytest.fixture(scope="module")
def bpe(tmp_path_factory) -> Path:
    return K.bpe_dir(tmp_path_factory.mktemp("bpe") / "llama-hf")


@pytest.fixture(scope="module")
def chatglm(tmp_path_factory) -> Path:
    return K.custom_dir(tmp_path_factory.mktemp("glm") / "chatglm", "chatglm")


@pytest.fixture(scope="module")
def qwen(tmp_path_factory) -> Path:
    return K.custom_dir(tmp_path_factory.mktemp("qwen") / "qwen", "qwen")


TRITON_FACT: dict = {}


@pytest.fixture(autouse=True)
def _triton_probe_for_cli(monkeypatch):
    """In-process CLI runs get triton.repo from the test (the Triton probe is another area's)."""
    TRITON_FACT.clear()
    monkeypatch.setitem(PROBES, "triton.repo", lambda facts: TRITON_FACT["fact"])


# --------------------------------------------------------------------------- no target: silent
def test_no_repo_no_tokenizer_dir_means_not_applicable():
    findings, _ = run_tok()
    assert findings == []


# --------------------------------------------------------------------------- TOK001
def test_tok001_missing_dir_is_an_error(tmp_path):
    _, fact = K.model_repo(tmp_path / "repo", str(tmp_path / "nope"))
    f = by(run_tok(fact)[0], "TOK001")
    assert f[0].severity == Severity.ERROR and "does not exist" in f[0].title and f[0].kb == "tokenizer-dir-missing"


def test_tok001_placeholder_is_named(tmp_path):
    _, fact = K.model_repo(tmp_path / "repo", "${tokenizer_dir}")
    f = by(run_tok(fact)[0], "TOK001")
    assert f[0].severity == Severity.ERROR and "${tokenizer_dir}" in f[0].title and f[0].kb == "triton-config-placeholder"


def test_tok001_empty_dir_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("x")
    _, fact = K.model_repo(tmp_path / "repo", str(tmp_path / "empty"))
    assert worst(run_tok(fact)[0], "TOK001") == Severity.ERROR


def test_tok001_real_tokenizer_passes(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe))
    f = by(run_tok(fact)[0], "TOK001")
    assert f[0].severity == Severity.OK and "tokenizer.json" in f[0].evidence["files"]


def test_tok001_broken_json_is_one_line_not_a_crash(tmp_path, bpe):
    d = tmp_path / "broken"
    d.mkdir()
    (d / "tokenizer_config.json").write_text('{"eos_token": ')
    _, fact = K.model_repo(tmp_path / "repo", str(d))
    fs = by(run_tok(fact)[0], "TOK001")
    bad = [f for f in fs if f.title.endswith("unreadable tokenizer file")]
    assert bad and "not valid JSON" in bad[0].message


def test_tokenizer_dir_option_overrides_config(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(tmp_path / "nope"))
    findings, _ = run_tok(fact, tokenizer_dir=str(bpe))
    f = by(findings, "TOK001")
    assert f[0].severity == Severity.OK and f[0].evidence["tokenizer_dir from"] == "option"


def test_tokenizer_dir_option_alone(bpe):
    findings, _ = run_tok(None, tokenizer_dir=str(bpe))
    assert by(findings, "TOK001")[0].severity == Severity.OK
    assert not by(findings, "TOK003")  # no model.py to read


# --------------------------------------------------------------------------- TOK002
def test_tok002_engine_dir_is_an_error(tmp_path):
    eng = tmp_path / "engines" / "tp1"
    eng.mkdir(parents=True)
    (eng / "rank0.engine").write_bytes(b"\0" * 64)
    (eng / "config.json").write_text(json.dumps({"version": "0.9.0", "build_config": {"max_batch_size": 8}, "pretrained_config": {}}))
    _, fact = K.model_repo(tmp_path / "repo", str(eng))
    f = by(run_tok(fact)[0], "TOK002")
    assert f[0].severity == Severity.ERROR and f[0].evidence["engines"] == ["rank0.engine"]


def test_tok002_hf_dir_passes(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe))
    assert worst(run_tok(fact)[0], "TOK002") == Severity.OK


# --------------------------------------------------------------------------- TOK003
def test_tok003_reads_what_model_py_does(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe), pre="preprocessing_v0.7.py")
    f = by(run_tok(fact)[0], "TOK003")[0]
    assert f.severity == Severity.OK
    assert "AutoTokenizer.from_pretrained(padding_side='left', trust_remote_code=None)" in f.evidence["loads"][0]
    assert "unguarded" in f.evidence["pad_token"][0] and f.evidence["type_branches"] == ["auto", "llama", "t5"]


def test_tok003_2024_model_py_ignores_tokenizer_type(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe), tokenizer_type="llama", pre="preprocessing_2024.py", post=None)
    f = by(run_tok(fact)[0], "TOK003")[0]
    assert "ignores tokenizer_type" in f.evidence["note"] and "if-not-pad" in f.evidence["pad_token"][0]


def test_tok003_syntax_error_is_reported(tmp_path, bpe):
    root, fact = K.model_repo(tmp_path / "repo", str(bpe), post=None)
    (root / "preprocessing" / "1" / "model.py").write_text("def initialize(self:\n")
    f = by(run_tok(fact)[0], "TOK003")[0]
    assert f.severity == Severity.ERROR and "model.py:1" in f.message


# --------------------------------------------------------------------------- TOK004 (ChatGLM: remote code)
def test_tok004_custom_class_without_trust_remote_code(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm))
    f = by(run_tok(fact)[0], "TOK004")[0]
    assert f.severity == Severity.ERROR and f.kb == "tokenizer-remote-code-required"
    assert "Tokenizer class ChatGLMTokenizer does not exist or is not currently imported." in f.message
    assert f.fix and f.fix.id == "tok-model-py" and "+                tokenizer_dir, padding_side='left', trust_remote_code=True)" in f.fix.preview


def test_tok004_trusting_model_py_passes(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm), pre="preprocessing_2024.py", post=None)
    f = by(run_tok(fact)[0], "TOK004")[0]
    assert f.severity == Severity.OK


def test_tok004_not_applicable_without_auto_map(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe))
    assert by(run_tok(fact)[0], "TOK004") == []


def test_tok004_only_the_branch_that_runs_matters(tmp_path, chatglm):
    """tokenizer_type 'llama' runs LlamaTokenizer, which never reads auto_map."""
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm), tokenizer_type="llama")
    f = by(run_tok(fact)[0], "TOK004")[0]
    assert f.severity == Severity.WARNING and "loads LlamaTokenizer, not the custom ChatGLMTokenizer" in f.title and f.fix is None


# --------------------------------------------------------------------------- TOK005 (ChatGLM: read-only pad_token)
def test_tok005_readonly_pad_token_assignment(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm))
    f = by(run_tok(fact)[0], "TOK005")[0]
    assert f.severity == Severity.ERROR and f.kb == "tokenizer-pad-token-readonly"
    assert "can't set attribute 'pad_token'" in f.message
    assert "property 'pad_token' of 'ChatGLMTokenizer' object has no setter" in f.message
    assert f.evidence["read-only properties"] == ["eos_token", "pad_token"]


def test_tok005_is_a_warning_under_transformers_5(tmp_path, chatglm):
    """transformers 5 stores special tokens through __setattr__: the assignment no longer raises."""
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm))
    f = by(run_tok(fact, transformers="5.23.0")[0], "TOK005")[0]
    assert f.severity == Severity.WARNING


def test_tok005_guarded_model_py_passes(tmp_path, chatglm):
    """The 2024 model.py guards with `if not pad_token:` and ChatGLM's property returns '<unk>'."""
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm), pre="preprocessing_2024.py", post=None)
    assert worst(run_tok(fact)[0], "TOK005") == Severity.OK


def test_tok005_is_a_warning_when_target_transformers_is_5(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm))
    facts = Facts({})
    facts.set("triton.repo", fact)
    facts.set("python.packages", {"python": "/usr/bin/python3", "version": "3.11.7", "packages": {"transformers": "5.23.0"}})
    findings, _ = engine_run.run(registry.select(["TOK005"]), facts)
    assert findings[0].severity == Severity.WARNING and "5.23.0" in findings[0].evidence["transformers"]


def test_class_source_analysis(tmp_path):
    from trtdiag.probes.tokenizer import analyze_class_source

    p = tmp_path / "tok.py"
    p.write_text(
        "class Base:\n    @property\n    def eos_token(self):\n        return '</s>'\n"
        "class T(Base):\n    @property\n    def pad_token(self):\n        return '<pad>'\n"
        "    @pad_token.setter\n    def pad_token(self, v):\n        pass\n"
    )
    a = analyze_class_source(str(p), "T")
    assert a["found"] and a["readonly"] == ["eos_token"] and a["constants"] == {"eos_token": "</s>"}


# --------------------------------------------------------------------------- TOK006 (Qwen: no eos/pad)
def test_tok006_no_eos_with_generation_config(tmp_path, qwen):
    _, fact = K.model_repo(tmp_path / "repo", str(qwen), pre="preprocessing_2024.py", post=None)
    f = by(run_tok(fact)[0], "TOK006")[0]
    assert f.severity == Severity.ERROR and f.kb == "tokenizer-missing-eos-pad"
    assert "Input None is not valid" in f.message and f.evidence["generation_config"]["eos_token_id"] == 2
    assert f.fix and "generation_config.json" in f.fix.preview


def test_tok006_real_tokenizer_with_eos_passes(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe))
    f = by(run_tok(fact)[0], "TOK006")[0]
    assert f.severity == Severity.OK and "'</s>' from tokenizer_config.json" in f.evidence["tokens"]["eos_token"]


def test_tok006_eos_not_an_added_token_warns(tmp_path):
    d = K.bpe_dir(tmp_path / "tok", extra_config={"eos_token": "<|eot|>"})  # edited in: not in the vocabulary
    _, fact = K.model_repo(tmp_path / "repo", str(d))
    f = by(run_tok(fact)[0], "TOK006")[0]
    assert f.severity == Severity.WARNING and "<|eot|>" in f.title


def test_tok006_no_eos_and_no_generation_config_has_no_fix(tmp_path, qwen):
    d = tmp_path / "q2"
    K.custom_dir(d, "qwen")
    (d / "generation_config.json").unlink()
    _, fact = K.model_repo(tmp_path / "repo", str(d), pre="preprocessing_2024.py", post=None)
    f = by(run_tok(fact)[0], "TOK006")[0]
    assert f.severity == Severity.ERROR and f.fix is None and "add eos_token" in f.message


# --------------------------------------------------------------------------- TOK007
def test_tok007_auto_on_sentencepiece_only_dir(tmp_path):
    d = K.sentencepiece_dir(tmp_path / "gemma")
    _, fact = K.model_repo(tmp_path / "repo", str(d), tokenizer_type="auto")
    f = by(run_tok(fact)[0], "TOK007")[0]
    assert f.severity == Severity.ERROR and "'sp'" in f.message and f.kb == "tokenizer-type-mismatch"


def test_tok007_llama_type_on_bpe_dir(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe), tokenizer_type="llama")
    f = by(run_tok(fact)[0], "TOK007")[0]
    assert f.severity == Severity.ERROR and "needs a sentencepiece model" in f.title


def test_tok007_unknown_type_for_model_py(tmp_path, bpe):
    _, fact = K.model_repo(tmp_path / "repo", str(bpe), tokenizer_type="sp")
    f = by(run_tok(fact)[0], "TOK007")[0]
    assert f.severity == Severity.ERROR and "Unexpected tokenizer type: sp" in f.message


def test_tok007_fitting_types_pass(tmp_path, bpe):
    d = K.sentencepiece_dir(tmp_path / "llama", with_config=True)
    _, fact = K.model_repo(tmp_path / "repo", str(d), tokenizer_type="llama")
    assert worst(run_tok(fact)[0], "TOK007") == Severity.OK
    _, fact = K.model_repo(tmp_path / "repo2", str(bpe), tokenizer_type="auto")
    assert worst(run_tok(fact)[0], "TOK007") == Severity.OK


# --------------------------------------------------------------------------- TOK010 without the flag
def test_tok010_without_flag_says_nothing_was_run(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm))
    f = by(run_tok(fact)[0], "TOK010")[0]
    assert f.severity == Severity.INFO and "No tokenizer or remote code was run" in f.message
    assert "TOK004" in f.message and "TOK005" in f.message


# --------------------------------------------------------------------------- the fix
def test_one_fix_per_model_py_with_every_patch(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm), post=None)
    findings, _ = run_tok(fact)
    fixes = [f.fix for f in findings if f.fix]
    assert len(fixes) == 1
    assert "trust_remote_code=True" in fixes[0].preview and "except AttributeError" in fixes[0].preview
    assert any("part of fix tok-model-py" in str(f.evidence.get("fix")) for f in findings if f.check == "TOK005")


@pytest.mark.parametrize("src", ["preprocessing_v0.7.py", "postprocessing_v0.7.py", "preprocessing_2024.py"])
def test_patch_compiles_and_is_idempotent(src):
    from trtdiag.fixes.model_py import patch_text

    text = (K.DATA / src).read_text()
    needs = {"trust_remote_code", "guard_pad", "gen_config_ids"}
    once = patch_text(text, needs, "auto")
    compile(once, src, "exec")
    assert once != text
    assert patch_text(once, needs, "auto") == once


def test_patch_handles_trailing_comma_and_explicit_false():
    from trtdiag.fixes.model_py import patch_text

    a = "from transformers import AutoTokenizer\nt = AutoTokenizer.from_pretrained(\n    d,\n    padding_side='left',\n)\n"
    out = patch_text(a, {"trust_remote_code"})
    compile(out, "a", "exec")
    assert "padding_side='left', trust_remote_code=True," in out
    b = "from transformers import AutoTokenizer\nt = AutoTokenizer.from_pretrained(d, trust_remote_code=False)\n"
    assert patch_text(b, {"trust_remote_code"}) == b.replace("False", "True")


def test_fix_apply_clears_chatglm_and_second_apply_changes_nothing(tmp_path, chatglm, cli):
    root, fact = K.model_repo(tmp_path / "repo", str(chatglm))
    TRITON_FACT["fact"] = fact
    opts = ["--model-repo", str(root), "--only", "tokenizer"]
    code, out, _ = cli("check", *opts)
    assert code == 1 and "TOK004" in out and "TOK005" in out
    code, out, err = cli("fix", *opts, "--apply", "--yes")
    assert code == 0 and out.count("changed ") == 2, out + err
    for m in ("preprocessing", "postprocessing"):
        compile((root / m / "1" / "model.py").read_text(), m, "exec")
    code, out, _ = cli("check", *opts)
    assert code == 0, out
    code, out, _ = cli("fix", *opts, "--apply", "--yes")
    assert code == 0 and "No fixes to make." in out
    code, out, _ = cli("fix", "--undo")
    assert code == 0 and out.count("restored ") == 2
    code, out, _ = cli("check", *opts)
    assert code == 1


def test_fix_apply_clears_qwen(tmp_path, qwen, cli):
    root, fact = K.model_repo(tmp_path / "repo", str(qwen), pre="preprocessing_2024.py", post=None)
    facts = Facts({"model_repo": str(root)})
    facts.set("triton.repo", fact)
    findings, _ = engine_run.run(registry.select(["tokenizer"]), facts)
    fx = [f.fix for f in findings if f.fix]
    assert len(fx) == 1 and "ids from generation_config.json" in fx[0].summary
    from trtdiag.fixes.applier import Applier

    res = Applier(roots=[str(root)]).apply(fx)
    assert res.changed == [str(root / "preprocessing" / "1" / "model.py")]
    findings, _ = run_tok(fact)
    assert all(f.severity in (Severity.OK, Severity.INFO) for f in findings), [(f.check, f.title) for f in findings]


def test_trust_remote_code_fix_needs_review_and_without_yes_changes_nothing(tmp_path, chatglm, cli):
    root, fact = K.model_repo(tmp_path / "repo", str(chatglm), post=None)
    TRITON_FACT["fact"] = fact
    before = (root / "preprocessing" / "1" / "model.py").read_text()
    code, out, err = cli("fix", "--model-repo", str(root), "--only", "tokenizer", "--apply")
    assert code == 2 and "tok-model-py" in err and "--yes" in err
    assert (root / "preprocessing" / "1" / "model.py").read_text() == before
    code, out, _ = cli("fix", "--model-repo", str(root), "--only", "tokenizer")
    assert "[review first]" in out and "Nothing was changed" in out


def test_guard_only_fix_is_safe(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm), pre="preprocessing_v0.7_trusting.py", post=None)
    fx = [f.fix for f in run_tok(fact)[0] if f.fix]
    assert len(fx) == 1 and fx[0].safe and "trust_remote_code" not in fx[0].summary


def test_auto_map_cannot_point_outside_the_tokenizer_dir(tmp_path):
    d = K.custom_dir(tmp_path / "tok", "chatglm")
    (d / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": "/etc/passwd.Class"}}))
    _, fact = K.model_repo(tmp_path / "repo", str(d), post=None)
    f = by(run_tok(fact)[0], "TOK004")[0]
    assert f.severity == Severity.ERROR and "<invalid auto_map>" in f.title and f.fix is None


def test_snapshot_round_trip_gives_the_same_tokenizer_findings(tmp_path, chatglm):
    _, fact = K.model_repo(tmp_path / "repo", str(chatglm), post=None)
    facts = Facts({})
    facts.set("triton.repo", fact)
    facts.set("python.packages", {"packages": {"transformers": "4.44.2"}, "version": "3.11.7"})
    findings, _ = engine_run.run(registry.select(["tokenizer"]), facts)  # TOK008/TOK009 included
    assert any(f.check == "TOK008" for f in findings)
    snap = json.loads(json.dumps(facts.snapshot()))
    again, _ = engine_run.run(registry.select(["tokenizer"]), Facts({}, snapshot=snap))
    assert [(f.check, f.severity, f.title) for f in again] == [(f.check, f.severity, f.title) for f in findings]


# --------------------------------------------------------------------------- hostile files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["eos_token", "pad_token", "bos_token", "auto_map", "AutoTokenizer", "tokenizer_class", "content",
                         "eos_token_id", "pad_token_id", "chat_format", "added_tokens", "build_config"]) | st.text(max_size=5),
        kids, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cfg=_json, stm=_json, gen=_json, tj=_json)
def test_any_json_in_the_tokenizer_files_gives_findings_not_crashes(tmp_path_factory, cfg, stm, gen, tj):
    d = tmp_path_factory.mktemp("fuzz")
    for name, value in (("tokenizer_config.json", cfg), ("special_tokens_map.json", stm), ("generation_config.json", gen),
                        ("tokenizer.json", tj), ("config.json", cfg)):
        (d / name).write_text(json.dumps(value))
    _, fact = K.model_repo(d / "repo", str(d), post=None)
    findings, _ = run_tok(fact)
    assert findings and not [f for f in findings if f.title.startswith(("Check crashed", "Could not check"))], \
        [(f.title, f.evidence) for f in findings if f.title.startswith(("Check crashed", "Could not check"))]


@pytest.mark.parametrize("src", [
    "from transformers import AutoTokenizer\nkw = {}\ntok = AutoTokenizer.from_pretrained(d, **kw)\n",
    "from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained()\n",
    "class M:\n\tdef initialize(self, d):\n\t\tself.tokenizer = AutoTokenizer.from_pretrained(d)\n\t\tself.tokenizer.pad_token = self.tokenizer.eos_token\n"
    "\t\tself.tokenizer_end_id = self.tokenizer.encode(self.tokenizer.eos_token)[0]\n",
    "class M:\n    def initialize(self, d):\n        self.tokenizer = AutoTokenizer.from_pretrained(d)  # ü comment\n"
    "        if self.tokenizer.pad_token is None:\n            self.tokenizer.pad_token = self.tokenizer.eos_token\n",
    "x = 1\n",
    "class M:\n    def initialize(self):\n        x = 1; self.tokenizer.pad_token = self.tokenizer.eos_token\n",
])
def test_patch_of_odd_model_py_compiles_or_changes_nothing(src):
    from trtdiag.fixes.model_py import patch_text

    out = patch_text(src, {"trust_remote_code", "guard_pad", "gen_config_ids"})
    compile(out, "m", "exec")
    assert patch_text(out, {"trust_remote_code", "guard_pad", "gen_config_ids"}) == out


def test_bad_tokenizer_dir_option_is_one_line_and_exit_2(tmp_path):
    from tests.conftest import run_cli

    for bad in (str(tmp_path / "nope"), __file__):
        p = run_cli("check", "--tokenizer-dir", bad, "--only", "tokenizer")
        assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert "--tokenizer-dir" in p.stderr


def test_tok001_unfilled_template_is_a_placeholder_not_a_missing_parameter(tmp_path):
    """The real v0.9.0 templates, read by the real Triton probe: tokenizer_dir is there, unfilled.
    TOK001 must not say "no tokenizer_dir parameter"; with TRI001 in the run it leaves the
    placeholder to TRI001 (one finding per problem), alone it names the placeholder."""
    from tests.triton_helpers import copy_templates
    from trtdiag.probes.triton import triton_repo

    repo = copy_templates(tmp_path / "repo")
    TRITON_FACT["fact"] = triton_repo(Facts({"model_repo": str(repo)}))
    findings, _ = run_tok(TRITON_FACT["fact"])
    f = by(findings, "TOK001")
    assert f and f[0].severity == Severity.ERROR and "${tokenizer_dir}" in f[0].title, [x.title for x in f]
    assert not any("no tokenizer_dir parameter" in x.title for x in findings)
    facts = Facts({"model_repo": str(repo)})
    facts.set("python.packages", {"packages": {"transformers": "4.44.2"}})
    both, _ = engine_run.run(registry.select(["tokenizer", "TRI001"]), facts)
    assert [x for x in both if x.check == "TOK001"] == []
    assert any(x.check == "TRI001" and "preprocessing" in x.title for x in both)


def test_a_wrong_tokenizer_dir_is_one_finding(tmp_path):
    """Real templates, filled; preprocessing's tokenizer_dir does not exist (TRI004 owns it, with the
    file to edit), postprocessing's is the engine directory (TOK002 owns it).  The real Triton and
    tokenizer probes; two problems, two errors."""
    from tests.triton_helpers import copy_templates, make_engine
    from trtdiag.probes.triton import triton_repo

    repo = copy_templates(tmp_path / "repo")
    eng = make_engine(tmp_path / "engine")
    for name, value in (("preprocessing", str(tmp_path / "nope")), ("postprocessing", str(eng))):
        cfg = repo / name / "config.pbtxt"
        cfg.write_text(cfg.read_text().replace("${tokenizer_dir}", value))
    TRITON_FACT["fact"] = triton_repo(Facts({"model_repo": str(repo)}))
    facts = Facts({"model_repo": str(repo)})
    facts.set("python.packages", {"packages": {"transformers": "4.44.2"}})
    findings, _ = engine_run.run(registry.select(["tokenizer", "TRI004"]), facts)
    errors = sorted((f.check, f.title.split(":")[0]) for f in findings if f.severity == Severity.ERROR)
    assert errors == [("TOK002", "postprocessing"), ("TRI004", "preprocessing")], errors
    # alone, TOK001 still reports both
    alone, _ = engine_run.run(registry.select(["TOK001"]), facts)
    assert sorted(f.title.split(":")[0] for f in alone if f.severity == Severity.ERROR) == ["postprocessing", "preprocessing"]


def test_tok006_gives_one_verdict_a_model(tmp_path):
    """What a user saw: TOK006 showing ! and ✓ for the same model (the eos token not an added
    token, and then "eos token defined")."""
    d = K.bpe_dir(tmp_path / "tok", extra_config={"eos_token": "<|eot|>"})
    _, fact = K.model_repo(tmp_path / "repo", str(d))
    fs = by(run_tok(fact)[0], "TOK006")
    assert [f.severity for f in fs] == [Severity.WARNING], [(f.severity, f.title) for f in fs]
