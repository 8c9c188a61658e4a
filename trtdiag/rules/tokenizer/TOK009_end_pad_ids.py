"""TOK009: the END_ID/PAD_ID model.py takes from the tokenizer are the tokenizer's own eos/pad ids."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _targets, hint, ok, warning


@rule("TOK009", area=AREA, title="END_ID/PAD_ID model.py takes are the tokenizer's eos/pad ids", kb="tokenizer-wrong-end-pad-id")
def end_pad_ids(facts):
    """What: model.py takes ``tokenizer_end_id``/``tokenizer_pad_id`` (v0.5-v0.7: ``pad_id``) as
    ``encode(token text)[0]``.  For a tokenizer whose eos/pad are read-only properties of its own
    class and not registered as special tokens (ChatGLM3-6B), encode splits the text as ordinary
    text: behind v0.12/v0.19 ChatGLM3's END_ID becomes 2893 and PAD_ID 906, while its eos is 2.
    Statically from the class; with ``--load-tokenizer`` from the ids the real initialize() set
    (TOK010 reports those).

    Why: the server starts, but generation never stops at eos (it runs to max_tokens) and padding
    uses an ordinary token.  Requests that pass END_ID/PAD_ID themselves are not affected.

    Fix: ``tok-model-py`` takes the ids with ``convert_tokens_to_ids`` (measured: the real
    initialize() then sets 2 and 0 for ChatGLM3), or pass END_ID/PAD_ID with each request.
    """
    targets = _targets(facts)
    if not targets:
        return
    preds = facts.derived("tokenizer_model_py")
    for i, (t, p) in enumerate(zip(targets, preds)):
        if p is None or not t.get("model_py") or p["outcome"] != "ok":
            continue
        wrong = p.get("wrong_ids") or []
        if not wrong:
            yield ok(f"{_name(t)}: END_ID/PAD_ID are the tokenizer's ids", **_ev(t))
            continue
        w = wrong[0]
        yield warning(f"{_name(t)}: model.py takes a wrong {', '.join(x['attr'] for x in wrong)} (encode of the token text)",
                      f"model.py line {w['line']} runs encode({w['token']})[0]; {w['why']}. The server starts, but generation "
                      "does not stop at the model's eos unless each request passes END_ID/PAD_ID.",
                      evidence=_ev(t, statements=[f"line {x['line']}: {x['attr']} = encode({x['token']} = {x['value']!r})[0]" for x in wrong]),
                      fix=hint("model-py-predicted", t["model_py"], i, p.get("transformers"), p.get("python")),
                      subject=f"ids:{t['model_py']}")
