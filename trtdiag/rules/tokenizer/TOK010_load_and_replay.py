"""TOK010: Tokenizer loads and survives what model.py does (--load-tokenizer)."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, KB_OF_STEP, _ev, _name, _static_summary, _targets, _usable, _with_fix, error, info, ok, readonly_conflict, warning


@rule("TOK010", area=AREA, title="Tokenizer loads and survives what model.py does (--load-tokenizer)")
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
