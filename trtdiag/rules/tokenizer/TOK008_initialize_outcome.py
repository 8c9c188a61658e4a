"""TOK008: model.py's initialize() will work with this tokenizer (static; the analysis is measured
against the real model.py of every tensorrtllm_backend release)."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive.tokenizer_model_py import ADVICE, KB_OF_CAUSE
from .common import AREA, _ev, _name, _targets, error, hint, info, ok, warning


def _describe(p: dict) -> str:
    msg = p.get("message")
    return f"{p.get('exception')}: {msg}" if msg else f"{p.get('exception')} ({p.get('cause')})"


@rule("TOK008", area=AREA, title="model.py's initialize() works with this tokenizer (static)",
      kb="tokenizer-class-transformers-incompatible",
      covers=("TOK004:model-py", "TOK005:model-py", "TOK006:model-py"))
def initialize_outcome(facts):
    """What: follows model.py's ``initialize()`` statement by statement (the statements of the real
    preprocessing/postprocessing model.py of tensorrtllm_backend v0.5.0-v0.19.0 are all understood:
    trtdiag/data/model_py_statements.json) with what the tokenizer files and its custom class say,
    for the target's transformers and Python: the ``from_pretrained`` call that runs and its
    ``trust_remote_code``, ``pad_token = eos_token`` and its guard, ``encode(eos_token)`` /
    ``encode(pad_token)`` (incl. the v0.5-v0.7 ``self.pad_id`` line), and the tokenizer class's own
    traits (read-only special tokens, ``_pad`` without ``padding_side``, ``super().__init__`` before
    its vocabulary, tiktoken's disallowed special text).  The first statement that raises is named
    with its line and, where measured, the exact message that transformers version gives
    (trtdiag/data/transformers_tokenizer_failures.json).  Without a known transformers version it
    predicts for every measured version.

    Why: each of these stops the server at start (``Failed to load model 'preprocessing'``).  The
    prediction was measured against the real initialize() of every tag × real tokenizers × 19
    transformers/Python versions (tests/data/tokenizers/ground_truth.json).

    Fix: ``tok-model-py`` when a model.py patch is predicted to make initialize() pass (every
    such fix passed the real initialize() in the matrix); otherwise the finding says what to change.
    """
    targets = _targets(facts)
    if not targets:
        return
    preds = facts.derived("tokenizer_model_py")
    for i, (t, p) in enumerate(zip(targets, preds)):
        if p is None or not t.get("model_py"):
            continue
        subject = f"model-py:{t['model_py']}"
        ver = (f"transformers {p['transformers']}" + (f", Python {p['python']}" if p.get("python") else "")) if p.get("transformers") else None
        ev = _ev(t, transformers=ver or "not known: predicted for every measured version")
        fx = hint("model-py-predicted", t["model_py"], i, p.get("transformers"), p.get("python"))
        if p["outcome"] == "raises":
            ev.update({"statement": f"line {p.get('line')}: {p.get('code')}", "cause": p["cause"]})
            if p.get("measured"):
                ev["measured on"] = ", ".join(p["measured"])
            advice = ADVICE.get(p["cause"], "")
            yield error(f"{_name(t)}: model.py line {p.get('line')} will raise at server start: {_describe(p)}",
                        f"{p.get('why')}." + (f" {advice[0].upper() + advice[1:]}." if advice else ""),
                        evidence=ev, kb=KB_OF_CAUSE.get(p["cause"]), fix=fx, subject=subject)
        elif p["outcome"] == "depends":
            parts = []
            for key, v in p["by_version"].items():
                q = v["prediction"]
                parts.append(f"{', '.join(v['versions'])}: " + ("starts" if key == "ok" else f"line {q.get('line')} raises {_describe(q)}"))
            yield warning(f"{_name(t)}: whether model.py's initialize() works depends on the transformers version",
                          "The target interpreter's transformers is not known (run with --python PATH). " + " | ".join(parts),
                          evidence=ev, fix=fx, subject=subject)
        elif p["outcome"] == "unknown":
            yield info(f"{_name(t)}: model.py's initialize() could not be followed statically", p.get("why") or "", evidence=ev)
        else:
            notes = p.get("notes") or []
            yield ok(f"{_name(t)}: model.py's initialize() is predicted to work with this tokenizer",
                     **dict(ev, notes=notes or None))
        for r in p.get("execute_risks") or []:
            yield warning(f"{_name(t)}: model.py line {r['line']} will fail at the first request",
                          f"{r['function']}() runs `{r['code']}`: {r['why']}, so it raises AttributeError.",
                          evidence=_ev(t, statement=f"line {r['line']}: {r['code']}"), kb="tokenizer-class-transformers-incompatible",
                          subject=f"execute:{t['model_py']}")
