"""TOK006: eos/pad tokens are defined for the ids model.py needs."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _targets, _usable, _with_fix, eos_missing, error, ok, warning


# --------------------------------------------------------------------------- TOK006
@rule("TOK006", area=AREA, title="eos/pad tokens are defined for the ids model.py needs", kb="tokenizer-missing-eos-pad")
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
                if t.get("model_py"):
                    f.subject = f"model-py:{t['model_py']}"
                yield _with_fix(facts, t, f) if ok_fix else f
            continue
        missing_added = []
        added = {a.get("content") for a in d.get("added_tokens") or [] if isinstance(a, dict) and isinstance(a.get("content"), str)}
        if d.get("added_tokens") is not None:
            for k in ("eos_token", "pad_token"):
                v = (toks.get(k) or {}).get("value")
                if isinstance(v, str) and v and v not in added and "tokenizer_config" in toks[k]["source"]:
                    missing_added.append(f"{k} {v!r}")
        if missing_added:
            yield warning(f"{_name(t)}: {', '.join(missing_added)} not among tokenizer.json's added tokens",
                          "encode() will split it into ordinary pieces, so the end/pad id model.py takes is the id of its first piece.",
                          evidence=ev)
            continue  # one verdict a model: not also "eos token defined" below
        if "pad_token" not in toks and not code.get("pad_assign") and code.get("encodes_eos"):
            yield warning(f"{_name(t)}: no pad token and model.py does not set one",
                          "encode(pad_token) gets None: ValueError at server start. Set pad_token in tokenizer_config.json.", evidence=ev)
            continue
        if gen and isinstance(gen.get("eos_token_id"), int) and "eos_token" in toks and d.get("added_tokens"):
            ids = {a.get("content"): a.get("id") for a in d["added_tokens"] if isinstance(a, dict) and isinstance(a.get("content"), str)}
            eid = ids.get(toks["eos_token"]["value"]) if isinstance(toks["eos_token"].get("value"), str) else None
            if eid is not None and eid != gen["eos_token_id"]:
                yield warning(f"{_name(t)}: eos token {toks['eos_token']['value']!r} is id {eid}, generation_config.json says {gen['eos_token_id']}",
                              "model.py takes the tokenizer's id as END_ID; the model was trained to stop on generation_config's.",
                              evidence=ev)
                continue
        yield ok(f"{_name(t)}: eos token defined", **ev)
