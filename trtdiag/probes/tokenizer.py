"""Tokenizers as tensorrtllm_backend's preprocessing/postprocessing model.py will use them.

Two probes:

``tokenizer.static``  What can be known without running any code: the tokenizer directory each
    model will load (``tokenizer_dir`` of its config.pbtxt, or ``--tokenizer-dir``), the files in
    it, ``tokenizer_config.json`` (``auto_map``, ``tokenizer_class``, special tokens),
    ``special_tokens_map.json``, the ``added_tokens`` at the head of ``tokenizer.json``,
    ``generation_config.json``'s ids, the source of a custom tokenizer class (read with ``ast``,
    never imported) and what ``<model>/1/model.py`` does to the tokenizer (read with ``ast``).

``tokenizer.load``    Only with ``--load-tokenizer``: a child process of the target Python
    (``--python``) loads the tokenizer as model.py would and replays what model.py does to it.
    Without ``--trust-remote-code`` the child passes ``trust_remote_code=False``, so no code from
    the tokenizer directory runs.

Shape of ``tokenizer.static``::

    {"targets": [{"model": "preprocessing", "model_py": path or None, "tokenizer_dir": str or None,
                  "dir_source": "option" | "config.pbtxt", "tokenizer_type": str or None,
                  "dir": {...directory facts...} or None, "code": {...model.py facts...} or None}]}
"""

from __future__ import annotations

import ast
import json
import os
import re

from ..core.facts import probe
from ..derive.tokenizer import _tok_type_key, is_placeholder, tokenizer_type_branch  # noqa: F401
from ..fsutil import read_head, read_json, read_text

SPECIAL = ("bos_token", "eos_token", "pad_token", "unk_token")
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
    "merges.txt", "vocab.txt", "spiece.model", "sentencepiece.bpe.model", "qwen.tiktoken", "ice_text.model",
)
SENTENCEPIECE_FILES = ("tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "ice_text.model")
# Special tokens a tokenizer class sets itself when its files say nothing (its __init__ defaults).
CLASS_DEFAULTS = {
    "LlamaTokenizer": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "LlamaTokenizerFast": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "T5Tokenizer": {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"},
    "T5TokenizerFast": {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"},
    "GemmaTokenizer": {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
    "GemmaTokenizerFast": {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
    "GPT2Tokenizer": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
    "GPT2TokenizerFast": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
}
TOKENIZER_JSON_HEAD = 2 * 1024 * 1024  # added_tokens sit near the start of tokenizer.json




# --------------------------------------------------------------------------- the directory
def _token_text(v):
    if isinstance(v, dict):
        return v.get("content")
    return v if isinstance(v, str) else None


def _safe_json(path: str, problems: list[str]):
    try:
        data = read_json(path)
    except Exception as exc:  # InputError: a broken file is a finding, not the end of the run
        problems.append(str(exc))
        return None
    return data if isinstance(data, dict) else None


def _added_tokens(path: str, problems: list[str]) -> list[dict] | None:
    """``added_tokens`` of tokenizer.json, read from its head only."""
    try:
        head, _size = read_head(path, TOKENIZER_JSON_HEAD)
    except Exception as exc:
        problems.append(str(exc))
        return None
    text = head.decode("utf-8", "replace")
    m = re.search(r'"added_tokens"\s*:\s*', text)
    if not m:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, m.end())
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    return [{"id": t.get("id"), "content": t.get("content"), "special": t.get("special")} for t in value if isinstance(t, dict)]


def _parse_python(path: str, out: dict, facts=None):
    """The AST of a Python file read as text (never imported), or None with out["error"] set.
    With ``facts`` the text is read (and recorded for the fix planner) through Facts.file_text."""
    try:
        text = facts.file_text(path) if facts is not None else read_text(path)
        if text is None:
            raise FileNotFoundError(f"{path}: no such file")
        return ast.parse(text, filename=path)
    except SyntaxError as exc:
        out["error"] = f"{path}:{exc.lineno}: {exc.msg}"
    except Exception as exc:
        out["error"] = str(exc)
    return None


def analyze_class_source(path: str, class_name: str) -> dict:
    """Read a custom tokenizer class with ast: which special tokens are read-only properties
    (a ``@property`` without ``@x.setter``), and the constant each such property returns."""
    out: dict = {"path": path, "class": class_name, "found": False, "readonly": [], "constants": {}, "bases": []}
    tree = _parse_python(path, out)
    if tree is None:
        return out
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    seen: set[str] = set()
    todo = [class_name]
    props: dict[str, ast.FunctionDef] = {}
    setters: set[str] = set()
    while todo:  # the class and its bases defined in the same module
        name = todo.pop(0)
        node = classes.get(name)
        if node is None or name in seen:
            continue
        seen.add(name)
        if name == class_name:
            out["found"] = True
            out["line"] = node.lineno
            out["bases"] = [ast.unparse(b) for b in node.bases]
        for item in node.body:
            if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for d in item.decorator_list:
                if isinstance(d, ast.Name) and d.id == "property":
                    props.setdefault(item.name, item)
                elif isinstance(d, ast.Attribute) and d.attr == "setter":
                    setters.add(item.name)
        todo.extend(ast.unparse(b) for b in node.bases)
    for name in (*SPECIAL, "pad_token_id", "eos_token_id", "bos_token_id"):
        fn = props.get(name)
        if fn is None or name in setters:
            continue
        out["readonly"].append(name)
        out.setdefault("lines", {})[name] = fn.lineno
        rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
        if len(rets) == 1 and isinstance(rets[0].value, ast.Constant):
            out["constants"][name] = rets[0].value.value
    return out


def analyze_dir(path: str) -> dict:
    d: dict = {"path": path, "exists": os.path.exists(path), "is_dir": os.path.isdir(path), "files": [], "problems": []}
    if not d["is_dir"]:
        return d
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        d["problems"].append(f"{path}: {exc.strerror or exc}")
        return d
    d["entries"] = names[:50]
    d["files"] = [n for n in names if n in TOKENIZER_FILES or n.endswith(".tiktoken")]
    d["py_files"] = [n for n in names if n.endswith(".py")]
    d["engines"] = [n for n in names if n.endswith((".engine", ".plan"))][:8]
    d["sentencepiece"] = [n for n in names if n in SENTENCEPIECE_FILES]
    problems = d["problems"]
    cfg = {}
    if "config.json" in names:
        c = _safe_json(os.path.join(path, "config.json"), problems) or {}
        d["engine_config"] = "build_config" in c or "builder_config" in c
        d["model_eos_token_id"] = c.get("eos_token_id")
    tc = _safe_json(os.path.join(path, "tokenizer_config.json"), problems) if "tokenizer_config.json" in names else None
    stm = _safe_json(os.path.join(path, "special_tokens_map.json"), problems) if "special_tokens_map.json" in names else None
    gen = _safe_json(os.path.join(path, "generation_config.json"), problems) if "generation_config.json" in names else None
    cfg = tc or {}
    d["tokenizer_class"] = cfg.get("tokenizer_class") if isinstance(cfg.get("tokenizer_class"), str) else None
    auto_map = cfg.get("auto_map") if isinstance(cfg.get("auto_map"), dict) else {}
    ref = auto_map.get("AutoTokenizer")
    if ref is None and "config.json" in names:  # AutoTokenizer also reads config.json's auto_map
        mc = _safe_json(os.path.join(path, "config.json"), []) or {}
        ref = (mc.get("auto_map") or {}).get("AutoTokenizer") if isinstance(mc.get("auto_map"), dict) else None
    if isinstance(ref, list):
        ref = next((r for r in ref if isinstance(r, str)), None)
    d["auto_map"] = ref if isinstance(ref, str) else None
    d["custom"] = None
    if d["auto_map"]:
        local = d["auto_map"].split("--", 1)[-1]  # "org/repo--module.Class" names code on the Hub
        module, _, cls = local.rpartition(".")
        valid = bool(re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", module)) and cls.isidentifier()
        src = os.path.join(path, module.replace(".", os.sep) + ".py") if valid else os.path.join(path, "<invalid auto_map>")
        d["custom"] = {"ref": d["auto_map"], "module": module, "class": cls, "source": src,
                       "source_exists": valid and os.path.isfile(src), "remote": "--" in d["auto_map"]}
        if d["custom"]["source_exists"]:
            d["custom"]["analysis"] = analyze_class_source(src, cls)
    # special tokens: where each is defined
    tokens: dict = {}
    for name in SPECIAL:
        for source, data in (("tokenizer_config.json", tc), ("special_tokens_map.json", stm)):
            if data and _token_text(data.get(name)):
                tokens[name] = {"value": _token_text(data.get(name)), "source": source}
                break
        else:
            ana = (d.get("custom") or {}).get("analysis") or {}
            if name in ana.get("constants", {}):
                tokens[name] = {"value": ana["constants"][name], "source": f"{os.path.basename(ana['path'])} (read-only property)"}
            elif name in ana.get("readonly", []):
                tokens[name] = {"value": None, "source": f"{os.path.basename(ana['path'])} (read-only property, value computed)"}
            elif d["tokenizer_class"] in CLASS_DEFAULTS and name in CLASS_DEFAULTS[d["tokenizer_class"]]:
                tokens[name] = {"value": CLASS_DEFAULTS[d["tokenizer_class"]][name], "source": f"{d['tokenizer_class']} default"}
    d["special_tokens"] = tokens
    if "tokenizer.json" in names:
        added = _added_tokens(os.path.join(path, "tokenizer.json"), problems)
        if added is not None:
            d["added_tokens"] = [t for t in added if t.get("special")][:64]
    if gen is not None:
        d["generation_config"] = {k: gen.get(k) for k in ("eos_token_id", "pad_token_id", "bos_token_id", "chat_format") if k in gen}
    return d


# --------------------------------------------------------------------------- model.py
_LOADERS = ("AutoTokenizer", "LlamaTokenizer", "LlamaTokenizerFast", "T5Tokenizer", "PreTrainedTokenizerFast", "GemmaTokenizer")






def _is_pad_test(test: ast.AST) -> bool:
    """``not X.pad_token`` / ``X.pad_token is None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Attribute) and test.operand.attr == "pad_token"
    if isinstance(test, ast.Compare) and isinstance(test.left, ast.Attribute) and test.left.attr == "pad_token":
        return isinstance(test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    return False


def analyze_model_py(path: str, facts=None) -> dict:
    out: dict = {"path": path, "loads": [], "pad_assign": [], "eos_assign": [], "encodes_eos": [], "type_branches": [],
                 "raises_on_unknown_type": False, "reads_tokenizer_type": False, "gen_config_ids": False}
    tree = _parse_python(path, out, facts)
    if tree is None:
        return out
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def branch_of(node):
        return tokenizer_type_branch(node, parents)

    def guard_of(node):
        p = parents.get(node)
        while p is not None and not isinstance(p, (ast.FunctionDef, ast.Module)):
            if isinstance(p, ast.Try) and any(
                h.type is None or "AttributeError" in ast.unparse(h.type) for h in p.handlers
            ):
                return "try"
            if isinstance(p, ast.If) and _is_pad_test(p.test):
                return "if-not-pad"
            p = parents.get(p)
        return "none"

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and "tokenizer_type" in node.id:
            out["reads_tokenizer_type"] = True
        if isinstance(node, ast.Constant) and node.value == "generation_config.json":
            out["gen_config_ids"] = True
        if isinstance(node, ast.If):
            key = _tok_type_key(node.test)
            if key is not None:
                out["type_branches"].append(key)
                tail = node
                while len(tail.orelse) == 1 and isinstance(tail.orelse[0], ast.If):
                    tail = tail.orelse[0]
                if tail.orelse and isinstance(tail.orelse[-1], ast.Raise):
                    out["raises_on_unknown_type"] = True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained":
            owner = ast.unparse(node.func.value)
            if "Tokenizer" not in owner:
                continue
            kw = {}
            trust = None
            for k in node.keywords:
                if k.arg is None:
                    continue
                if isinstance(k.value, ast.Constant):
                    kw[k.arg] = k.value.value
                if k.arg == "trust_remote_code":
                    trust = k.value.value if isinstance(k.value, ast.Constant) else "dynamic"
            out["loads"].append({"line": node.lineno, "cls": owner.split(".")[-1], "branch": branch_of(node),
                                 "trust_remote_code": trust, "kwargs": {k: v for k, v in kw.items() if k != "trust_remote_code"}})
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            attr = node.targets[0].attr
            if attr in ("pad_token", "eos_token") and "tokenizer" in ast.unparse(node.targets[0].value):
                rec = {"line": node.lineno, "code": ast.unparse(node), "guard": guard_of(node)}
                out["pad_assign" if attr == "pad_token" else "eos_assign"].append(rec)
            if attr in ("tokenizer_end_id", "tokenizer_pad_id"):
                src = ast.unparse(node.value)
                if ".encode(" in src:
                    p = parents.get(node)
                    guarded = isinstance(p, ast.If) and "eos_token is not None" in ast.unparse(p.test)
                    out["encodes_eos"].append({"line": node.lineno, "target": attr, "code": ast.unparse(node), "guarded": guarded})
    out["type_branches"] = sorted(set(out["type_branches"]))
    return out


# --------------------------------------------------------------------------- targets
def _triton_repo(facts):
    if "triton.repo" in facts._values or facts.opt("model_repo") or facts.from_snapshot:
        try:
            return facts["triton.repo"]
        except Exception:  # the Triton area reports its own failures
            return None
    return None


def _models(repo: dict) -> list[tuple[str, dict]]:
    models = repo.get("models") or {}
    names = [repo.get("preprocessing"), repo.get("postprocessing")]
    out = [(n, models[n]) for n in names if n and n in models]
    if not out:  # fall back on any model whose config names a tokenizer_dir
        out = [(n, m) for n, m in sorted(models.items()) if "tokenizer_dir" in ((m or {}).get("parameters") or {})]
    return out


def _param(m: dict, key: str) -> str | None:
    """A config.pbtxt parameter's value; the triton.repo fact stores an unfilled template value
    as None and lists it in ``placeholders``: it comes back here as the placeholder text."""
    v = (m.get("parameters") or {}).get(key)
    if v is not None:
        return v
    for ph in m.get("placeholders") or []:
        if isinstance(ph, dict) and ph.get("param") == key and ph.get("name"):
            return "${" + str(ph["name"]) + "}"
    return None


@probe("tokenizer.static")
def static(facts) -> dict:
    option_dir = facts.opt("tokenizer_dir")
    if option_dir and not facts.from_snapshot and not os.path.isdir(option_dir):
        from ..core.errors import InputError

        what = "not a directory" if os.path.exists(option_dir) else "no such directory"
        raise InputError(f"--tokenizer-dir {option_dir}: {what} (expected the directory holding tokenizer_config.json)")
    targets = []
    repo = _triton_repo(facts)
    if repo:
        for name, m in _models(repo):
            tdir = option_dir or _param(m, "tokenizer_dir")
            mp = os.path.join(m.get("path") or "", "1", "model.py") if m.get("path") else None
            targets.append({"model": name, "model_py": mp if mp and os.path.isfile(mp) else None, "model_py_expected": mp,
                            "tokenizer_dir": tdir, "dir_source": "option" if option_dir else "config.pbtxt",
                            "config_path": m.get("config_path"), "tokenizer_type": _param(m, "tokenizer_type")})
    if not targets and option_dir:
        targets.append({"model": None, "model_py": None, "tokenizer_dir": option_dir, "dir_source": "option",
                        "tokenizer_type": None})
    dirs: dict[str, dict] = {}
    for t in targets:
        tdir = t["tokenizer_dir"]
        t["dir"] = None
        if tdir and not is_placeholder(tdir):
            key = os.path.abspath(tdir)
            if key not in dirs:
                dirs[key] = analyze_dir(key)
            t["dir"] = dirs[key]
        t["code"] = analyze_model_py(t["model_py"], facts) if t.get("model_py") else None
        t["profile"] = _profile(t["model_py"], facts) if t.get("model_py") else None
    for d in dirs.values():
        if "tokenizer.model" in (d.get("files") or []) and "sp_model_type" not in d:
            from ..derive.tokenizer_model_py import sentencepiece_model_type

            try:
                with open(os.path.join(d["path"], "tokenizer.model"), "rb") as fh:
                    d["sp_model_type"] = sentencepiece_model_type(fh.read(16 << 20))
            except OSError:
                d["sp_model_type"] = None
        c = d.get("custom") or {}
        if c.get("source_exists") and "class_traits" not in d:
            from ..derive.tokenizer_model_py import class_traits

            try:
                d["class_traits"] = class_traits(facts.file_text(c["source"]) or "", c["class"])
            except Exception as exc:  # unreadable: the class analysis above reports it
                d["class_traits"] = {"error": str(exc)}
    return {"targets": targets}


def _profile(path: str, facts) -> dict | None:
    """What model.py's initialize() does with the tokenizer, step by step
    (trtdiag.derive.tokenizer_model_py: the analysis tested on the real model.py of every tag)."""
    from ..derive import tokenizer_model_py as tm

    try:
        text = facts.file_text(path)
        if text is None:
            return None
        prof = tm.profile(tm.statements(text))
    except (SyntaxError, ValueError):
        return None  # TOK003 reports the syntax error
    except Exception:
        return None
    prof["not_understood"] = [{"line": s["line"], "excerpt": s["excerpt"], "reason": s["facts"].get("reason")}
                              for s in prof.get("not_understood") or []]
    return prof


@probe("tokenizer.replay")
def replay(facts) -> dict:
    """Only with --load-tokenizer: the repository's own model.py initialize() (and one execute())
    of each target, in a child of the target Python (trtdiag.probes.tokenizer_replay)."""
    from .tokenizer_replay import replay_targets

    st = facts["tokenizer.static"]
    trust = bool(facts.opt("trust_remote_code"))
    timeout = float(os.environ.get("TRTDIAG_TOKENIZER_TIMEOUT", 120))
    return {"results": replay_targets(st["targets"], facts.opt("python"), trust, timeout), "trust_remote_code": trust}


# --------------------------------------------------------------------------- dynamic
CHILD = r'''
import json, os, sys
spec = json.loads(sys.argv[1])
out = {"steps": []}
def step(name, ok, detail=None, exc=None):
    s = {"step": name, "ok": ok}
    if detail is not None: s["detail"] = detail
    if exc is not None: s["exception"] = type(exc).__name__ + ": " + str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    out["steps"].append(s)
    return ok
def done():
    print(json.dumps(out)); sys.exit(0)
try:
    import transformers
    out["transformers"] = transformers.__version__
except Exception as e:
    step("import transformers", False, exc=e); done()
out["python"] = sys.version.split()[0]
try:
    cls = getattr(transformers, spec["cls"])
    kw = dict(spec["kwargs"])
    if spec["cls"] == "AutoTokenizer":
        kw["trust_remote_code"] = spec["trust"]
    tok = cls.from_pretrained(spec["dir"], **kw)
    step("load", True, "%s.from_pretrained(%r, %s) -> %s" % (spec["cls"], spec["dir"], ", ".join("%s=%r" % kv for kv in kw.items()), type(tok).__name__))
except Exception as e:
    step("load", False, "%s.from_pretrained(%r, trust_remote_code=%r)" % (spec["cls"], spec["dir"], spec["trust"]), exc=e); done()
out["class"] = type(tok).__name__
def special():
    return {k: getattr(tok, k, None) for k in ("eos_token", "pad_token", "bos_token")}
out["before"] = {k: (v if isinstance(v, str) or v is None else str(v)) for k, v in special().items()}
g = spec["pad_guard"]
if g is not None:
    try:
        if g == "none" or (g == "if-not-pad" and not tok.pad_token):
            tok.pad_token = tok.eos_token
            step("pad_token = eos_token", True, "pad_token is now %r" % (tok.pad_token,))
        elif g == "try" and not tok.pad_token and tok.eos_token is not None:
            try:
                tok.pad_token = tok.eos_token
            except AttributeError:
                pass
            step("pad_token = eos_token (guarded)", True, "pad_token is now %r" % (tok.pad_token,))
        else:
            step("pad_token = eos_token", True, "skipped by model.py's guard; pad_token is %r" % (tok.pad_token,))
    except Exception as e:
        step("pad_token = eos_token", False, exc=e); done()  # model.py stops here too
ids = {}
if spec["ids"] == "encode" or (spec["ids"] == "gen-config" and tok.eos_token is not None):
    for name, attr in (("end_id", "eos_token"), ("pad_id", "pad_token")):
        try:
            ids[name] = tok.encode(getattr(tok, attr), add_special_tokens=False)[0]
            step("encode(%s)" % attr, True, "%s = %r" % (name, ids[name]))
        except Exception as e:
            step("encode(%s)" % attr, False, exc=e); done()
elif spec["ids"] == "gen-config":
    try:
        with open(os.path.join(spec["dir"], "generation_config.json")) as f:
            gen = json.load(f)
        eos = gen["eos_token_id"]
        eos = eos[0] if isinstance(eos, list) else eos
        if gen.get("chat_format") == "chatml" and hasattr(tok, "im_end_id"):
            eos = tok.im_end_id
        ids["end_id"] = eos
        ids["pad_id"] = eos if gen.get("pad_token_id") is None or gen.get("chat_format") == "chatml" else gen["pad_token_id"]
        step("ids from generation_config.json", True, "end_id = %r, pad_id = %r" % (ids["end_id"], ids["pad_id"]))
    except Exception as e:
        step("ids from generation_config.json", False, exc=e); done()
out["ids"] = ids
try:
    text = "Hello world, tokenizer check."
    enc = tok.encode(text, add_special_tokens=False)
    dec = tok.decode(enc, skip_special_tokens=True)
    step("round trip", True, "%d ids; decode gives %r" % (len(enc), dec))
    norm = lambda x: "".join(ch for ch in x.lower() if ch.isalnum())
    out["round_trip_equal"] = norm(dec) == norm(text)
except Exception as e:
    step("round trip", False, exc=e)
done()
'''


def load_spec(target: dict, trust_flag: bool) -> dict | None:
    """What the child does, from the static facts of one target: the loader model.py calls for
    this tokenizer_type, its literal keyword arguments, and what model.py does afterwards."""
    code = target.get("code") or {}
    loads = code.get("loads") or []
    ttype = target.get("tokenizer_type")
    chosen = None
    for ld in loads:
        if ld["branch"] is not None and ld["branch"] == ttype:
            chosen = ld
            break
    if chosen is None:
        chosen = next((ld for ld in loads if ld["branch"] is None), None) or next(
            (ld for ld in loads if ld["cls"] == "AutoTokenizer"), None)
    cls = chosen["cls"] if chosen else "AutoTokenizer"
    kwargs = {k: v for k, v in (chosen or {}).get("kwargs", {}).items() if isinstance(v, (str, int, float, bool))}
    in_model = chosen.get("trust_remote_code") is True if chosen else True
    pads = code.get("pad_assign") or []
    pad_guard = pads[0]["guard"] if pads else None
    enc = code.get("encodes_eos") or []
    ids = "gen-config" if code.get("gen_config_ids") else ("encode" if enc else None)
    if not code:  # no model.py: do what the current tensorrtllm_backend does
        pad_guard, ids = "if-not-pad", "encode"
    return {"dir": os.path.abspath(target["tokenizer_dir"]), "cls": cls, "kwargs": kwargs,
            "trust": bool(in_model and trust_flag), "model_trusts": in_model,
            "pad_guard": pad_guard, "ids": ids}


@probe("tokenizer.load")
def load(facts) -> dict:
    """Load each tokenizer in a child process of the target Python and replay model.py."""
    from .. import proc

    st = facts["tokenizer.static"]
    trust = bool(facts.opt("trust_remote_code"))
    results = []
    seen = {}
    import tempfile

    for t in st["targets"]:
        d = t.get("dir") or {}
        if not d.get("is_dir"):
            results.append(None)
            continue
        spec = load_spec(t, trust)
        key = json.dumps(spec, sort_keys=True)
        if key in seen:
            results.append(seen[key])
            continue
        with tempfile.TemporaryDirectory(prefix="trtdiag-hf-") as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
            env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                        "HF_MODULES_CACHE": os.path.join(tmp, "modules"), "TOKENIZERS_PARALLELISM": "false",
                        "TRANSFORMERS_VERBOSITY": "error"})
            data, res = proc.run_python_json(CHILD, facts.opt("python"), timeout=float(os.environ.get("TRTDIAG_TOKENIZER_TIMEOUT", 120)),
                                             env=env, args=[json.dumps(spec)])
        r = {"spec": spec, "python": facts.opt("python") or "this interpreter"}
        if data is None:
            tail = (res.stderr or res.error or "").strip().splitlines()[-3:]
            r["error"] = ("timed out" if res.timed_out else f"child exited {res.returncode}") + (": " + " | ".join(tail) if tail else "")
        else:
            r.update(data)
        seen[key] = r
        results.append(r)
    return {"results": results, "trust_remote_code": trust}
