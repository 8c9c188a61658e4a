"""TRI007: Decoupled (streaming) mode agrees between models."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, Any, _parsed, _repo, _trtllm, _truthy, error, info, ok, warning


# ---------------------------------------------------------------- TRI007 decoupled
@rule("TRI007", area=AREA, title="Decoupled (streaming) mode agrees between models", kb="triton-decoupled-mismatch")
def decoupled(facts):
    """Streaming needs decoupled mode all the way down: the BLS model and the tensorrt_llm model
    it calls must agree, and accumulate_tokens only means something on a decoupled BLS.

    Why: a streaming request (``streaming: true``) reaching a tensorrt_llm model deployed with
    ``decoupled: false`` fails with "Streaming is only supported if model is deployed using
    decoupled mode."; a decoupled model cannot be called through HTTP /infer ("HTTP end point
    doesn't support models with decoupled transaction policy").

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
    for bname, b in _parsed(repo):
        params = b.get("parameters") or {}
        if "tensorrt_llm_model_name" not in params or bname == name:
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
        yield info(f"{name} is decoupled: clients must stream",
                   f"With decoupled: true ({m['config_path']}) and in every ensemble that contains it, non-streaming calls are refused: HTTP /infer answers "
                   "\"HTTP end point doesn't support models with decoupled transaction policy\" and gRPC ModelInfer \"ModelInfer RPC doesn't support models with decoupled transaction policy\". "
                   "Use gRPC streaming (async_stream_infer) or HTTP /v2/models/<model>/generate_stream — or set decoupled: false (decoupled_mode=false) for one response per request.",
                   evidence=ev)
    else:
        yield ok(f"{name} is not decoupled: one response per request (streaming requests are refused)", **ev)
