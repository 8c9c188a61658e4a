"""Tokenizer checks (TOK0xx): the tokenizer each of tensorrtllm_backend's preprocessing and
postprocessing models loads, checked against what its model.py will do to it.

TOK001-TOK007 read files only (JSON, and Python source through ``ast``): no tokenizer or model code
runs.  TOK010 loads the tokenizer in a child process, only with ``--load-tokenizer``.
"""

from __future__ import annotations

import os
import weakref

from ..model import Finding, error, info, ok, warning
from ..registry import check

AREA = "tokenizer"
_attached: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _targets(facts) -> list[dict]:
    if not (facts.opt("tokenizer_dir") or facts.opt("model_repo") or facts.from_snapshot
            or "triton.repo" in getattr(facts, "_values", {})):
        return []  # nothing names a tokenizer: do not even import the probe (check stays fast)
    st = facts["tokenizer.static"]
    return st.get("targets") or []


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


def fix_for(facts, t: dict):
    """The one fix for this target's model.py, given to the first finding that asks for it."""
    path = t.get("model_py")
    if not path:
        return None, None
    seen = _attached.setdefault(facts, {})
    key = os.path.abspath(path)
    if key in seen:
        return None, seen[key]
    needs = model_py_needs(t)
    if not needs:
        return None, None
    from ..fixes.model_py import plan

    fx = plan(path, needs, t.get("tokenizer_type"))
    if fx is None:
        return None, None
    seen[key] = fx.id
    return fx, None


def _with_fix(facts, t: dict, f: Finding) -> Finding:
    fx, already = fix_for(facts, t)
    if fx:
        f.fix = fx
    elif already:
        f.evidence["fix"] = f"part of fix {already}, shown with an earlier finding for {t['model_py']}"
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


# --------------------------------------------------------------------------- TOK001
@check("TOK001", area=AREA, title="Tokenizer directory exists and holds tokenizer files", kb="tokenizer-dir-missing")
def tokenizer_dir_present(facts):
    """What: the ``tokenizer_dir`` parameter of the preprocessing/postprocessing config.pbtxt (or
    ``--tokenizer-dir``) names an existing directory holding tokenizer files (tokenizer.json,
    tokenizer.model, tokenizer_config.json, vocab files, *.tiktoken).

    Why: model.py hands it to ``AutoTokenizer.from_pretrained``; a missing or empty directory is
    ``OSError: Can't load tokenizer for '…'`` and the model fails to load, taking the server down.

    A missing or empty tokenizer_dir of a config.pbtxt is TRI004's finding when it runs, an engine
    directory TOK002's; this check then reports only what they do not (unreadable files, the
    --tokenizer-dir option).

    Fix: point ``tokenizer_dir`` at the Hugging Face model directory (the one with
    tokenizer_config.json), e.g. ``trtdiag fix --apply --set tokenizer_dir=/models/llama-7b-hf``
    through the Triton fixes, or edit the config.pbtxt parameter.
    """
    for t in _targets(facts):
        from ..probes.tokenizer import is_placeholder

        tdir = t.get("tokenizer_dir")
        if not tdir:
            yield error(f"{_name(t)}: no tokenizer_dir parameter",
                        "model.py reads model_config['parameters']['tokenizer_dir'] and fails with KeyError without it.",
                        evidence=_ev(t, config=t.get("config_path")))
            continue
        if is_placeholder(tdir):
            if "TRI001" in (getattr(facts, "selected_checks", None) or ()) and t.get("dir_source") == "config.pbtxt":
                continue  # TRI001 reports every placeholder of this config.pbtxt, with the fix that fills them
            yield error(f"{_name(t)}: tokenizer_dir is still the template placeholder {tdir}",
                        "The config.pbtxt was copied from the template without filling tokenizer_dir; from_pretrained gets the literal text.",
                        evidence=_ev(t, config=t.get("config_path")), kb="triton-config-placeholder")
            continue
        d = t["dir"]
        selected = getattr(facts, "selected_checks", None) or ()
        # one finding per problem: TRI004 reports a config.pbtxt's tokenizer_dir that is missing or
        # holds no tokenizer (with the file to edit), TOK002 an engine directory given as one
        owned = ("TRI004" in selected and t.get("dir_source") == "config.pbtxt" and t.get("config_path")) or (
            "TOK002" in selected and d.get("is_dir") and not d["files"] and (d.get("engines") or d.get("engine_config")))
        cwd = (facts.get("paths.options") or {}).get("cwd", "the current directory")
        rel = "" if os.path.isabs(tdir) else f" (relative: resolved against {cwd}; tritonserver resolves it against its own working directory)"
        if owned and (not d["exists"] or not d["is_dir"] or (not d["files"] and not (d.get("custom") or {}).get("source_exists"))):
            pass
        elif not d["exists"]:
            yield error(f"{_name(t)}: tokenizer_dir {tdir} does not exist",
                        f"from_pretrained will fail with OSError: Can't load tokenizer for '{tdir}'.{rel}", evidence=_ev(t))
        elif not d["is_dir"]:
            yield error(f"{_name(t)}: tokenizer_dir {tdir} is a file, not a directory",
                        "from_pretrained expects the directory holding tokenizer_config.json.", evidence=_ev(t))
        elif not d["files"] and not (d.get("custom") or {}).get("source_exists"):
            yield error(f"{_name(t)}: {tdir} holds no tokenizer files",
                        "None of tokenizer.json, tokenizer.model, tokenizer_config.json, vocab.json/merges.txt, vocab.txt, *.tiktoken is there.",
                        evidence=_ev(t, files=(d.get("entries") or [])[:20]))
        else:
            yield ok(f"{_name(t)}: tokenizer files in {tdir}", files=d["files"], **_ev(t))
        for p in d.get("problems") or []:
            yield error(f"{_name(t)}: unreadable tokenizer file", p, evidence=_ev(t, problem=p))


# --------------------------------------------------------------------------- TOK002
@check("TOK002", area=AREA, title="Tokenizer directory is not the engine directory", kb="tokenizer-dir-missing")
def tokenizer_dir_not_engine(facts):
    """What: ``tokenizer_dir`` does not point at a TensorRT-LLM engine directory (rank0.engine,
    a config.json with build_config/builder_config) instead of the Hugging Face model directory.

    Why: a common slip when filling the templates (tokenizer_dir = engine_dir).  The engine
    directory has no tokenizer files, so from_pretrained fails with ``OSError: Can't load
    tokenizer``, or with ``Unrecognized model`` when it reads the engine's config.json.

    Fix: set ``tokenizer_dir`` to the Hugging Face checkpoint the engine was built from.
    """
    for t in _targets(facts):
        d = _usable(t)
        if not d:
            continue
        if d.get("engines") or d.get("engine_config"):
            has_tok = bool(d["files"])
            f = (warning if has_tok else error)(
                f"{_name(t)}: tokenizer_dir {t['tokenizer_dir']} is a TensorRT-LLM engine directory",
                ("It also holds tokenizer files, so loading may work; make sure they match the engine's model."
                 if has_tok else "It holds engines and no tokenizer files: from_pretrained will fail. Point tokenizer_dir at the Hugging Face model directory the engine was built from."),
                evidence=_ev(t, engines=d.get("engines"), **{"config.json has build_config": bool(d.get("engine_config"))}))
            yield f
        else:
            yield ok(f"{_name(t)}: tokenizer_dir is not an engine directory", **_ev(t))


# --------------------------------------------------------------------------- TOK003
@check("TOK003", area=AREA, title="model.py reads as Python; what it does to the tokenizer")
def model_py_summary(facts):
    """What: reads the preprocessing/postprocessing ``1/model.py`` with Python's ``ast`` (nothing
    runs) and says what it will do to the tokenizer: which ``from_pretrained`` call runs for the
    configured tokenizer_type, whether it passes trust_remote_code, padding_side, whether it sets
    ``pad_token = eos_token`` and how that is guarded, how it takes the end/pad ids.

    Why: the other TOK checks compare this with the tokenizer's files; a model.py that does not
    parse fails at server start with SyntaxError.

    Fix: for a syntax error, restore model.py from the tensorrtllm_backend release you run
    (all_models/inflight_batcher_llm/<model>/1/model.py).
    """
    for t in _targets(facts):
        if not t.get("model") :
            continue
        code = t.get("code")
        if code is None:
            yield warning(f"{_name(t)}: no model.py at {t.get('model_py_expected')}",
                          "Triton's python backend needs <model>/1/model.py; the model will not load.",
                          evidence=_ev(t, expected=t.get("model_py_expected")))
            continue
        if code.get("error"):
            yield error(f"{_name(t)}: model.py does not parse", code["error"], evidence=_ev(t, error=code["error"]))
            continue
        loads = _running_loads(t)
        parts = []
        for ld in loads:
            kw = ", ".join(f"{k}={v!r}" for k, v in ld["kwargs"].items())
            parts.append(f"line {ld['line']}: {ld['cls']}.from_pretrained({kw}"
                         f"{', ' if kw else ''}trust_remote_code={ld['trust_remote_code']!r})")
        pads = [f"line {a['line']}: {a['code']} ({'unguarded' if a['guard'] == 'none' else a['guard']})" for a in code["pad_assign"]]
        ev = _ev(t, loads=parts or None, pad_token=pads or None, tokenizer_type=t.get("tokenizer_type"),
                 type_branches=code["type_branches"] or None,
                 ids=("from generation_config.json when no eos" if code.get("gen_config_ids")
                      else ("encode(eos_token)/encode(pad_token)" if code["encodes_eos"] else None)))
        if code["type_branches"] and t.get("tokenizer_type") and not loads:
            continue  # TOK007 reports the unknown type
        if t.get("tokenizer_type") and not code.get("reads_tokenizer_type"):
            ev["note"] = f"this model.py ignores tokenizer_type ({t['tokenizer_type']!r}): it always uses the loader above"
        yield ok(f"{_name(t)}: model.py loads the tokenizer with " + (", ".join(ld["cls"] for ld in loads) or "no from_pretrained call"), **ev)


# --------------------------------------------------------------------------- TOK004
@check("TOK004", area=AREA, title="Custom tokenizer code is allowed to load (trust_remote_code)", kb="tokenizer-remote-code-required")
def remote_code(facts):
    """What: when tokenizer_config.json has an ``auto_map`` (a tokenizer class shipped as Python
    code beside the tokenizer, e.g. ChatGLMTokenizer, QWenTokenizer), the ``from_pretrained`` call
    model.py makes for this tokenizer_type must pass ``trust_remote_code=True``.

    Why: without it transformers does not import the class and fails at server start with
    ``ValueError: Tokenizer class ChatGLMTokenizer does not exist or is not currently imported.``
    (transformers 5: ``Tokenizer class … is not currently imported.``).

    Fix: add ``trust_remote_code=True`` to that call (fix ``tok-model-py``; review the tokenizer's
    code first: it will run inside Triton).
    """
    for t in _targets(facts):
        d = _usable(t)
        if not d or not d.get("custom"):
            continue
        c = d["custom"]
        why = needs_remote_code(t)
        ev = _ev(t, auto_map=c["ref"], code=c["source"] if c["source_exists"] else None)
        if c.get("remote"):
            ev["note"] = "auto_map names code on the Hugging Face Hub; with HF_HUB_OFFLINE it cannot be fetched at server start"
        if not c["source_exists"] and not c.get("remote"):
            yield error(f"{_name(t)}: auto_map names {c['ref']} but {c['source']} is missing",
                        "transformers will not find the tokenizer class even with trust_remote_code=True.", evidence=ev)
            continue
        if why:
            yield _with_fix(facts, t, error(
                f"{_name(t)}: {c['class']} is custom code, but model.py does not pass trust_remote_code=True",
                f"{why}. At server start transformers refuses to import {c['class']}: `ValueError: Tokenizer class {c['class']} "
                f"does not exist or is not currently imported.` (transformers ≤ 4.31; 4.32-4.x: `Loading {t['tokenizer_dir']} requires "
                f"you to execute the configuration file in that repo …`; 5.x: `The repository {t['tokenizer_dir']} contains custom "
                f"code which must be executed to correctly load the model.`)",
                evidence=ev))
        elif t.get("code"):
            loads = _running_loads(t)
            if loads and not any(ld["cls"] == "AutoTokenizer" for ld in loads):
                ld = loads[0]
                yield warning(f"{_name(t)}: tokenizer_type {t.get('tokenizer_type')!r} loads {ld['cls']}, not the custom {c['class']}",
                              f"model.py line {ld['line']} calls {ld['cls']}.from_pretrained, which ignores auto_map: the tokenizer's own "
                              f"class ({c['ref']}) is not used. Set tokenizer_type 'auto' (and trust_remote_code=True) to load it.",
                              evidence=ev, kb="tokenizer-type-mismatch")
            else:
                yield ok(f"{_name(t)}: model.py passes trust_remote_code=True for custom {c['class']}", **ev)
        else:
            yield info(f"{_name(t)}: {c['class']} is custom code: loading it needs trust_remote_code=True",
                       "No model.py to compare with; pass trust_remote_code=True wherever this tokenizer is loaded.", evidence=ev)


# --------------------------------------------------------------------------- TOK005
@check("TOK005", area=AREA, title="model.py does not assign a read-only pad_token/eos_token", kb="tokenizer-pad-token-readonly")
def readonly_tokens(facts):
    """What: reads the custom tokenizer class (auto_map → module.Class, with ``ast``, never
    imported) for ``pad_token``/``eos_token`` defined as a ``@property`` without a setter, and
    model.py for ``self.tokenizer.pad_token = self.tokenizer.eos_token`` that is not guarded.

    Why: ChatGLM's tokenizer does exactly that; with transformers 4.x model.py then fails with
    ``AttributeError: can't set attribute 'pad_token'`` (Python ≤ 3.10) or ``property 'pad_token'
    of 'ChatGLMTokenizer' object has no setter`` (Python ≥ 3.11).  transformers 5 stores special
    tokens through ``__setattr__`` and does not raise, but the property still wins.

    Fix: guard the assignment (fix ``tok-model-py``): only when pad_token is empty, inside
    ``try … except AttributeError``.
    """
    for t in _targets(facts):
        d = _usable(t)
        ana = ((d or {}).get("custom") or {}).get("analysis")
        if not ana or not t.get("code"):
            continue
        c = readonly_conflict(t)
        ev = _ev(t, **{"class": f"{ana['class']} ({ana['path']})", "read-only properties": ana.get("readonly") or None})
        if c:
            attr, a, _ = c
            tf = _target_transformers(facts)
            sev = error
            if tf and tf.split(".")[0].isdigit() and int(tf.split(".")[0]) >= 5:
                sev = warning  # transformers 5 stores special tokens through __setattr__: no AttributeError
                ev["transformers"] = f"{tf} (accepts the assignment; the read-only property keeps its value)"
            elif tf:
                ev["transformers"] = tf
            yield _with_fix(facts, t, sev(
                f"{_name(t)}: model.py sets {attr}, a read-only property of {ana['class']}",
                f"{ana['path']} line {ana.get('lines', {}).get(attr)} defines {attr} as a @property without a setter, and model.py line "
                f"{a['line']} runs `{a['code']}`. With transformers 4.x this fails at server start: AttributeError: can't set attribute "
                f"'{attr}' (Python 3.11+: property '{attr}' of '{ana['class']}' object has no setter).",
                evidence=dict(ev, assignment=f"line {a['line']}: {a['code']} ({'unguarded' if a['guard'] == 'none' else 'guard: ' + a['guard']})")))
        elif ana.get("readonly"):
            yield ok(f"{_name(t)}: model.py leaves {ana['class']}'s read-only tokens alone", **ev)


# --------------------------------------------------------------------------- TOK006
@check("TOK006", area=AREA, title="eos/pad tokens are defined for the ids model.py needs", kb="tokenizer-missing-eos-pad")
def special_tokens(facts):
    """What: finds where eos_token, pad_token and bos_token are defined (tokenizer_config.json,
    special_tokens_map.json, a custom class's property, the tokenizer class's defaults), checks
    the eos/pad tokens are among tokenizer.json's added tokens, and reads generation_config.json's
    eos_token_id/pad_token_id.

    Why: model.py computes ``tokenizer_end_id = encode(eos_token)[0]``.  A tokenizer with no eos
    token (Qwen's tiktoken tokenizer) makes that ``ValueError: Input None is not valid. Should be a
    string, a list/tuple of strings or a list/tuple of integers.`` at server start.

    Fix: take the ids from generation_config.json where the tokenizer has none (fix
    ``tok-model-py``: chat_format 'raw' → eos_token_id/pad_token_id, 'chatml' → the im_end id), or
    pass END_ID/PAD_ID with each request.
    """
    for t in _targets(facts):
        d = _usable(t)
        if not d:
            continue
        toks = d.get("special_tokens") or {}
        gen = d.get("generation_config")
        where = {k: f"{v['value']!r} from {v['source']}" for k, v in toks.items() if k != "unk_token"}
        ev = _ev(t, tokens=where or None, generation_config=gen)
        code = t.get("code") or {}
        if eos_missing(t):
            enc = [e for e in code.get("encodes_eos") or [] if not e.get("guarded")]
            if code.get("gen_config_ids"):
                yield ok(f"{_name(t)}: no eos token; model.py takes the ids from generation_config.json", **ev)
            elif not code and not gen:
                yield warning(f"{_name(t)}: the tokenizer defines no eos token",
                              "Generation will not know where to stop unless END_ID is passed with each request.", evidence=ev)
            elif enc or not code:
                ok_fix = bool(gen and gen.get("eos_token_id") is not None)
                msg = (f"No eos_token in tokenizer_config.json, special_tokens_map.json or the tokenizer class. "
                       + (f"model.py line {enc[0]['line']} runs `{enc[0]['code']}`, which fails at server start with "
                          "ValueError: Input None is not valid. Should be a string, a list/tuple of strings or a list/tuple of integers. "
                          "(transformers 5: Input must be a string, list of strings, or list of ints, got: <class 'NoneType'>). " if enc else "")
                       + (f"generation_config.json has eos_token_id={gen.get('eos_token_id')}." if ok_fix
                          else "generation_config.json has no eos_token_id: add eos_token to tokenizer_config.json."))
                f = error(f"{_name(t)}: the tokenizer defines no eos token", msg, evidence=ev)
                yield _with_fix(facts, t, f) if ok_fix else f
            continue
        missing_added = []
        added = {a.get("content") for a in d.get("added_tokens") or []}
        if d.get("added_tokens") is not None:
            for k in ("eos_token", "pad_token"):
                v = (toks.get(k) or {}).get("value")
                if v and v not in added and "tokenizer_config" in toks[k]["source"]:
                    missing_added.append(f"{k} {v!r}")
        if missing_added:
            yield warning(f"{_name(t)}: {', '.join(missing_added)} not among tokenizer.json's added tokens",
                          "encode() will split it into ordinary pieces, so the end/pad id model.py takes is the id of its first piece.",
                          evidence=ev)
        if "pad_token" not in toks and not code.get("pad_assign") and code.get("encodes_eos"):
            yield warning(f"{_name(t)}: no pad token and model.py does not set one",
                          "encode(pad_token) gets None: ValueError at server start. Set pad_token in tokenizer_config.json.", evidence=ev)
            continue
        if gen and isinstance(gen.get("eos_token_id"), int) and "eos_token" in toks and d.get("added_tokens"):
            ids = {a.get("content"): a.get("id") for a in d["added_tokens"]}
            eid = ids.get(toks["eos_token"]["value"])
            if eid is not None and eid != gen["eos_token_id"]:
                yield warning(f"{_name(t)}: eos token {toks['eos_token']['value']!r} is id {eid}, generation_config.json says {gen['eos_token_id']}",
                              "model.py takes the tokenizer's id as END_ID; the model was trained to stop on generation_config's.",
                              evidence=ev)
                continue
        yield ok(f"{_name(t)}: eos token defined", **ev)


# --------------------------------------------------------------------------- TOK007
SP_TYPES = ("t5", "llama", "sp", "spm", "sentencepiece")


@check("TOK007", area=AREA, title="tokenizer_type fits model.py and the tokenizer files", kb="tokenizer-type-mismatch")
def tokenizer_type(facts):
    """What: the ``tokenizer_type`` parameter is one model.py's branches know (older model.py
    raises ``AttributeError: Unexpected tokenizer type: …`` otherwise), and fits the files:
    't5'/'llama'/'sp' load a sentencepiece model (tokenizer.model), 'auto' needs
    tokenizer_config.json or tokenizer.json to know the class.

    Why: Gemma ships only tokenizer.model and needs 'sp'; 'auto' on such a directory cannot tell
    which class to build.  A type model.py does not know stops the server at start.

    Fix: set tokenizer_type in config.pbtxt to the value the files need (shown in the finding).
    """
    for t in _targets(facts):
        ttype = t.get("tokenizer_type")
        d = _usable(t)
        code = t.get("code") or {}
        if not ttype or not d:
            continue
        from ..probes.tokenizer import is_placeholder

        if is_placeholder(ttype):
            if code.get("reads_tokenizer_type"):
                yield error(f"{_name(t)}: tokenizer_type is still the template placeholder {ttype}",
                            "model.py branches on tokenizer_type and gets the literal text.", evidence=_ev(t), kb="triton-config-placeholder")
            continue
        branches = code.get("type_branches") or []
        ev = _ev(t, tokenizer_type=ttype, files=d["files"], model_py_types=branches or None)
        if branches and ttype not in branches and code.get("raises_on_unknown_type"):
            yield error(f"{_name(t)}: tokenizer_type {ttype!r} is not one model.py knows ({', '.join(branches)})",
                        f"model.py raises at server start: AttributeError: Unexpected tokenizer type: {ttype}", evidence=ev)
            continue
        if code and not code.get("reads_tokenizer_type"):
            continue  # model.py ignores tokenizer_type (TOK003 says so)
        sp = d.get("sentencepiece") or []
        has_cfg = "tokenizer_config.json" in d["files"] or "tokenizer.json" in d["files"]
        if ttype.lower() in SP_TYPES and not sp:
            yield error(f"{_name(t)}: tokenizer_type {ttype!r} needs a sentencepiece model, {t['tokenizer_dir']} has none",
                        "Use tokenizer_type 'auto' for a directory with tokenizer.json/tokenizer_config.json.", evidence=ev)
        elif ttype.lower() == "auto" and not has_cfg and not d.get("custom"):
            yield error(f"{_name(t)}: tokenizer_type 'auto' on a directory with only {', '.join(d['files']) or 'no tokenizer files'}",
                        "AutoTokenizer cannot tell which class to build without tokenizer_config.json or tokenizer.json"
                        + (f"; with a sentencepiece model ({sp[0]}) set tokenizer_type 'sp'." if sp else "."), evidence=ev)
        else:
            yield ok(f"{_name(t)}: tokenizer_type {ttype!r} fits the files", **ev)


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


@check("TOK010", area=AREA, title="Tokenizer loads and survives what model.py does (--load-tokenizer)")
def load_and_replay(facts):
    """What: with ``--load-tokenizer``, a child process of the target Python (``--python``, default
    this one; offline: HF_HUB_OFFLINE=1) loads the tokenizer as model.py would — the same class and
    keyword arguments — and replays what model.py does next: ``pad_token = eos_token`` (with
    model.py's guard), ``encode(eos_token)``/``encode(pad_token)`` for the end/pad ids, and an
    encode/decode round trip.  Each step's exact exception is the evidence.  Without
    ``--trust-remote-code`` the child passes ``trust_remote_code=False``: no code from the
    tokenizer directory runs.  Without ``--load-tokenizer`` it says what the static checks found.

    Why: the static checks read files; only a real load on the serving interpreter's transformers
    shows the exact error the server would hit.

    Fix: see the failing step's knowledge-base entry; most are fixed by ``tok-model-py``.
    """
    targets = [t for t in _targets(facts) if _usable(t)]
    if not targets:
        return
    if not facts.opt("load_tokenizer"):
        for t in targets:
            yield info(f"{_name(t)}: tokenizer not loaded (static checks only)",
                       "No tokenizer or remote code was run. Static conclusion: " + _static_summary(facts, t)
                       + ". Re-run with --load-tokenizer (and --trust-remote-code for custom tokenizers) to reproduce it.",
                       evidence=_ev(t))
        return
    res = facts["tokenizer.load"]
    for t, r in zip(_targets(facts), res["results"]):
        if r is None:
            continue
        spec = r.get("spec", {})
        ev = _ev(t, python=r.get("python"), transformers=r.get("transformers"), class_loaded=r.get("class"),
                 trust_remote_code=spec.get("trust"))
        if r.get("error"):
            yield warning(f"{_name(t)}: could not load the tokenizer in a child process", r["error"], evidence=ev)
            continue
        steps = r.get("steps") or []
        ev["steps"] = [f"{s['step']}: " + ("ok" if s["ok"] else "FAILED") + (f" — {s['detail']}" if s.get("detail") else "")
                       + (f" — {s['exception']}" if s.get("exception") else "") for s in steps]
        failed = [s for s in steps if not s["ok"]]
        if not failed:
            f = ok(f"{_name(t)}: {r.get('class')} loads and survives model.py's steps", **ev)
            c = readonly_conflict(t)
            if c:
                f = warning(f"{_name(t)}: transformers {r.get('transformers')} accepts model.py's {c[0]} assignment; 4.x does not",
                            f"{c[2]['class']}.{c[0]} is a read-only property. transformers {r.get('transformers')} stores special tokens "
                            f"through __setattr__, so `{c[1]['code']}` did not raise here (the property still reads "
                            f"{(r.get('before') or {}).get(c[0])!r}); with transformers 4.x it raises AttributeError: can't set attribute "
                            f"'{c[0]}' (Python 3.11+: property '{c[0]}' of '{c[2]['class']}' object has no setter).",
                            evidence=ev, kb="tokenizer-pad-token-readonly")
                yield _with_fix(facts, t, f)
                continue
            if r.get("round_trip_equal") is False:
                f = info(f"{_name(t)}: {r.get('class')} loads; the decode round trip is not exact", "Usually harmless (normalisation, spaces).", evidence=ev)
            yield f
            continue
        s = failed[0]
        msg = f"{s['step']} raised {s.get('exception')}"
        kb = KB_OF_STEP.get(s["step"])
        if s["step"] == "load" and spec.get("model_trusts") and not spec.get("trust") and (_usable(t) or {}).get("custom"):
            msg += (". model.py passes trust_remote_code=True, but trtdiag did not run the tokenizer's code: re-run with "
                    "--trust-remote-code to load it as the server will.")
            yield info(f"{_name(t)}: custom tokenizer not loaded without --trust-remote-code", msg, evidence=ev, kb=None)
            continue
        if s["step"] == "load" and not (_usable(t) or {}).get("custom"):
            kb = "tokenizer-type-mismatch" if t.get("tokenizer_type") else "tokenizer-dir-missing"
        yield _with_fix(facts, t, error(f"{_name(t)}: {s['step']} fails: {s.get('exception')}", msg, evidence=ev, kb=kb))
