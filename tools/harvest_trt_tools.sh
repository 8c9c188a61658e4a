#!/usr/bin/env bash
# Harvest the trtexec, polygraphy and deepstream catalogue families (offline).  Set the folders:
#   TRTREPO   a git directory of NVIDIA/TensorRT: samples/common, samples/utils, samples/trtexec and samples/python (the
#             Python samples most build scripts copy: "ERROR: Failed to parse the ONNX file.") (trtexec) at
#             v8.6.1, v10.0.1, v10.4.0, v10.8.0, v10.13.0, v10.16, v11.1; tools/Polygraphy/polygraphy (polygraphy) at
#             v8.6.1, v9.3.0, v10.4.0, v10.13.0, v10.16
#   DSSRC     a git directory of hiennguyen9874/deepstream-sources (the DeepStream SDK's sources/ folder as the SDK
#             images ship it; branches 6.0.1 = e2d73ae1, 6.2 = 3b4e4ce4, 6.3 = 1321cadc): sources/libs/nvdsinfer
#             (libnvds_infer, the library gst-nvinfer calls) and sources/gst-plugins/gst-nvinfer
#   DSYOLO    a git directory of marcoslucianops/DeepStream-Yolo (nvdsinfer_custom_impl_Yolo at 2ccf5298, the custom
#             library most DeepStream YOLO deployments build)
# The builder's own messages (libnvinfer: network validation, tactic selection) are not in these sources; they are
# in tools/catalogue_rules.toml only where a downloadable library holds them (family tensorrt).
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
H="$P tools/harvest_messages.py"
G=${TRTREPO:?set TRTREPO}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
args=()
for t in v8.6.1 v10.0.1 v10.4.0 v10.8.0 v10.13.0 v10.16 v11.1; do
  mkdir -p "$TMP/trtexec/$t"
  paths=(samples/common samples/trtexec)
  git --git-dir="$G" cat-file -e "$t:samples/utils" 2>/dev/null && paths+=(samples/utils)
  git --git-dir="$G" cat-file -e "$t:samples/python/common.py" 2>/dev/null && paths+=(samples/python)
  git --git-dir="$G" archive "$t" "${paths[@]}" | tar x -C "$TMP/trtexec/$t"
  args+=(--tree "NVIDIA/TensorRT@$t=$TMP/trtexec/$t")
done
$H --family trtexec "${args[@]}" \
  --comment "NVIDIA/TensorRT samples/trtexec, samples/common (trtexec's option parser, engine build and load), samples/utils" \
  --comment "  and samples/python (the Python samples' ONNX build helpers)"
args=()
for t in v8.6.1 v9.3.0 v10.4.0 v10.13.0 v10.16; do
  mkdir -p "$TMP/polygraphy/$t"
  git --git-dir="$G" archive "$t" tools/Polygraphy/polygraphy | tar x -C "$TMP/polygraphy/$t"
  args+=(--tree "NVIDIA/TensorRT@$t=$TMP/polygraphy/$t")
done
$H --family polygraphy "${args[@]}" --comment "NVIDIA/TensorRT tools/Polygraphy/polygraphy (the polygraphy CLI and its TensorRT / ONNX loaders)"
D=${DSSRC:?set DSSRC}
Y=${DSYOLO:?set DSYOLO}
args=()
for b in 6.0.1:e2d73ae1018727e71933cb46b8e9eb8da9772a8a 6.2:3b4e4ce4a9c224f6413121ffab3f5cde06163f52 6.3:1321cadcbf351f1e4735d69a07e1893f7f5177a1; do
  v=${b%%:*}; c=${b#*:}
  mkdir -p "$TMP/ds/$v"
  git --git-dir="$D" archive "$c" sources/libs/nvdsinfer sources/gst-plugins/gst-nvinfer | tar x -C "$TMP/ds/$v"
  args+=(--tree "hiennguyen9874/deepstream-sources@$v=$TMP/ds/$v")
done
YC=2ccf52987ce1a18fc18ca5b3ba559a599259ade2
mkdir -p "$TMP/dsy"
git --git-dir="$Y" archive "$YC" nvdsinfer_custom_impl_Yolo | tar x -C "$TMP/dsy"
$H --family deepstream "${args[@]}" --tree "marcoslucianops/DeepStream-Yolo@$YC=$TMP/dsy" \
  --comment "DeepStream SDK 6.0.1 / 6.2 / 6.3 sources/libs/nvdsinfer and sources/gst-plugins/gst-nvinfer (as mirrored by" \
  --comment "  hiennguyen9874/deepstream-sources, one branch per release), marcoslucianops/DeepStream-Yolo nvdsinfer_custom_impl_Yolo"
