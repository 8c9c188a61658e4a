"""TOK010 (--load-tokenizer): the repository's own model.py initialize() (and one execute()) run with
real tokenizers and the real transformers in a child process (trtdiag/probes/tokenizer_replay.py); and the proof that without --trust-remote-code no code from the
tokenizer directory runs (a tokenizer module that writes a marker file when imported).

transformers' wording of each failure depends on its version (and Python's on the AttributeError),
so the assertions accept each known wording.  The read-only pad_token AttributeError is raised only
by transformers 4.x: point TRTDIAG_TEST_TRANSFORMERS4_PYTHON at an interpreter with transformers
4.x (e.g. a venv with transformers==4.44.2) to run that reproduction; it is skipped otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import PROBES, Facts
from trtdiag.core.finding import Severity

from tests import tokenizer_kit as K

REMOTE_CODE_TEXT = re.compile(
    r"Tokenizer class \w+ does not exist or is not currently imported"
    r"|requires you to execute the configuration file in that repo"
    r"|contains custom code which must be executed"
)
ENCODE_NONE_TEXT = re.compile(
    r"Input None is not valid\. Should be a string, a list/tuple of strings or a list/tuple of integers"
    r"|Input must be a string, list of strings, or list of ints, got: <class 'NoneType'>"
)
READONLY_TEXT = re.compile(r"can't set attribute 'pad_token'|property 'pad_token' of 'ChatGLMTokenizer' object has no setter")


def load(fact: dict, **options):
    facts = Facts(dict(load_tokenizer=True, **options))
    facts.set("triton.repo", fact)
    findings, _ = engine_run.run(registry.select(["TOK010"]), facts)
    return {f.evidence.get("model"): f for f in findings}


def trusting_repo(root: Path, tok: Path, pre="preprocessing_v0.7_trusting.py", post=None):
    return K.model_repo(root, str(tok), pre=pre, post=post)


def test_real_bpe_tokenizer_loads_and_survives_model_py(tmp_path):
    d = K.bpe_dir(tmp_path / "llama-hf")
    _, fact = K.model_repo(tmp_path / "repo", str(d), post=None)
    f = load(fact)["preprocessing"]
    assert f.severity == Severity.OK, f.evidence
    assert "Tokenizer" in f.evidence["tokenizer"]["class"] and f.evidence["transformers"]
    # v0.7 shape: pad_token = eos_token, then pad_id from encode(pad_token)
    assert f.evidence["tokenizer"]["pad_token"] == "</s>" and "tokenizer_end_id" in f.evidence["ids set"]
    # what a user saw: "TokenizersBackend loads" — a class name is evidence, never the title's subject
    assert f.evidence["tokenizer"]["class"] not in f.title and "this tokenizer" in f.title


def test_sentencepiece_llama_branch_loads(tmp_path):
    d = K.sentencepiece_dir(tmp_path / "llama-sp", with_config=True)
    _, fact = K.model_repo(tmp_path / "repo", str(d), tokenizer_type="llama", post=None)
    f = load(fact)["preprocessing"]
    assert f.severity in (Severity.OK, Severity.INFO), (f.title, f.evidence)
    assert f.evidence["tokenizer"]["class"].startswith("LlamaTokenizer"), f.evidence


def test_chatglm_without_trust_flag_runs_no_tokenizer_code(tmp_path, cli, monkeypatch):
    """The field's ChatGLM failure (model.py without trust_remote_code), reproduced; the tokenizer
    module writes a marker when imported, and none appears after check, check --load-tokenizer
    and fix --apply."""
    marker = tmp_path / "IMPORTED"
    d = K.custom_dir(tmp_path / "chatglm", "chatglm", marker=str(marker))
    root, fact = K.model_repo(tmp_path / "repo", str(d))
    monkeypatch.setitem(PROBES, "triton.repo", lambda facts: fact)
    opts = ["--model-repo", str(root), "--only", "tokenizer"]
    code, out, _ = cli("check", *opts)
    assert code == 1 and not marker.exists()
    code, out, _ = cli("check", *opts, "--load-tokenizer", "--json")
    assert code == 1 and not marker.exists()
    assert REMOTE_CODE_TEXT.search(out), out
    code, out, err = cli("fix", *opts, "--apply", "--yes")
    assert code == 0 and "changed" in out and not marker.exists(), out + err
    # after the fix, model.py trusts the code; without --trust-remote-code trtdiag still does not run it
    f = load(fact)["preprocessing"]
    assert f.severity == Severity.INFO and "--trust-remote-code" in f.message and not marker.exists()
    # with the flag it loads (and so runs the module, which is what the flag is for)
    f = load(fact, trust_remote_code=True)["preprocessing"]
    # the fix was planned for this interpreter's transformers; under 5.x / >= 4.47 the read-only
    # pad_token assignment is accepted, which TOK010 still names for older versions
    assert f.severity in (Severity.OK, Severity.INFO) or (f.severity == Severity.WARNING and "accepts" in f.title), (f.title, f.evidence)
    assert marker.exists()


def test_chatglm_readonly_pad_token_on_transformers5_is_a_warning(tmp_path):
    import transformers

    if int(transformers.__version__.split(".")[0]) < 5:
        pytest.skip("this interpreter's transformers raises: see the transformers 4 test")
    d = K.custom_dir(tmp_path / "chatglm", "chatglm")
    _, fact = trusting_repo(tmp_path / "repo", d)
    f = load(fact, trust_remote_code=True)["preprocessing"]
    assert f.severity == Severity.WARNING and "accepts" in f.title and READONLY_TEXT.search(f.message)
    assert f.fix and "except AttributeError" in f.fix.preview


@pytest.mark.skipif(not os.environ.get("TRTDIAG_TEST_TRANSFORMERS4_PYTHON"), reason="needs an interpreter with transformers 4.x")
def test_chatglm_readonly_pad_token_reproduced_on_transformers4(tmp_path):
    py = os.environ["TRTDIAG_TEST_TRANSFORMERS4_PYTHON"]
    d = K.custom_dir(tmp_path / "chatglm", "chatglm")
    root, fact = trusting_repo(tmp_path / "repo", d)
    f = load(fact, trust_remote_code=True, python=py)["preprocessing"]
    assert f.severity == Severity.ERROR and f.kb == "tokenizer-pad-token-readonly"
    assert READONLY_TEXT.search(f.title), f.title
    from trtdiag.fixes.applier import Applier

    Applier(roots=[str(root)]).apply([f.fix])
    f = load(fact, trust_remote_code=True, python=py)["preprocessing"]
    assert f.severity in (Severity.OK, Severity.INFO), f.evidence


def test_qwen_without_eos_reproduced_and_cleared(tmp_path):
    d = K.custom_dir(tmp_path / "qwen", "qwen")
    root, fact = K.model_repo(tmp_path / "repo", str(d), pre="preprocessing_2024.py", post=None)
    f = load(fact, trust_remote_code=True)["preprocessing"]
    assert f.severity == Severity.ERROR and f.kb == "tokenizer-missing-eos-pad"
    assert ENCODE_NONE_TEXT.search(f.title), f.title
    from trtdiag.fixes.applier import Applier

    res = Applier(roots=[str(root)]).apply([f.fix])
    assert res.changed
    f = load(fact, trust_remote_code=True)["preprocessing"]
    assert f.severity == Severity.OK, f.evidence
    assert f.evidence["ids set"] == {"tokenizer_end_id": 2, "tokenizer_pad_id": 2}


def test_hanging_tokenizer_import_is_killed(tmp_path, monkeypatch):
    d = K.custom_dir(tmp_path / "slow", "chatglm")
    src = d / "tokenization_chatglm.py"
    src.write_text("import time\ntime.sleep(60)\n" + src.read_text())
    _, fact = trusting_repo(tmp_path / "repo", d, pre="preprocessing_2024.py")
    monkeypatch.setenv("TRTDIAG_TOKENIZER_TIMEOUT", "4")
    f = load(fact, trust_remote_code=True)["preprocessing"]
    assert f.severity == Severity.WARNING and "timed out" in f.message


def test_missing_target_python_is_one_line(tmp_path):
    d = K.bpe_dir(tmp_path / "tok")
    _, fact = K.model_repo(tmp_path / "repo", str(d), post=None)
    f = load(fact, python=str(tmp_path / "no-python"))["preprocessing"]
    assert f.severity == Severity.WARNING and "no-python" in f.message and "\n" not in f.message
