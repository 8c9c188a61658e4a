"""The facts about one tokenizer directory that :func:`trtdiag.derive.tokenizer_model_py.predict`
needs: :func:`trtdiag.probes.tokenizer.analyze_dir` (files, special tokens, auto_map,
generation_config.json) plus the custom class's traits read from its source with ``ast``
(:func:`trtdiag.derive.tokenizer_model_py.class_traits`; the code is never imported)."""

from __future__ import annotations

import os

from ..derive.tokenizer_model_py import class_traits
from .tokenizer import analyze_dir  # noqa: E402


def tokenizer_facts(path: str) -> dict:
    d = analyze_dir(os.path.abspath(path))
    c = d.get("custom") or {}
    if c.get("source_exists"):
        try:
            with open(c["source"], encoding="utf-8", errors="replace") as fh:
                d["class_traits"] = class_traits(fh.read(), c["class"])
        except OSError as exc:
            d["class_traits"] = {"error": str(exc)}
    if "tokenizer.model" in (d.get("files") or []):
        from ..derive.tokenizer_model_py import sentencepiece_model_type

        with open(os.path.join(d["path"], "tokenizer.model"), "rb") as fh:
            d["sp_model_type"] = sentencepiece_model_type(fh.read(16 << 20))
    return d
