"""The README's tour read with the same eyes as every command's output (tests/test_output_words.py):
no value printed as None, no unlabelled 0.0, no count that disagrees with its list; and the plan
block is what `trtdiag plan` prints today for that input (real output, not an edited copy)."""

from __future__ import annotations

import json
import re

from tests.conftest import REPO, run_cli
from tests.test_memory import QWEN_7B
from tests.test_output_words import COUNTED, NONE_VALUE, ZERO, _no_code

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```\n(\$ trtdiag .*?)```", README, re.S)


def test_the_tour_has_its_blocks():
    assert len(BLOCKS) >= 5


def test_no_none_no_unlabelled_zero_no_miscount_in_the_tour():
    bad = []
    for block in BLOCKS:
        text = _no_code(block)
        for line in text.splitlines():
            if NONE_VALUE.search(line) or ZERO.search(line):
                bad.append(line)
            for m in COUNTED.finditer(line):
                if int(m.group(1)) != len(m.group(2).split(", ")):
                    bad.append(line)
    assert not bad, "\n".join(bad)


def test_the_plan_block_is_real_output(tmp_path):
    block = next(b for b in BLOCKS if b.startswith("$ trtdiag plan --model-config qwen-7b/config.json"))
    cmd, shown = block.split("\n", 1)
    (tmp_path / "qwen-7b").mkdir()
    (tmp_path / "qwen-7b" / "config.json").write_text(json.dumps(QWEN_7B))
    p = run_cli(*cmd.split()[2:], cwd=str(tmp_path), env={"COLUMNS": "100", "NO_COLOR": "1"})
    def same(t):  # the run time is the one thing that differs between runs
        return re.sub(r" \(\d+\.\d\ds\)", "", t).rstrip("\n")

    assert same(p.stdout) == same(shown)
