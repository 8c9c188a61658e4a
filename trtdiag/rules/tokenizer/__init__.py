"""Rules of the tokenizer area: one rule a file, helpers in common.py."""


def targets(facts) -> list[dict]:
    """The tokenizers the pre/post-processing models load (``tokenizer.static``), where something
    names one: --tokenizer-dir, a model repository, a snapshot."""
    if not (facts.opt("tokenizer_dir") or facts.opt("model_repo") or facts.from_snapshot
            or "triton.repo" in getattr(facts, "_values", {})):
        return []  # nothing names a tokenizer: do not even import the probe (check stays fast)
    st = facts["tokenizer.static"]
    return st.get("targets") or []


def applies(facts) -> bool:
    """Every rule of the area starts from :func:`targets`; without one the rule files are not imported."""
    return bool(targets(facts))
