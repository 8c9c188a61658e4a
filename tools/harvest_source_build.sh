#!/usr/bin/env bash
# Re-harvest the tensorrt_llm_source_build catalogue family (offline): what a TensorRT-LLM source build prints when its
# inputs are missing (TensorRT's headers or libraries, the CUDA compiler, the Git LFS files), from local copies:
#   TRTLLM_GIT    a git directory of NVIDIA/TensorRT-LLM holding the release commits ffd5af342a81 (v0.5.0) and
#                 80bc07510ac4 (v0.7.1), as for tools/harvest_trtllm_sources.sh (branches release/0.5.0 and release/v0.7.1 of
#                 a public mirror): cpp/CMakeLists.txt, cpp/tensorrt_llm/CMakeLists.txt,
#                 cpp/cmake/modules/find_library_create_target.cmake and scripts/build_wheel.py are read
#   SB_EXCERPTS   verbatim excerpts (first line "# excerpt …") of single stored files of later releases, as
#                 SB_EXCERPTS/<commit>/<path>: 020a73933022051ee7e9973a12dc83d9073c9476/cpp/tensorrt_llm/CMakeLists.txt
#                 (the internal_cutlass_kernels LFS check, the aarch64 OS check), 02fbea289e7a36f3e4d7bcdb4fb326188bc44967/
#                 cpp/cmake/modules/FindTensorRT.cmake and cpp/CMakeLists.txt (find_package(TensorRT 10 REQUIRED …))
# CMake 3.25.1 (Debian 12: /usr/bin/cmake, /usr/share/cmake-3.25/Modules) and GNU ld of binutils 2.40 (/usr/bin/ld, the
# strings of libbfd-2.40-system.so) are read from this machine: the messages the build's own tools print
# (find_package_handle_standard_args' "Could NOT find", the CUDA compiler search, file(STRINGS), ld on a file that is
# not an object file).  Each CMake file is read as text (--binary); the [[binary]] rules of the family say which
# assembled messages they print.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
G=${TRTLLM_GIT:?set TRTLLM_GIT}
X=${SB_EXCERPTS:?set SB_EXCERPTS}
H="$P tools/harvest_messages.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ARGS=()
for pair in v0.5.0=release/0.5.0 v0.7.1=release/v0.7.1; do
  tag=${pair%%=*}; ref=${pair#*=}
  for path in cpp/CMakeLists.txt cpp/tensorrt_llm/CMakeLists.txt cpp/cmake/modules/find_library_create_target.cmake; do
    out="$TMP/$tag/$path"; mkdir -p "$(dirname "$out")"
    git --git-dir="$G" show "$ref:$path" > "$out"
    ARGS+=(--binary "NVIDIA/TensorRT-LLM@$tag:$path=$out")
  done
  mkdir -p "$TMP/py-$tag/scripts"
  git --git-dir="$G" show "$ref:scripts/build_wheel.py" > "$TMP/py-$tag/scripts/build_wheel.py"
  ARGS+=(--tree "NVIDIA/TensorRT-LLM@$tag=$TMP/py-$tag")
done
ARGS+=(--binary "NVIDIA/TensorRT-LLM@020a73933022051ee7e9973a12dc83d9073c9476:cpp/tensorrt_llm/CMakeLists.txt=$X/020a73933022051ee7e9973a12dc83d9073c9476/cpp/tensorrt_llm/CMakeLists.txt")
ARGS+=(--binary "NVIDIA/TensorRT-LLM@02fbea289e7a36f3e4d7bcdb4fb326188bc44967:cpp/cmake/modules/FindTensorRT.cmake=$X/02fbea289e7a36f3e4d7bcdb4fb326188bc44967/cpp/cmake/modules/FindTensorRT.cmake")
ARGS+=(--binary "NVIDIA/TensorRT-LLM@02fbea289e7a36f3e4d7bcdb4fb326188bc44967:cpp/CMakeLists.txt=$X/02fbea289e7a36f3e4d7bcdb4fb326188bc44967/cpp/CMakeLists.txt")
CM=/usr/share/cmake-3.25/Modules
ARGS+=(--binary "cmake@3.25.1:Modules/FindPackageHandleStandardArgs.cmake=$CM/FindPackageHandleStandardArgs.cmake")
ARGS+=(--binary "cmake@3.25.1:Modules/CMakeDetermineCUDACompiler.cmake=$CM/CMakeDetermineCUDACompiler.cmake")
ARGS+=(--binary "cmake@3.25.1=/usr/bin/cmake")
ARGS+=(--binary "binutils@2.40:ld=/usr/bin/ld" --binary "binutils@2.40:libbfd=/usr/lib/x86_64-linux-gnu/libbfd-2.40-system.so")
$H --family tensorrt_llm_source_build "${ARGS[@]}" \
  --comment "NVIDIA/TensorRT-LLM v0.5.0 = ffd5af342a81 and v0.7.1 = 80bc07510ac4 (git trees); 020a7393 and 02fbea28 are single stored files of later" \
  --comment "  releases (verbatim excerpts; their origins name the file, no line). CMake 3.25.1 and binutils 2.40 as Debian 12 ships them."
