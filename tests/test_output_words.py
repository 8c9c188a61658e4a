"""Every command's terminal output, at 80 and at 160 columns, read as a user reads it.

Over the repository's fixtures (tests/output_sweep.py: the v0.9.0 Triton templates, a sparse
engine with a real TensorRT 8.6 plan header, the real Git LFS pointer plan, the public logs, a
snapshot `collect` writes, exec with a stand-in server) every command's output must hold:

- no standalone ``None`` (a value printed as Python's None: ``commit: None``, ``World size None``);
- no unlabelled ``0.0`` (``(0.0 GiB)`` of an engine of unknown size, ``0.00 GiB`` weights);
- no word broken at the line end: the words at 80 columns are the words at 160 (a broken
  ``[MPI0`` / ``01]`` makes two words that the wide output does not have), and a prose line is
  longer than 80 only where it cannot be broken (one long path, command or id);
- no count that disagrees with the list it introduces (``holds 4 placeholder(s): a, b, c``).
"""

from __future__ import annotations

import collections
import re

import pytest

from tests import output_sweep

WIDTHS = (80, 160)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    inp = output_sweep.build(tmp_path_factory.mktemp("sweep"))
    output_sweep.collect(inp)
    out = {}
    for name, argv in output_sweep.commands(inp).items():
        for cols in WIDTHS:
            p = output_sweep.run(inp, argv, cols)
            assert "Traceback" not in p.stderr, (name, p.stderr)
            assert p.returncode in (0, 1), (name, p.returncode, p.stderr)
            out[name, cols] = p.stdout + p.stderr
    return out


NAMES = list(output_sweep.commands({"root": output_sweep.Path("/x"), "repo": output_sweep.Path("/x"), "engine": output_sweep.Path("/x"),
                                    "tokenizer": output_sweep.Path("/x"), "lfs": output_sweep.Path("/x"),
                                    "server": output_sweep.Path("/x")}))


def _no_code(text: str) -> str:
    """The text without `code spans` (quoted code may say `is None`) and without quoted log lines
    (explain quotes what the program printed: `path:line: text`, wrapped onto lines indented deeper)."""
    text = re.sub(r"``[^`]*``|`[^`\n]*`", "", text)
    kept, quoted = [], None  # quoted: the indent of the quoted line being skipped, with its wrapped rest
    for ln in text.splitlines():
        indent = len(ln) - len(ln.lstrip())
        if quoted is not None and indent > quoted and ln.strip():
            continue
        quoted = indent if re.match(r"\s+\S+\.log:\d+", ln) else None
        if quoted is None:
            kept.append(ln)
    return "\n".join(kept)


# a value printed as None: after a label, in parentheses, or where a number or name belongs
NONE_VALUE = re.compile(r"(?:[:=]\s*|\(|\b(?:size|is|of|commit|version|dir|path|at)\s+)None\b|^\s*None\s*$", re.M)
# 0.0, 0.00 … standing for a number (not 0.0.0.0, not 10.0, not 0.05)
ZERO = re.compile(r"(?<![\d.])0\.0+(?![\d.])")


@pytest.mark.parametrize("name", NAMES)
def test_no_value_is_printed_as_none(outputs, name):
    for cols in WIDTHS:
        text = _no_code(outputs[name, cols])
        bad = [ln for ln in text.splitlines() if NONE_VALUE.search(ln)]
        assert not bad, f"{name} at {cols} columns:\n" + "\n".join(bad)


@pytest.mark.parametrize("name", NAMES)
def test_no_unlabelled_zero(outputs, name):
    for cols in WIDTHS:
        text = _no_code(outputs[name, cols])
        bad = [ln for ln in text.splitlines() if ZERO.search(ln)]
        assert not bad, f"{name} at {cols} columns:\n" + "\n".join(bad)


def _words(text: str) -> collections.Counter:
    text = re.sub(r"\(\d+\.\d+s\)", "(T)", text)  # the run time differs between runs
    text = re.sub(r"\d+\.\d GiB free", "N GiB free", text)  # so does the free disk
    return collections.Counter(text.split())


@pytest.mark.parametrize("name", NAMES)
def test_no_word_is_broken_at_the_line_end(outputs, name):
    narrow, wide = _words(outputs[name, 80]), _words(outputs[name, 160])
    assert narrow == wide, f"{name}: only at 80 columns: {dict(narrow - wide)}; only at 160: {dict(wide - narrow)}"


def _breakable_before(line: str, width: int) -> bool:
    """Could the line have been broken at a space at or before ``width`` (outside `code`)?"""
    body = re.sub(r"``[^`]*``|`[^`]*`", lambda m: "x" * len(m.group(0)), line)
    indent = len(body) - len(body.lstrip())
    return " " in body[indent:width + 1].rstrip()


def _preformatted(name: str, line: str) -> bool:
    """Text shown as it is: a quoted log line, a diff, a file's lines, markdown for pasting."""
    if name == "report":
        return True  # markdown: what the user pastes, not what the terminal wraps
    if line.startswith("          "):  # evidence continuation lines: log quotes, tables, lists
        return True
    if re.match(r"\s+trtdiag ", line):  # a command on its own line: never broken
        return True
    return bool(re.match(r"    [-+@ ]", line)) and name.startswith("fix")  # a fix's diff


@pytest.mark.parametrize("name", NAMES)
def test_prose_fits_80_columns(outputs, name):
    bad = [ln for ln in outputs[name, 80].splitlines()
           if len(ln) > 80 and not _preformatted(name, ln) and _breakable_before(ln, 80)]
    assert not bad, f"{name}: lines over 80 columns that could have been wrapped:\n" + "\n".join(bad)


# "N thing(s): a, b, c" / "N template placeholder(s); ${a}, ${b}": the names after it are N
COUNTED = re.compile(r"\b(\d+) (?:[a-z][\w-]* ){0,2}[a-z][\w-]*(?:\(s\)|s)[:;] ((?:[^\s,;()]+, )+[^\s,;()]+)(?=[.;)\s]|$)(?!\s+\d)")


@pytest.mark.parametrize("name", NAMES)
def test_counts_agree_with_their_lists(outputs, name):
    text = _no_code(outputs[name, 160])
    bad = []
    for line in text.splitlines():
        for m in COUNTED.finditer(line):
            n, items = int(m.group(1)), [x for x in m.group(2).split(", ") if x]
            if len(items) > 1 and n != len(items) and not items[-1].endswith(("…", "...")):
                bad.append(f"{n} vs {len(items)}: {line.strip()}")
    assert not bad, f"{name}:\n" + "\n".join(bad)


@pytest.mark.parametrize("name", NAMES)
def test_no_unfilled_placeholder_shown_as_a_value(outputs, name):
    """`tokenizer_dir: ${tokenizer_dir}` is no value: an evidence line says it is not set."""
    for cols in WIDTHS:
        bad = [ln for ln in outputs[name, cols].splitlines() if re.fullmatch(r"\s*(?:- )?[\w .]+: `?\$\{\w+\}`?\s*", ln)
               and not (name.startswith("fix") and re.match(r"    [-+@ ]", ln))]  # a diff shows the file's own lines
        assert not bad, f"{name} at {cols} columns:\n" + "\n".join(bad)
