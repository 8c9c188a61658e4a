"""What tensorrtllm_backend's preprocessing/postprocessing model.py will do with a tokenizer, read
statically (pure functions: source text and plain dicts in, plain dicts out; nothing is imported
or run).

Three layers, each testable on its own:

:func:`statements`   every statement of a model.py that touches the tokenizer or sets an
                     END_ID/PAD_ID-like id, each classified into a ``kind`` (or ``"not understood"``
                     with the reason); tools/harvest_model_py.py records them for every real tag.
:func:`profile`      what ``initialize()`` does, in order (``steps``), from those statements.
:func:`class_traits` what a custom tokenizer class (its source text) will do under transformers:
                     read-only special tokens, ``_pad`` without ``padding_side``, ``super().__init__``
                     before the attributes ``get_vocab`` reads, tiktoken's disallowed special text.
:func:`predict`      the outcome of ``initialize()`` for one tokenizer (``tokenizer_facts``), one
                     transformers version and one Python version: ``ok`` (with any END_ID/PAD_ID
                     that will be wrong) or the step that raises, the cause and, where measured, the
                     exact message (trtdiag/data/transformers_tokenizer_failures.json).

The version boundaries used here are the ones measured by tools/tokenizer_matrix.py (the real
model.py of every tag run under each transformers version; tests/data/tokenizers/ground_truth.json).
"""

from __future__ import annotations

import ast
import re

try:  # registered as the derived fact "tokenizer_model_py" (the pure functions need no trtdiag core)
    from ..core.facts import derived as _derived_hook
except ImportError:  # pragma: no cover
    def _derived_hook(name):
        return lambda f: f

TOKENIZER_CLASSES = ("AutoTokenizer", "LlamaTokenizer", "LlamaTokenizerFast", "T5Tokenizer", "T5TokenizerFast",
                     "PreTrainedTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast")
SPECIAL = ("eos_token", "pad_token", "bos_token", "unk_token")
ID_NAMES = re.compile(r"(^|_)(end|pad|bos|eos)_id$|^(END_ID|PAD_ID|OUT_END_ID|OUT_PAD_ID)$")

NOT_UNDERSTOOD = "not understood"

# Version boundaries measured by tools/tokenizer_matrix.py (ground_truth.json): the first version
# seen to behave the new way, the last seen the old way in the comment.
CLASS_INIT_CALLS_GET_VOCAB_FROM = (4, 34)   # 4.33.3: loads; 4.34.0: get_vocab() inside super().__init__
READONLY_ACCEPTED_FROM = (4, 47)            # 4.45.2: AttributeError; 4.47.1: assignment accepted
PAD_PASSES_PADDING_SIDE_FROM = (4, 45)      # 4.44.2: encode works; 4.45.2: _pad(padding_side=...)
LLAMA_CONVERTER_ACCEPTS_UNIGRAM_FROM = (4, 34)  # 4.33.3: "Llama is supposed to be a BPE model!"; 4.34.0: converts
ASSIGNED_TOKEN_REGISTERED_FROM = (5,)       # 4.51.3: an accepted pad_token = eos_token leaves eos text split;
                                            # 5.20.2/5.24.0: the assigned text becomes a special token


# --------------------------------------------------------------------------- helpers
def _parents(tree: ast.AST) -> dict:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def _own_exprs(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions a statement evaluates itself (not those of the statements nested in it)."""
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.target, stmt.iter]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [i.context_expr for i in stmt.items]
    if isinstance(stmt, ast.Try) or (hasattr(ast, "TryStar") and isinstance(stmt, getattr(ast, "TryStar"))):
        return []
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    return [stmt]


def _is_tok(node: ast.AST) -> bool:
    """``self.tokenizer`` / ``tokenizer`` (the object model.py keeps its tokenizer in)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "tokenizer" and isinstance(node.value, ast.Name) and node.value.id == "self"
    return isinstance(node, ast.Name) and node.id == "tokenizer"


def _touches(exprs: list[ast.AST]) -> list[str]:
    why = []
    for e in exprs:
        for n in ast.walk(e):
            if _is_tok(n):
                why.append("tokenizer")
            elif isinstance(n, ast.Name) and n.id in TOKENIZER_CLASSES + ("AutoProcessor",):
                why.append(n.id)
            elif isinstance(n, ast.Name) and n.id in ("tokenizer_type", "tokenizer_dir"):
                why.append(n.id)
            elif isinstance(n, ast.Attribute) and ID_NAMES.search(n.attr):
                why.append(n.attr)
            elif isinstance(n, ast.Name) and ID_NAMES.search(n.id):
                why.append(n.id)
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and ID_NAMES.search(n.value):
                why.append(repr(n.value))
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in ("tokenizer_dir", "tokenizer_type"):
                why.append(n.value)
    return sorted(set(why))


def _const(node):
    return node.value if isinstance(node, ast.Constant) else None


def tok_type_key(test: ast.AST) -> str | None:
    """'auto' for ``tokenizer_type == 'auto'`` (either side)."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        sides = [test.left, test.comparators[0]]
        if any(isinstance(s, ast.Name) and "tokenizer_type" in s.id for s in sides):
            for s in sides:
                if isinstance(s, ast.Constant) and isinstance(s.value, str):
                    return s.value
    return None


def is_not_pad_test(test: ast.AST) -> bool:
    """``not X.pad_token`` / ``X.pad_token is None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Attribute) and test.operand.attr == "pad_token"
    if isinstance(test, ast.Compare) and isinstance(test.left, ast.Attribute) and test.left.attr == "pad_token":
        return isinstance(test.ops[0], ast.Is) and _const(test.comparators[0]) is None and isinstance(test.comparators[0], ast.Constant)
    return False


def _context(node, parents) -> dict:
    """Where a statement sits: function, tokenizer_type branch, pad guard, try/except AttributeError,
    other conditions (as source)."""
    ctx: dict = {"function": None, "branch": None, "guards": []}
    cur = node
    while cur in parents:
        p = parents[cur]
        if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)) and ctx["function"] is None:
            ctx["function"] = p.name
        if isinstance(p, ast.If):
            key = tok_type_key(p.test)
            in_body = cur in p.body
            if key is not None and in_body and ctx["branch"] is None:
                ctx["branch"] = key
            elif key is not None and not in_body:
                pass  # the elif/else chain of a tokenizer_type test
            elif is_not_pad_test(p.test) and in_body:
                ctx["guards"].append("if-not-pad")
            else:
                ctx["guards"].append(("if " if in_body else "else of ") + ast.unparse(p.test)[:120])
        if isinstance(p, ast.Try) and cur in p.body and any(
                h.type is None or "AttributeError" in ast.unparse(h.type) or "Exception" in ast.unparse(h.type) for h in p.handlers):
            ctx["guards"].append("try")
        cur = p
    return ctx


def _segment(source: str, node: ast.stmt) -> str:
    if isinstance(node, (ast.If, ast.While)):
        text = "if " + ast.unparse(node.test) + ":"
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        text = "for " + ast.unparse(node.target) + " in " + ast.unparse(node.iter) + ":"
    else:
        text = ast.get_source_segment(source, node) or ast.unparse(node)
    text = " ".join(text.split())
    return text if len(text) <= 1200 else text[:1197] + "..."


def _call_name(call: ast.Call) -> str:
    return ast.unparse(call.func)


def _calls(node) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


# --------------------------------------------------------------------------- statements
def _classify(stmt: ast.stmt, ctx: dict) -> tuple[str, dict]:
    """(kind, facts) of one statement that touches the tokenizer."""
    facts: dict = {}
    # -- compound statements: the test is what touches the tokenizer
    if isinstance(stmt, ast.If):
        key = tok_type_key(stmt.test)
        if key is not None:
            tail = stmt
            while len(tail.orelse) == 1 and isinstance(tail.orelse[0], ast.If) and tok_type_key(tail.orelse[0].test):
                tail = tail.orelse[0]
            facts["key"] = key
            return "type_branch", facts
        if is_not_pad_test(stmt.test):
            return "pad_guard", facts
        t = ast.unparse(stmt.test)
        if re.fullmatch(r"isinstance\((self\.)?tokenizer, \w+\)", t):
            facts["class"] = t.split(",")[1].strip(" )")
            return "isinstance_branch", facts
        if re.search(r"tokens\[\w+\] < (len\(self\.tokenizer\.vocab\)|self\.tokenizer\.vocab_size)", t):
            facts["vocab"] = "len(vocab)" if "len(" in t else "vocab_size"
            return "vocab_bound_test", facts
        if "eos_token is not None" in t:
            return "eos_guard", facts
        if re.search(r"\b(end_id|pad_id)\b is not None", t):
            return "request_id_test", facts
        return NOT_UNDERSTOOD, {"reason": "condition on the tokenizer: " + t[:120]}
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return NOT_UNDERSTOOD, {"reason": "loop over tokenizer data"}
    if isinstance(stmt, ast.Raise):
        src = ast.unparse(stmt)
        if "Unexpected tokenizer type" in src:
            return "type_else_raise", {"exception": ast.unparse(stmt.exc.func) if isinstance(stmt.exc, ast.Call) else src}
        return NOT_UNDERSTOOD, {"reason": "raise mentioning the tokenizer"}
    if isinstance(stmt, ast.Assert):
        if re.search(r"self\.tokenizer\s*!=\s*None|self\.tokenizer is not None", ast.unparse(stmt.test)):
            return "assert_tokenizer", facts
        return NOT_UNDERSTOOD, {"reason": "assert on the tokenizer"}
    if isinstance(stmt, ast.Return):
        return "return_value", facts
    # -- assignments and expressions
    targets = []
    value = None
    if isinstance(stmt, ast.Assign):
        targets, value = stmt.targets, stmt.value
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets, value = [stmt.target], stmt.value
    elif isinstance(stmt, ast.Expr):
        value = stmt.value
    tgt = ast.unparse(targets[0]) if len(targets) == 1 else None
    vsrc = ast.unparse(value) if value is not None else ""
    # parameters of config.pbtxt
    if tgt in ("tokenizer_dir", "tokenizer_type") and "model_config" in vsrc:
        m = re.search(r"\['(tokenizer_dir|tokenizer_type)'\]", vsrc)
        facts["param"] = m.group(1) if m else tgt
        facts["optional"] = ".get(" in vsrc
        return f"{tgt}_param", facts
    # loaders
    if value is not None:
        for call in _calls(value):
            name = _call_name(call)
            base = name.split(".")[-2] if name.endswith(".from_pretrained") and "." in name else name.split(".")[-1]
            if name.endswith(".from_pretrained") and base in TOKENIZER_CLASSES:
                kw, trust = {}, "absent"
                for k in call.keywords:
                    if k.arg is None:
                        kw["**"] = ast.unparse(k.value)
                        continue
                    if k.arg == "trust_remote_code":
                        trust = _const(k.value) if isinstance(k.value, ast.Constant) else "dynamic"
                        continue
                    kw[k.arg] = _const(k.value) if isinstance(k.value, ast.Constant) else ast.unparse(k.value)
                facts.update({"class": base, "args": [ast.unparse(a) for a in call.args], "kwargs": kw,
                              "trust_remote_code": trust, "target": tgt})
                return "load", facts
            if name.endswith(".from_pretrained") and base == "AutoProcessor":
                facts.update({"class": base, "trust_remote_code": next((_const(k.value) for k in call.keywords if k.arg == "trust_remote_code"), "absent")})
                return "processor_load", facts
            if base in TOKENIZER_CLASSES and not name.endswith(".from_pretrained") and tgt and tgt.endswith("tokenizer"):
                facts.update({"class": base, "constructor": True,
                              "kwargs": {k.arg: (_const(k.value) if isinstance(k.value, ast.Constant) else ast.unparse(k.value)) for k in call.keywords if k.arg}})
                return "load", facts
    # special token assignment
    if tgt and isinstance(targets[0], ast.Attribute) and targets[0].attr in SPECIAL and _is_tok(targets[0].value):
        src_attr = value.attr if isinstance(value, ast.Attribute) and _is_tok(value.value) else None
        facts.update({"attr": targets[0].attr, "value": src_attr or vsrc})
        return "special_assign", facts
    # ids from encode(<special token>)[0]
    if value is not None:
        m = re.fullmatch(r"self\.tokenizer\.encode\(self\.tokenizer\.(\w+), add_special_tokens=False\)\[0\]", vsrc)
        if m and tgt:
            facts.update({"target": tgt.replace("self.", ""), "token": m.group(1)})
            return "id_from_encode", facts
        m = re.fullmatch(r"self\.tokenizer\.(convert_tokens_to_ids\(self\.tokenizer\.(\w+)\)|(\w+_token_id))", vsrc)
        if m and tgt:
            facts.update({"target": tgt.replace("self.", ""), "token": m.group(2) or m.group(3)})
            return "id_from_token_id", facts
        if re.fullmatch(r"self\.tokenizer\.sp_model\.bos_id\(\)", vsrc):
            facts["target"] = (tgt or "").replace("self.", "")
            return "id_from_sp_model", facts
        if tgt and re.fullmatch(r"(self\.)?vocab_size", tgt) and re.fullmatch(r"(len\()?self\.tokenizer\.vocab(_size)?\)?", vsrc):
            facts["expr"] = vsrc
            return "vocab_size", facts
        if tgt in ("end_id", "pad_id") and re.fullmatch(r"\[\[self\.tokenizer_(end|pad)_id\]\] \* batch_size", vsrc):
            facts["default_of"] = tgt
            return "request_id_default", facts
        if tgt in ("end_id", "pad_id") and re.fullmatch(r"(pb_utils\.get_input_tensor_by_name\(request, '(END_ID|PAD_ID)'\)|(end|pad)_id\.as_numpy\(\))", vsrc):
            return "request_id_input", facts
        if re.search(r"pb_utils\.Tensor\('OUT_(END|PAD)_ID'", vsrc):
            return "id_output", facts
        if re.search(r"self\.tokenizer\.(batch_)?decode\(", vsrc):
            facts["call"] = "batch_decode" if "batch_decode" in vsrc else "decode"
            facts["skip_special_tokens"] = "skip_special_tokens" in vsrc
            return "decode_call", facts
        if re.search(r"self\.tokenizer\.encode\(", vsrc):
            facts["add_special_tokens"] = ("add_special_tokens=False" in vsrc and "no") or ("add_special_tokens=self.add_special_tokens" in vsrc and "param") or "default"
            return "encode_call", facts
        if re.search(r"self\.tokenizer\.(vocab_size|vocab)\b", vsrc) or re.search(r"len\(self\.tokenizer\.vocab\)", vsrc):
            facts["expr"] = re.search(r"(len\()?self\.tokenizer\.vocab(_size)?\)?", vsrc).group(0)
            return "vocab_access", facts
        if re.search(r"self\.tokenizer_(pad|end|bos)_id|self\.pad_id", vsrc):
            facts["uses"] = sorted(set(re.findall(r"self\.(tokenizer_(?:pad|end|bos)_id|pad_id)", vsrc)))
            return "id_use", facts
        if tgt and ID_NAMES.search(tgt.split(".")[-1]) and not _touches([value]):
            return "id_local", facts
        if re.fullmatch(r"self\.tokenizer(_\w+)? = None", ast.unparse(stmt)) or re.fullmatch(r"self\.tokenizer = tokenizer", ast.unparse(stmt)):
            return "tokenizer_attr", facts
        if tgt == "decoder_input_id" and re.fullmatch(r"pad_id \* np\.ones\(.*\)", vsrc):
            facts["uses"] = ["pad_id"]
            return "pad_as_decoder_start", facts
        if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.Tuple)) and not any(_is_tok(n) for n in ast.walk(value)):
            return "id_name_mapping", facts
        if ("tokenizer_dir" in vsrc or "tokenizer_type" in vsrc) and "from_pretrained" not in vsrc:
            return "param_use", facts
    return NOT_UNDERSTOOD, {"reason": "statement touches " + ", ".join(_touches(_own_exprs(stmt)))}


def classify_excerpt(excerpt: str) -> str:
    """The ``kind`` of one statement given as its excerpt (a compound statement as its header,
    ``if X:``), as :func:`statements` classifies it inside its file (context aside)."""
    text = excerpt + ("\n    pass" if excerpt.rstrip().endswith(":") else "")
    node = ast.parse(text).body[0]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import"
    return _classify(node, {"function": None, "branch": None, "guards": []})[0]


def statements(source: str) -> list[dict]:
    """Every statement of ``source`` that touches the tokenizer (``self.tokenizer``, a tokenizer
    class, ``tokenizer_dir``/``tokenizer_type``) or an END_ID/PAD_ID-like id, in file order:
    ``{"line", "end_line", "function", "kind", "facts", "context", "excerpt"}``.  ``kind`` is
    ``"not understood"`` (with ``facts["reason"]``) for what this module cannot interpret."""
    tree = ast.parse(source)
    parents = _parents(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        why = _touches(_own_exprs(node))
        if not why:
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kind, facts = "import", {"names": [a.name for a in node.names]}
        else:
            ctx = _context(node, parents)
            kind, facts = _classify(node, ctx)
        ctx = _context(node, parents)
        out.append({"line": node.lineno, "end_line": getattr(node, "end_lineno", node.lineno), "function": ctx["function"],
                    "kind": kind, "facts": facts, "context": {"branch": ctx["branch"], "guards": ctx["guards"]},
                    "touches": why, "excerpt": _segment(source, node)})
    out.sort(key=lambda s: (s["line"], s["end_line"]))
    return out


# --------------------------------------------------------------------------- profile
def profile(stmts: list[dict]) -> dict:
    """What ``initialize()`` does with the tokenizer, from :func:`statements`' records.

    ``steps`` (initialize's order): ``{"step": "load"|"special_assign"|"id_from_encode"|…, "line",
    "branch", "guards", …facts}``; plus ``type_branches``, ``raises_on_unknown_type``,
    ``reads_tokenizer_type``, and ``execute`` facts (``vocab_access``: how execute() reads the
    vocabulary; ``decodes``; ``encodes``)."""
    init = [s for s in stmts if s["function"] == "initialize"]
    p: dict = {"steps": [], "type_branches": [], "raises_on_unknown_type": False, "reads_tokenizer_type": False,
               "not_understood": [s for s in stmts if s["kind"] == NOT_UNDERSTOOD],
               "execute": {"vocab_access": [], "decodes": [], "encodes": 0, "uses_ids": False}}
    for s in init:
        k = s["kind"]
        if k == "tokenizer_type_param":
            p["reads_tokenizer_type"] = True
        elif k == "type_branch":
            p["type_branches"].append(s["facts"]["key"])
        elif k == "type_else_raise":
            p["raises_on_unknown_type"] = True
        if k in ("load", "special_assign", "id_from_encode", "id_from_token_id", "id_from_sp_model", "vocab_size", "processor_load", "encode_call"):
            step = {"step": k, "line": s["line"], "branch": s["context"]["branch"], "guards": s["context"]["guards"], "code": s["excerpt"]}
            step.update(s["facts"])
            p["steps"].append(step)
    # tokenizer_type branches chain: the If statements themselves carry keys; also the elif keys
    p["type_branches"] = sorted(set(p["type_branches"]) | {st["branch"] for st in p["steps"] if st.get("branch")})
    for s in stmts:
        if s["function"] == "initialize":
            continue
        if s["kind"] in ("vocab_access", "vocab_bound_test"):
            p["execute"]["vocab_access"].append({"line": s["line"], "expr": s["facts"].get("expr") or s["facts"].get("vocab"),
                                                 "function": s["function"], "code": s["excerpt"]})
        elif s["kind"] == "decode_call":
            p["execute"]["decodes"].append({"line": s["line"], **s["facts"]})
        elif s["kind"] == "encode_call":
            p["execute"]["encodes"] += 1
        elif s["kind"] in ("request_id_default", "id_output", "id_use"):
            p["execute"]["uses_ids"] = True
    return p


def running_steps(prof: dict, tokenizer_type: str | None) -> list[dict]:
    """The initialize() steps that run for ``tokenizer_type`` (those of other branches dropped)."""
    out = []
    for st in prof["steps"]:
        b = st.get("branch")
        if b is not None and b != (tokenizer_type or "auto"):
            continue
        out.append(st)
    return out


# --------------------------------------------------------------------------- the tokenizer class
def class_traits(source: str, class_name: str) -> dict:
    """Facts about a custom tokenizer class read from its module's source (never imported).

    ``readonly``: special tokens / ids defined as ``@property`` without a setter, with
    ``constants`` (the literal each returns, when it returns one); ``init_special``: special tokens
    the class's ``__init__`` passes to ``super().__init__`` from its own parameter defaults;
    ``init_order_attr``: an attribute ``get_vocab`` reads that ``__init__`` sets only after
    ``super().__init__`` *and* only when ``__init__`` hands special tokens of its own to it (how
    the Aug-2023 QWenTokenizer fails on transformers ≥ 4.34); ``pad_signature``: the parameters of
    its own ``_pad`` (``padding_side`` missing there breaks ``encode`` on transformers ≥ 4.45);
    ``tiktoken_disallows_special``: it tokenizes with tiktoken without allowing special text, so
    ``encode('<|endoftext|>')`` raises; ``own_id_properties``: ``eos_token_id``/``pad_token_id``
    computed by the class itself (not from the token text)."""
    out: dict = {"class": class_name, "found": False, "readonly": [], "constants": {}, "lines": {},
                 "init_special": {}, "init_order_attr": None, "pad_signature": None, "pad_line": None,
                 "tiktoken_disallows_special": False, "own_id_properties": [], "bases": []}
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        out["error"] = f"line {exc.lineno}: {exc.msg}"
        return out
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    uses_tiktoken = any(isinstance(n, (ast.Import, ast.ImportFrom)) and "tiktoken" in ast.unparse(n) for n in ast.walk(tree))
    node = classes.get(class_name)
    if node is None:
        return out
    out["found"] = True
    out["line"] = node.lineno
    out["bases"] = [ast.unparse(b) for b in node.bases]
    chain = [node]
    for b in out["bases"]:
        if b in classes:
            chain.append(classes[b])
    methods: dict[str, ast.FunctionDef] = {}
    props, setters = {}, set()
    for cls in chain:
        for item in cls.body:
            if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            methods.setdefault(item.name, item)
            for d in item.decorator_list:
                if isinstance(d, ast.Name) and d.id == "property":
                    props.setdefault(item.name, item)
                elif isinstance(d, ast.Attribute) and d.attr == "setter":
                    setters.add(item.name)
    for name in (*SPECIAL, "eos_token_id", "pad_token_id", "bos_token_id"):
        fn = props.get(name)
        if fn is None or name in setters:
            continue
        out["readonly"].append(name)
        out["lines"][name] = fn.lineno
        rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
        if len(rets) == 1 and isinstance(rets[0].value, ast.Constant):
            out["constants"][name] = rets[0].value.value
        if name.endswith("_id"):
            out["own_id_properties"].append(name)
    init = methods.get("__init__")
    if init is not None:
        defaults = {}
        args = init.args
        for a, d in zip(args.args[len(args.args) - len(args.defaults):], args.defaults):
            if a.arg in SPECIAL and isinstance(d, ast.Constant) and isinstance(d.value, str):
                defaults[a.arg] = d.value
        sup_idx, passed = None, {}
        for i, st in enumerate(init.body):
            for call in _calls(st):
                if ast.unparse(call.func) == "super().__init__":
                    sup_idx = i
                    passed = {k.arg for k in call.keywords if k.arg}
        out["init_special"] = {k: v for k, v in defaults.items() if k in passed}
        if sup_idx is not None and out["init_special"]:
            later = set()
            for st in init.body[sup_idx + 1:]:
                for n in ast.walk(st):
                    if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == "self":
                        later.add(n.attr)
            read: list[str] = []
            seen_m: set[str] = set()
            todo = ["get_vocab", "vocab_size"]
            while todo:  # get_vocab/vocab_size and the methods/properties of the class they use
                name = todo.pop(0)
                fn = methods.get(name)
                if fn is None or name in seen_m:
                    continue
                seen_m.add(name)
                for n in ast.walk(fn):
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
                        read.append(n.attr)
                        if n.attr in methods and len(seen_m) < 8:
                            todo.append(n.attr)
            hit = [a for a in read if a in later]
            out["init_order_attr"] = hit[0] if hit else None
    out["has_vocab"] = "vocab" in methods or any(
        isinstance(n, ast.Attribute) and n.attr == "vocab" and isinstance(n.ctx, ast.Store) for c in chain for n in ast.walk(c))
    pad = methods.get("_pad")
    if pad is not None:
        a = pad.args
        out["pad_signature"] = [x.arg for x in a.args[1:]] + [x.arg for x in a.kwonlyargs] + (["**" + a.kwarg.arg] if a.kwarg else [])
        out["pad_line"] = pad.lineno
    tk = methods.get("tokenize")
    if uses_tiktoken and tk is not None:
        names = [x.arg for x in tk.args.args] + [x.arg for x in tk.args.kwonlyargs]
        allows = "allowed_special" in names or "disallowed_special" in names
        out["tiktoken_disallows_special"] = not allows
    return out


# --------------------------------------------------------------------------- sentencepiece
SP_MODEL_TYPES = {1: "UNIGRAM", 2: "BPE", 3: "WORD", 4: "CHAR"}


def _varint(b: bytes, i: int) -> tuple[int, int]:
    v = shift = 0
    while i < len(b):
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7
    raise ValueError("truncated varint")


def sentencepiece_model_type(data: bytes) -> str | None:
    """``trainer_spec.model_type`` of a sentencepiece ``ModelProto`` (tokenizer.model): 'UNIGRAM',
    'BPE', 'WORD', 'CHAR'; None when absent or unreadable.  (ModelProto field 2 = TrainerSpec,
    TrainerSpec field 3 = model_type, default UNIGRAM.)"""
    try:
        i = 0
        while i < len(data):
            key, i = _varint(data, i)
            field, wt = key >> 3, key & 7
            if wt == 2:
                n, i = _varint(data, i)
                if field == 2:
                    spec, j, mtype = data[i:i + n], 0, 1
                    while j < len(spec):
                        k, j = _varint(spec, j)
                        f2, w2 = k >> 3, k & 7
                        if w2 == 0:
                            v, j = _varint(spec, j)
                            if f2 == 3:
                                mtype = v
                        elif w2 == 2:
                            m, j = _varint(spec, j)
                            j += m
                        elif w2 == 5:
                            j += 4
                        elif w2 == 1:
                            j += 8
                        else:
                            return None
                    return SP_MODEL_TYPES.get(mtype)
                i += n
            elif wt == 0:
                _, i = _varint(data, i)
            elif wt == 5:
                i += 4
            elif wt == 1:
                i += 8
            else:
                return None
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------- prediction
def version_tuple(v: str | None) -> tuple:
    if not v:
        return ()
    parts = []
    for x in re.split(r"[.+-]", v):
        if not x.isdigit():
            break
        parts.append(int(x))
    return tuple(parts)


def _messages(table: dict | None, cause: str, tf: str, py: str, prefer: str | None = None) -> str | None:
    """The exact message measured for ``cause`` under transformers ``tf`` (and Python ``py``, when
    the table says it matters); None when that version was not measured, or when it gave several
    messages (different tokenizer classes) and none contains ``prefer``."""
    if not table:
        return None
    entry = (table.get("causes") or {}).get(cause) or {}
    py_mm = ".".join(py.split(".")[:2]) if py else ""
    hits = [m.get("message") for m in entry.get("measured", [])
            if m.get("transformers") == tf and (not m.get("python") or m["python"] == py_mm)]
    hits = list(dict.fromkeys(h for h in hits if h))
    if len(hits) == 1:
        return hits[0]
    if prefer:
        pref = [h for h in hits if prefer in h]
        if len(pref) == 1:
            return pref[0]
    return None


def special_token(tok: dict, name: str) -> dict:
    """Where ``name`` (eos_token …) comes from for this tokenizer: ``{"value", "source"}``; value
    None when nothing defines it.  The files (tokenizer_config.json, special_tokens_map.json)
    first, then a read-only property of the custom class, then the class's ``__init__`` default
    handed to ``super().__init__``, then a standard class's default."""
    files = tok.get("special_tokens") or {}
    tr = tok.get("class_traits") or {}
    if name in (tr.get("readonly") or []):
        return {"value": (tr.get("constants") or {}).get(name), "source": "read-only property", "readonly": True}
    if files.get(name, {}).get("value") is not None and "default" not in files[name].get("source", "") and "property" not in files[name].get("source", ""):
        return {"value": files[name]["value"], "source": files[name]["source"]}
    if name in (tr.get("init_special") or {}):
        return {"value": tr["init_special"][name], "source": f"{tr.get('class')}.__init__ default"}
    if files.get(name, {}).get("value") is not None:
        return {"value": files[name]["value"], "source": files[name]["source"]}
    return {"value": None, "source": None}


def predict(prof: dict, tok: dict, transformers: str, python: str, tokenizer_type: str | None = "auto",
            table: dict | None = None) -> dict:
    """The outcome of model.py's ``initialize()`` for one tokenizer.

    ``tok``: tokenizer facts (:func:`trtdiag.probes.tokenizer.analyze_dir` plus ``class_traits``).
    Returns ``{"outcome": "raises", "cause", "step", "line", "exception", "message" (measured or
    None), "why"}`` or ``{"outcome": "ok", "wrong_ids": [...], "notes": [...]}``; ``"unknown"``
    when a running step is not understood."""
    tf = version_tuple(transformers)
    py = version_tuple(python)
    custom = tok.get("custom") or None
    tr = tok.get("class_traits") or {}
    cls = (custom or {}).get("class") or tok.get("tokenizer_class") or "the tokenizer class"
    steps = running_steps(prof, tokenizer_type)
    if prof.get("type_branches") and (tokenizer_type or "auto") not in prof["type_branches"] and prof.get("raises_on_unknown_type"):
        return {"outcome": "raises", "cause": "unknown-tokenizer-type", "step": "tokenizer_type", "line": None,
                "exception": "AttributeError", "message": f"Unexpected tokenizer type: {tokenizer_type}",
                "why": f"model.py knows {', '.join(prof['type_branches'])}"}

    def fail(cause, st, exc, why, fmt=None):
        msg = _messages(table, cause, transformers, python, (fmt or {}).get("prefer"))
        if msg and fmt:
            msg = msg.replace("{dir}", fmt.get("dir", "{dir}")).replace("{class}", fmt.get("class", "{class}"))
        return {"outcome": "raises", "cause": cause, "step": st.get("step"), "line": st.get("line"), "code": st.get("code"),
                "exception": exc, "message": msg, "why": why}

    state = {k: special_token(tok, k) for k in SPECIAL}
    registered: set = set()
    loaded = False
    wrong_ids, notes = [], []
    for st in steps:
        k = st["step"]
        if k == "load":
            loaded = True
            if st.get("constructor"):
                return {"outcome": "unknown", "why": f"{st['class']}(...) constructed directly", "line": st["line"]}
            if st["class"] != "AutoTokenizer":
                if custom:
                    notes.append(f"{st['class']}.from_pretrained ignores auto_map: {cls} is not used")
                continue
            named = tok.get("tokenizer_class")
            if not custom and named in ("LlamaTokenizer", "LlamaTokenizerFast") and "tokenizer.json" not in (tok.get("files") or []) \
                    and tok.get("sp_model_type") not in (None, "BPE") and tf < LLAMA_CONVERTER_ACCEPTS_UNIGRAM_FROM \
                    and st.get("kwargs", {}).get("use_fast") is not False:
                return fail("llama-sp-not-bpe", st, "RuntimeError",
                            f"tokenizer_class {named} with a {tok['sp_model_type']} sentencepiece model and no tokenizer.json: "
                            f"AutoTokenizer converts it to LlamaTokenizerFast, whose converter in transformers {transformers} "
                            "accepts only BPE models")
            known = known_tokenizer_classes(transformers)
            if not custom and named and known is not None and named not in known and named.replace("Fast", "") not in known \
                    and named + "Fast" not in known:
                return fail("tokenizer-class-unknown", st, "ValueError",
                            f"tokenizer_config.json names tokenizer_class {named!r}, which transformers {transformers} does not have "
                            "(files saved by another transformers version)", {"dir": tok.get("path", "{dir}"), "class": named})
            if custom and st.get("trust_remote_code") is not True:
                return fail("remote-code-not-trusted", st, "ValueError",
                            f"auto_map names {custom.get('ref')}; from_pretrained {'passes trust_remote_code=False' if st.get('trust_remote_code') is False else 'does not pass trust_remote_code'}",
                            {"dir": tok.get("path", "{dir}"), "class": cls})
            if custom and tr.get("init_order_attr") and tf >= CLASS_INIT_CALLS_GET_VOCAB_FROM:
                exc = "TypeError" if tf >= (5,) else "AttributeError"
                return fail("class-init-order", st, exc,
                            f"{cls}.__init__ hands its special tokens ({', '.join(tr['init_special'])}) to super().__init__ before it sets "
                            f"self.{tr['init_order_attr']}, which get_vocab() reads: transformers ≥ 4.34 calls get_vocab() inside "
                            "super().__init__", {"class": cls, "prefer": f"'{tr['init_order_attr']}'"})
        elif k == "special_assign":
            attr, src_attr = st["attr"], st.get("value")
            guards = st.get("guards") or []
            if "if-not-pad" in guards and attr == "pad_token":
                if state["pad_token"]["value"]:
                    continue  # the guard skips it
                if state["pad_token"].get("readonly") and state["pad_token"]["value"] is None:
                    return {"outcome": "unknown", "why": f"{cls}.pad_token is a read-only property whose value is computed", "line": st["line"]}
            if "try" in guards:
                if not state[attr].get("readonly"):
                    state[attr] = dict(state.get(src_attr) or {"value": None}, source=f"model.py line {st['line']}")
                continue
            if state[attr].get("readonly"):
                if tf >= READONLY_ACCEPTED_FROM:
                    notes.append(f"transformers {transformers} stores {attr} through __setattr__: no error, the property keeps its value")
                    if tf >= ASSIGNED_TOKEN_REGISTERED_FROM and (state.get(src_attr) or {}).get("value"):
                        registered.add(state[src_attr]["value"])  # encode() no longer splits that text
                    continue
                exc_msg = (f"can't set attribute '{attr}'" if py and py < (3, 11) else f"property '{attr}' of '{cls}' object has no setter")
                r = fail("readonly-special-token", st, "AttributeError",
                         f"{cls}.{attr} is a @property without a setter (line {(tr.get('lines') or {}).get(attr)})")
                r["message"] = exc_msg
                return r
            state[attr] = dict(state.get(src_attr) or {"value": None}, source=f"model.py line {st['line']}")
        elif k == "id_from_encode":
            token = st["token"]
            if "eos_guard" in " ".join(st.get("guards") or []) or any("eos_token is not None" in g for g in st.get("guards") or []):
                if state["eos_token"]["value"] is None:
                    continue
            v = state.get(token, {}).get("value")
            if v is None and not state.get(token, {}).get("readonly"):
                r = fail("encode-none", st, "ValueError",
                         f"{token} is None: nothing defines it ({'custom class ' + cls if custom else 'tokenizer files'}); "
                         f"model.py line {st['line']} runs encode({token})")
                return r
            if custom and tr.get("pad_signature") is not None and "padding_side" not in tr["pad_signature"] \
                    and not any(x.startswith("**") for x in tr["pad_signature"]) and tf >= PAD_PASSES_PADDING_SIDE_FROM:
                return fail("pad-without-padding-side", st, "TypeError",
                            f"{cls}._pad() (line {tr.get('pad_line')}) has no padding_side parameter; transformers ≥ 4.45 passes it from "
                            "every encode()", {"class": cls})
            if custom and tr.get("tiktoken_disallows_special") and v and v.startswith("<|"):
                return fail("tiktoken-disallowed-special", st, "ValueError",
                            f"{cls}.tokenize hands the text to tiktoken without allowed_special: the special token {v!r} as text is refused")
            if state.get(token, {}).get("readonly") and f"{token}_id" in (tr.get("own_id_properties") or []) and v not in registered:
                wrong_ids.append({"attr": st["target"], "line": st["line"], "token": token, "value": v,
                                  "why": f"{cls}.{token} is a read-only property ({v!r}) that is not registered as a special token, "
                                         f"so encode({v!r}) splits it as ordinary text; the class's own {token}_id is another id"})
    if not loaded and steps:
        return {"outcome": "unknown", "why": "no from_pretrained call runs for this tokenizer_type"}
    return {"outcome": "ok", "wrong_ids": wrong_ids, "notes": notes}


def execute_risks(prof: dict, tok: dict) -> list[dict]:
    """execute() lines that will fail for this tokenizer: ``len(self.tokenizer.vocab)`` on a custom
    class that defines no ``vocab`` (tiktoken QWenTokenizer: AttributeError at the first request)."""
    tr = tok.get("class_traits") or {}
    out = []
    if not tok.get("custom") or not tr.get("found"):
        return out
    for v in prof.get("execute", {}).get("vocab_access", []):
        if v.get("expr") in ("len(vocab)", "len(self.tokenizer.vocab)") and not tr.get("has_vocab"):
            out.append({"line": v["line"], "function": v["function"], "code": v["code"],
                        "why": f"{tr.get('class')} defines no vocab attribute (only get_vocab())"})
    return out


# --------------------------------------------------------------------------- observed outcomes
CAUSE_PATTERNS = (
    ("remote-code-not-trusted", r"does not exist or is not currently imported|contains custom code which must be executed|requires you to execute the configuration file"),
    ("readonly-special-token", r"can't set attribute '(pad|eos|bos|unk)_token'|property '(pad|eos|bos|unk)_token' of '\w+' object has no setter"),
    ("encode-none", r"Input None is not valid|Input must be a string, list of strings, or list of ints, got: <class 'NoneType'>"),
    ("pad-without-padding-side", r"_pad\(\) got an unexpected keyword argument 'padding_side'"),
    ("class-init-order", r"object has no attribute '\w+'$|^\w+ has no attribute \w+$|'property' object is not iterable|'property' object cannot be interpreted as an integer"),
    ("tiktoken-disallowed-special", r"Encountered text corresponding to disallowed special token"),
    ("unknown-tokenizer-type", r"Unexpected tokenizer type"),
    ("llama-sp-not-bpe", r"Llama is supposed to be a BPE model"),
    ("module-missing", r"^No module named "),
)


def cause_of_outcome(exc: dict | None, custom: bool | None = None) -> str | None:
    """The cause id of an exception the real initialize() raised (``{"type", "first_line",
    "raised_in"}`` as the replay records it); "other" when none of the known ones.  ``custom``:
    whether the tokenizer has its own class (auto_map) — without one, "Tokenizer class X does not
    exist" means the files name a class this transformers does not have."""
    if not exc:
        return None
    msg = exc.get("first_line") or exc.get("message") or ""
    if custom is False and re.search(r"^Tokenizer class \w+ does not exist or is not currently imported", msg):
        return "tokenizer-class-unknown"
    for cause, pat in CAUSE_PATTERNS:
        if re.search(pat, msg):
            if cause == "class-init-order" and (exc.get("raised_in") or {}).get("function") not in ("get_vocab", "__init__", "vocab_size", "__getattr__"):
                continue
            return cause
    return "other"


def message_template(msg: str, tokenizer_dir: str | None = None, cls: str | None = None) -> str:
    """A measured message with the tokenizer directory and class written as ``{dir}``/``{class}``."""
    out = msg
    if tokenizer_dir:
        out = out.replace(tokenizer_dir, "{dir}")
    if cls:
        out = out.replace(cls, "{class}")
    return out


# --------------------------------------------------------------------------- the derived fact
_TABLE: dict | None = None


_CLASSES: dict | None = None


def known_tokenizer_classes(transformers: str | None) -> set | None:
    """The tokenizer classes of that transformers release (trtdiag/data/transformers_tokenizer_classes.json,
    read from each release by tools/transformers_tokenizer_classes.py): the exact version, else the
    nearest measured one of the same minor version; None when none was measured."""
    global _CLASSES
    if not transformers:
        return None
    if _CLASSES is None:
        from .. import data

        try:
            _CLASSES = data.load_json("transformers_tokenizer_classes.json")["versions"]
        except (OSError, ValueError, KeyError):
            _CLASSES = {}
    if transformers in _CLASSES:
        return set(_CLASSES[transformers])
    want = version_tuple(transformers)[:2]
    same = [v for v in _CLASSES if version_tuple(v)[:2] == want]
    return set(_CLASSES[sorted(same, key=version_tuple)[-1]]) if same else None


def failure_table() -> dict:
    """trtdiag/data/transformers_tokenizer_failures.json (package data; generated by
    tools/tokenizer_failure_table.py from the measured matrix)."""
    global _TABLE
    if _TABLE is None:
        from .. import data

        _TABLE = data.load_json("transformers_tokenizer_failures.json")
    return _TABLE


def measured_versions(table: dict) -> list[tuple[str, str]]:
    """(transformers, python) pairs the table was measured on."""
    out = []
    for v in (table.get("interpreters") or {}).values():
        if v.get("transformers") and v.get("python"):
            out.append((v["transformers"], v["python"]))
    return sorted(set(out), key=lambda p: (version_tuple(p[0]), version_tuple(p[1])))


def predict_target(t: dict, transformers: str | None, python: str | None, table: dict) -> dict | None:
    """The prediction for one ``tokenizer.static`` target: for the target's transformers/Python
    when known, else for every measured version (``by_version``; ``agreed`` when all give the same
    cause).  None when the target has no model.py profile or no usable tokenizer directory."""
    prof, d = t.get("profile"), t.get("dir")
    if not prof or not d or not d.get("is_dir"):
        return None
    ttype = t.get("tokenizer_type") or "auto"
    if transformers:
        p = predict(prof, d, transformers, python or "3.11", ttype, table)
        return {"versions": "target", "transformers": transformers, "python": python, **p,
                "execute_risks": execute_risks(prof, d)}
    by: dict[str, list[str]] = {}
    preds = {}
    for tf, py in measured_versions(table):
        p = predict(prof, d, tf, py, ttype, table)
        key = p["outcome"] if p["outcome"] != "raises" else "raises:" + p["cause"]
        by.setdefault(key, []).append(f"{tf} (Python {'.'.join(py.split('.')[:2])})")
        preds.setdefault(key, p)
    if len(by) == 1:
        (key, vers), = by.items()
        return {"versions": "all measured", "measured": vers, **preds[key], "execute_risks": execute_risks(prof, d)}
    return {"versions": "differ", "outcome": "depends", "by_version": {k: {"versions": v, "prediction": preds[k]} for k, v in by.items()},
            "execute_risks": execute_risks(prof, d)}


@_derived_hook("tokenizer_model_py")
def _derived(facts) -> list[dict | None]:
    """Per ``tokenizer.static`` target: :func:`predict_target` for the target interpreter's
    transformers (python.packages) — the static outcome of model.py's initialize()."""
    st = facts["tokenizer.static"]
    tf = py = None
    try:
        pk = facts["python.packages"]
        tf = (pk.get("packages") or {}).get("transformers")
        py = pk.get("version")
    except Exception:  # the python area reports its own failures
        pass
    table = failure_table()
    return [predict_target(t, tf, py, table) for t in st.get("targets") or []]


# what to do when the cause is in the tokenizer's own code (no model.py patch mends it)
ADVICE = {
    "pad-without-padding-side": "the tokenizer class's own _pad() has no padding_side parameter, which transformers >= 4.45 "
                                "passes from every encode(): use a transformers older than 4.45 in the serving environment, or "
                                "tokenizer files whose _pad accepts padding_side (the model's current revision)",
    "class-init-order": "the tokenizer class cannot be built by this transformers (>= 4.34 calls get_vocab() inside "
                        "super().__init__, before the class has loaded its vocabulary): use the model's current tokenizer "
                        "files, or a transformers older than 4.34",
    "tiktoken-disallowed-special": "the tokenizer class refuses its own eos token as text (tiktoken's disallowed special "
                                   "tokens): use the model's current tokenizer files, or pass END_ID/PAD_ID explicitly",
    "remote-code-not-trusted": "pass trust_remote_code=True to that from_pretrained call (review the tokenizer's code first)",
    "readonly-special-token": "guard the assignment (only when pad_token is empty, inside try/except AttributeError)",
    "encode-none": "take the ids from generation_config.json where the tokenizer has no eos token, or pass END_ID/PAD_ID with each request",
    "unknown-tokenizer-type": "set tokenizer_type to one model.py knows",
    "module-missing": "install that module in the interpreter Triton's python backend uses (the replay ran model.py in --python)",
    "llama-sp-not-bpe": "ship tokenizer.json with the tokenizer (save it with a transformers >= 4.34), or use transformers >= 4.34",
    "tokenizer-class-unknown": "save the tokenizer with the transformers version that serves it (transformers 5 writes "
                               "tokenizer_class 'TokenizersBackend', which 4.x does not have), or set tokenizer_class in "
                               "tokenizer_config.json to a class that version has (e.g. PreTrainedTokenizerFast)",
}
FIXABLE_IN_MODEL_PY = ("remote-code-not-trusted", "readonly-special-token", "encode-none")
KB_OF_CAUSE = {
    "remote-code-not-trusted": "tokenizer-remote-code-required",
    "readonly-special-token": "tokenizer-pad-token-readonly",
    "encode-none": "tokenizer-missing-eos-pad",
    "unknown-tokenizer-type": "tokenizer-type-mismatch",
    "tokenizer-class-unknown": "tokenizer-type-mismatch",
    "llama-sp-not-bpe": "tokenizer-type-mismatch",
    "pad-without-padding-side": "tokenizer-class-transformers-incompatible",
    "class-init-order": "tokenizer-class-transformers-incompatible",
    "tiktoken-disallowed-special": "tokenizer-class-transformers-incompatible",
}
