#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_torch catalogue family (TensorRT-LLM's PyTorch backend: attention op, attention
# backends, fused-MoE backends) offline from local copies:
#   TRTLLM_TORCH_TREES  one folder per stored file version read, named as the labels below (<commit> or
#                       stored-<id>), each holding the file at its repository path as a verbatim excerpt (first line
#                       "# excerpt …" / "// excerpt …": the statements as the stored file has them)
# NVIDIA/TensorRT-LLM is too large to mirror: single files were read from the public-code index at the commit it
# names, or as one of its stored versions (stored-<id>, the index's id of that file version, the release not known).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TRTLLM_TORCH_TREES:?set TRTLLM_TORCH_TREES}
P=${PYTHON:-python3}
args=()
for d in 026946f023d1a1d2115947ec8911829e49789242 0024ef180a3927c481e461ede942cbe0ca6dd1db stored-190937516 \
         stored-55301320707 stored-1520735490 stored-6282246208 stored-63560366654 \
         c8c6df08bd0ead54cd47f7973e1e425c28a174cd 03dd9bb8387c5c3015f41124da0f338751a177c0 30d2c50cffa7cb02284d339c0caa335431df007b \
         stored-56226747597 stored-643520330 stored-3542389387 stored-4152691838 stored-538519496; do
  args+=(--tree "NVIDIA/TensorRT-LLM@$d=$T/$d")
done
C=(--comment "Files read: tensorrt_llm/_torch/modules/fused_moe/fused_moe_trtllm_gen.py @026946f0 (TRTLLMGenFusedMoE's GPU and"
   --comment "  quantization checks), tensorrt_llm/_torch/attention_backend/flashinfer.py @0024ef18 (plan() under CUDA-graph capture),"
   --comment "  cpp/tensorrt_llm/common/attentionOp.cpp @stored-190937516 (AttentionOp::mlaGeneration's XQA checks; the path named"
   --comment "  from the file's content), tensorrt_llm/executor/base_worker.py @stored-55301320707 (disaggregated request without a KV-cache"
  --comment "  transceiver), tensorrt_llm/llmapi/llm_args.py @stored-1520735490 and tensorrt_llm/_torch/speculative/eagle3.py"
  --comment "  @stored-6282246208 (Eagle3 without draft weights; paths named from the files' content: BaseWorker, Eagle3Config),"
  --comment "  tensorrt_llm/models/automodel.py @stored-63560366654 (the TensorRT backend's MODEL_MAP lookup for a Hugging Face model),"
  --comment "  the KV-cache transceiver's cache-state checks of disaggregated serving: cpp/tensorrt_llm/batch_manager/dataTransceiverImpl.cpp"
  --comment "  @c8c6df08, dataTransceiver.cpp @03dd9bb8, cacheTransferLayer.cpp @30d2c50c and @stored-56226747597 (path named from the"
  --comment "  file's content: CacheTransferLayer::validateCacheSupport), tensorrt_llm/_torch/pyexecutor/py_executor.py @stored-643520330"
  --comment "  and @stored-3542389387 (PyExecutor: speculative decoding with the pipeline-parallel / overlap executor loop),"
  --comment "  cpp/tensorrt_llm/batch_manager/trtGptModelInflightBatching.cpp @stored-4152691838 and @stored-538519496 (a context-only request"
  --comment "  without a cache transceiver; the path named from the file's content)."
  --comment "  Excerpts: statements verbatim, their branches kept, so the origins name the file but no line.")
$P tools/harvest_messages.py --family tensorrt_llm_torch "${args[@]}" "$@" "${C[@]}"
