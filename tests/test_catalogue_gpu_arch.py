"""A GPU architecture outside what a compiler, runtime or kernel library knows, in each source's wording: the
CUDA compilers (ptxas / nvcc of the nvidia-cuda-nvcc wheels, the ptxas Triton bundles), TensorRT's lean runtime
(a hardware-compatible plan below compute 8.0), FasterTransformer's CUTLASS dispatch and cuBLAS status strings,
trtllm-build's plugin check on SM 100.  Lines are written from the catalogue's templates with the prefixes the
programs add (origins beside each case); none is taken from a frozen evaluation log."""

from __future__ import annotations

import pytest

from tests.conftest import explain_text, explain_ids as ids
from trtdiag.logscan.templates import catalogue


def test_the_family_carries_its_releases():
    rows = [m for m in catalogue() if m["family"] == "gpu_arch_wordings"]
    seen = {m["first"] for m in rows} | {m["origin"].split(":")[0] for m in rows}
    assert {"ptxas@12.4.131", "nvcc@13.0.88", "tensorrt-lean@10.16.1.11"} <= seen
    assert any(o.startswith("NVIDIA/FasterTransformer@release/v5.3_tag") for o in seen)
    assert any(o.startswith("Dao-AILab/flash-attention@v2.0.0") for o in seen)
    assert {"triton-lang/triton@2.3.1", "triton-lang/triton@3.3.1"} <= seen


CASES = [
    # ptxas@12.4.131 … 13.0.88 "Value '%s' is not defined for option '%s'", as Triton quotes its stderr
    ("ptxas fatal   : Value 'sm_120' is not defined for option 'gpu-name'", "cuda-compiler-arch-unsupported", {"arch": "sm_120"}),
    ("triton.runtime.errors.PTXASError: PTXAS error: Internal Triton PTX codegen error\n`ptxas` stderr:\n"
     "ptxas fatal   : Value 'sm_103a' is not defined for option 'gpu-name'", "cuda-compiler-arch-unsupported", {"arch": "sm_103a"}),
    # nvcc@13.0.88 "Unsupported gpu architecture '%s'" (too old and too new an architecture)
    ("nvcc fatal   : Unsupported gpu architecture 'compute_70'", "cuda-compiler-arch-unsupported", {"arch": "compute_70"}),
    ("      nvcc fatal   : Unsupported gpu architecture 'compute_100a'", "cuda-compiler-arch-unsupported", {"arch": "compute_100a"}),
    # ptxas "Unsupported .target '%s'"
    ("ptxas fatal   : Unsupported .target 'sm_120'", "cuda-compiler-arch-unsupported", {}),
    # tensorrt-lean@11.4.0.106 checkEngineDeviceCompatible on a hardware-compatible plan
    ("[E] [TRT] IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The current device is not compatible with "
     "this hardware-compatible engine. Expected compute capability >= 8.0 but got compute capability = 7.0. Please rebuild "
     "the engine.)", "engine-compute-capability-mismatch", {"required": "8.0", "device": "7.0"}),
    # NVIDIA/FasterTransformer@release/v5.3_tag: int8_gemm_template.h:499, moe_gemm_kernels_template.h:751
    ("  what():  [FT Error][CutlassInt8GemmRunner][GEMM Dispatch] Arch unsupported for CUTLASS int8 GEMM", "gpu-arch-unsupported", {}),
    ("  what():  [FT Error][MoE][GEMM Dispatch] Arch unsupported for MoE GEMM", "gpu-arch-unsupported", {}),
    # utils/cuda_utils.h:95 (cuBLAS status 8)
    ("  what():  [FT][ERROR] CUDA runtime error: CUBLAS_STATUS_ARCH_MISMATCH /ft/src/fastertransformer/utils/cublasMMWrapper.cc:592 ",
     "gpu-arch-unsupported", {}),
    # Dao-AILab/flash-attention@v2.8.3:csrc/flash_attn/flash_api.cpp, @v2.3.6 (bfloat16)
    ("RuntimeError: FlashAttention only supports Ampere GPUs or newer.", "gpu-arch-unsupported", {}),
    ("RuntimeError: bfloat16 is only supported on Ampere GPUs or newer", "gpu-precision-unsupported", {}),
    # triton-lang/triton@3.5.0:triton/language/core.py:574 (as torch.compile quotes it), @3.1.0:triton/language/semantic.py:759
    ("ValueError(\"type fp8e4nv not supported in this architecture. The supported fp8 dtypes are ('fp8e4b15', 'fp8e5')\")",
     "gpu-precision-unsupported", {"dtype": "fp8e4nv"}),
    ("AssertionError: fp8e4nv data type is not supported on CUDA arch < 89", "gpu-precision-unsupported", {}),
    # NVIDIA/TensorRT-LLM tensorrt_llm/plugin/plugin.py PluginConfig.validate
    ("NotImplementedError: gemm_swiglu_plugin=fp8 is not supported on SM 100.", "gpu-arch-unsupported", {"sm": "100"}),
]


@pytest.mark.parametrize("line, entry, fields", CASES)
def test_wording_names_its_cause(line, entry, fields):
    hits = explain_text(line)
    assert hits and hits[0].entry_id == entry, [h.entry_id for h in hits]
    ev = hits[0].fields
    for k, v in fields.items():
        assert str(ev.get(k)) == v, (k, ev)


HEALTHY = [
    # a build's compile line names architectures without failing
    "/usr/local/cuda/bin/nvcc -gencode arch=compute_120a,code=sm_120a -gencode arch=compute_90,code=sm_90 -c kernel.cu -o kernel.o",
    "ptxas info    : Compiling entry function '_Z6kernelPf' for 'sm_120'",
    "ptxas info    : Used 32 registers, 384 bytes cmem[0]",
    "[TRT-LLM] [I] Compute capability: (12, 0)",
    "Repro command: /opt/triton/backends/nvidia/bin/ptxas -lineinfo -v --gpu-name=sm_90a /tmp/x.ptx -o /tmp/x.ptx.o",
]


@pytest.mark.parametrize("line", HEALTHY)
def test_healthy_lines_stay_quiet(line):
    assert ids(line) == []
