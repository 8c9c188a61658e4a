"""TOK004: Custom tokenizer code is allowed to load (trust_remote_code)."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _running_loads, _targets, _usable, _with_fix, error, info, needs_remote_code, ok, warning


# --------------------------------------------------------------------------- TOK004
@rule("TOK004", area=AREA, title="Custom tokenizer code is allowed to load (trust_remote_code)", kb="tokenizer-remote-code-required")
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
                f"{why}. At server start transformers refuses to import {c['class']}, as measured on the real model.py: "
                f"`ValueError: Tokenizer class {c['class']} does not exist or is not currently imported.` (transformers "
                f"4.31.0-4.36.2); `The repository for {t['tokenizer_dir']} contains custom code which must be executed to correctly "
                f"load the model. …` (4.37.2-4.51.3); `The repository {t['tokenizer_dir']} contains custom code …` (5.x).",
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
