#!/usr/bin/env bash
# Re-harvest the cuda_error_codes family and tools/data/cuda_error_codes.json (offline) from local copies:
#   CUDART   unpacked wheels nvidia-cuda-runtime-cu12 12.1.105 12.4.127 12.6.77 12.8.90 12.9.79 and nvidia-cuda-runtime
#            13.0.96 13.2.75 13.5.37, as CUDART/<dist>-<version>/ (pip download --no-deps NAME==V; unzip -d)
#   LIBS     headers of nvidia-cublas-cu12 12.4.5.8 / 12.9.1.4 and nvidia-cudnn-cu12 8.9.2.26 / 9.1.0.70, as
#            LIBS/<dist>-<version>/nvidia/<cublas|cudnn>/include/… (unzip '*/include/*' of each wheel)
#   LEAN     tensorrt-lean-cu12-libs 10.15.1.29, 10.16.1.11, 11.0.0.114, 11.2.1.2, 11.4.0.106, as
#            LEAN/<version>/libnvinfer_lean.so.N
#   TRTLLM_GIT   a git directory of NVIDIA/TensorRT-LLM holding v0.5.0 and v0.7.1 (see tools/harvest_trtllm_sources.sh)
#   NCCL_GIT     a git directory of NVIDIA/nccl;  BACKEND_GIT  of triton-inference-server/backend
#   CPYTHON_LIB  CPython 3.11.2's standard library (enum.py: an IntEnum's repr), default /usr/lib/python3.11
#   EXCERPTS verbatim excerpts (first line "// excerpt …" / "# excerpt …") of single stored files, as
#            EXCERPTS/<label>/<path>: trtllm-2340c776/tensorrt_llm/runtime/generation.py,
#            trtllm-05316d33/cpp/include/tensorrt_llm/common/cudaUtils.h, pytorch-0e4c6cd6/c10/cuda/CUDAException.cpp,
#            pytorch-0007e752/c10/cuda/driver_api.h, pytorch-01a6a16d/c10/cuda/CUDAFunctions.cpp
# The driver's own texts (cuGetErrorString of libcuda 580.159.04) are tools/data/cuda_driver_errors-580.159.04.json,
# written by tools/cuda_driver_error_strings.py on a machine with that driver.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
C=${CUDART:?set CUDART}; L=${LIBS:?set LIBS}; LE=${LEAN:?set LEAN}; X=${EXCERPTS:?set EXCERPTS}
args=()
for v in 12.1.105 12.4.127 12.6.77 12.8.90 12.9.79; do
  d=$C/nvidia_cuda_runtime_cu12-$v/nvidia/cuda_runtime
  args+=(--cudart "nvidia-cuda-runtime-cu12@$v=$d/lib/libcudart.so.12"
         --header "nvidia-cuda-runtime-cu12@$v:include/driver_types.h=$d/include/driver_types.h"
         --header "nvidia-cuda-runtime-cu12@$v:include/cuda.h=$d/include/cuda.h")
done
for v in 13.0.96 13.2.75 13.5.37; do
  d=$C/nvidia_cuda_runtime-$v/nvidia/cu13
  args+=(--cudart "nvidia-cuda-runtime@$v=$d/lib/libcudart.so.13"
         --header "nvidia-cuda-runtime@$v:include/driver_types.h=$d/include/driver_types.h"
         --header "nvidia-cuda-runtime@$v:include/cuda.h=$d/include/cuda.h")
done
for v in 12.4.5.8 12.9.1.4; do args+=(--header "nvidia-cublas-cu12@$v:include/cublas_api.h=$L/nvidia_cublas_cu12-$v/nvidia/cublas/include/cublas_api.h"); done
args+=(--header "nvidia-cudnn-cu12@8.9.2.26:include/cudnn_ops_infer.h=$L/nvidia_cudnn_cu12-8.9.2.26/nvidia/cudnn/include/cudnn_ops_infer.h"
       --header "nvidia-cudnn-cu12@9.1.0.70:include/cudnn_graph.h=$L/nvidia_cudnn_cu12-9.1.0.70/nvidia/cudnn/include/cudnn_graph.h")
args+=(--driver-json tools/data/cuda_driver_errors-580.159.04.json)
for v in 10.15.1.29 10.16.1.11 11.0.0.114 11.2.1.2 11.4.0.106; do args+=(--source "tensorrt-lean@$v=$(ls $LE/$v/libnvinfer_lean.so.*)"); done
G=${TRTLLM_GIT:?set TRTLLM_GIT}
args+=(--git "NVIDIA/TensorRT-LLM=$G@v0.5.0,v0.7.1:cpp/tensorrt_llm/common/cudaUtils.h"
       --git "NVIDIA/TensorRT-LLM=$G@v0.5.0,v0.7.1:tensorrt_llm/runtime/generation.py"
       --source "NVIDIA/TensorRT-LLM@2340c776201e4dba9aa625b8615e3e6ca9d7a7f6:tensorrt_llm/runtime/generation.py=$X/trtllm-2340c776/tensorrt_llm/runtime/generation.py"
       --source "NVIDIA/TensorRT-LLM@05316d3313360012536ace46c781518f5afae75e:cpp/include/tensorrt_llm/common/cudaUtils.h=$X/trtllm-05316d33/cpp/include/tensorrt_llm/common/cudaUtils.h"
       --source "pytorch/pytorch@0e4c6cd66277444e521c0d3190b00ee3992cff03:c10/cuda/CUDAException.cpp=$X/pytorch-0e4c6cd6/c10/cuda/CUDAException.cpp"
       --source "pytorch/pytorch@0007e752d518810f0f8942a830dbbbfc69f34577:c10/cuda/driver_api.h=$X/pytorch-0007e752/c10/cuda/driver_api.h"
       --source "pytorch/pytorch@01a6a16d9bb6424c034f5623c46bfd08ec21613b:c10/cuda/CUDAFunctions.cpp=$X/pytorch-01a6a16d/c10/cuda/CUDAFunctions.cpp")
NT=v2.18.3-1,v2.19.3-1,v2.21.5-1,v2.23.4-1,v2.25.1-1,v2.27.3-1,v2.28.9-1
args+=(--git "NVIDIA/nccl=${NCCL_GIT:?set NCCL_GIT}@$NT:src/include/checks.h" --git "NVIDIA/nccl=$NCCL_GIT@$NT:src/include/cudawrap.h")
args+=(--source "cpython@3.11.2:enum.py=${CPYTHON_LIB:-/usr/lib/python3.11}/enum.py")
args+=(--git "triton-inference-server/backend=${BACKEND_GIT:?set BACKEND_GIT}@r23.10,r24.05,r24.12,r25.04,r25.10,r25.12:src/backend_memory.cc")
$P tools/harvest_cuda_errors.py "${args[@]}" \
  --comment "cudaError_t: each libcudart asked cudaGetErrorName / cudaGetErrorString (ctypes, no GPU needed); CUresult: cuda.h, and the" \
  --comment "  driver 580.159.04's cuGetErrorString (tools/cuda_driver_error_strings.py on an H200); the wrappers: the sources named below." \
  --comment "Excerpts (@<commit> of NVIDIA/TensorRT-LLM and pytorch/pytorch) are single stored files read from the public-code index."
