#!/usr/bin/env python3
"""Generate each knowledge-base entry's ``checks = [...]`` from the rules that point at it.

A rule points at an entry by its ``@rule(..., kb="entry")`` or by a finding it yields with
``kb="entry"``; both are read from the rule files' source (trtdiag/rules/<area>/<ID>_*.py).  An entry
that no rule points at must say why in ``no_rule = "…"`` (a failure only a running server or a
build shows, say).

    python3 tools/gen_kb_links.py           rewrite the checks lines
    python3 tools/gen_kb_links.py --check   exit 1 when a file differs (the test suite runs this)
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "trtdiag" / "rules"
KB = ROOT / "knowledge_base"


def links() -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for f in sorted(RULES.glob("*/*.py")):
        tree = ast.parse(f.read_text(), str(f))
        rid = next((n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "rule"
                    and n.args and isinstance(n.args[0], ast.Constant)), None)
        if rid is None:
            continue
        for n in ast.walk(tree):
            if isinstance(n, ast.keyword) and n.arg == "kb" and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str):
                out.setdefault(n.value.value, set()).add(rid)
    return {k: sorted(v) for k, v in out.items()}


LINE = re.compile(r"^checks\s*=\s*\[[^\]]*\]\s*\n", re.M)


def rewrite(text: str, checks: list[str]) -> str:
    line = "checks = [" + ", ".join(f'"{c}"' for c in checks) + "]\n"
    if LINE.search(text):
        return LINE.sub(line, text, count=1)
    m = re.search(r"^area\s*=.*\n", text, re.M)
    at = m.end() if m else 0
    return text[:at] + line + text[at:]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    gen = links()
    differ, unexplained = [], []
    for f in sorted(KB.glob("*.toml")):
        text = f.read_text()
        entry_id = re.search(r'^id\s*=\s*"([^"]+)"', text, re.M).group(1)
        want = gen.get(entry_id, [])
        new = rewrite(text, want)
        if not want and not re.search(r"^no_rule\s*=", new, re.M):
            unexplained.append(entry_id)
        if new != text:
            differ.append(f.name)
            if not check:
                f.write_text(new)
    for name in differ:
        print(("differs: " if check else "rewrote: ") + name)
    for e in unexplained:
        print(f"no rule points at {e} and it gives no no_rule reason")
    return 1 if (check and differ) or unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
