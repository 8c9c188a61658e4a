"""TOK007: tokenizer_type fits model.py and the tokenizer files."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, SP_TYPES, _ev, _name, _targets, _usable, error, ok


@rule("TOK007", area=AREA, title="tokenizer_type fits model.py and the tokenizer files", kb="tokenizer-type-mismatch")
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
        from ...derive.tokenizer import is_placeholder

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
