"""Tokenizer checks (TOK0xx): the tokenizer each of tensorrtllm_backend's preprocessing and
postprocessing models loads, checked against what its model.py will do to it.

TOK001-TOK007 read files only (JSON, and Python source through ``ast``): no tokenizer or model code
runs.  TOK010 loads the tokenizer in a child process, only with ``--load-tokenizer``.

Shared helpers of the tokenizer rules (one rule a file beside this one)."""

from __future__ import annotations

import os


from ...core.finding import Finding, error, hint, info, ok, warning

AREA = "tokenizer"


from . import targets as _targets  # noqa: E402,F401  (the area's gate; the rules' starting point)

def _name(t: dict) -> str:
    return t.get("model") or "--tokenizer-dir"

def _usable(t: dict) -> dict | None:
    d = t.get("dir")
    return d if d and d.get("is_dir") else None

# --------------------------------------------------------------------------- what needs patching
def needs_remote_code(t: dict) -> str | None:
    """Why model.py's from_pretrained must pass trust_remote_code=True (None: it need not, or does)."""
    d, code = _usable(t), t.get("code")
    if not d or not d.get("custom") or not code or code.get("error"):
        return None
    loads = _running_loads(t)
    missing = [ld for ld in loads if ld["cls"] == "AutoTokenizer" and ld.get("trust_remote_code") is not True]
    if not missing:
        return None
    ld = missing[0]
    how = "passes trust_remote_code=False" if ld.get("trust_remote_code") is False else "does not pass trust_remote_code"
    return f"tokenizer_config.json's auto_map names {d['custom']['ref']}; model.py line {ld['line']} {how}"

def _running_loads(t: dict) -> list[dict]:
    code = t.get("code") or {}
    loads = code.get("loads") or []
    ttype = t.get("tokenizer_type")
    hit = [ld for ld in loads if ld["branch"] is not None and ld["branch"] == ttype]
    if hit:
        return hit
    if ttype and ttype in (code.get("type_branches") or []):
        return []
    return [ld for ld in loads if ld["branch"] is None] or [ld for ld in loads if ld["cls"] == "AutoTokenizer"]

def readonly_conflict(t: dict) -> tuple[str, dict, dict] | None:
    """(attribute, assignment, class analysis) when model.py assigns a special token that the
    custom tokenizer class defines as a read-only property."""
    d, code = _usable(t), t.get("code")
    if not d or not code:
        return None
    ana = ((d.get("custom") or {}).get("analysis")) or {}
    ro = set(ana.get("readonly") or [])
    for attr, key in (("pad_token", "pad_assign"), ("eos_token", "eos_assign")):
        if attr not in ro:
            continue
        for a in code.get(key) or []:
            if a["guard"] == "try":
                continue
            if a["guard"] == "if-not-pad" and ana.get("constants", {}).get(attr):
                continue  # the property returns a non-empty constant: the guard skips the assignment
            return attr, a, ana
    return None

def eos_missing(t: dict) -> bool:
    d = _usable(t)
    if not d:
        return False
    tok = (d.get("special_tokens") or {}).get("eos_token")
    if tok is not None:
        return False
    ana = ((d.get("custom") or {}).get("analysis")) or {}
    return "eos_token" not in (ana.get("readonly") or [])

def needs_gen_config(t: dict) -> str | None:
    code = t.get("code") or {}
    if not eos_missing(t) or code.get("gen_config_ids"):
        return None
    enc = [e for e in code.get("encodes_eos") or [] if not e.get("guarded")]
    gen = (_usable(t) or {}).get("generation_config") or {}
    if not enc or gen.get("eos_token_id") is None:
        return None
    return f"generation_config.json has eos_token_id={gen.get('eos_token_id')}, pad_token_id={gen.get('pad_token_id')}, chat_format={gen.get('chat_format')!r}"

def model_py_needs(t: dict) -> dict[str, str]:
    needs = {}
    r = needs_remote_code(t)
    if r:
        needs["trust_remote_code"] = r
    c = readonly_conflict(t)
    if c:
        needs["guard_pad"] = f"{c[2]['class']}.{c[0]} is a read-only property; model.py line {c[1]['line']}: {c[1]['code']}"
    g = needs_gen_config(t)
    if g:
        needs["gen_config_ids"] = g
    return needs

def _with_fix(facts, t: dict, f: Finding) -> Finding:
    """Hint the one model.py fix of this target (every patch it needs); the planner attaches it
    to the first finding that asks and names it in the others' evidence."""
    path = t.get("model_py")
    needs = model_py_needs(t) if path else {}
    if needs:
        f.hint = hint("model-py", path, needs, t.get("tokenizer_type"))
    if path and f.subject is None:
        f.subject = f"model-py:{path}"  # TOK008 (the prediction measured on the real releases) covers it
    return f


def _target_transformers(facts) -> str | None:
    """transformers' version in the target Python: from the load (--load-tokenizer) or the python
    area's ``python.packages`` fact; None when neither can tell."""
    try:
        if facts.opt("load_tokenizer"):
            for r in facts["tokenizer.load"]["results"]:
                if r and r.get("transformers"):
                    return r["transformers"]
        pk = facts["python.packages"]
        return (pk.get("packages") or {}).get("transformers")
    except Exception:  # the python area is absent or failed: it reports that itself
        return None

def _ev(t: dict, **more) -> dict:
    ev = {"model": t.get("model"), "tokenizer_dir": t.get("tokenizer_dir"), "tokenizer_dir from": t.get("dir_source")}
    if t.get("model_py"):
        ev["model.py"] = t["model_py"]
    ev.update(more)
    return {k: v for k, v in ev.items() if v is not None}

# --------------------------------------------------------------------------- TOK007
SP_TYPES = ("t5", "llama", "sp", "spm", "sentencepiece")

# --------------------------------------------------------------------------- TOK010
KB_OF_STEP = {
    "load": "tokenizer-remote-code-required",
    "pad_token = eos_token": "tokenizer-pad-token-readonly",
    "encode(eos_token)": "tokenizer-missing-eos-pad",
    "encode(pad_token)": "tokenizer-missing-eos-pad",
}

def _static_summary(facts, t: dict) -> str:
    probs = []
    if needs_remote_code(t):
        probs.append("custom code needs trust_remote_code=True (TOK004)")
    if readonly_conflict(t):
        probs.append("read-only pad_token assignment (TOK005)")
    if eos_missing(t):
        probs.append("no eos token (TOK006)")
    return "; ".join(probs) or "no problem found in the files"
