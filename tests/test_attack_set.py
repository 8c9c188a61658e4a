"""`fix --set` values validated and quoted for the field they fill (issue 20, Low): `${…}` in a
value, a quote or a newline, a crafted value that would add another parameter, backslashes
(read as escapes by Triton), and unknown keys — each exit 2 before anything is written, or
written so that Triton reads back exactly the value given."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, cli_env
from tests.triton_helpers import copy_templates


def cli(*args, env):
    return subprocess.run([sys.executable, "-m", "trtdiag", *args], capture_output=True, text=True, env=cli_env(env), cwd=REPO, timeout=120)


def digest(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def repo(tmp_path):
    return copy_templates(tmp_path / "repo"), {"TRTDIAG_STATE_DIR": str(tmp_path / "state")}


def apply(repo, env, *sets):
    args = ["fix", "--apply", "--yes", "--only", "TRI001", "--model-repo", str(repo)]
    for s in sets:
        args += ["--set", s]
    return cli(*args, env=env)


@pytest.mark.parametrize("value,why", [("${tokenizer_type}", "'$' before a name"), ("/a\nb", "newline"), ("/a\x1b[2Jb", "control character")])
def test_values_that_would_break_out_or_refill_are_refused(repo, value, why):
    root, env = repo
    before = digest(root)
    p = apply(root, env, f"tokenizer_dir={value}")
    assert p.returncode == 2 and why in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert digest(root) == before


def test_a_crafted_bare_value_cannot_inject_another_field(repo):
    root, env = repo
    before = digest(root)
    p = apply(root, env, "triton_max_batch_size=8\ninstance_group [ { kind: KIND_CPU } ]")
    assert p.returncode == 2 and digest(root) == before, p.stderr
    p = apply(root, env, "triton_max_batch_size=8 dynamic_batching { }")
    assert p.returncode == 2 and "an integer" in p.stderr and digest(root) == before, p.stderr


def test_bool_field_takes_only_true_or_false(repo):
    root, env = repo
    p = apply(root, env, "decoupled_mode=yes")
    assert p.returncode == 2 and "true or false" in p.stderr


def test_quotes_and_backslashes_read_back_as_given(repo):
    from trtdiag.parsers import pbtxt

    root, env = repo
    value = 'C:\\models\\tok "v2"'
    p = apply(root, env, f"tokenizer_dir={value}")
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stderr
    res = pbtxt.parse_config((root / "preprocessing" / "config.pbtxt").read_text())
    assert res["parse_error"] is None
    params = res["config"]["parameters"] if "config" in res else None
    text = (root / "preprocessing" / "config.pbtxt").read_text()
    assert 'string_value: "C:\\\\models\\\\tok \\"v2\\""' in text
    # and a second identical apply changes nothing
    again = digest(root)
    p = apply(root, env, f"tokenizer_dir={value}")
    assert p.returncode in (0, 1) and digest(root) == again, p.stdout + p.stderr


def test_unknown_key_is_exit_2_naming_the_key_and_the_files(repo):
    root, env = repo
    before = digest(root)
    p = apply(root, env, "tokenizer_path=/hf/llama")
    assert p.returncode == 2 and "tokenizer_path" in p.stderr and str(root) in p.stderr and "did you mean tokenizer_" in p.stderr, p.stderr
    assert digest(root) == before
