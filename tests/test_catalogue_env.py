"""The Python environment, shared libraries and ABI: the loader's (glibc ld.so) wordings for a library
that is missing or too old, NumPy's and PyTorch's own checks, and pip / NVIDIA's PyPI placeholders.
Every line here is written from the catalogue's templates (their origins: glibc@2.36:ld.so,
numpy@1.26.4 / 2.0.2, torch@2.1.2 … 2.13.0, pypa/pip@23.0.1 … 25.3, nvidia-stub@0.1.8,
wheel-stub@0.5.0, tensorrt-llm@0.5.0) with the library names the stack's releases use, never taken
from a frozen evaluation log."""

from __future__ import annotations

import pytest

from trtdiag.logscan.templates import catalogue
from tests.conftest import explain_text


def test_the_environment_families_carry_their_sources():
    by_template = {(m["family"], m["template"]): m for m in catalogue()}
    assert by_template[("torch", "Torch not compiled with CUDA enabled")]["first"].startswith("torch@2.1.2")
    assert by_template[("system", "A module that was compiled using NumPy 1.x cannot be run in")]["origin"].startswith("numpy@2.")
    assert by_template[("pip", "Didn't find wheel for {distribution} {version}")]["entry"] == "trt-pip-no-matching-wheel"
    assert by_template[("pip", "The package you are trying to install is only a placeholder project on PyPI.org repository.")]["origin"] == "tensorrt-llm@0.5.0:ERROR.txt"


CASES = [
    # Triton's shared_library.cc wraps dlerror(); ld.so's "cannot open shared object file"
    ("E0607 10:11:12.123456 1 model_lifecycle.cc:638] failed to load 'tensorrt_llm' version 1: Not found: unable to load shared library: libnvinfer.so.10: cannot open shared object file: No such file or directory",
     "tensorrt-library-not-found", {"library": "libnvinfer.so.10", "major": "10"}),
    # ld.so when a program cannot start
    ("trtexec: error while loading shared libraries: libnvinfer.so.10: cannot open shared object file: No such file or directory",
     "tensorrt-library-not-found", {"major": "10"}),
    # TensorRT 10's builder dlopens its resource library by full soname
    ("[TRT] [E] 6: [libLoader.cpp::Impl::293] Error Code 6: API Usage Error (Unable to load library: libnvinfer_builder_resource.so.10.0.1: libnvinfer_builder_resource.so.10.0.1: cannot open shared object file: No such file or directory)",
     "tensorrt-library-not-found", {"library": "libnvinfer_builder_resource.so.10.0.1"}),
    ("OSError: libcublasLt.so.12: cannot open shared object file: No such file or directory", "cuda-library-not-found", {"library": "libcublasLt.so.12"}),
    ("ImportError: libnccl.so.2: cannot open shared object file: No such file or directory", "cuda-library-not-found", {"major": "2"}),
    ("Could not load library libcudnn_cnn_infer.so.8. Error: libcudnn_cnn_infer.so.8: cannot open shared object file: No such file or directory",
     "cuda-library-not-found", {"library": "libcudnn_cnn_infer.so.8"}),
    ("OSError: libcuda.so.1: cannot open shared object file: No such file or directory", "gpu-no-driver", {"library": "libcuda.so.1"}),
    ("/usr/local/lib/python3.10/dist-packages/tensorrt_llm/bin/executorWorker: error while loading shared libraries: libtensorrt_llm.so: cannot open shared object file: No such file or directory",
     "trtllm-plugin-library-missing", {"library": "libtensorrt_llm.so"}),
    # ld.so's symbol-version check: libstdc++ and glibc are two failures with two fixes
    ("ImportError: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found (required by /opt/x/lib/libfoo.so)",
     "libstdcxx-too-old", {"version": "GLIBCXX_3.4.30", "required_by": "/opt/x/lib/libfoo.so"}),
    ("ImportError: /opt/conda/lib/libstdc++.so.6: version `CXXABI_1.3.15' not found (required by /opt/x/lib/libfoo.so)", "libstdcxx-too-old", {"version": "CXXABI_1.3.15"}),
    ("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /usr/local/lib/python3.10/dist-packages/tensorrt_llm/libs/libtensorrt_llm_ucx_wrapper.so)",
     "glibc-too-old", {"version": "GLIBC_2.38"}),
    # NumPy's import_array() (numpy/core/include/numpy/__multiarray_api.h): a module built for NumPy 2 under 1.x
    ("RuntimeError: module compiled against ABI version 0x2000000 but this version of numpy is 0x1000009",
     "numpy-abi-mismatch", {"compiled_abi": "2000000", "numpy_abi": "1000009"}),
    ("UserWarning: Failed to initialize NumPy: _ARRAY_API not found (Triggered internally at /pytorch/torch/csrc/utils/tensor_numpy.cpp:84.)",
     "numpy-abi-mismatch", {}),
    # torch 2.13's wording of the unsupported-GPU warning
    ("Found GPU0 NVIDIA GeForce RTX 5090 which is of compute capability (CC) 12.0.", "gpu-arch-unsupported", {"gpu": "NVIDIA GeForce RTX 5090", "cc_major": "12"}),
    # nvidia-stub / wheel-stub and pip's resolver
    ("RuntimeError: Didn't find wheel for tensorrt-llm 0.11.0", "trt-pip-no-matching-wheel", {"package": "tensorrt-llm", "version": "0.11.0"}),
    ("ERROR: Package 'tensorrt-llm' requires a different Python: 3.11.5 not in '<3.11,>=3.10'", "trt-pip-no-matching-wheel", {"python": "3.11.5"}),
    ("ERROR: No matching distribution found for tensorrt_llm==0.9.0", "trt-pip-no-matching-wheel", {"package": "tensorrt_llm"}),
    # pip's dependency-conflict warning (commands/install.py), by the package it names
    ("tensorrt-llm 0.19.0 requires torch<=2.7.0a0,>=2.6.0, but you have torch 2.7.0+cu128 which is incompatible.",
     "trtllm-torch-abi-mismatch", {"requirement": "torch<=2.7.0a0,>=2.6.0", "found": "2.7.0+cu128"}),
    ("tensorrt-llm 0.12.0 requires tensorrt==10.3.0, but you have tensorrt 10.4.0 which is incompatible.",
     "engine-tensorrt-library-conflict", {"found": "10.4.0"}),
    ("onnx 1.14.1 requires numpy<2,>=1.20, but you have numpy 2.0.2 which is incompatible.", "numpy-abi-mismatch", {"found": "2.0.2"}),
    ("      The installation of tensorrt-llm for version 0.11.0 failed.", "trt-pip-install-failed", {"package": "tensorrt-llm"}),
    # CPython's ModuleNotFoundError for the stack's own packages; in Triton's Python stub it is the model's import
    ("ModuleNotFoundError: No module named 'tensorrt_llm'", "trtllm-python-package-missing", {"module": "tensorrt_llm"}),
    ("I0122 10:11:12.123456 1 pb_stub.cc:389] Failed to initialize Python stub: ModuleNotFoundError: No module named 'tensorrt_llm'",
     "triton-python-module-missing", {"module": "tensorrt_llm"}),
    ("| tensorrt_llm_bls | 1 | UNAVAILABLE: Internal: ModuleNotFoundError: No module named 'tensorrt_llm'", "triton-python-module-missing", {}),
    # ld.so's "undefined symbol": the namespace of the symbol names the library that does not match
    ("ImportError: /usr/lib/python3/dist-packages/tensorrt/tensorrt.so: undefined symbol: _ZN8nvinfer117IPluginRegistry10getCreatorEPKcS2_S2_",
     "engine-tensorrt-library-conflict", {"library": "tensorrt.so"}),
    ("ImportError: /opt/tritonserver/backends/pytorch/libtriton_pytorch.so: undefined symbol: _ZNK3c1010TensorImpl4sizeEl",
     "trtllm-torch-abi-mismatch", {"symbol": "_ZNK3c1010TensorImpl4sizeEl"}),
]


@pytest.mark.parametrize("line,entry,fields", CASES, ids=[c[1] + ":" + c[0][:30] for c in CASES])
def test_each_wording_names_its_cause(line, entry, fields):
    ranked = explain_text(line + "\n")
    assert ranked and ranked[0].entry_id == entry, [h.entry_id for h in ranked]
    for k, v in fields.items():
        assert ranked[0].fields.get(k) == v, (k, ranked[0].fields)


def test_the_placeholder_ranks_after_the_missing_wheel_it_reports():
    """nvidia-stub raises its ERROR.txt for any failure: the reason printed before it is the cause."""
    log = ("      INFO:nvidia-stub:Testing wheel tensorrt_llm-0.11.0-cp310-cp310-linux_x86_64.whl against tag cp310-cp310-linux_x86_64\n"
           "      RuntimeError: Didn't find wheel for tensorrt-llm 0.11.0\n"
           "      The installation of tensorrt-llm for version 0.11.0 failed.\n"
           "      This is a special placeholder package which downloads a real wheel package\n")
    assert [h.entry_id for h in explain_text(log)] == ["trt-pip-no-matching-wheel", "trt-pip-install-failed"]


@pytest.mark.parametrize("line", [
    "ERROR: No matching distribution found for torchdata==0.7.0.dev20230828",  # another package: not NVIDIA's wheels
    "UserWarning: Failed to initialize NumPy: No module named 'numpy' (Triggered internally at /pytorch/torch/csrc/utils/tensor_numpy.cpp:84.)",
    "tensorrt-llm 0.12.0 requires transformers==4.42.4, but you have transformers 4.44.0 which is incompatible.",
    "Successfully installed tensorrt_llm-0.12.0 tensorrt-cu12-10.3.0",
    "  Building wheel for tensorrt (setup.py) ... done",
    "INFO:wheel-stub:Downloading wheel tensorrt_llm-0.18.1-cp312-cp312-linux_x86_64.whl",
    # TensorFlow's dso_loader probing for optional GPU libraries (a warning healthy runs print when TF is imported)
    "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory",
    "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libnvinfer.so.7'; dlerror: libnvinfer.so.7: cannot open shared object file: No such file or directory",
    "/usr/bin/python3: symbol lookup error: /usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so.40: undefined symbol: opal_hwloc201_hwloc_get_type_depth",
])
def test_lines_that_are_not_these_failures(line):
    got = [h.entry_id for h in explain_text(line + "\n")]
    env = {"tensorrt-library-not-found", "cuda-library-not-found", "libpython-shared-missing", "libstdcxx-too-old", "glibc-too-old",
           "numpy-abi-mismatch", "torch-cpu-build", "trt-pip-no-matching-wheel", "trt-pip-install-failed", "trtllm-torch-abi-mismatch"}
    assert not set(got) & env, got
