"""Which ``tok-model-py`` patches a model.py needs, from the static prediction of what its real
``initialize()`` will do (:func:`trtdiag.derive.tokenizer_model_py.predict`), re-predicted after
each patch until it is predicted to pass (pure: text and dicts in, text out).

Causes no model.py patch can mend give no patch (the tokenizer's own code fails:
``pad-without-padding-side``, ``class-init-order``, ``tiktoken-disallowed-special``): the
finding says what to change instead.  The matrix (tools/tokenizer_matrix.py --after-fix) runs the
real initialize() on every text this module writes; a patch is offered only where that passed.
"""

from __future__ import annotations

import functools

from ..derive import tokenizer_model_py as tm
from .model_py import patch_text

PATCH_OF_CAUSE = {
    "remote-code-not-trusted": "trust_remote_code",
    "readonly-special-token": "guard_pad",
    "encode-none": "gen_config_ids",
}
NOT_MODEL_PY = {
    "pad-without-padding-side": "the tokenizer class's _pad() lacks padding_side: use a transformers older than 4.45, "
                                "or a tokenization file whose _pad accepts padding_side",
    "class-init-order": "the tokenizer class fails to load under this transformers: use the model's current tokenizer files "
                        "(their __init__ sets its attributes before super().__init__) or a transformers older than 4.34",
    "tiktoken-disallowed-special": "the tokenizer class refuses its own eos token as text: use the model's current tokenizer files",
}


@functools.lru_cache(maxsize=256)
def _profile(text: str) -> dict:
    return tm.profile(tm.statements(text))


def plan(text: str, tok: dict, tokenizer_type: str | None, transformers: str, python: str, table: dict | None = None,
         max_rounds: int = 4) -> dict:
    """``{"needs": [...], "text": patched text, "before": first prediction, "after": last prediction,
    "blocked": the cause still predicted after the patches (None: predicted to pass), "offer": the
    patches are predicted to make initialize() pass with right ids (only then is a fix offered),
    "why_not": what to do instead when a cause no model.py patch mends remains}``."""
    needs: list[str] = []
    cur = text
    first = None
    pred = None
    for _ in range(max_rounds):
        prof = _profile(cur)
        pred = tm.predict(prof, tok, transformers, python, tokenizer_type, table)
        if first is None:
            first = pred
        want = None
        if pred["outcome"] == "raises":
            want = PATCH_OF_CAUSE.get(pred["cause"])
            if want == "gen_config_ids" and (tok.get("generation_config") or {}).get("eos_token_id") is None:
                want = None
        elif pred["outcome"] == "ok" and pred.get("wrong_ids"):
            want = "ids_from_token_ids"
        if want is None or want in needs:
            break
        needs.append(want)
        new = patch_text(text, set(needs), tokenizer_type)
        if new == cur:
            break
        cur = new
    blocked = pred.get("cause") if pred and pred["outcome"] == "raises" else None
    offer = bool(needs) and pred is not None and pred["outcome"] == "ok" and not pred.get("wrong_ids")
    return {"needs": needs, "text": cur, "before": first, "after": pred, "blocked": blocked, "offer": offer,
            "why_not": NOT_MODEL_PY.get(blocked) if blocked else None}
