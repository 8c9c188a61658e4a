"""config.pbtxt parsing with Triton's own schema (tritonclient's model_config_pb2)."""

from __future__ import annotations

import re
import subprocess
import sys
from string import Template

import pytest

from tests.conftest import cli_env
from tests.triton_helpers import TEMPLATES
from trtdiag.parsers import pbtxt

FILES = sorted(TEMPLATES.glob("*/config.pbtxt")) if TEMPLATES else []


def _expected(text: str):
    """Placeholders found the slow, obvious way: each ${name} on a line before any '#'."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        for m in re.finditer(r"\$\{(\w+)\}", code):
            out.append((m.group(1), n, m.start() + 1))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_real_templates_placeholders_found_with_line_and_col(path):
    text = path.read_text()
    res = pbtxt.parse_config(text)
    assert [(p["name"], p["line"], p["col"]) for p in res["placeholders"]] == _expected(text)
    assert res["placeholders"], "every v0.9.0 template holds placeholders"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.parent.name)
def test_real_templates_parse_with_placeholders_replaced_by_typed_dummies(path):
    res = pbtxt.parse_config(path.read_text())
    assert res["parse_error"] is None
    assert res["name"] == path.parent.name
    # a value that came from a placeholder is unknown, not the dummy
    if any(p["field"] == "max_batch_size" for p in res["placeholders"]):
        assert res["max_batch_size"] is None
    for key, val in res["parameters"].items():
        if val is None:
            assert any(p.get("param") == key for p in res["placeholders"])


def test_real_syntax_error_reported_with_its_line():
    path = TEMPLATES / "tensorrt_llm" / "config.pbtxt"
    lines = path.read_text().splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if "TYPE_INT32" in line)
    lines[n] = lines[n].replace("TYPE_INT32", "TYPE_INT23")
    res = pbtxt.parse_config("".join(lines))
    assert res["parse_error_line"] == n + 1
    assert "TYPE_INT23" in res["parse_error"]
    assert res["parse_error"].startswith(f"{n + 1}:")


def test_unbalanced_brace_and_unknown_field():
    res = pbtxt.parse_config('name: "m"\nmax_batch_size: 4\nmax_batchsize: 8\n')
    assert res["parse_error_line"] == 3 and "max_batchsize" in res["parse_error"]
    res = pbtxt.parse_config('name: "m"\ninput [ {\n name: "a"\n')
    assert res["parse_error"] is not None


def test_placeholders_in_comments_are_not_reported():
    res = pbtxt.parse_config('# max_batch_size: ${x}\nname: "m" # ${y}\nmax_batch_size: ${z}\n')
    assert [p["name"] for p in res["placeholders"]] == ["z"]
    assert res["parse_error"] is None and res["max_batch_size"] is None


@pytest.mark.parametrize("values", [
    {"tokenizer_dir": "/models/llama,v2:final", "engine_dir": "C:\\engines\\x"},
    {"triton_max_batch_size": "64", "decoupled_mode": "true", "unknown_key": "z"},
    {},
])
def test_fill_is_fill_template_safe_substitute(values):
    for path in FILES:
        text = path.read_text()
        assert pbtxt.fill(text, values) == Template(text).safe_substitute(values)


def test_schema_loaded_without_grpc_and_not_on_a_plain_check(tmp_path):
    code = (
        "import sys\n"
        "from trtdiag.parsers import pbtxt\n"
        "assert 'google.protobuf' not in sys.modules\n"
        "pbtxt.model_config_pb2()\n"
        "assert 'grpc' not in sys.modules and 'tritonclient.grpc' not in sys.modules\n"
        "from trtdiag.app.main import main\n"
    )
    p = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    code = (
        "import sys\n"
        "from trtdiag.app.main import main\n"
        "main(['check', '--only', 'triton,ports', '--json'])\n"
        "assert 'google.protobuf' not in sys.modules, 'protobuf imported without a model repository'\n"
    )
    p = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr


from hypothesis import given, settings, strategies as st  # noqa: E402

_TEMPLATE_LINES = (TEMPLATES / "tensorrt_llm" / "config.pbtxt").read_text().splitlines(keepends=True) if TEMPLATES else [""]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}[]<>:"\'#$ \n\tabcdefg_01-.\\')), max_size=200))
def test_any_text_gives_a_result_never_an_exception(text):
    res = pbtxt.parse_config(text)
    assert res["parse_error"] is None or res["parse_error"].split(":")[0].isdigit() or res["parse_error"].startswith("?")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(_TEMPLATE_LINES) - 1), max_size=5))
def test_template_with_lines_dropped_reports_a_line_or_parses(drop):
    text = "".join(line for i, line in enumerate(_TEMPLATE_LINES) if i not in set(drop))
    res = pbtxt.parse_config(text)
    if res["parse_error"]:
        assert 1 <= res["parse_error_line"] <= text.count("\n") + 1


def test_the_shipped_schema_is_tritons_own():
    """trtdiag/data/triton_model_config.pb is tritonclient's model_config_pb2 descriptor byte for
    byte (tools/gen_model_config_descriptor.py writes it), and parsing uses it: the installed tool
    needs protobuf only, not tritonclient and numpy."""
    import subprocess
    import sys
    from pathlib import Path

    from trtdiag.parsers import pbtxt

    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_model_config_descriptor.py"
    p = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert type(pbtxt.model_config_pb2()).__name__ == "_Schema"
