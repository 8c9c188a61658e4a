"""TOK010: Tokenizer loads and survives what model.py does (--load-tokenizer)."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive.tokenizer_model_py import ADVICE, FIXABLE_IN_MODEL_PY, KB_OF_CAUSE
from .common import AREA, hint, KB_OF_STEP, _ev, _name, _static_summary, _targets, _usable, _with_fix, error, info, ok, readonly_conflict, warning


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
    replays = facts["tokenizer.replay"]["results"]
    loads = None
    for i, (t, r) in enumerate(zip(_targets(facts), replays)):
        if not _usable(t):
            continue
        if r is None:  # no model.py + config.pbtxt to run: load the tokenizer as model.py would
            if loads is None:
                loads = facts["tokenizer.load"]["results"]
            if loads[i] is not None:
                yield from _loaded_one(facts, t, loads[i])
            continue
        yield from _replayed_one(facts, t, r, i)


def _replayed_one(facts, t, r, i):
    ev = _ev(t, python=r.get("python"), transformers=r.get("transformers"),
             replayed="the repository's model.py initialize() and one execute(), in a child process (stand-in for triton_python_backend_utils)")
    if r.get("error"):
        yield warning(f"{_name(t)}: could not replay model.py in a child process", r["error"], evidence=ev)
        return
    fx = hint("model-py-predicted", t["model_py"], i, r.get("transformers"), r.get("python"))
    init = r.get("initialize")
    if init == "remote-code-blocked":
        cls = ((_usable(t) or {}).get("custom") or {}).get("class") or "the tokenizer class"
        yield info(f"{_name(t)}: model.py not replayed past loading {cls} (custom code, not run without --trust-remote-code)",
                   f"model.py's from_pretrained would import {cls} from {t.get('tokenizer_dir')}; trtdiag ran none of that code. "
                   "Re-run with --trust-remote-code (after reading the tokenizer's .py files) to replay it as the server will.",
                   evidence=ev)
        return
    if init == "raised":
        e = r.get("exception") or {}
        fr = e.get("model_py_frame") or {}
        cause = r.get("cause")
        ev.update({"statement": f"line {fr.get('line')}: {fr.get('code')}", "raised in": e.get("raised_in"), "cause": cause})
        advice = ADVICE.get(cause or "", "")
        yield error(f"{_name(t)}: model.py line {fr.get('line')} raised at initialize(): {e.get('type')}: {e.get('first_line')}",
                    "The real initialize() of this model.py, run with this tokenizer and this transformers, raised it: the server "
                    "fails to load the model." + (f" {advice[0].upper() + advice[1:]}." if advice else ""),
                    evidence=ev, kb=KB_OF_CAUSE.get(cause or ""), fix=fx if cause in FIXABLE_IN_MODEL_PY else None)
        return
    if init != "ok":
        yield warning(f"{_name(t)}: model.py replay ended with {init}", str(r.get("exception") or ""), evidence=ev)
        return
    tok = r.get("tokenizer") or {}
    ev.update({"ids set": r.get("ids"), "tokenizer": {k: tok.get(k) for k in ("class", "eos_token", "eos_token_id", "pad_token", "pad_token_id")}})
    wrong = r.get("wrong_ids") or []
    if wrong:
        got = ", ".join("%s=%s" % (w["attr"], w["value"]) for w in wrong)
        yield warning(f"{_name(t)}: model.py set {got}, not the tokenizer's " + ", ".join(str(w["expected"]) for w in wrong),
                      "The real initialize() ran; the ids it set differ from " + "; ".join(f"{w['source']} ({w['expected']}) for {w['attr']}" for w in wrong)
                      + ". The server starts, but generation does not stop at the model's eos unless each request passes END_ID/PAD_ID.",
                      evidence=ev, kb="tokenizer-wrong-end-pad-id", fix=fx)
    else:
        c = readonly_conflict(t)
        if c:
            yield warning(f"{_name(t)}: transformers {r.get('transformers')} accepts model.py's {c[0]} assignment; transformers before 4.47 raises",
                          f"{c[2]['class']}.{c[0]} is a read-only property. transformers {r.get('transformers')} accepted `{c[1]['code']}` "
                          f"(the property still reads {tok.get(c[0])!r}); transformers 4.31-4.45 raise AttributeError: can't set attribute "
                          f"'{c[0]}' (Python 3.11+: property '{c[0]}' of '{c[2]['class']}' object has no setter).",
                          evidence=ev, kb="tokenizer-pad-token-readonly",
                          fix=hint("model-py-predicted", t["model_py"], i, None, None))  # the fix for the versions that raise
        else:
            # the class stays in the evidence: a name such as TokenizersBackend means nothing in a title
            yield ok(f"{_name(t)}: model.py's initialize() runs with this tokenizer; END_ID/PAD_ID are the tokenizer's",
                     **{"tokenizer class": tok.get("class"), **ev})
    v = r.get("execute_verdict")
    if v and v.get("fails"):
        yield warning(f"{_name(t)}: model.py's execute() fails on a short request: {v['exception']}",
                      f"line {v.get('line')}: {v.get('code')}. initialize() passed, so the server starts, but requests through this "
                      "model fail.", evidence=ev, kb="tokenizer-class-transformers-incompatible")


def _loaded_one(facts, t, r):
    """The tokenizer-only load (no model.py/config.pbtxt to replay): the older child's steps."""
    if True:
            spec = r.get("spec", {})
            ev = _ev(t, python=r.get("python"), transformers=r.get("transformers"), class_loaded=r.get("class"),
                     trust_remote_code=spec.get("trust"))
            if r.get("error"):
                yield warning(f"{_name(t)}: could not load the tokenizer in a child process", r["error"], evidence=ev)
                return
            steps = r.get("steps") or []
            ev["steps"] = [f"{s['step']}: " + ("ok" if s["ok"] else "FAILED") + (f" — {s['detail']}" if s.get("detail") else "")
                           + (f" — {s['exception']}" if s.get("exception") else "") for s in steps]
            failed = [s for s in steps if not s["ok"]]
            if not failed:
                f = ok(f"{_name(t)}: the tokenizer loads and survives model.py's steps", **ev)
                c = readonly_conflict(t)
                if c:
                    f = warning(f"{_name(t)}: transformers {r.get('transformers')} accepts model.py's {c[0]} assignment; 4.x does not",
                                f"{c[2]['class']}.{c[0]} is a read-only property. transformers {r.get('transformers')} stores special tokens "
                                f"through __setattr__, so `{c[1]['code']}` did not raise here (the property still reads "
                                f"{(r.get('before') or {}).get(c[0])!r}); with transformers 4.x it raises AttributeError: can't set attribute "
                                f"'{c[0]}' (Python 3.11+: property '{c[0]}' of '{c[2]['class']}' object has no setter).",
                                evidence=ev, kb="tokenizer-pad-token-readonly")
                    yield _with_fix(facts, t, f)
                    return
                if r.get("round_trip_equal") is False:
                    f = info(f"{_name(t)}: the tokenizer loads; the decode round trip is not exact", "Usually harmless (normalisation, spaces).", evidence=ev)
                yield f
                return
            s = failed[0]
            msg = f"{s['step']} raised {s.get('exception')}"
            kb = KB_OF_STEP.get(s["step"])
            if s["step"] == "load" and spec.get("model_trusts") and not spec.get("trust") and (_usable(t) or {}).get("custom"):
                msg += (". model.py passes trust_remote_code=True, but trtdiag did not run the tokenizer's code: re-run with "
                        "--trust-remote-code to load it as the server will.")
                yield info(f"{_name(t)}: custom tokenizer not loaded without --trust-remote-code", msg, evidence=ev, kb=None)
                return
            if s["step"] == "load" and not (_usable(t) or {}).get("custom"):
                kb = "tokenizer-type-mismatch" if t.get("tokenizer_type") else "tokenizer-dir-missing"
            yield _with_fix(facts, t, error(f"{_name(t)}: {s['step']} fails: {s.get('exception')}", msg, evidence=ev, kb=kb))
