#!/usr/bin/env bash
# Re-harvest every catalogue family from local copies of the sources (offline).  Set the folders:
#   MIRROR  git directories of the triton-inference-server repositories (tensorrtllm_backend, server,
#           core, python_backend, tensorrt_backend), as MIRROR/triton-inference-server+NAME/repo
#   WHEELS  unpacked wheels: tensorrt-lean-cu12-libs 10.16.1.11 and 11.4.0.106, tensorrt-dispatch-cu12-libs
#           11.4.0.106, nvidia-cuda-runtime-cu12 12.9.79, nvidia-nccl-cu12 2.27.3, transformers 4.46.3 and
#           5.24.0, uvicorn 0.54.0 (pip download --no-deps NAME==VERSION; unzip -d WHEELS/NAME-VERSION)
#   TF_LLAMA  transformers 4.31.0, 4.38.2, 4.40.2 and 4.42.4 (pip download --no-deps transformers==V; unzip -d TF_LLAMA/V
#           transformers/models/llama/configuration_llama.py): LlamaConfig's rope_scaling check before 4.43 (Llama 3.1's rope_type)
#   SITE    a site-packages holding safetensors 0.8.0, tokenizers 0.23.3, nvidia-ml-py 13.615.71
#   PIPSRC  unpacked pip sdists pip-20.3.4 pip-21.3.1 pip-22.0.2 pip-22.3.1 pip-23.0.1 pip-23.3.2 pip-24.0 pip-24.2 pip-25.0.1 pip-25.1.1 pip-25.3
#           (pip download --no-deps --no-binary :all: pip==V; tar xzf)
#           (or the pip wheels of those versions unzipped as pip-V/src/pip: the same pip/_internal files, so the same origins)
#   NUMPY   numpy files from the wheels numpy 1.26.4, 2.0.2 and 2.2.6 (pip download --no-deps numpy==V; unzip -d
#           NUMPY/npV): core/include/numpy/__multiarray_api.h (1.26.4), core/_multiarray_umath.py (2.x); and the
#           Cython 3.0.11 wheel's Cython/Utility/ImportExport.c, as NUMPY/cython-3.0.11/Cython/Utility/ImportExport.c
#   TORCHSRC torch/cuda/__init__.py of the torch wheels 2.1.2, 2.4.1, 2.7.1 (macosx_11_0_arm64 wheels: the Python files
#           are those of every platform) and 2.13.0+cpu, as TORCHSRC/tV/torch/cuda/__init__.py; and
#           torch/lib/libtorch_python.so of 2.13.0+cpu (TORCHSRC/t2.13.0/torch/lib/libtorch_python.so)
#   STUBS   the PyPI placeholders of NVIDIA's packages: nvidia-stub 0.1.8 and wheel-stub 0.5.0 (unzipped wheels, as
#           STUBS/nvidia_stub, STUBS/wheel_stub), the sdists tensorrt-cu12 10.3.0 (STUBS/tensorrt-cu12-10.3.0) and
#           tensorrt-llm 0.5.0 (STUBS/tensorrt-llm-0.5.0: the unpacked sdist; its setup.py fails by design, so
#           `pip download --no-clean` keeps it in the build folder)
#   TRTLLM_SETUP  verbatim excerpts (first line "# excerpt …") of two stored versions of NVIDIA/TensorRT-LLM's setup.py (its
#           sanity_check: the bindings not built before `pip install -e .`), as TRTLLM_SETUP/<index id>/setup.py: 2509283499, 4197059362
#   LNC     checkouts of NVIDIA/libnvidia-container at the commits named below, as LNC/<commit>/src/…
#   NCT     a git directory of NVIDIA/nvidia-container-toolkit (tag v1.17.8 is read)
#   JC      a git directory of dusty-nv/jetson-containers (commits of 2023-07, 2024-06, 2025-03 and dd206bfe71f9ed35a02d9b9d9954bddb1b649602, 2026-05)
#   DRV     the NVIDIA driver 580.159.04's nvidia-smi and libnvidia-ml.so.580.159.04 (from a machine with that driver)
#   K8S_EXCERPTS  kubernetes/kubernetes single stored files, as K8S_EXCERPTS/<commit>/<path> (tools/harvest_registry.sh)
#   Also in WHEELS: tensorrt-lean-cu12-libs 10.15.1.29 and 11.0.0.114, nvidia-nvml-dev-cu12 12.9.79, uvicorn 0.23.2 and 0.30.6
#   TRTLLM_TRITON  NVIDIA/TensorRT-LLM's triton_backend (where tensorrtllm_backend moved after v0.21): one folder per
#           stored file version read, named by its commit, holding the file at its repository path as a verbatim
#           excerpt (first line "# excerpt …"): 044a90d209e380c95e23e8ae42f3583fa05ada78 =
#           triton_backend/all_models/llmapi/tensorrt_llm/1/model.py (the llmapi model),
#           192908136e53ddfc2f282e81e6ecdb76af06eb50 = triton_backend/inflight_batcher_llm/src/utils.cc (request checks);
#           and the TensorRT-LLM runtime the backend links (the engine-input checks of cpp/tensorrt_llm/runtime/tllmRuntime.cpp):
#           v0.5.0, v0.7.1 = that file at the TensorRT-LLM commits tensorrtllm_backend v0.5.0 / v0.7.1 pin (git show of the
#           release tree, see tools/harvest_trtllm_sources.sh's TRTLLM_GIT), 0165bd7ac275dae69796767cdbb71ce1963506f3 = a later
#           stored version of it (verbatim excerpt), each as TRTLLM_TRITON/<label>/cpp/tensorrt_llm/runtime/tllmRuntime.cpp;
#           v0.5.0 and v0.7.1 also hold tensorrt_llm/runtime/generation.py (the Python runtime the backend's "gpt" model drives)
# System libraries are read from this Debian 12 machine (Open MPI 4.1.4, PMIx 4.2.2 for tools/harvest_distributed.sh, glibc 2.36,
# bash 5.2.15, libpython3.11 3.11.2).
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
M=${MIRROR:?set MIRROR}
W=${WHEELS:?set WHEELS}
S=${SITE:?set SITE}
H="$P tools/harvest_messages.py"
T=triton-inference-server
BK_TAGS=v0.5.0,v0.6.0,v0.6.1,v0.7.0,v0.7.1,v0.7.2,v0.8.0,v0.9.0,v0.10.0,v0.11.0,v0.12.0,v0.13.0,v0.14.0,v0.15.0,v0.16.0,v0.17.0,v0.18.0,v0.18.1,v0.18.2,v0.19.0,v0.20.0,v0.21.0,v1.0.0
REL=r23.10,r24.05,r24.12,r25.04,r25.10,r26.04,r26.06
TT=${TRTLLM_TRITON:?set TRTLLM_TRITON}
$H --family tensorrtllm_backend --git $T/tensorrtllm_backend=$M/$T+tensorrtllm_backend/repo@$BK_TAGS \
  --tree NVIDIA/TensorRT-LLM@044a90d209e380c95e23e8ae42f3583fa05ada78=$TT/044a90d209e380c95e23e8ae42f3583fa05ada78 \
  --tree NVIDIA/TensorRT-LLM@192908136e53ddfc2f282e81e6ecdb76af06eb50=$TT/192908136e53ddfc2f282e81e6ecdb76af06eb50 \
  --tree NVIDIA/TensorRT-LLM@v0.5.0=$TT/v0.5.0 --tree NVIDIA/TensorRT-LLM@v0.7.1=$TT/v0.7.1 \
  --tree NVIDIA/TensorRT-LLM@0165bd7ac275dae69796767cdbb71ce1963506f3=$TT/0165bd7ac275dae69796767cdbb71ce1963506f3
# triton: server v2.16.0 (21.11, whose src/core holds the core of before the split: the older wordings) first, so that the
# newest origin of a message is core's or the later server's
CORE_REL=r23.01,r23.04,r23.07,r23.10,r24.01,r24.05,r24.08,r24.12,r25.01,r25.04,r25.07,r25.10,r26.01,r26.04,r26.06
$H --family triton --git $T/server=$M/$T+server/repo@v2.16.0 --git $T/core=$M/$T+core/repo@$CORE_REL \
  --git $T/server=$M/$T+server/repo@v2.30.0,v2.33.0,v2.39.0,v2.46.0,v2.53.0,v2.57.0,v2.63.0,v2.69.0,v2.71.0
PB_REL=r23.01,r23.04,r23.07,r23.10,r24.01,r24.05,r24.08,r24.12,r25.01,r25.04,r25.07,r25.10,r26.01,r26.04,r26.06,r26.07
$H --family python_backend --git $T/python_backend=$M/$T+python_backend/repo@$PB_REL
$H --family triton_tensorrt --git $T/tensorrt_backend=$M/$T+tensorrt_backend/repo@$REL
TL=${TF_LLAMA:?set TF_LLAMA}
$H --family transformers --tree huggingface/transformers@4.31.0=$TL/4.31.0/transformers --tree huggingface/transformers@4.38.2=$TL/4.38.2/transformers \
  --tree huggingface/transformers@4.40.2=$TL/4.40.2/transformers --tree huggingface/transformers@4.42.4=$TL/4.42.4/transformers \
  --tree huggingface/transformers@4.46.3=$W/transformers-4.46.3/transformers --tree huggingface/transformers@5.24.0=$W/transformers-5.24.0/transformers
$H --family uvicorn --tree encode/uvicorn@0.23.2=$W/uvicorn-0.23.2/uvicorn --tree encode/uvicorn@0.30.6=$W/uvicorn-0.30.6/uvicorn --tree encode/uvicorn@0.54.0=$W/uvicorn-0.54.0/uvicorn --tree cpython@3.11.2:asyncio=/usr/lib/python3.11/asyncio
$H --family tensorrt \
  --binary tensorrt-lean@10.15.1.29=$W/tensorrt_lean_cu12_libs-10.15.1.29/tensorrt_lean_libs/libnvinfer_lean.so.10 \
  --binary tensorrt-lean@10.16.1.11=$W/tensorrt_lean_cu12_libs-10.16.1.11/tensorrt_lean_libs/libnvinfer_lean.so.10 \
  --binary tensorrt-lean@11.0.0.114=$W/tensorrt_lean_cu12_libs-11.0.0.114/tensorrt_lean_libs/libnvinfer_lean.so.11 \
  --binary tensorrt-lean@11.4.0.106=$W/tensorrt_lean_cu12_libs-11.4.0.106/tensorrt_lean_libs/libnvinfer_lean.so.11 \
  --binary tensorrt-dispatch@11.4.0.106=$W/tensorrt_dispatch_cu12_libs-11.4.0.106/tensorrt_dispatch_libs/libnvinfer_dispatch.so.11 \
  --binary cuda-runtime@12.9.79=$W/nvidia_cuda_runtime_cu12-12.9.79/nvidia/cuda_runtime/lib/libcudart.so.12
$H --family cuda --binary cuda-runtime@12.9.79=$W/nvidia_cuda_runtime_cu12-12.9.79/nvidia/cuda_runtime/lib/libcudart.so.12
$H --family system --binary pydantic-core@2.50.5=$S/pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so \
  --binary glibc@2.36=/lib/x86_64-linux-gnu/libc.so.6 --binary glibc@2.36:ld.so=/lib64/ld-linux-x86-64.so.2 \
  --binary openmpi@4.1.4:libopen-pal.so.40=/usr/lib/x86_64-linux-gnu/libopen-pal.so.40 --binary bash@5.2.15=/bin/bash \
  --binary cpython@3.11.2=/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 \
  --binary safetensors@0.8.0=$S/safetensors/_safetensors_rust.abi3.so \
  --binary tokenizers@0.23.3=$S/tokenizers/tokenizers.abi3.so \
  --binary nvidia-ml-py@13.615.71=$S/pynvml.py \
  --binary numpy@1.26.4:__multiarray_api.h=${NUMPY:?set NUMPY}/np1.26.4/numpy/core/include/numpy/__multiarray_api.h \
  --binary numpy@2.0.2:_multiarray_umath.py=$NUMPY/np2.0.2/numpy/core/_multiarray_umath.py \
  --binary numpy@2.2.6:_multiarray_umath.py=$NUMPY/np2.2.6/numpy/core/_multiarray_umath.py \
  --binary cython@3.0.11:Utility/ImportExport.c=$NUMPY/cython-3.0.11/Cython/Utility/ImportExport.c
TORCH_ARGS=()
for v in 2.1.2 2.4.1 2.7.1 2.13.0; do TORCH_ARGS+=(--binary "torch@$v:torch/cuda/__init__.py=${TORCHSRC:?set TORCHSRC}/t$v/torch/cuda/__init__.py"); done
TORCH_ARGS+=(--binary "torch@2.13.0:libtorch_python.so=$TORCHSRC/t2.13.0/torch/lib/libtorch_python.so")
$H --family torch "${TORCH_ARGS[@]}"
PIP_ARGS=()
for v in 20.3.4 21.3.1 22.0.2 22.3.1 23.0.1 23.3.2 24.0 24.2 25.0.1 25.1.1 25.3; do PIP_ARGS+=(--tree "pypa/pip@$v=${PIPSRC:?set PIPSRC}/pip-$v/src/pip/_internal"); done
ST=${STUBS:?set STUBS}
$H --family pip "${PIP_ARGS[@]}" --tree nvidia-stub@0.1.8=$ST/nvidia_stub --tree wheel-stub@0.5.0=$ST/wheel_stub \
  --tree tensorrt-cu12@10.3.0=$ST/tensorrt-cu12-10.3.0 \
  --binary nvidia-stub@0.1.8:ERROR.txt=$ST/nvidia_stub/ERROR.txt --binary wheel-stub@0.5.0:ERROR.txt=$ST/wheel_stub/ERROR.txt \
  --binary tensorrt-llm@0.5.0:ERROR.txt=$ST/tensorrt-llm-0.5.0/ERROR.txt \
  --tree NVIDIA/TensorRT-LLM@stored-2509283499=${TRTLLM_SETUP:?set TRTLLM_SETUP}/2509283499 --tree NVIDIA/TensorRT-LLM@stored-4197059362=$TRTLLM_SETUP/4197059362
L=${LNC:?set LNC}; N=NVIDIA/libnvidia-container; D=${DRV:?set DRV}
CDI=vendor/tags.cncf.io/container-device-interface/pkg/cdi/cache.go
mkdir -p /tmp/nct-v1.17.8 && git --git-dir="${NCT:?set NCT}" show v1.17.8:$CDI > /tmp/nct-v1.17.8/cache.go
$H --family libnvidia_container \
  --binary $N@09df17a2424704c1e4af310d3ce51fe475ba292a:src/cli/configure.c=$L/09df17a2424704c1e4af310d3ce51fe475ba292a/src/cli/configure.c \
  --binary $N@5823754b8577d16fabf25a6ef6a1d58f7ff1e5dd:src/cli/dsl.c=$L/5823754b8577d16fabf25a6ef6a1d58f7ff1e5dd/src/cli/dsl.c \
  --binary $N@06deb20d1ca438aa6c6c3ac9ba94d5b9885f1fb8:src/driver.c=$L/06deb20d1ca438aa6c6c3ac9ba94d5b9885f1fb8/src/driver.c \
  --binary $N@077f498c209832bc545e2ece46c3a2b7d1ed1e4c:src/utils.c=$L/077f498c209832bc545e2ece46c3a2b7d1ed1e4c/src/utils.c \
  --binary $N@02c1d95f0777a758356126b60a9c7e0954028e0d:src/cgroup_legacy.c=$L/02c1d95f0777a758356126b60a9c7e0954028e0d/src/cgroup_legacy.c \
  --binary $N@f35f091c6261496cef48f408dffa84c68e49e199:src/nvc.c=$L/f35f091c6261496cef48f408dffa84c68e49e199/src/nvc.c \
  --binary $N@0f8e13d6627d3ccb45f49cf5d4b9c4103b3a8d01:src/nvc_ldcache.c=$L/0f8e13d6627d3ccb45f49cf5d4b9c4103b3a8d01/src/nvc_ldcache.c \
  --binary NVIDIA/nvidia-container-toolkit@v1.17.8:$CDI=/tmp/nct-v1.17.8/cache.go \
  --binary nvidia-nvml-dev-cu12@12.9.79:nvml.h=$W/nvidia_nvml_dev_cu12-12.9.79/nvidia/nvml_dev/include/nvml.h \
  --binary libnvidia-ml@580.159.04=$D/libnvidia-ml.so.580.159.04
$H --family nvidia_driver --binary nvidia-smi@580.159.04=$D/nvidia-smi --binary libnvidia-ml@580.159.04=$D/libnvidia-ml.so.580.159.04
$H --family jetson_containers --git dusty-nv/jetson-containers=${JC:?set JC}@43b11962c1c8508ca044c1116d4257522dc66d9e,78159ca37d3195afdade81688e22a34cd7a89dbc,90735533fa3f90453b2027d1459a3c9bed498493,dd206bfe71f9ed35a02d9b9d9954bddb1b649602
$H --family click --tree pallets/click@8.5.1=$S/click
# mpi, nccl and tensorrt_llm_dist: Open MPI / PRRTE / NCCL git directories under MIRROR, the NCCL wheel under WHEELS,
# TensorRT-LLM executor excerpts (see the script)
TRTLLM_DIST_TREES=${TRTLLM_DIST_TREES:?set TRTLLM_DIST_TREES} MIRROR=$M WHEELS=$W PYTHON=$P bash tools/harvest_distributed.sh
# registry, docker and kubernetes: distribution, containerd, containers/image, moby git directories under MIRROR, the
# kubernetes single-file excerpts under K8S_EXCERPTS, NVIDIA/k8s-device-plugin (see the script)
MIRROR=$M K8S_EXCERPTS=${K8S_EXCERPTS:?set K8S_EXCERPTS} PYTHON=$P bash tools/harvest_registry.sh
# onnx_tensorrt and tensorrt_python: TensorRT ONNX parser and Python packages (see the script)
ONNXTRT=${ONNXTRT:?set ONNXTRT} TRTREPO=${TRTREPO:?set TRTREPO} TRTWHEELS=${TRTWHEELS:?set TRTWHEELS} CPYWIN=${CPYWIN:?set CPYWIN} CTYPESWIN=${CTYPESWIN:?set CTYPESWIN} TRTLLM_IMPORT=${TRTLLM_IMPORT:?set TRTLLM_IMPORT} PYTHON=$P bash tools/harvest_trt_python.sh
# mpi4py_build: mpi4py's own build from its sdists (see the script)
MPI4PY=${MPI4PY:?set MPI4PY} PYTHON=$P bash tools/harvest_mpi4py.sh
# trtexec, polygraphy and deepstream: NVIDIA/TensorRT samples and Polygraphy, DeepStream nvinfer sources, DeepStream-Yolo (see the script)
TRTREPO=${TRTREPO:?set TRTREPO} DSSRC=${DSSRC:?set DSSRC} DSYOLO=${DSYOLO:?set DSYOLO} PYTHON=$P bash tools/harvest_trt_tools.sh
# tensorrt_sdist and wsl: the tensorrt frontend sdist's platform checks, NVML / CUDA / ldconfig under WSL 2 (see the script)
TRTREPO=$TRTREPO TRTSDIST=${TRTSDIST:?set TRTSDIST} DRV=$D CUDART=$W/nvidia_cuda_runtime_cu12-12.9.79/nvidia/cuda_runtime/lib/libcudart.so.12 PYTHON=$P bash tools/harvest_platforms.sh
# tools/harvest_source_build.sh (tensorrt_llm_source_build) reads a TensorRT-LLM git directory, excerpts and this machine's CMake / binutils.
# Families read from excerpt trees of single stored files (NVIDIA/TensorRT-LLM and ai-dynamo/dynamo are too large to
# mirror) have their own scripts, each naming its folders in its header; run them after this one:
#   tools/harvest_trtllm_sources.sh (tensorrt_llm_sources, linux), tools/harvest_trtllm_build.sh (tensorrt_llm_build and
#   trtdiag/data/trtllm_build_options.json), tools/harvest_trtllm_torch.sh (tensorrt_llm_torch),
#   tools/harvest_trtllm_kernels.sh (tensorrt_llm_kernels), tools/harvest_trtllm_kv.sh (tensorrt_llm_kv), tools/harvest_trtllm_convert.sh (tensorrt_llm_convert,
#   modelopt), tools/harvest_dynamo.sh (dynamo), tools/harvest_gpu_arch.sh (gpu_arch_wordings: ptxas / nvcc wheels, TensorRT
#   lean / dispatch runtimes, NVIDIA/FasterTransformer, Dao-AILab/flash-attention, triton wheels)
