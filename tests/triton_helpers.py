"""Helpers for the Triton repository tests: real v0.9.0 templates copied into tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import TEMPLATES_V090

TEMPLATES = TEMPLATES_V090  # the five unfilled v0.9.0 templates (tests/data/triton/README.md)


def copy_templates(dst: Path, versions: bool = True) -> Path:
    shutil.copytree(TEMPLATES, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    if versions:  # as in tensorrtllm_backend's all_models: a 1/ folder each, model.py for Python models
        for cfg in dst.glob("*/config.pbtxt"):
            (cfg.parent / "1").mkdir()
            if 'backend: "python"' in cfg.read_text():
                (cfg.parent / "1" / "model.py").write_text("# stands for tensorrtllm_backend's model.py (not run by these checks)\n")
    return dst


def make_engine(d: Path, max_batch_size: int = 8, paged: bool = True, packed: bool = True, plugin: str | bool = "float16",
                tp: int = 1, pp: int = 1, max_input_len: int = 1024, max_output_len: int = 1024, beam: int = 1) -> Path:
    """An engine directory as trtllm-build writes it (config.json and rank engine files; the engine
    bytes are not read by these checks)."""
    d.mkdir(parents=True, exist_ok=True)
    cfg = {
        "version": "0.9.0",
        "pretrained_config": {"architecture": "LlamaForCausalLM", "dtype": "float16", "num_hidden_layers": 2,
                              "num_attention_heads": 8, "hidden_size": 512, "vocab_size": 32000,
                              "mapping": {"world_size": tp * pp, "tp_size": tp, "pp_size": pp}},
        "build_config": {"max_batch_size": max_batch_size, "max_input_len": max_input_len, "max_output_len": max_output_len,
                         "max_beam_width": beam,
                         "plugin_config": {"gpt_attention_plugin": plugin, "paged_kv_cache": paged,
                                           "remove_input_padding": packed, "use_paged_context_fmha": False}},
    }
    (d / "config.json").write_text(json.dumps(cfg))
    for r in range(tp * pp):
        (d / f"rank{r}.engine").write_bytes(b"\0" * 64)
    return d


def make_tokenizer(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "tokenizer_config.json").write_text("{}")
    (d / "tokenizer.json").write_text('{"version": "1.0"}')
    return d
