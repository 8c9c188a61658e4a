"""Rules of the LLM-API deployment (LLA0xx): trtllm-serve launches and Triton's llmapi model,
read with the LlmArgs schema of the TensorRT-LLM that will run them (docs/pytorch_backend.md)."""


def applies(facts, scope: str = "any") -> bool:
    """Whether there is something for the rule to judge: a trtllm-serve launch (``serve``; with a
    YAML for ``yaml``), a Triton llmapi model (``triton``), either (``any``: the area's gate; without
    either the rule files are not imported)."""
    d = facts.derived("serve_check") or {}
    serve = d.get("serve")
    if scope == "serve":
        return bool(serve)
    if scope == "yaml":
        return bool(serve and serve.get("has_yaml")) or bool(d.get("triton"))
    if scope == "triton":
        return bool(d.get("triton"))
    return bool(serve or d.get("triton"))
