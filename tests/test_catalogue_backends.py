"""The Triton tensorrtllm and Python backends: the engine's I/O tensors checked by the TensorRT-LLM runtime the
tensorrtllm backend links (tllmRuntime.cpp, generation.py), the backend's request checks, a Python model's import
failing as the stub and the core re-print it, numpy's import_array() errors under the stub.  Every line is written
from the catalogue's templates (or the entry's sourced signature) with the prefixes the sources add
([TensorRT-LLM][ERROR], the core's "failed to load '…' version N: Internal: ", the stub's "Failed to initialize
Python stub: "), origins beside each case; none is taken from a frozen evaluation log."""

from __future__ import annotations

import pytest

from tests.conftest import explain_text, assert_names_first
from trtdiag.logscan.templates import catalogue


def test_the_backend_families_carry_their_releases():
    fams = {}
    for m in catalogue():
        fams.setdefault(m["family"], []).append(m)
    seen = lambda f: {m["first"] for m in fams[f]} | {m["origin"].split(":")[0] for m in fams[f]}  # noqa: E731
    bk = seen("tensorrtllm_backend")
    assert {"NVIDIA/TensorRT-LLM@v0.5.0", "NVIDIA/TensorRT-LLM@v0.7.1"} <= bk
    pb = seen("python_backend")
    assert "triton-inference-server/python_backend@r23.01" in pb
    assert "triton-inference-server/python_backend@r26.07" in pb


CASES = [
    # NVIDIA/TensorRT-LLM@v0.7.1:cpp/tensorrt_llm/runtime/tllmRuntime.cpp:125 TLLM_THROW("Input tensor '%s' not found; …")
    ("[TensorRT-LLM][ERROR] Encountered an error in forward function: Input tensor 'host_sink_token_length' not found; "
     "expected shape: (1) (/app/tensorrt_llm/cpp/tensorrt_llm/runtime/tllmRuntime.cpp:125)",
     "trtllm-version-mismatch", {"tensor": "host_sink_token_length", "expected_shape": "(1)"}),
    # tllmRuntime.cpp:138 TLLM_CHECK_WITH_INFO(…, "%s: expected %d dims, provided %d dims")
    ("[TensorRT-LLM][ERROR] Assertion failed: position_ids: expected 2 dims, provided 1 dims "
     "(/app/tensorrt_llm/cpp/tensorrt_llm/runtime/tllmRuntime.cpp:138)",
     "triton-inflight-needs-engine-features", {"tensor": "position_ids", "engine_dims": "2", "provided_dims": "1"}),
    # a later stored version: "Tensor '%s' has invalid shape %s, expected in range min %s, max %s"
    ("[TensorRT-LLM][ERROR] Tensor 'input_ids' has invalid shape (9000), expected in range min (1), max (8192)",
     "trt-shape-outside-profile", {"tensor": "input_ids"}),
    # NVIDIA/TensorRT-LLM@v0.5.0:tensorrt_llm/runtime/generation.py:423 (logger.error)
    ("[12/01/2026-10:00:00] [TRT-LLM] [E] The following expected tensors are not found: {'host_max_kv_cache_length'}",
     "trtllm-version-mismatch", {}),
    # tensorrtllm_backend@v0.19.0 all_models/inflight_batcher_llm/tensorrt_llm/1/model.py:547
    ("E1201 10:00:00.000000 1 pb_stub.cc:741] TritonModelException: A value is required for request_output_len",
     "triton-request-input-mismatch", {}),
    # tensorrtllm_backend@v0.19.0 …/tensorrt_llm_bls/1/lib/decode.py:272
    ("Exception: speculative decoding is not supported with batch size > 1", "triton-request-batch-too-large", {}),
    # core@r24.05 model_lifecycle.cc:641 "failed to load '…' version N: " + the stub's error
    ("E1201 10:00:00.000000 1 model_lifecycle.cc:641] \"failed to load 'preprocessing' version 1: Internal: "
     "ModuleNotFoundError: No module named 'sentencepiece'\\n\\nAt:\\n  /models/preprocessing/1/model.py(33): <module>\\n\"",
     "triton-python-module-missing", {"module": "sentencepiece"}),
    # python_backend@r26.07 pb_stub.cc "Failed to initialize Python stub: " + numpy@1.26.4 __multiarray_api.h
    ("I1201 10:00:00.000000 9 pb_stub.cc:389] Failed to initialize Python stub: ImportError: numpy.core.multiarray failed to import",
     "numpy-abi-mismatch", {}),
    ("I1201 10:00:00.000000 9 pb_stub.cc:321] Failed to initialize Python stub for auto-complete: AttributeError: _ARRAY_API not found",
     "numpy-abi-mismatch", {}),
    # numpy@1.26.4 __multiarray_api.h:1518
    ("RuntimeError: module compiled against API version 0x10 but this version of numpy is 0xf",
     "numpy-abi-mismatch", {"compiled_api": "10", "numpy_api": "f"}),
    # python_backend@r26.07 pb_stub.cc:2142 "Failed to preinitialize Python stub: " + CPython's ModuleNotFoundError
    ("E1201 10:00:00.000000 9 pb_stub.cc:2142] Failed to preinitialize Python stub: ModuleNotFoundError: No module named 'torch'",
     "triton-python-module-missing", {"module": "torch"}),
    # tensorrt_backend@r23.10 src/instance_state.cc:1969 (r24.05: src_trt8/instance_state.cc)
    ("E1201 10:00:00.000000 1 model_lifecycle.cc:641] failed to load 'yolo' version 1: Invalid argument: unexpected "
     "configuration maximum batch size 16 for 'yolo_0_0', model maximum is 8",
     "triton-plan-max-batch-mismatch", {"config_max_batch_size": "16", "engine_max_batch_size": "8"}),
    # onnxruntime_backend@r24.01 src/onnxruntime.cc:2636
    ("E1201 10:00:00.000000 1 model_lifecycle.cc:641] failed to load 'm' version 1: Unsupported: Triton TRITONBACKEND API "
     "version: 1.16 does not support 'onnxruntime' TRITONBACKEND API version: 1.19",
     "triton-backend-api-mismatch", {"server_api": "1.16", "backend_api": "1.19"}),
    # python_backend@r23.07 src/pb_stub.cc:1601
    ("Python model file not found in neither '/models/m/1/model.py' nor '/models/m/1/model.py'",
     "triton-model-version-missing", {}),
]


@pytest.mark.parametrize("line,expect,fields", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_backend_messages_name_their_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


QUIET = [
    # tllmRuntime.cpp:147 TLLM_LOG_WARNING: a dynamic dimension of another size; the runtime goes on
    "[TensorRT-LLM][WARNING] input_ids: expected dim[1] = 4, provided dim[1] = 7",
    # python_backend@r23.07 tensorflow_savedmodel platform handler: the model loads on the CPU
    "GPU instances are not supported by this backend. Falling back to KIND_CPU for model_0",
    # a bare wrapper: numpy's import_array() error without the stub or a load error around it names no cause
    "ImportError: numpy.core.multiarray failed to import",
]


@pytest.mark.parametrize("line", QUIET)
def test_backend_healthy_or_bare_lines_name_no_cause(line):
    fatal = [h.entry_id for h in explain_text(line + "\n") if h.fatal]
    assert not fatal, fatal


def test_stub_wrapper_ranks_below_the_numpy_cause():
    text = ("I1201 10:00:00.000000 9 pb_stub.cc:389] Failed to initialize Python stub: ImportError: numpy.core.multiarray failed to import\n"
            "E1201 10:00:00.000000 1 model_lifecycle.cc:641] failed to load 'postprocessing' version 1: Internal: ImportError: numpy.core.multiarray failed to import\n"
            "error: creating server: Internal - failed to load all models\n")
    ranked = [h.entry_id for h in explain_text(text)]
    assert ranked[0] == "numpy-abi-mismatch", ranked
