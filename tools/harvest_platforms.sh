#!/usr/bin/env bash
# Re-harvest the tensorrt_sdist and wsl catalogue families (offline) from local copies:
#   TRTREPO  a git directory of NVIDIA/TensorRT (tags v9.3.0 v10.0.1 v10.3.0 v10.8.0 v10.13.3 are read: the frontend sdist's
#            python/packaging/frontend_sdist/setup.py, its ##…## placeholders filled as python/packaging's CMake step does)
#   DRV      the NVIDIA driver 580.159.04's nvidia-smi and libnvidia-ml.so.580.159.04 (as for harvest_all.sh)
#   CUDART   libcudart.so.12 of the nvidia-cuda-runtime-cu12 12.9.79 wheel
# /sbin/ldconfig is read from this Debian 12 machine (glibc 2.36).
# (v10.15 and later no longer check the platform in setup.py; v11 builds through tensorrt_build_backend.)
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
H="$P tools/harvest_messages.py"
G=${TRTREPO:?set TRTREPO}
TMP=$(mktemp -d)
args=()
for t in v9.3.0 v10.0.1 v10.3.0 v10.8.0 v10.13.3; do
  mkdir -p "$TMP/$t"
  git --git-dir="$G" archive "$t" python/packaging/frontend_sdist/setup.py | tar x -C "$TMP/$t"
  v=${t#v}
  sed -i "s/##TENSORRT_MODULE##/tensorrt/g; s/##TENSORRT_PYTHON_VERSION##/$v/g; s/##CUDA_MAJOR##/12/g; s/##CUDNN_MAJOR##/8/g; s/##TENSORRT_MAJOR##/${v%%.*}/g" "$TMP/$t/python/packaging/frontend_sdist/setup.py"
  args+=(--tree "NVIDIA/TensorRT@$t=$TMP/$t")
done
$H --family tensorrt_sdist "${args[@]}" \
  --comment "NVIDIA/TensorRT python/packaging/frontend_sdist/setup.py at v9.3.0, v10.0.1, v10.3.0, v10.8.0 and v10.13.3: the sdist pip" \
  --comment "  builds for tensorrt / tensorrt-cu12 when the index it reads has no wheel for this platform (Jetson, another OS or CPU)."
rm -rf "$TMP"
D=${DRV:?set DRV}
$H --family wsl --binary nvidia-smi@580.159.04=$D/nvidia-smi --binary libnvidia-ml@580.159.04=$D/libnvidia-ml.so.580.159.04 \
  --binary cuda-runtime@12.9.79=${CUDART:?set CUDART} --binary glibc@2.36:ldconfig=/sbin/ldconfig \
  --comment "What CUDA and NVML print under WSL 2 (and Docker Desktop's WSL 2 backend) when the Windows host does not give the GPU."
