#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_kernels catalogue family (kernels', ops' and attention backends' GPU-architecture and
# precision checks) offline from local copies:
#   FLASHINFER_GIT       a git directory of flashinfer-ai/flashinfer holding the release tags read below
#   TRTLLM_KERNEL_TREES  one folder per stored file version read (TensorRT-LLM and vLLM), named as the labels below (<commit> or
#                        stored-<id>), each holding the file at its repository path as a verbatim excerpt (first line
#                        "# excerpt …" / "// excerpt …": the statements as the stored file has them)
# NVIDIA/TensorRT-LLM is too large to mirror: single files were read from the public-code index at the commit it
# names, or as one of its stored versions (stored-<id>, the index's id of that file version, the release not known).
# With arguments (e.g. --list-unreviewed) they are appended.
set -euo pipefail
cd "$(dirname "$0")/.."
F=${FLASHINFER_GIT:?set FLASHINFER_GIT}
T=${TRTLLM_KERNEL_TREES:?set TRTLLM_KERNEL_TREES}
P=${PYTHON:-python3}
args=(--git "flashinfer-ai/flashinfer=$F@v0.2.5,v0.3.1,v0.5.3,v0.6.10,v0.6.17")
for d in 1e9d2162b1f7a108ac33cb1dfc7d0cadfebb889c stored-542042130 stored-905840560 stored-64662382 stored-55090639134 stored-196834873; do
  args+=(--tree "NVIDIA/TensorRT-LLM@$d=$T/$d")
done
for d in stored-12041905250 stored-124706674 stored-18201737; do
  args+=(--tree "vllm-project/vllm@$d=$T/$d")
done
C=(--comment "flashinfer-ai/flashinfer v0.2.5, v0.3.1, v0.5.3, v0.6.10, v0.6.17: release tags, whole trees (the JIT's target-arch check,"
   --comment "  the trtllm-gen FMHA runner, XQA, FP4/FP8 output and quantization checks, and the TensorRT-LLM CUTLASS / DeepGEMM"
   --comment "  kernels flashinfer vendors under csrc/nv_internal, which print TensorRT-LLM's own wordings)."
   --comment "NVIDIA/TensorRT-LLM, single stored files (verbatim excerpts, so their origins name the file but no line):"
   --comment "  cpp/tensorrt_llm/thop/fp8BlockScalingGemm.cpp @1e9d2162 (fp8_block_scaling_gemm's SM dispatch),"
   --comment "  cpp/tensorrt_llm/plugins/fp4GemmPlugin/fp4GemmPlugin.cpp @stored-542042130 (Fp4GemmPlugin::init),"
   --comment "  cpp/tensorrt_llm/kernels/cutlass_kernels/fp4_gemm/fp4_gemm_template.h @stored-905840560 (CutlassFp4GemmRunner dispatch),"
   --comment "  tensorrt_llm/_torch/modules/attention.py @stored-64662382 and @stored-55090639134 (features only attn_backend TRTLLM has),"
   --comment "  tensorrt_llm/plugin/plugin.py @stored-196834873 (PluginConfig.validate: plugins trtllm-build refuses on SM 100);"
   --comment "vllm-project/vllm (the engine of NIM's multi-LLM containers; too large to mirror), single stored files as verbatim excerpts:"
   --comment "  vllm/worker/worker.py @stored-12041905250 and @stored-124706674 (_check_if_gpu_supports_dtype: bfloat16 below sm80),"
   --comment "  vllm/config/vllm.py @stored-18201737 (a quantization method's minimum compute capability)."
   --comment "  Paths of stored versions named from the files' content.")
$P tools/harvest_messages.py --family tensorrt_llm_kernels "${args[@]}" "$@" "${C[@]}"
