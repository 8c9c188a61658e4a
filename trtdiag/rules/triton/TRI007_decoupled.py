"""TRI007: Decoupled (streaming) mode agrees between models."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, Any, _judge, _parsed, _repo, _trtllm, _truthy, error, info, ok, warning


# ---------------------------------------------------------------- TRI007 decoupled
@rule("TRI007", area=AREA, title="Decoupled (streaming) mode agrees between models", kb="triton-decoupled-mismatch")
def decoupled(facts):
    """Streaming needs decoupled mode all the way down: the BLS model and the tensorrt_llm model
    it calls must agree, and accumulate_tokens only means something on a decoupled BLS.

    Why: a streaming request (``streaming: true``) reaching a tensorrt_llm model deployed with
    ``decoupled: false`` fails with "Streaming is only supported if model is deployed using
    decoupled mode."; a decoupled model (and an ensemble with a decoupled step) cannot be called
    through HTTP /infer or gRPC ModelInfer ("HTTP end point doesn't support models with decoupled
    transaction policy"), while gRPC streaming, /generate_stream and a non-streaming /generate
    (one response) work (triton-inference-server/server src/http_server.cc).  BLS models are found
    by their template, so the v0.7–v0.8 ones (no tensorrt_llm_model_name parameter) are included.

    Fix: set ``model_transaction_policy { decoupled: true }`` in tensorrt_llm (and the BLS) to
    stream, or false in both for one response per request (fill_template: decoupled_mode).
    """
    repo = _repo(facts)
    if repo is None:
        return
    name, m = _trtllm(repo)
    if m is None or m.get("decoupled") is None:
        return
    ev: dict[str, Any] = {name: m["decoupled"]}
    bls = set(((_judge(facts) or {}).get("bls") or {}))
    for bname, b in _parsed(repo):
        params = b.get("parameters") or {}
        if ("tensorrt_llm_model_name" not in params and bname not in bls) or bname == name:
            continue
        ev[bname] = b.get("decoupled")
        if b.get("decoupled") and not m["decoupled"]:
            yield error(f"{bname} is decoupled (streams) but {name} is not",
                        f"{b['config_path']} sets decoupled: true, {m['config_path']} decoupled: false. Streaming requests through {bname} reach {name}, "
                        f"which answers \"Streaming is only supported if model is deployed using decoupled mode.\" Set decoupled: true in {m['config_path']} "
                        f"(or false in both for non-streaming serving).", evidence=dict(ev, files=[b["config_path"], m["config_path"]]))
            return
        if _truthy(params.get("accumulate_tokens")) and b.get("decoupled") is False:
            yield warning(f"{bname}: accumulate_tokens is on but the model is not decoupled",
                          f"accumulate_tokens only changes streamed responses; with decoupled: false in {b['config_path']} there is no stream. "
                          "Set decoupled: true in it and in the tensorrt_llm model to stream, or accumulate_tokens to false.", evidence=dict(ev, file=b["config_path"]))
            return
    if m["decoupled"]:
        from ...derive.triton_semantics import DECOUPLED_CLIENTS

        ens = sorted(k for k, e in ((_judge(facts) or {}).get("ensembles") or {}).items() if e.get("decoupled"))
        if ens:
            ev["decoupled ensembles"] = ens
        yield info(f"{name} is decoupled: HTTP /infer and gRPC ModelInfer are refused",
                   f"With decoupled: true ({m['config_path']})" + (f" the ensemble(s) {', '.join(ens)} are decoupled too" if ens else "")
                   + f". Refused: {DECOUPLED_CLIENTS['refused']}. Works: {DECOUPLED_CLIENTS['works']}. "
                   "Set decoupled: false (decoupled_mode=false) for /infer.",
                   evidence=ev)
    else:
        yield ok(f"{name} is not decoupled: one response per request (streaming requests are refused)", **ev)
