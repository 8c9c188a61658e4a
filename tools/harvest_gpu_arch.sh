#!/usr/bin/env bash
# Re-harvest the gpu_arch_wordings catalogue family offline from local copies: how the parts of the stack outside
# TensorRT-LLM say that the GPU's architecture is not one they know (the CUDA compilers, TensorRT's runtime,
# FasterTransformer).  Set the folders:
#   NVCC     unpacked wheels of the CUDA compiler (pip download --no-deps NAME==V; unzip -d NVCC/NAME-V):
#            nvidia-cuda-nvcc-cu12 12.4.131, 12.6.85, 12.8.93, 12.9.86 (bin/ptxas only) and nvidia-cuda-nvcc 13.0.88
#            (bin/ptxas and bin/nvcc), as NVCC/nvidia_cuda_nvcc_cu12-V/nvidia/cuda_nvcc/bin/ptxas and
#            NVCC/nvidia_cuda_nvcc-13.0.88/nvidia/cu13/bin/{ptxas,nvcc}
#   WHEELS   unpacked TensorRT runtime wheels (as for tools/harvest_all.sh): tensorrt-lean-cu12-libs 10.16.1.11,
#            11.2.1.2 and 11.4.0.106, tensorrt-dispatch-cu12-libs 10.16.1.11 and 11.4.0.106, as
#            WHEELS/tensorrt_lean_cu12_libs-V/tensorrt_lean_libs/libnvinfer_lean.so.N (dispatch alike)
#   FTGIT    a git directory of NVIDIA/FasterTransformer (release tags read below)
#   FAGIT    a git directory of Dao-AILab/flash-attention (release tags read below)
#   TRITONPY the Python files of the triton wheels 2.3.1, 3.1.0, 3.3.1 and 3.5.0 (pip download --no-deps triton==V;
#            unzip 'triton/*.py' -d TRITONPY/tV), as TRITONPY/tV/triton/…
# With arguments (e.g. --list-unreviewed) they are appended.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
N=${NVCC:?set NVCC}
W=${WHEELS:?set WHEELS}
F=${FTGIT:?set FTGIT}
A=${FAGIT:?set FAGIT}
TP=${TRITONPY:?set TRITONPY}
args=()
# TensorRT first, the compilers after: a template both hold (the runtime embeds the PTX compiler) names the compiler
for v in 10.16.1.11:10 11.2.1.2:11 11.4.0.106:11; do
  args+=(--binary "tensorrt-lean@${v%%:*}=$W/tensorrt_lean_cu12_libs-${v%%:*}/tensorrt_lean_libs/libnvinfer_lean.so.${v##*:}")
done
for v in 10.16.1.11:10 11.4.0.106:11; do
  args+=(--binary "tensorrt-dispatch@${v%%:*}=$W/tensorrt_dispatch_cu12_libs-${v%%:*}/tensorrt_dispatch_libs/libnvinfer_dispatch.so.${v##*:}")
done
for v in 12.4.131 12.6.85 12.8.93 12.9.86; do
  args+=(--binary "ptxas@$v=$N/nvidia_cuda_nvcc_cu12-$v/nvidia/cuda_nvcc/bin/ptxas")
done
args+=(--binary "ptxas@13.0.88=$N/nvidia_cuda_nvcc-13.0.88/nvidia/cu13/bin/ptxas"
       --binary "nvcc@13.0.88=$N/nvidia_cuda_nvcc-13.0.88/nvidia/cu13/bin/nvcc")
args+=(--git "NVIDIA/FasterTransformer=$F@release/v4.0_tag,release/v5.1_tag,release/v5.2_tag,release/v5.3_tag")
for v in 2.3.1 3.1.0 3.3.1 3.5.0; do args+=(--tree "triton-lang/triton@$v=$TP/t$v"); done
args+=(--git "Dao-AILab/flash-attention=$A@v2.0.0,v2.3.6,v2.5.9.post1,v2.6.3,v2.7.4.post1,v2.8.3")
C=(--comment "ptxas of nvidia-cuda-nvcc-cu12 12.4.131, 12.6.85, 12.8.93, 12.9.86 and nvidia-cuda-nvcc 13.0.88, nvcc 13.0.88 (strings: the"
   --comment "  compilers' 'not a GPU architecture I know' errors; ptxas 12.8 is the first to list sm_100/sm_120, 12.9 sm_103/sm_121,"
   --comment "  nvcc 13.0 lists compute_75 and newer only); tensorrt-lean 10.16.1.11, 11.2.1.2, 11.4.0.106 and tensorrt-dispatch"
   --comment "  10.16.1.11, 11.4.0.106 (strings: the runtime's check of a hardware-compatible plan against the device);"
   --comment "  NVIDIA/FasterTransformer release/v4.0 … v5.3 tags (the CUTLASS kernels' architecture dispatch, which TensorRT-LLM"
   --comment "  inherited); Dao-AILab/flash-attention v2.0.0 … v2.8.3 tags (flash_api.cpp's GPU checks: flash-attn 2 runs on"
   --comment "  Ampere and newer); triton 2.3.1, 3.1.0, 3.3.1, 3.5.0 wheels' Python files (the FP8 types each GPU has, as"
   --comment "  Triton's JIT checks them).  \`tools/harvest_gpu_arch.sh\`.")
$P tools/harvest_messages.py --family gpu_arch_wordings "${args[@]}" "$@" "${C[@]}"
