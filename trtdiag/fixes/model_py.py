"""Minimal, reviewable patches to tensorrtllm_backend's preprocessing/postprocessing model.py.

One fix per model.py (the applier edits a file once per apply), made of the patches its tokenizer
needs:

``trust_remote_code``  add ``trust_remote_code=True`` to the ``*Tokenizer.from_pretrained(...)``
                       call(s) that will run, or turn an explicit ``False`` into ``True``.
``guard_pad``          replace ``self.tokenizer.pad_token = self.tokenizer.eos_token`` (and the
                       ``if not self.tokenizer.pad_token:`` around it) by a guarded assignment that
                       survives a tokenizer whose ``pad_token`` is a read-only property.
``ids_from_token_ids`` ``encode(eos_token)[0]`` → ``convert_tokens_to_ids(eos_token)`` (and pad): for a
                       tokenizer whose special tokens are not registered as such (ChatGLM3's
                       read-only properties), encode splits the token text and model.py takes a
                       wrong END_ID/PAD_ID.
``gen_config_ids``     keep the ``tokenizer_end_id``/``tokenizer_pad_id`` lines for tokenizers that
                       have an eos token, and otherwise take the ids from the tokenizer directory's
                       generation_config.json (chat_format 'chatml': the ``im_end`` id, as Qwen's
                       authors do).

Edits are located with ``ast`` and spliced into the original text, so everything else in the file
(comments, formatting) stays as it was.  The result is compiled before it is offered; a file the
patches leave unchanged gives no fix, so a second ``fix --apply`` finds nothing to do.  A fix that
adds ``trust_remote_code=True`` is not marked safe (``fix --apply`` asks, or needs ``--yes``): it
lets Triton run the Python files of the tokenizer directory, which the user should read first.
"""

from __future__ import annotations

import ast
import re

from .plan import edit_fix
from ..core.finding import Fix

FIX_ID = "tok-model-py"
# attributes model.py keeps its end/pad ids in (v0.5-v0.7: pad_id; v0.8+: tokenizer_end_id/tokenizer_pad_id)
ID_TARGETS = {"tokenizer_end_id": "end", "tokenizer_pad_id": "pad", "pad_id": "pad"}

SUMMARIES = {
    "trust_remote_code": "pass trust_remote_code=True to from_pretrained",
    "guard_pad": "guard the pad_token assignment (read-only property)",
    "gen_config_ids": "take eos/pad ids from generation_config.json when the tokenizer has no eos token",
    "ids_from_token_ids": "take END_ID/PAD_ID as the tokenizer's token ids (convert_tokens_to_ids), not the first piece of encode(token text)",
}


class _Text:
    def __init__(self, text: str):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))

    def offset(self, lineno: int, col_bytes: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8", "replace"))

    def indent(self, node: ast.stmt) -> tuple[str, str]:
        """The statement's own indentation (as written: spaces or tabs) and one level more."""
        line = self.lines[node.lineno - 1]
        ind = line[: len(line) - len(line.lstrip(" \t"))]
        return ind, ("\t" if "\t" in ind else "    ")

    def alone(self, node: ast.stmt) -> bool:
        """The statement has its lines to itself (no `a; b`), so whole lines can be replaced."""
        head = self.lines[node.lineno - 1].encode("utf-8")[: node.col_offset]
        tail = self.lines[node.end_lineno - 1].encode("utf-8")[node.end_col_offset:].decode("utf-8", "replace").strip()
        return not head.strip() and (not tail or tail.startswith("#"))

    def line_span(self, node: ast.stmt) -> tuple[int, int]:
        """Whole lines of a statement: from its line's start to past its last line's newline."""
        return self.starts[node.lineno - 1], self.starts[node.end_lineno]


def _parents(tree):
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def _branch_key(node, parents):
    from ..derive.tokenizer import tokenizer_type_branch

    return tokenizer_type_branch(node, parents)


def _indent_block(src: str, extra: str) -> str:
    return "".join(extra + ln if ln.strip() else ln for ln in src.splitlines(keepends=True))


def patch_text(text: str, needs: set[str], tokenizer_type: str | None = None) -> str:
    """The patched model.py (``text`` itself when nothing applies)."""
    tree = ast.parse(text)
    parents = _parents(tree)
    t = _Text(text)
    edits: list[tuple[int, int, str]] = []
    tok_dir_expr = "tokenizer_dir"

    loads = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "from_pretrained" and "Tokenizer" in ast.unparse(n.func.value)]
    if loads and loads[0].args:
        tok_dir_expr = ast.unparse(loads[0].args[0])

    if "trust_remote_code" in needs:
        keys = {_branch_key(c, parents) for c in loads}
        run = [c for c in loads if tokenizer_type is not None and _branch_key(c, parents) == tokenizer_type]
        if not run:
            run = [c for c in loads if ast.unparse(c.func.value).endswith("AutoTokenizer")]
            if tokenizer_type is not None and tokenizer_type in keys:
                run = []
        for call in run:
            kw = next((k for k in call.keywords if k.arg == "trust_remote_code"), None)
            if kw is not None:
                if isinstance(kw.value, ast.Constant) and kw.value.value is True:
                    continue
                a = t.offset(kw.value.lineno, kw.value.col_offset)
                b = t.offset(kw.value.end_lineno, kw.value.end_col_offset)
                edits.append((a, b, "True"))
                continue
            close = t.offset(call.end_lineno, call.end_col_offset) - 1  # the ')'
            i = close - 1
            while i >= 0 and text[i] in " \t\r\n":
                i -= 1
            if text[i] == ",":
                edits.append((i + 1, i + 1, " trust_remote_code=True,"))
            elif text[i] == "(":
                edits.append((close, close, "trust_remote_code=True"))
            else:
                edits.append((i + 1, i + 1, ", trust_remote_code=True"))

    if "guard_pad" in needs:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                    and node.targets[0].attr == "pad_token"):
                continue
            tok = ast.unparse(node.targets[0].value)
            if "tokenizer" not in tok:
                continue
            # already inside a try/except AttributeError: done
            p, guarded = parents.get(node), False
            while p is not None and not isinstance(p, (ast.FunctionDef, ast.Module)):
                if isinstance(p, ast.Try) and any(h.type is None or "AttributeError" in ast.unparse(h.type) for h in p.handlers):
                    guarded = True
                p = parents.get(p)
            if guarded:
                continue
            target = node
            par = parents.get(node)
            from ..probes.tokenizer import _is_pad_test

            if isinstance(par, ast.If) and _is_pad_test(par.test) and par.body == [node] and not par.orelse:
                target = par
            if not t.alone(target):
                continue
            ind, u = t.indent(target)
            value = ast.unparse(node.value)
            new = (f"{ind}if not {tok}.pad_token and {value} is not None:\n"
                   f"{ind}{u}try:\n"
                   f"{ind}{u}{u}{tok}.pad_token = {value}\n"
                   f"{ind}{u}except AttributeError:  # trtdiag: pad_token is a read-only property of this tokenizer class\n"
                   f"{ind}{u}{u}pass\n")
            a, b = t.line_span(target)
            edits.append((a, b, new))

    if "gen_config_ids" in needs:
        stmts = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1
                 and isinstance(n.targets[0], ast.Attribute) and n.targets[0].attr in ID_TARGETS
                 and ".encode(" in ast.unparse(n.value)]
        groups: dict[int, list[ast.Assign]] = {}
        for s in stmts:
            par = parents.get(s)
            if isinstance(par, ast.If) and "eos_token is not None" in ast.unparse(par.test):
                continue  # already patched
            groups.setdefault(id(par), []).append(s)
        for group in groups.values():
            group.sort(key=lambda n: n.lineno)
            par = parents[group[0]]
            body = getattr(par, "body", [])
            idx = [body.index(s) for s in group if s in body]
            if not idx or idx != list(range(idx[0], idx[0] + len(idx))):
                continue  # not consecutive siblings: leave it to a human
            first, last = group[0], group[-1]
            if not (t.alone(first) and t.alone(last)):
                continue
            tok = "self.tokenizer"
            for n in ast.walk(first.value):
                if isinstance(n, ast.Attribute) and n.attr == "eos_token":
                    tok = ast.unparse(n.value)
            ind, u = t.indent(first)
            a, _ = t.line_span(first)
            _, b = t.line_span(last)
            original = text[a:b]
            new = (f"{ind}if {tok}.eos_token is not None:\n"
                   + _indent_block(original, u)
                   + f"{ind}else:  # trtdiag: this tokenizer defines no eos token; ids from generation_config.json\n"
                   f"{ind}{u}with open(os.path.join({tok_dir_expr}, 'generation_config.json')) as gen_config_file:\n"
                   f"{ind}{u}{u}gen_config = json.load(gen_config_file)\n"
                   f"{ind}{u}end_id = gen_config['eos_token_id']\n"
                   f"{ind}{u}end_id = end_id[0] if isinstance(end_id, list) else end_id\n"
                   f"{ind}{u}pad_id = gen_config.get('pad_token_id')\n"
                   f"{ind}{u}if gen_config.get('chat_format') == 'chatml' and hasattr({tok}, 'im_end_id'):\n"
                   f"{ind}{u}{u}end_id = pad_id = {tok}.im_end_id\n"
                   + "".join(f"{ind}{u}{ast.unparse(s.targets[0])} = "
                             + ("end_id" if ID_TARGETS[s.targets[0].attr] == "end" else "end_id if pad_id is None else pad_id") + "\n"
                             for s in group))
            edits.append((a, b, new))
            imported = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
            missing = [m for m in ("json", "os") if m not in imported]
            if missing:
                first_import = next((n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))), None)
                pos = t.starts[first_import.lineno - 1] if first_import else 0
                edits.append((pos, pos, "".join(f"import {m}\n" for m in missing)))

    if "ids_from_token_ids" in needs and "gen_config_ids" not in needs:
        for n in ast.walk(tree):
            if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute)
                    and n.targets[0].attr in ID_TARGETS):
                continue
            v = n.value
            src = ast.unparse(v)
            m = re.fullmatch(r"(.+)\.encode\((\1\.(?:eos|pad)_token), add_special_tokens=False\)\[0\]", src)
            if not m:
                continue
            a = t.offset(v.lineno, v.col_offset)
            b = t.offset(v.end_lineno, v.end_col_offset)
            edits.append((a, b, f"{m.group(1)}.convert_tokens_to_ids({m.group(2)})"))

    if not edits:
        return text
    edits.sort(key=lambda e: e[0], reverse=True)
    out = text
    for a, b, new in edits:
        out = out[:a] + new + out[b:]
    return out


def plan(facts, path: str, needs: dict[str, str], tokenizer_type: str | None = None) -> Fix | None:
    """The one fix for ``path``: every needed patch, as a diff; None when nothing changes."""
    try:
        before = facts.file_text(path)
        if before is None:
            return None
        after = patch_text(before, set(needs), tokenizer_type)
    except (SyntaxError, ValueError):
        return None
    except Exception:  # an unreadable file: the check reports it; no fix
        return None
    if after == before:
        return None
    try:
        compile(after, path, "exec")
    except (SyntaxError, ValueError):  # a patch that does not compile is never offered
        return None
    summary = "model.py: " + "; ".join(SUMMARIES[n] for n in SUMMARIES if n in needs)
    # Letting Triton run the tokenizer directory's code is the user's call: review first (--yes).
    return edit_fix(FIX_ID, summary, path, before, after, safe="trust_remote_code" not in needs,
                    note="; ".join(f"{SUMMARIES[n]}: {needs[n]}" for n in SUMMARIES if n in needs))
