#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_kv catalogue family (TensorRT-LLM's KV cache, scheduler and request limits) offline:
#   TRTLLM_GIT       a git directory of NVIDIA/TensorRT-LLM holding the release commits ffd5af342a81 (tagged v0.5.0) and
#                    80bc07510ac4 (tagged v0.7.1), as for tools/harvest_trtllm_sources.sh (0.5/0.7 Python runtime
#                    model_runner.py, C++ runtime runtimeBuffers.cpp and gptSession.cpp; the batch manager of those
#                    releases is a static library kept as a Git LFS object, so its own wordings are not harvested)
#   TRTLLM_KV_TREES  one folder per stored file version read, named as the labels below (stored-<id>), each holding the
#                    file at its repository path as a verbatim excerpt (first line "# excerpt …" / "// excerpt …")
# NVIDIA/TensorRT-LLM is too large to mirror: single files were read from the public-code index as stored versions
# (stored-<id>, the index's id of that file version, the release not known).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TRTLLM_KV_TREES:?set TRTLLM_KV_TREES}
G=${TRTLLM_GIT:?set TRTLLM_GIT}
P=${PYTHON:-python3}
args=(--git NVIDIA/TensorRT-LLM=$G@v0.5.0,v0.7.1)
for d in stored-538519496 stored-36914558290 stored-4152691838 stored-5721148561 \
         stored-55216765702 stored-323158958 stored-5668394175 stored-2629603228 \
         stored-55410938029 stored-101620597 stored-3771944625; do
  args+=(--tree "NVIDIA/TensorRT-LLM@$d=$T/$d")
done
C=(--comment "v0.5.0 = ffd5af342a81 and v0.7.1 = 80bc07510ac4 (whole trees, as in tensorrt_llm_sources). Stored files read:"
   --comment "  cpp/tensorrt_llm/batch_manager/trtGptModelInflightBatching.cpp @stored-538519496, @stored-36914558290, @stored-4152691838"
   --comment "  (cross_kv_cache_fraction checks of encoder-decoder / decoder-only models; the attention window shrunk to fit the KV cache,"
   --comment "  or with fail_fast_on_attention_window_too_large the error),"
   --comment "  tensorrt_llm/_torch/pyexecutor/resource_manager.py @stored-5721148561 (the PyTorch backend's same warning),"
   --comment "  tensorrt_llm/llmapi/llm.py @stored-55216765702, @stored-323158958, @stored-5668394175, @stored-2629603228 (_check_arguments"
   --comment "  of the TensorRT engine backend; the last an early LLM API whose path is named from the file's content),"
   --comment "  tensorrt_llm/_torch/attention_backend/trtllm.py @stored-55410938029, @stored-101620597, @stored-3771944625 (the KV length"
   --comment "  check of the attention metadata; path as the tracebacks name it).  Excerpts: statements verbatim, so origins name no line.")
$P tools/harvest_messages.py --family tensorrt_llm_kv "${args[@]}" "$@" "${C[@]}"
