#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_sources and linux catalogue families (offline) from local copies:
#   TRTLLM_GIT    a git directory of NVIDIA/TensorRT-LLM holding the release commits ffd5af342a81 (tagged
#                 v0.5.0) and 80bc07510ac4 (tagged v0.7.1), e.g. a clone of a public mirror of those branches
#   TRTLLM_TREES  one folder per stored file version read, named as the labels below (v0.16.0-42a7b09,
#                 stored-<id>, <commit>), each holding the file at its repository path as a verbatim excerpt
#                 (first line "# excerpt …" / "// excerpt …": the statements as the stored file has them)
#   LINUX_OOM     an excerpt of torvalds/linux@c797bc88f77b:mm/oom_kill.c (oom_kill_process's pr_err and
#                 out_of_memory's message argument)
# With arguments (e.g. --list-unreviewed) only the TensorRT-LLM family runs, with them appended.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TRTLLM_TREES:?set TRTLLM_TREES}
G=${TRTLLM_GIT:?set TRTLLM_GIT}
L=${LINUX_OOM:?set LINUX_OOM}
P=${PYTHON:-python3}
args=(--git NVIDIA/TensorRT-LLM=$G@v0.5.0,v0.7.1)
for d in v0.16.0-42a7b09 stored-5657116856 stored-9136361103 stored-9841842691 stored-90899134 \
         stored-5721148561 stored-77926604 stored-3501434665 stored-54765218664 stored-51768596745 stored-57350670334 stored-56108752801 stored-56304441455 \
         stored-5769730367 stored-5668394175 stored-323158958 stored-55216765702 stored-292162234 stored-1520735490 \
         stored-5658432450 stored-582575568 stored-5748535475 stored-5731753055 stored-5687830897 \
         stored-5947941034 stored-47004998922 stored-334997578 06c0e9b1ec38f981d023a223b212b312cfb62417 1a43c7d62d008ca9d1efdfd50f9180390598d314 119c6e60e65e5ecec4e97afdb6ea584f674aed24 stored-36927720914 stored-36938158234 stored-6290919223 stored-595001015 stored-4882224494 stored-2747049588 stored-40646681227 stored-4216063708 stored-6404758181 stored-5540033298 stored-2724516238 stored-809211714 stored-6223167287 stored-52606421813 stored-316476577 stored-57403702958 \
         00dbe288d2a76e0ad79107e4ef0907d614744c89 035b99e0d09d4f2dfdb949810cf7245112aa4165 00825c4ee813bdc5eb2e5cf218b644b8c18ce2ec stored-37146555805 \
         0193dbd4189221d0fd5e9f20cdb384d3da8dbc24 stored-882825255 stored-1210264804 stored-5800749904 005bc848893f575ec14b45d6b13139360d67c790 stored-3493716097 \
         000a01de66f0eab4ab05640711f0253f50f5209c; do
  label=${d%%-42a7b09}
  args+=(--tree "NVIDIA/TensorRT-LLM@$label=$T/$d")
done
C=(--comment "v0.5.0 = ffd5af342a81 and v0.7.1 = 80bc07510ac4 (the TensorRT-LLM commits tensorrtllm_backend v0.5.0 / v0.7.1 pin): whole trees, read"
   --comment "  as git refs from a public mirror of those release commits; v0.16.0 = 42a7b0922fc9 (pinned by tensorrtllm_backend v0.16.0)."
   --comment "Later releases: NVIDIA/TensorRT-LLM is too large to mirror, so single files were read from the public-code index at the commit"
   --comment "  it names (@<commit>) or as one of its stored versions (@stored-<id>, the index's id of that file version, the release not"
   --comment "  known); those trees hold verbatim excerpts of the statements read, so their origins name the file but no line."
   --comment "Files read: runtime/worldConfig.cpp, runtime/tllmStreamReaders.cpp, batch_manager/llmRequest.cpp, batch_manager/kvCacheManager.cpp,"
   --comment "  commands/build.py, llmapi/llm.py, llmapi/llm_args.py, models/modeling_utils.py, profiler.py, plugin/plugin.py, runtime/gptJsonConfig.cpp, _torch/pyexecutor/_util.py, _torch/models/modeling_auto.py,"
   --comment "  common/attentionOp.cpp, plugins/gptAttentionCommon/gptAttentionCommon.cpp, batch_manager/trtGptModelInflightBatching.cpp, the FP8 rowwise GEMM runner, runtime/loraUtils.cpp, plugins/loraPlugin/loraPlugin.cpp, executor/worker.py, executor/proxy.py, thop/fp4BlockScaleMoe.cpp and"
   --comment "  resource_manager.py.  Messages already transcribed in tensorrt_llm.toml keep their entries there.")
$P tools/harvest_messages.py --family tensorrt_llm_sources "${args[@]}" "$@" "${C[@]}"
if [ $# -eq 0 ]; then
$P tools/harvest_messages.py --family linux \
  --comment "mm/oom_kill.c read from the public-code index at torvalds/linux@c797bc88f77b (a 4.x kernel); the [[binary]] rules assemble" \
  --comment "  oom_kill_process's message argument with its pr_err format, each fragment found in the excerpt of that file." \
  --binary "torvalds/linux@c797bc88f77b51c4ba0b5d782b8284c7ed0233bc:mm/oom_kill.c=$L"
fi
