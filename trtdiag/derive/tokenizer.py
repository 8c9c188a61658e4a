"""Pure helpers over tokenizer facts and model.py syntax trees (no I/O)."""

from __future__ import annotations

import ast
import re

def is_placeholder(value: str | None) -> bool:
    return bool(value) and bool(re.search(r"\$\{[^}]*\}", value))


def tokenizer_type_branch(node, parents: dict) -> str | None:
    """The tokenizer_type constant of the if/elif branch of model.py holding ``node`` (None: the
    node is in no such branch); ``parents`` maps each AST node to its parent."""
    import ast

    cur = node
    while cur in parents:
        p = parents[cur]
        if isinstance(p, ast.If) and cur in p.body:
            key = _tok_type_key(p.test)
            if key is not None:
                return key
        cur = p
    return None


def _tok_type_key(test: ast.AST) -> str | None:
    """'auto' for ``tokenizer_type == 'auto'`` (either side)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        sides = [test.left, test.comparators[0]]
        names = [s for s in sides if isinstance(s, ast.Name) and "tokenizer_type" in s.id]
        consts = [s.value for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str)]
        if names and consts:
            return consts[0]
    return None
