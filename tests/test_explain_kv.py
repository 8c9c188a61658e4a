"""explain on TensorRT-LLM's KV-cache and request-limit wordings of several releases (the tensorrt_llm_kv family and
the entries it extends): each names its cause, the warnings stay warnings."""

import pytest

from tests.conftest import explain_text


def _first(text):
    hits = explain_text(text)
    assert hits, f"nothing found in {text!r}"
    return hits[0]


@pytest.mark.parametrize("line, entry, fields", [
    # the 0.5 / 0.6 batch manager, without numbers (TensorRT-LLM#494)
    ("E1128 16:31:49.479096 227 backend_model.cc:634] ERROR: Failed to create instance: unexpected error when creating "
     "modelInstanceState: maxTokensInPagedKvCache must be large enough to process at least 1 sequence to completion "
     "(i.e. must be larger than beam_width * tokensPerBlock * maxBlocksPerSeq)", "kv-cache-insufficient", {}),
    ("[TensorRT-LLM][ERROR] Assertion failed: Must set crossKvCacheFraction for encoder-decoder model "
     "(/src/tensorrt_llm/cpp/tensorrt_llm/batch_manager/trtGptModelInflightBatching.cpp:266)", "kv-cache-config-invalid", {}),
    ("E0101 00:00:00.000000 1 backend_model.cc:692] ERROR: Failed to create instance: unexpected error when creating "
     "modelInstanceState: [TensorRT-LLM][ERROR] Assertion failed: Do not set crossKvCacheFraction for decoder-only model "
     "(/src/tensorrt_llm/cpp/tensorrt_llm/batch_manager/trtGptModelInflightBatching.cpp:297)", "kv-cache-config-invalid", {}),
    ("ValueError: The sum of prompt length (4000.0) and query length (0) max_tokens (2048) should not exceed max_seq_len (4096)",
     "input-exceeds-max-input-len", {"prompt_len": "4000.0", "limit": "4096"}),
    ("ValueError: The sum of prompt length (3000) and max_tokens (2048) should not exceed max_seq_len (4096)",
     "input-exceeds-max-input-len", {"prompt_len": "3000", "max_tokens": "2048", "limit": "4096"}),
    ("RuntimeError: Maximum new tokens (4096) exceeds the engine or specified limit (1024)",
     "input-exceeds-max-input-len", {"max_new_tokens": "4096", "limit": "1024"}),
    ("[TensorRT-LLM][ERROR] Assertion failed: Max input length is equal to or larger that maxSequenceLength given in setup. "
     "No new tokens can be generated. (/src/tensorrt_llm/cpp/tensorrt_llm/runtime/runtimeBuffers.cpp:57)",
     "input-exceeds-max-input-len", {}),
    ("    assert max_seq_len <= model_config.max_seq_len", "input-exceeds-max-input-len", {"limit_kind": "max_seq_len"}),
    ("RuntimeError: Num beams (4) exceeds the engine or specified limit (1)", "beam-width-mismatch",
     {"request_beam_width": "4", "max_beam_width": "1"}),
    ("RuntimeError: Attention window too large to fit even a single sequence in the KV cache. Failing fast rather than "
     "attempting an adjustment of the window sizes. Old: [131072], New: [20544]", "kv-cache-insufficient",
     {"old_windows": "[131072]", "new_windows": "[20544]"}),
    # the PyTorch backend's estimation stage, as later releases spell it
    ("The following component could not be created: Initial KV Cache (temporary for KV cache size estimation)",
     "kv-cache-creation-failed", {}),
])
def test_wordings_name_their_cause(line, entry, fields):
    hit = _first(line)
    assert hit.entry_id == entry and hit.fatal
    for k, v in fields.items():
        assert hit.fields.get(k) == v, (k, hit.fields)


@pytest.mark.parametrize("line", [
    "[TensorRT-LLM][WARNING] maxAttentionWindow and maxSequenceLen are too large for at least one sequence to fit in "
    "kvCache. they are reduced to 5185",
    "[12/01/2025-10:00:00] [TRT-LLM] [W] maxAttentionWindow and maxSequenceLen are too large for at least one sequence "
    "to fit in kvCache. They are reduced to 9344",
    "[TensorRT-LLM][WARNING] maxAttentionWindowVec too large to fit at least one sequence in kvCache. Old: [131072], "
    "New: [5185]",
])
def test_attention_window_cut_is_a_warning(line):
    hit = _first(line)
    assert hit.entry_id == "kv-cache-insufficient" and not hit.fatal
    assert hit.fields.get("reduced_to", hit.fields.get("new_windows")) in {"5185", "9344", "[5185]"}


def test_the_cut_ranks_below_the_request_it_makes_fail():
    text = ("[TensorRT-LLM][WARNING] maxAttentionWindow and maxSequenceLen are too large for at least one sequence to fit "
            "in kvCache. they are reduced to 5185\n[TensorRT-LLM][WARNING] maxInputLen is reduced to 5184\n"
            "[TensorRT-LLM][ERROR] Cannot process new request: Prompt length (6000) exceeds maximum input length (5184). "
            "Set log level to info and check TRTGptModel logs for how maximum input length is set\n")
    assert [h.entry_id for h in explain_text(text)][:2] == ["input-exceeds-max-input-len", "kv-cache-insufficient"]


@pytest.mark.parametrize("line", [
    "[TensorRT-LLM][INFO] Using 693 tokens in paged KV cache.",
    "[TensorRT-LLM][INFO] This is an Encoder-Decoder model, set 0.5 cross KV cache fraction based on the config.",
    "[TensorRT-LLM][WARNING] cross_kv_cache_fraction is not specified, error if it's encoder-decoder model, otherwise ok",
    "The following component could not be created: Model",
])
def test_healthy_and_other_lines_name_no_kv_cause(line):
    assert not [h for h in explain_text(line) if h.entry_id.startswith(("kv-cache", "input-exceeds"))]


@pytest.mark.parametrize("line, fields", [
    ("RuntimeError: Input batch size (16) exceeds the engine or specified limit (8)", {"batch_size": "16", "max_batch_size": "8"}),
    ("ValueError: sampling_params.n (4) cannot exceed max_batch_size (2) when use_beam_search is False",
     {"batch_size": "4", "max_batch_size": "2"}),
    ("    assert max_batch_size <= model_config.max_batch_size", {}),
])
def test_batch_larger_than_the_engine(line, fields):
    hit = _first(line)
    assert hit.entry_id == "engine-max-batch-size-exceeded" and hit.fatal
    for k, v in fields.items():
        assert hit.fields.get(k) == v, (k, hit.fields)
