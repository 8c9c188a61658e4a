"""TOK003: model.py reads as Python; what it does to the tokenizer."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _running_loads, _targets, error, ok, warning


# --------------------------------------------------------------------------- TOK003
@rule("TOK003", area=AREA, title="model.py reads as Python; what it does to the tokenizer")
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
