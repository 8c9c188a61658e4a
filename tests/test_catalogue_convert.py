"""The conversion and quantization families (knowledge_base/catalogue/tensorrt_llm_convert.toml and modelopt.toml,
tools/harvest_trtllm_convert.sh): the lines their templates print name the entries they belong to, and the
generic wordings they keep for their source (KeyError, ImportError, 'does not appear to have a file named')
name a cause only in the narrow forms the entries' signatures take."""

from __future__ import annotations

import io

import pytest

from trtdiag.logscan.matcher import rank
from tests.conftest import shipped_matcher


def _first(line: str):
    m = shipped_matcher()
    m.scan(io.BytesIO(line.encode() + b"\n"), "log")
    ranked = rank(m.hits.values())
    return ranked[0] if ranked else None


NAMED = [
    # lines as the templates print them (values filled in)
    ("ValueError: Unrecognized model in ./tllm_checkpoint_1gpu. Should have a `model_type` key in its config.json, or contain one of the following strings in its name: albert, align, altclip", "hf-model-dir-invalid"),
    ("RuntimeError: Could not find any .safetensors or .bin files in /models/Llama-2-7b", "hf-model-dir-invalid"),
    ("OSError: ./tmp/llama/7B is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'", "hf-model-dir-invalid"),
    ("NotImplementedError: Unsupported dataset name or local repo directory: /data/calib.", "quantize-calib-dataset-unavailable"),
    ("ConnectionError: Couldn't reach the Hugging Face Hub for dataset 'cnn_dailymail': Offline mode is enabled.", "quantize-calib-dataset-unavailable"),
    ("NotImplementedError: Cannot export tensorrt_llm checkpoint for model qwen: Qwen3ForCausalLM. It's not supported by TensorRT-LLM yet.", "modelopt-export-failed"),
    ("NotImplementedError: quantization format int4_awq not supported", "modelopt-export-failed"),
    ("[rank7]: KeyError: 'qwen3_moe'", "transformers-too-old"),
    ("ImportError: cannot import name 'QWenForCausalLM' from 'tensorrt_llm.models' (/usr/local/lib/python3.10/dist-packages/tensorrt_llm/models/__init__.py)", "trtllm-examples-version-mismatch"),
    ("KeyError: 'transformer.h.0.attn.c_attn.qweight'", "trtllm-convert-needs-gptq-checkpoint"),
]


@pytest.mark.parametrize("line,entry", NAMED)
def test_the_convert_catalogue_names_its_failures(line, entry):
    hit = _first(line)
    assert hit is not None and hit.entry_id == entry, (line, hit and hit.entry_id)


QUIET = [
    "KeyError: 'lm_head.weight'",                       # a weight name, not a model type
    "KeyError: 'llama'",                                 # a model type every transformers since 4.28 knows
    "ImportError: cannot import name 'bindings' from 'tensorrt_llm' (unknown location)",  # a folder shadowing the package
    "./engines does not appear to have a file named tokenizer_config.json. Checkout 'https://huggingface.co/./engines/None' for available files.",
    "Unknown model type LlamaForCausalLM. Continue exporting...",  # hf_ptq.py's warning
]


@pytest.mark.parametrize("line", QUIET)
def test_generic_wordings_name_no_convert_cause(line):
    hit = _first(line)
    convert = {"hf-model-dir-invalid", "quantize-calib-dataset-unavailable", "modelopt-export-failed", "transformers-too-old",
               "trtllm-examples-version-mismatch", "trtllm-convert-needs-gptq-checkpoint", "transformers-version-incompatible"}
    assert hit is None or hit.entry_id not in convert, (line, hit.entry_id)


# The Python layer's wordings from other releases: transformers' rope_scaling check before 4.43, PretrainedConfig.from_dict's
# MODEL_MAP lookup, the converters' get_weight, an example script calling another release's API, ModelOpt 0.11-0.39's
# export refusals.
NAMED_RELEASES = [
    ("ValueError: `rope_scaling` must be a dictionary with two fields, `type` and `factor`, got {'factor': 8.0, 'low_freq_factor': 1.0, "
     "'high_freq_factor': 4.0, 'original_max_position_embeddings': 8192, 'rope_type': 'llama3'}", "transformers-too-old", {"rope_type": "llama3"}),
    ("ValueError: `rope_scaling` must be a dictionary with with two fields, `name` and `factor`, got {'factor': 32.0, 'rope_type': 'llama3'}",
     "transformers-too-old", {"rope_type": "llama3"}),
    ("KeyError: 'Gemma3ForConditionalGeneration'", "trtllm-model-architecture-unsupported", {"architecture": "Gemma3ForConditionalGeneration"}),
    ("[rank0]: KeyError: 'DeepseekV3ForCausalLM'", "trtllm-model-architecture-unsupported", {"architecture": "DeepseekV3ForCausalLM"}),
    ("KeyError: 'lm_head.weight'", "trtllm-checkpoint-weights-mismatch", {"tensor": "lm_head.weight"}),
    ("TypeError: Mapping.__init__() got an unexpected keyword argument 'cp_size'", "trtllm-examples-version-mismatch",
     {"callable": "Mapping.__init__", "keyword": "cp_size"}),
    ("TypeError: quantize_and_export() got an unexpected keyword argument 'num_medusa_heads'", "trtllm-examples-version-mismatch",
     {"callable": "quantize_and_export", "keyword": "num_medusa_heads"}),
    ("NotImplementedError: QKV modules format ['query_key_value'] not supported", "modelopt-export-failed", None),
    ("AssertionError: Weight shape is not divisible for block size for block quantization.", "modelopt-export-failed", None),
    ("NotImplementedError: Unsupported quantizer with num_bits: 6", "modelopt-export-failed", None),
]


@pytest.mark.parametrize("line,entry,fields", NAMED_RELEASES)
def test_other_releases_wordings_name_their_cause(line, entry, fields):
    from tests.conftest import assert_names_first
    assert_names_first(line, entry, fields)


QUIET_RELEASES = [
    "ValueError: `rope_scaling` must be a dictionary with two fields, `type` and `factor`, got {'type': 'linear'}",  # wrong in itself
    "TypeError: LoraConfig.__init__() got an unexpected keyword argument 'use_dora'",  # PEFT's, not TensorRT-LLM's API
    "KeyError: 'unknown:Starcoder2ForCausalLM'",  # ModelOpt's map key, not the checkpoint's architecture
    "KeyError: 'architectures'",
    "NotImplementedError: MoE model not supported",  # too short to name the cause alone
]


@pytest.mark.parametrize("line", QUIET_RELEASES)
def test_other_releases_generic_wordings_stay_unnamed(line):
    hit = _first(line)
    named = {"transformers-too-old", "trtllm-model-architecture-unsupported", "trtllm-checkpoint-weights-mismatch",
             "trtllm-examples-version-mismatch", "modelopt-export-failed"}
    assert hit is None or hit.entry_id not in named, (line, hit.entry_id)
