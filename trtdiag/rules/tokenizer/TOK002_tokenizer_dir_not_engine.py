"""TOK002: Tokenizer directory is not the engine directory."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _ev, _name, _targets, _usable, error, ok, warning


# --------------------------------------------------------------------------- TOK002
@rule("TOK002", covers=("TOK001:engine-as-tokenizer", "TRI004:engine-as-tokenizer"), area=AREA, title="Tokenizer directory is not the engine directory", kb="tokenizer-dir-missing")
def tokenizer_dir_not_engine(facts):
    """What: ``tokenizer_dir`` does not point at a TensorRT-LLM engine directory (rank0.engine,
    a config.json with build_config/builder_config) instead of the Hugging Face model directory.

    Why: a common slip when filling the templates (tokenizer_dir = engine_dir).  The engine
    directory has no tokenizer files, so from_pretrained fails with ``OSError: Can't load
    tokenizer``, or with ``Unrecognized model`` when it reads the engine's config.json.

    Fix: set ``tokenizer_dir`` to the Hugging Face checkpoint the engine was built from.
    """
    for t in _targets(facts):
        d = _usable(t)
        if not d:
            continue
        if d.get("engines") or d.get("engine_config"):
            has_tok = bool(d["files"])
            f = (warning if has_tok else error)(
                f"{_name(t)}: tokenizer_dir {t['tokenizer_dir']} is a TensorRT-LLM engine directory",
                ("It also holds tokenizer files, so loading may work; make sure they match the engine's model."
                 if has_tok else "It holds engines and no tokenizer files: from_pretrained will fail. Point tokenizer_dir at the Hugging Face model directory the engine was built from."),
                evidence=_ev(t, engines=d.get("engines"), **{"config.json has build_config": bool(d.get("engine_config"))}))
            yield f
        else:
            yield ok(f"{_name(t)}: tokenizer_dir is not an engine directory", **_ev(t))
