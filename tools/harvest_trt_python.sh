#!/usr/bin/env bash
# Harvest the onnx_tensorrt and tensorrt_python catalogue families (offline).  Set the folders:
#   ONNXTRT   a git directory of onnx/onnx-tensorrt (branches 8.6-GA, 9.0-GA, 9.1, 9.2, 9.3, 10.0-GA, 10.1-GA are read)
#   TRTREPO   a git directory of NVIDIA/TensorRT (tags v8.6.1, v9.3.0: python/packaging; their ##…## placeholders are
#             filled as python/packaging's CMake configure step fills them: module tensorrt, CUDA 12, cuDNN 8)
#   TRTWHEELS unpacked wheels / sdists from PyPI: tensorrt-cu12-bindings 10.3.0, 10.8.0.43, 10.13.3.9 (win_amd64, cp311;
#             pip download --no-deps --only-binary :all: --platform win_amd64 --python-version 3.11) as
#             TRTWHEELS/bwVERSION, and the tensorrt-cu12 10.3.0 sdist as TRTWHEELS/tensorrt-cu12-10.3.0
#   CPYWIN    Python/dynload_win.c of python/cpython@003b808ec233e3753cd0af525b6f938dd5081f80 (the Windows loader's message)
#   CTYPESWIN excerpts of Modules/_ctypes/callproc.c (load_library's PyErr_Format for ERROR_MOD_NOT_FOUND, read from the
#             public-code index) as CTYPESWIN/007c11dfe0eaab034b21155bb1c27ffe26b476d5/Modules/_ctypes/callproc.c ("Could not
#             find module '%.500S'. Try using the full path …") and CTYPESWIN/77dabaf281614f6f0b894168b05151362365cdd2/… (the
#             3.8+ wording with "(or one of its dependencies)"); first line "// excerpt …"
#   TRTLLM_IMPORT a verbatim excerpt (first line "# excerpt …") of a stored NVIDIA/TensorRT-LLM file that imports the compiled
#             module (index id 5794948813: `import tensorrt_llm.bindings as tllm`), as one file
# CPython 3.11.2's importlib/_bootstrap.py is read from this Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
H="$P tools/harvest_messages.py"
$H --family onnx_tensorrt --git onnx/onnx-tensorrt=${ONNXTRT:?set ONNXTRT}@8.6-GA,9.0-GA,9.1,9.2,9.3,10.0-GA,10.1-GA
TMP=$(mktemp -d)
for t in v8.6.1 v9.3.0; do
  mkdir -p "$TMP/$t"
  git --git-dir="${TRTREPO:?set TRTREPO}" archive "$t" python/packaging | tar x -C "$TMP/$t"
  v=${t#v}
  grep -rl '##' "$TMP/$t" | xargs sed -i "s/##TENSORRT_MODULE##/tensorrt/g; s/##TENSORRT_PYTHON_VERSION##/$v/g; s/##CUDA_MAJOR##/12/g; s/##CUDNN_MAJOR##/8/g; s/##TENSORRT_MAJOR##/${v%%.*}/g; s/##TENSORRT_PLUGIN_DISABLED##/False/g"
done
W=${TRTWHEELS:?set TRTWHEELS}
$H --family tensorrt_python \
  --tree NVIDIA/TensorRT@v8.6.1=$TMP/v8.6.1/python/packaging --tree NVIDIA/TensorRT@v9.3.0=$TMP/v9.3.0/python/packaging \
  --tree tensorrt-cu12-bindings@10.3.0=$W/bw10.3.0/tensorrt_bindings --tree tensorrt-cu12-bindings@10.8.0.43=$W/bw10.8.0.43/tensorrt_bindings \
  --tree tensorrt-cu12-bindings@10.13.3.9=$W/bw10.13.3.9/tensorrt_bindings \
  --tree tensorrt-cu12@10.3.0=$W/tensorrt-cu12-10.3.0 \
  --binary tensorrt-cu12@10.3.0:tensorrt/__init__.py=$W/tensorrt-cu12-10.3.0/tensorrt/__init__.py \
  --binary cpython@3.11.2:importlib/_bootstrap.py=/usr/lib/python3.11/importlib/_bootstrap.py \
  --binary cpython@3.11.2=/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 \
  --binary python/cpython@003b808ec233e3753cd0af525b6f938dd5081f80:Python/dynload_win.c=${CPYWIN:?set CPYWIN} \
  --tree python/cpython@007c11dfe0eaab034b21155bb1c27ffe26b476d5=${CTYPESWIN:?set CTYPESWIN}/007c11dfe0eaab034b21155bb1c27ffe26b476d5 \
  --tree python/cpython@77dabaf281614f6f0b894168b05151362365cdd2=$CTYPESWIN/77dabaf281614f6f0b894168b05151362365cdd2 \
  --binary NVIDIA/TensorRT-LLM@stored-5794948813=${TRTLLM_IMPORT:?set TRTLLM_IMPORT}
rm -rf "$TMP"
