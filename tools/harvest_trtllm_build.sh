#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_build catalogue family and the trtllm-build option table (offline):
#   TRTLLM_BUILD_TREES  one folder per stored file version read (NVIDIA/TensorRT-LLM is too large to mirror, so
#                       single files were read from the public-code index as its stored versions, @stored-<id>,
#                       or at the commit it names), each holding the file at its repository path as a verbatim
#                       excerpt (first line "# excerpt …"):
#                         stored-5748535475, stored-1189552800   tensorrt_llm/models/modeling_utils.py (PretrainedModel.load, 0.8 and 0.9+)
#                         stored-2877918272, stored-128397586    tensorrt_llm/parameter.py (Parameter.value)
#                         008b2b8d23af95e4e19fa6f354f9c5f6349b2bfc  tensorrt_llm/commands/build.py (the statements that raise or warn)
#                       and, for the option table only:
#                         options/008b2b8d23af95e4e19fa6f354f9c5f6349b2bfc  tensorrt_llm/commands/build.py (parse_arguments' option strings)
#                         stored-2747049588, stored-4216063708, stored-196834873  tensorrt_llm/plugin/plugin.py (cli_plugin_args)
#   TRTLLM_GIT          a git directory holding the release commits ffd5af342a81 (v0.5.0) and 80bc07510ac4 (v0.7.1)
#                       (a public mirror of the release/0.5.0 and release/v0.7.1 branches)
# CPython's argparse is read from this Debian 12 machine (/usr/lib/python3.11/argparse.py, CPython 3.11.2).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TRTLLM_BUILD_TREES:?set TRTLLM_BUILD_TREES}
G=${TRTLLM_GIT:?set TRTLLM_GIT}
P=${PYTHON:-python3}
A=$(mktemp -d)
trap 'rm -rf "$A"' EXIT
cp /usr/lib/python3.11/argparse.py "$A/"
args=(--tree "cpython@3.11.2:argparse=$A")
for d in stored-5748535475 stored-1189552800 stored-2877918272 stored-128397586 008b2b8d23af95e4e19fa6f354f9c5f6349b2bfc; do
  args+=(--tree "NVIDIA/TensorRT-LLM@$d=$T/$d")
done
$P tools/harvest_messages.py --family tensorrt_llm_build "${args[@]}" "$@" \
  --comment "cpython@3.11.2:argparse = Lib/argparse.py of CPython 3.11.2 (Debian 12): the errors of every argparse program, kept" \
  --comment "  for their source; explain names a cause only for TensorRT-LLM's build scripts (the entry's signature)." \
  --comment "NVIDIA/TensorRT-LLM@stored-<id>: single stored versions of tensorrt_llm/models/modeling_utils.py and tensorrt_llm/parameter.py" \
  --comment "  read from the public-code index (the release not known), and tensorrt_llm/commands/build.py at the commit it named (008b2b8d);" \
  --comment "  verbatim excerpts, so their origins name the file but no line."
if [ $# -eq 0 ]; then
  PL=()
  for id in 2747049588 4216063708 196834873; do
    PL+=(--plugins "trtllm-build@stored-$id:tensorrt_llm/plugin/plugin.py=$T/stored-$id/tensorrt_llm/plugin/plugin.py")
  done
  B=008b2b8d23af95e4e19fa6f354f9c5f6349b2bfc
  $P tools/trtllm_build_options.py \
    --git build.py@v0.5.0=$G@ffd5af342a81:examples/llama/build.py \
    --git build.py@v0.7.1=$G@80bc07510ac4:examples/llama/build.py \
    --git trtllm-build@v0.7.1=$G@80bc07510ac4:tensorrt_llm/commands/build.py \
    --file trtllm-build@$B:tensorrt_llm/commands/build.py=$T/options/$B/tensorrt_llm/commands/build.py "${PL[@]}"
fi
