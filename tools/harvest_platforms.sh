#!/usr/bin/env bash
# Re-harvest the tensorrt_sdist and wsl catalogue families (offline) from local copies:
#   TRTREPO  a git directory of NVIDIA/TensorRT (tags v9.3.0 v10.0.1 v10.3.0 v10.8.0 v10.13.3 are read: the frontend sdist's
#            python/packaging/frontend_sdist/setup.py, its ##…## placeholders filled as python/packaging's CMake step does)
#   DRV      the NVIDIA driver 580.159.04's nvidia-smi and libnvidia-ml.so.580.159.04 (as for harvest_all.sh)
#   CUDART   libcudart.so.12 of the nvidia-cuda-runtime-cu12 12.9.79 wheel
#   TRTSDIST the tensorrt-cu12 sdists from PyPI, unpacked as TRTSDIST/cu12-VERSION (pip download --no-deps --no-binary :all:
#            tensorrt-cu12==VERSION; the build fails on purpose without NVIDIA's index, `--no-clean` keeps the tree):
#            10.0.1 10.1.0 10.2.0 10.3.0 10.4.0 10.5.0 10.6.0 10.7.0 10.8.0.43 10.13.3.9 10.14.1.48 (10.15.1.29 and 11.x check no
#            platform).  Their setup.py is what pip runs: the platform checks, and (8.6.1 … 10.8, unless
#            NVIDIA_TENSORRT_DISABLE_INTERNAL_PIP is set) a nested `pip install` of tensorrt_cu12_libs / _bindings from
#            https://pypi.nvidia.com through subprocess.check_call, whose CalledProcessError is CPython 3.11.2's subprocess.py.
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
SD=${TRTSDIST:?set TRTSDIST}
for v in 10.0.1 10.1.0 10.2.0 10.3.0 10.4.0 10.5.0 10.6.0 10.7.0 10.8.0.43 10.13.3.9 10.14.1.48; do
  mkdir -p "$TMP/cu12-$v" && cp "$SD/cu12-$v/setup.py" "$TMP/cu12-$v/"
  args+=(--tree "tensorrt-cu12@$v=$TMP/cu12-$v")
done
$H --family tensorrt_sdist "${args[@]}" --binary cpython@3.11.2:subprocess.py=/usr/lib/python3.11/subprocess.py \
  --comment "NVIDIA/TensorRT python/packaging/frontend_sdist/setup.py at v9.3.0, v10.0.1, v10.3.0, v10.8.0 and v10.13.3: the sdist pip" \
  --comment "  builds for tensorrt / tensorrt-cu12 when the index it reads has no wheel for this platform (Jetson, another OS or CPU)," \
  --comment "  and the tensorrt-cu12 10.0.1 … 10.14.1.48 sdists as PyPI serves them (the Tegra check is there from 10.5.0 on)."
rm -rf "$TMP"
D=${DRV:?set DRV}
$H --family wsl --binary nvidia-smi@580.159.04=$D/nvidia-smi --binary libnvidia-ml@580.159.04=$D/libnvidia-ml.so.580.159.04 \
  --binary cuda-runtime@12.9.79=${CUDART:?set CUDART} --binary glibc@2.36:ldconfig=/sbin/ldconfig \
  --comment "What CUDA and NVML print under WSL 2 (and Docker Desktop's WSL 2 backend) when the Windows host does not give the GPU."
