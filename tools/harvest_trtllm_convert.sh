#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_convert and modelopt catalogue families (offline) from local copies:
#   CONVERT_TREES  one folder per stored file version of NVIDIA/TensorRT-LLM read (the repository is too large to
#                  mirror, so single files were read from the public-code index at the commit it names), each holding
#                  the file at its repository path as a verbatim excerpt (first line "# excerpt …"):
#                    585c756579dc4d01f21fc13c2f604cdb461ac4f0  tensorrt_llm/quantization/quantize_by_modelopt.py (stored id 1063601771)
#                    65b31db1b401d3752b8ebe7c29093cbfb6af04b7  tensorrt_llm/models/qwen/convert.py (stored id 1134239761, the GPTQ loader)
#                    9b3c71241051d4e6d10523de4cf9015bf106ca7f  tensorrt_llm/models/convert_utils.py (stored id 224338877, the weight files of --model_dir)
#                    stored-1189552800, stored-57035009897  tensorrt_llm/models/modeling_utils.py (two stored versions, the
#                                   release not known: PretrainedConfig.from_dict's MODEL_MAP lookup, the same in both)
#                    stored-14399356  tensorrt_llm/models/llama/convert.py (a stored version, the release not known: get_weight)
#   DATASETS       the datasets wheels 2.14.7, 2.19.2 and 3.6.0 unpacked (pip download --no-deps datasets==V;
#                  unzip -d DATASETS/V datasets/load.py datasets/utils/file_utils.py): those two files are read
#   TFOLD          transformers 4.34.0 and 4.46.3 (pip download --no-deps transformers==V; unzip -d TFOLD/V
#                  transformers/utils/hub.py transformers/models/auto/configuration_auto.py): those two files are read
#   MODELOPT       a git directory of NVIDIA/TensorRT-Model-Optimizer (tags 0.23.0, 0.27.0, 0.33.0, 0.39.0 are read)
#   MODELOPT_WHEELS a git directory holding the nvidia-modelopt wheels 0.11.2, 0.13.1, 0.15.1, 0.17.0, 0.19.0 and 0.21.1 (the
#                  releases TensorRT-LLM 0.10 … 0.16 pin, older than the repository's first tag), one commit per wheel tagged
#                  with its version: pip download --no-deps nvidia-modelopt==V; unzip the wheel's modelopt/torch/export/*,
#                  modelopt/__init__.py and modelopt/torch/__init__.py; commit that modelopt/ folder; git tag V
# CPython's import errors are read from this Debian 12 machine's libpython3.11.so.1.0 (CPython 3.11.2).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CONVERT_TREES:?set CONVERT_TREES}
D=${DATASETS:?set DATASETS}
F=${TFOLD:?set TFOLD}
M=${MODELOPT:?set MODELOPT}
MW=${MODELOPT_WHEELS:?set MODELOPT_WHEELS}
P=${PYTHON:-python3}
args=()
for c in 585c756579dc4d01f21fc13c2f604cdb461ac4f0 65b31db1b401d3752b8ebe7c29093cbfb6af04b7 9b3c71241051d4e6d10523de4cf9015bf106ca7f \
         stored-1189552800 stored-57035009897 stored-14399356; do
  args+=(--tree "NVIDIA/TensorRT-LLM@$c=$T/$c")
  # the excerpts also serve the [[binary]] rules that quote the statements raising a KeyError
  for f in $(cd "$T/$c" && find . -name '*.py' | sed 's|^\./||'); do args+=(--binary "NVIDIA/TensorRT-LLM@$c:$f=$T/$c/$f"); done
done
for v in 2.14.7 2.19.2 3.6.0; do args+=(--tree "huggingface/datasets@$v=$D/$v"); done
for v in 4.34.0 4.46.3; do args+=(--tree "huggingface/transformers@$v=$F/$v"); done
args+=(--binary "huggingface/transformers@4.34.0:models/auto/configuration_auto.py=$F/4.34.0/transformers/models/auto/configuration_auto.py")
args+=(--binary "huggingface/transformers@4.46.3:utils/hub.py=$F/4.46.3/transformers/utils/hub.py")
args+=(--binary "cpython@3.11.2=/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0")
$P tools/harvest_messages.py --family tensorrt_llm_convert "${args[@]}" "$@" \
  --comment "NVIDIA/TensorRT-LLM@<commit>: single stored files read from the public-code index at that commit (the release not known);" \
  --comment "  verbatim excerpts of the statements that raise or log, so their origins name the file but no line.  The KeyError" \
  --comment "  templates are [[binary]] rules: a dict lookup raises them, the statement that indexes is the fragment found." \
  --comment "huggingface/datasets: load_dataset's errors (quantize.py / convert_checkpoint.py --smoothquant load their calibration set with it)." \
  --comment "huggingface/transformers@4.34.0 / 4.46.3: the model folder checks of utils/hub.py and AutoConfig (configuration_auto.py);" \
  --comment "  4.34.0's bare KeyError for an unknown model_type (before the ValueError of 4.37+)."
if [ $# -eq 0 ]; then
  $P tools/harvest_messages.py --family modelopt --git "nvidia-modelopt=$MW@0.11.2,0.13.1,0.15.1,0.17.0,0.19.0,0.21.1" \
    --git "NVIDIA/TensorRT-Model-Optimizer=$M@0.23.0,0.27.0,0.33.0,0.39.0" \
    --comment "NVIDIA/TensorRT-Model-Optimizer (nvidia-modelopt, which TensorRT-LLM's quantize.py calls): export and import-time messages." \
    --comment "nvidia-modelopt@0.11.2 … 0.21.1: the PyPI wheels (pip download --no-deps nvidia-modelopt==V), the releases TensorRT-LLM 0.10 … 0.16" \
    --comment "  pin, before the repository's first tag (0.23.0): modelopt/torch/export and the package __init__ files, read as one commit per wheel."
fi
