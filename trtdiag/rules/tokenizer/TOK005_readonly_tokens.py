"""TOK005: model.py does not assign a read-only pad_token/eos_token."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _target_transformers, _targets, _usable, _with_fix, error, ok, readonly_conflict, warning


# --------------------------------------------------------------------------- TOK005
@rule("TOK005", area=AREA, title="model.py does not assign a read-only pad_token/eos_token", kb="tokenizer-pad-token-readonly")
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
