"""The CUDA error codes by number and by name (knowledge_base/catalogue/cuda_error_codes.toml and
tools/data/cuda_error_codes.json, written by tools/harvest_cuda_errors.py): each code the review maps
names its cause in every layer's wording; a numeric form is never read as another code; the generic codes
(invalid argument, unknown error, initialization error …) name no cause; the table agrees with the
catalogue."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO, assert_names_first, explain_ids
from trtdiag.logscan.templates import catalogue

TABLE = json.loads((REPO / "tools" / "data" / "cuda_error_codes.json").read_text())
MESSAGES = [m for m in catalogue() if m["family"] == "cuda_error_codes"]
REF = "error code reference: https://nvidia.github.io/cuda-python/module/cudart.html#cuda.cudart.cudaError_t"


@pytest.mark.parametrize("line, expect", [
    # TensorRT-LLM's Python CUASSERT: the number only
    (f"RuntimeError: CUDA ERROR: 2, {REF}", "gpu-out-of-memory"),
    (f"RuntimeError: CUDA ERROR: 209, {REF}", "gpu-arch-unsupported"),
    (f"RuntimeError: CUDA ERROR: 700, {REF}", "cuda-illegal-memory-access"),
    (f"RuntimeError: CUDA ERROR: 35, {REF}", "cuda-driver-too-old"),
    (f"RuntimeError: CUDA ERROR: 100, {REF}", "gpu-no-driver"),
    # NCCL's driver-API check (2.19+): the number and the driver's text
    ("host:12:34 [0] misc/cudawrap.cc:188 NCCL WARN Cuda failure 2 'out of memory'", "gpu-out-of-memory"),
    ("host:12:34 [0] transport/p2p.cc:275 NCCL WARN Cuda failure 217 'peer access is not supported between these two devices'", "gpu-p2p-unsupported"),
    # NCCL's runtime check
    ("host:12:34 [2] enqueue.cc:43 NCCL WARN Cuda failure 'out of memory'", "gpu-out-of-memory"),
    # names: cuda-python's enums (str on Python <= 3.10, repr everywhere), TensorRT-LLM's driver check
    ("(<cudaError_t.cudaErrorMemoryAllocation: 2>, None)", "gpu-out-of-memory"),
    ("RuntimeError: CUresult.CUDA_ERROR_OUT_OF_MEMORY", "gpu-out-of-memory"),
    ("[TensorRT-LLM][ERROR] CUDA driver error in cuModuleLoadData(&mModule, cubin): CUDA_ERROR_NO_BINARY_FOR_GPU", "gpu-arch-unsupported"),
    ("CUDA Error: CUDA_ERROR_ILLEGAL_ADDRESS /code/tensorrt_llm/cpp/tensorrt_llm/kernels/x.h 144", "cuda-illegal-memory-access"),
    ("cudaErrorNoKernelImageForDevice", "gpu-arch-unsupported"),
    ("(<cudaError_t.cudaErrorInvalidDevice: 101>,)", "gpu-device-ordinal-invalid"),
    # PyTorch's device count
    ("UserWarning: CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please update your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx", "cuda-driver-too-old"),
    ("UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling NumCudaDevices() that might have already set an error? Error 803: system has unsupported display driver / cuda driver combination", "nvml-driver-library-mismatch"),
    # a kernel's own assertion
    ("torch.AcceleratorError: CUDA error: device-side assert triggered", "cuda-device-assert"),
    (f"RuntimeError: CUDA ERROR: 710, {REF}", "cuda-device-assert"),
    ("[TensorRT-LLM][ERROR] CUDA driver error in cuMemcpyDtoH(dst, src, n): CUDA_ERROR_ASSERT", "cuda-device-assert"),
    # the layers' text wrappers around a plain text
    ("RuntimeError: CUDA error: out of memory", "gpu-out-of-memory"),
    ("RuntimeError: CUDA driver error: out of memory", "gpu-out-of-memory"),
    ("[TensorRT-LLM][ERROR] CUDA runtime error in cudaMemcpyAsync(dst, src, n, stream): misaligned address (/app/x.cpp:12)", "cuda-illegal-memory-access"),
    ("[E] [TRT] 1: [resources.cpp::~ScopedCudaEvent::438] Error Code 1: Cuda Runtime (misaligned address)", "cuda-illegal-memory-access"),
    ("[E] [TRT] 1: [runner.cpp::execute::12] Error Code 1: Cuda Driver (out of memory)", "gpu-out-of-memory"),
    ("E1201 failed to allocate GPU memory: out of memory", "gpu-out-of-memory"),
    ("RuntimeError: CUDA error: system not yet initialized", "gpu-fabric-manager-not-running"),
    # texts specific on their own
    ("RuntimeError: CUDA error: unspecified launch failure", "cuda-illegal-memory-access"),
    ("RuntimeError: CUDA error: an illegal instruction was encountered", "cuda-illegal-memory-access"),
    ("CUDA error: uncorrectable NVLink error detected during the execution", "gpu-hardware-fault"),
    ("RuntimeError: CUDA error: API call is not supported in the installed CUDA driver", "cuda-driver-too-old"),
    # the libraries' allocation failures
    ("RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`", "gpu-out-of-memory"),
    ("RuntimeError: cuDNN error: CUDNN_STATUS_ALLOC_FAILED", "gpu-out-of-memory"),
    ("RuntimeError: cuDNN error: CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH", "gpu-arch-unsupported"),
])
def test_each_layers_wording_of_a_code_names_its_cause(line, expect):
    assert_names_first(line, expect)


@pytest.mark.parametrize("line", [
    f"RuntimeError: CUDA ERROR: 1, {REF}",  # invalid value
    f"RuntimeError: CUDA ERROR: 999, {REF}",  # unknown
    f"RuntimeError: CUDA ERROR: 20, {REF}",  # no code 20: not 2
    f"RuntimeError: CUDA ERROR: 7000, {REF}",  # not 700
    "host:1:2 [0] misc/cudawrap.cc:188 NCCL WARN Cuda failure 1 'invalid argument'",
    "host:1:2 [0] misc/cudawrap.cc:188 NCCL WARN Cuda failure 20 'x'",
    "RuntimeError: CUDA error: invalid argument",
    "RuntimeError: CUDA error: unknown error",
    "RuntimeError: CUDA error: initialization error",
    "RuntimeError: CUDA error: operation not supported",
    "host:1:2 [0] NCCL INFO misc/strongstream.cc:53 Cuda failure 'out of memory'",  # CUDACHECKIGNORE: ignored
    "CUDA error: driver shutting down",  # at exit: not a failure
    "that might have already set an error? Error 999: unknown error",
    "cudaErrorInvalidDeviceFunction",  # a longer name is not cudaErrorInvalidDevice
])
def test_generic_codes_other_numbers_and_ignored_errors_name_no_cause(line):
    assert explain_ids(line + "\n") == []


def test_every_numeric_template_carries_the_number_of_its_own_code():
    """'CUDA ERROR: N', 'Cuda failure N', '(cudaError N)': N is the code whose entry the message names."""
    by_entry: dict[str, set[int]] = {}
    for api in ("runtime", "driver"):
        for num, row in TABLE[api].items():
            if row.get("meaning"):
                by_entry.setdefault(row["meaning"], set()).add(int(num))
    numeric = [m for m in MESSAGES if re.search(r"CUDA ERROR: \d|Cuda failure \d|\(cudaError \d", m["template"])]
    assert len(numeric) >= 40
    for m in numeric:
        n = int(re.search(r"(?:CUDA ERROR: |Cuda failure |\(cudaError )(\d+)", m["template"]).group(1))
        meaning = m.get("entry") or ("not a failure" if m.get("not_failure") else None)
        assert n in by_entry[meaning], (m["template"], meaning)


def test_the_table_is_the_libraries_own_answers():
    rt, drv = TABLE["runtime"], TABLE["driver"]
    assert rt["2"]["name"] == "cudaErrorMemoryAllocation" and rt["2"]["texts"] == ["out of memory"]
    assert rt["209"]["name"] == "cudaErrorNoKernelImageForDevice"
    assert drv["2"]["name"] == "CUDA_ERROR_OUT_OF_MEMORY" and drv["2"]["texts"] == ["out of memory"]
    assert drv["209"]["name"] == "CUDA_ERROR_NO_BINARY_FOR_GPU"
    # a text that changed between releases keeps both
    assert len(rt["27"]["texts"]) == 2
    assert TABLE["cublas"]["CUBLAS_STATUS_ALLOC_FAILED"]["number"] == 3
    assert len(rt) >= 100 and len(drv) >= 90


def test_a_hardware_fault_is_named_before_the_kernel_faults_it_causes():
    ids = explain_ids("RuntimeError: CUDA error: an illegal memory access was encountered\n"
                      "E1201 CUDA error: uncorrectable ECC error encountered\n")
    assert ids[:2] == ["gpu-hardware-fault", "cuda-illegal-memory-access"], ids


def test_nccls_unhandled_cuda_error_comes_after_the_cuda_error_it_reports():
    ids = explain_ids("host:1:2 [0] enqueue.cc:43 NCCL WARN Cuda failure 'out of memory'\n"
                      "RuntimeError: NCCL error in: /opt/pytorch/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1275, unhandled cuda error, NCCL version 2.18.3\n")
    assert ids[0] == "gpu-out-of-memory" and "nccl-error" in ids, ids


def test_harvester_builds_names_and_numbers_from_a_header_and_a_wrappers_source(tmp_path):
    """tools/harvest_cuda_errors.py offline on a driver_types.h excerpt and TensorRT-LLM's CUASSERT: the code's
    name and its numeric form, each with its origin and the entry the review gives it."""
    import subprocess
    import sys

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    hdr = tmp_path / "driver_types.h"
    hdr.write_text("enum cudaError {\n    cudaSuccess = 0,\n    cudaErrorInvalidValue = 1,\n"
                   "    cudaErrorMemoryAllocation             =      2,\n};\n")
    src = tmp_path / "generation.py"
    src.write_text('def CUASSERT(cuda_ret):\n    raise RuntimeError(\n        f"CUDA ERROR: {err}, error code reference: '
                   'https://nvidia.github.io/cuda-python/module/cudart.html#cuda.cudart.cudaError_t"\n    )\n')
    out = tmp_path / "cat"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "harvest_cuda_errors.py"),
                        "--header", f"nvidia-cuda-runtime-cu12@0.0:include/driver_types.h={hdr}",
                        "--source", f"NVIDIA/TensorRT-LLM@v0.7.1:tensorrt_llm/runtime/generation.py={src}",
                        "--out", str(out), "--table", str(tmp_path / "t.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = {m["template"]: m for m in tomllib.loads((out / "cuda_error_codes.toml").read_text())["messages"]}
    assert rows["cudaErrorMemoryAllocation"]["entry"] == "gpu-out-of-memory"
    assert rows["cudaErrorMemoryAllocation"]["origin"] == "nvidia-cuda-runtime-cu12@0.0:include/driver_types.h:4"
    num = rows[f"CUDA ERROR: 2, {REF}"]
    assert num["entry"] == "gpu-out-of-memory" and num["origin"] == "NVIDIA/TensorRT-LLM@v0.7.1:tensorrt_llm/runtime/generation.py:3"
    assert not any("CUDA ERROR: 1," in t for t in rows)  # invalid value: no rule claims it
