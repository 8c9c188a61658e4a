"""Builders for the tokenizer tests: real tokenizer directories made on the spot with the real
``tokenizers``/``transformers``/``sentencepiece`` packages, tiny custom tokenizer classes with the
traits of ChatGLM's and Qwen's (written for these tests), and small Triton model repositories whose
model.py files are the test copies in tests/data/tokenizers/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "tokenizers"
SENTENCES = [
    "Hello world, tokenizer check.",
    "The quick brown fox jumps over the lazy dog.",
    "TensorRT-LLM engines are served by Triton Inference Server.",
    "A tokenizer turns text into ids and ids back into text.",
] * 4

WORDS = ["<unk>", "<s>", "</s>", "<|im_end|>"] + sorted({w for s in SENTENCES for w in s.replace(",", " ").replace(".", " ").split()})


def bpe_dir(path: Path, eos: str | None = "</s>", pad: str | None = None, extra_config: dict | None = None) -> Path:
    """A byte-level BPE tokenizer trained here, saved with PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    tok.train_from_iterator(SENTENCES, trainers.BpeTrainer(vocab_size=300, special_tokens=specials, show_progress=False))
    kw = {"unk_token": "<unk>", "bos_token": "<s>"}
    if eos:
        kw["eos_token"] = eos
    if pad:
        kw["pad_token"] = pad
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **kw)
    path.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(path))
    if extra_config:
        cfg = json.loads((path / "tokenizer_config.json").read_text())
        cfg.update(extra_config)
        (path / "tokenizer_config.json").write_text(json.dumps(cfg, indent=1))
    return path


def sentencepiece_dir(path: Path, with_config: bool = False) -> Path:
    """A sentencepiece model trained here on a few lines (as Gemma/Llama ship tokenizer.model)."""
    import sentencepiece as spm

    path.mkdir(parents=True, exist_ok=True)
    corpus = path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES * 8) + "\n")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(path / "tokenizer"), vocab_size=50,
                                   model_type="unigram", character_coverage=1.0, minloglevel=2,
                                   bos_id=1, eos_id=2, unk_id=0, pad_id=-1)
    corpus.unlink()
    (path / "tokenizer.vocab").unlink()
    if with_config:
        (path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "LlamaTokenizer"}))
    return path


_CUSTOM_BASE = '''
import os
from transformers import PreTrainedTokenizer

MARKER = {marker!r}
if MARKER:
    with open(MARKER, "a") as fh:
        fh.write("imported\\n")


class {cls}(PreTrainedTokenizer):
    """A tiny word-level tokenizer written for trtdiag's tests, with {trait}."""

    vocab_files_names = {{"vocab_file": "vocab.txt"}}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file, **kwargs):
        with open(vocab_file) as fh:
            self.words = [w.rstrip("\\n") for w in fh]
        self.ids = {{w: i for i, w in enumerate(self.words)}}
        super().__init__(**kwargs)

    @property
    def vocab_size(self):
        return len(self.words)

    def get_vocab(self):
        return dict(self.ids)

    def _tokenize(self, text, **kwargs):
        return text.replace(",", " ").replace(".", " ").split()

    def _convert_token_to_id(self, token):
        return self.ids.get(token, 0)

    def _convert_id_to_token(self, index):
        return self.words[index]

    def convert_tokens_to_string(self, tokens):
        return " ".join(tokens)

    def save_vocabulary(self, save_directory, filename_prefix=None):
        return (os.path.join(save_directory, "vocab.txt"),)
'''

CHATGLM_EXTRA = '''
    @property
    def pad_token(self) -> str:
        return "<unk>"

    @property
    def eos_token(self) -> str:
        return "</s>"
'''

QWEN_EXTRA = '''
    @property
    def im_end_id(self):
        return self.ids["<|im_end|>"]
'''


def custom_dir(path: Path, kind: str, marker: str = "") -> Path:
    """A tokenizer directory with its own tokenizer class, named in tokenizer_config.json's
    auto_map, as ChatGLM ('chatglm': read-only pad_token/eos_token properties) and Qwen ('qwen':
    no eos/pad token at all; ids in generation_config.json) ship theirs."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    if kind == "chatglm":
        module, cls, extra, trait = "tokenization_chatglm", "ChatGLMTokenizer", CHATGLM_EXTRA, "read-only pad_token/eos_token"
    else:
        module, cls, extra, trait = "tokenization_qwen", "QWenTokenizer", QWEN_EXTRA, "no eos or pad token"
    (path / f"{module}.py").write_text(_CUSTOM_BASE.format(marker=marker, cls=cls, trait=trait) + extra)
    cfg = {"tokenizer_class": cls, "auto_map": {"AutoTokenizer": [f"{module}.{cls}", None]}}
    (path / "tokenizer_config.json").write_text(json.dumps(cfg, indent=1))
    if kind == "qwen":
        (path / "generation_config.json").write_text(json.dumps({"chat_format": "raw", "eos_token_id": 2, "pad_token_id": 2}))
    return path


PBTXT = """name: "{name}"
backend: "python"
max_batch_size: 8
input [
  {{ name: "QUERY" data_type: TYPE_STRING dims: [ -1 ] }},
  {{ name: "REQUEST_OUTPUT_LEN" data_type: TYPE_INT32 dims: [ -1 ] }},
  {{ name: "BAD_WORDS_DICT" data_type: TYPE_STRING dims: [ -1 ] optional: true }},
  {{ name: "STOP_WORDS_DICT" data_type: TYPE_STRING dims: [ -1 ] optional: true }},
  {{ name: "EMBEDDING_BIAS_WORDS" data_type: TYPE_STRING dims: [ -1 ] optional: true }},
  {{ name: "EMBEDDING_BIAS_WEIGHTS" data_type: TYPE_FP32 dims: [ -1 ] optional: true }}
]
output [
  {{ name: "INPUT_ID" data_type: TYPE_INT32 dims: [ -1 ] }},
  {{ name: "REQUEST_INPUT_LEN" data_type: TYPE_INT32 dims: [ 1 ] }},
  {{ name: "BAD_WORDS_IDS" data_type: TYPE_INT32 dims: [ 2, -1 ] }},
  {{ name: "STOP_WORDS_IDS" data_type: TYPE_INT32 dims: [ 2, -1 ] }},
  {{ name: "OUT_END_ID" data_type: TYPE_INT32 dims: [ 1 ] }},
  {{ name: "OUT_PAD_ID" data_type: TYPE_INT32 dims: [ 1 ] }},
  {{ name: "OUTPUT" data_type: TYPE_STRING dims: [ -1 ] }}
]
parameters {{
  key: "tokenizer_dir"
  value: {{ string_value: "{tokenizer_dir}" }}
}}
parameters {{
  key: "tokenizer_type"
  value: {{ string_value: "{tokenizer_type}" }}
}}
"""


def model_repo(root: Path, tokenizer_dir: str, tokenizer_type: str = "auto", pre: str = "preprocessing_v0.7.py",
               post: str | None = "postprocessing_v0.7.py") -> tuple[Path, dict]:
    """A model repository with preprocessing (and postprocessing) models, and the ``triton.repo``
    fact that the Triton area's probe gives for it (set directly, as the contract says)."""
    models = {}
    for name, src in (("preprocessing", pre), ("postprocessing", post)):
        if src is None:
            continue
        mdir = root / name
        (mdir / "1").mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / src, mdir / "1" / "model.py")
        (mdir / "config.pbtxt").write_text(PBTXT.format(name=name, tokenizer_dir=tokenizer_dir, tokenizer_type=tokenizer_type))
        models[name] = {"path": str(mdir), "config_path": str(mdir / "config.pbtxt"), "backend": "python",
                        "parameters": {"tokenizer_dir": tokenizer_dir, "tokenizer_type": tokenizer_type}}
    fact = {"root": str(root), "models": models, "preprocessing": "preprocessing",
            "postprocessing": "postprocessing" if post else None}
    return root, fact


def snapshot(fact: dict, options: dict | None = None) -> dict:
    """A trtdiag snapshot holding only the triton.repo fact (what `collect` would record)."""
    return {"schema": "trtdiag.snapshot/1", "trtdiag_version": "0", "options": options or {}, "facts": {"triton.repo": fact}, "errors": {}}


def write_snapshot(path: Path, fact: dict, options: dict | None = None) -> Path:
    path.write_text(json.dumps(snapshot(fact, options)))
    return path


__all__ = ["bpe_dir", "sentencepiece_dir", "custom_dir", "model_repo", "snapshot", "write_snapshot"]
