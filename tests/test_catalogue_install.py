"""Installing the stack: the wordings of pip, the tensorrt / tensorrt-cu12 sdists, mpi4py's build, TensorRT-LLM's
bindings and the Windows DLL loaders, as the sources print them (knowledge_base/catalogue: pip, tensorrt_sdist,
tensorrt_python, mpi4py_build, trtexec), and what explain names for each."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO, explain_ids, assert_names_first


def test_the_harvester_reads_a_list_of_message_lines_assigned_to_errmsg():
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import harvest_messages as hm
    finally:
        sys.path.pop(0)
    src = 'errmsg = [\n    "Cannot {} MPI programs. Check your configuration!!!",\n    "Installing mpi4py requires a working MPI implementation.",\n]\nerrmsg2 = "not a message name"\n'
    got = [t for _, t in hm.py_messages(src)]
    assert "Cannot {} MPI programs. Check your configuration!!!" in got
    assert "Installing mpi4py requires a working MPI implementation." in got
    assert "not a message name" not in got


LINES = [
    # mpi4py 3.x (setup.py) and 4.x (conf/mpidistutils.py): the compile-and-link test, both steps
    ("    error: Cannot link MPI programs. Check your configuration!!!", "mpi4py-build-failed", {"step": "link"}),
    ("      Installing mpi4py requires a working MPI implementation.", "mpi4py-build-failed", {}),
    ("  _configtest.c:2:10: fatal error: 'mpi.h' file not found", "mpi4py-build-failed", {}),
    # pip 20.3 … 22.x wordings of the failed build
    ("  Building wheel for mpi4py (PEP 517) ... error", "mpi4py-build-failed", {}),
    ("    Running setup.py install for mpi4py ... error", "mpi4py-build-failed", {}),
    # the tensorrt-cu12 sdist's nested pip (8.6.1's order of arguments too)
    ("subprocess.CalledProcessError: Command '['/usr/bin/python3', '-m', 'pip', 'install', 'tensorrt_libs==8.6.1', '--index-url', "
     "'https://pypi.nvidia.com']' returned non-zero exit status 1.", "trt-pip-install-failed", {"package": "tensorrt_libs", "version": "8.6.1"}),
    # TensorRT-LLM without its compiled parts
    ("ModuleNotFoundError: No module named 'tensorrt_llm.bindings'", "trtllm-plugin-library-missing", {}),
    ("      ImportError: The `bindings` module does not exist. Please check the package integrity. If you are attempting to use the "
     "pip development mode (editable installation), please execute `scripts/build_wheel.py` first, and then run `pip install -e .`.",
     "trtllm-plugin-library-missing", {}),
    # Windows: ctypes and trtexec, a path written with single backslashes (not JSON escapes)
    ("FileNotFoundError: Could not find module 'C:\\Users\\me\\venv\\Lib\\site-packages\\tensorrt_libs\\nvinfer_10.dll' (or one of its "
     "dependencies). Try using the full path with constructor syntax.", "trt-windows-dll-not-found",
     {"library": "C:\\Users\\me\\venv\\Lib\\site-packages\\tensorrt_libs\\nvinfer_10.dll"}),
    ("FileNotFoundError: Could not find module 'C:\\TensorRT-LLM\\tensorrt_llm\\libs\\nvinfer_plugin_tensorrt_llm.dll'. Try using the "
     "full path with constructor syntax.", "trt-windows-dll-not-found", {}),
    ("Uncaught exception detected: Unable to open library: nvinfer_plugin_10.dll", "trt-windows-dll-not-found", {"library": "nvinfer_plugin_10.dll"}),
]


@pytest.mark.parametrize("line, expect, fields", LINES, ids=[e + ":" + l.strip()[:40] for l, e, _ in LINES])
def test_the_install_wordings_name_their_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


QUIET = [
    "  Building wheel for mpi4py (PEP 517) ... done",
    "    Running setup.py install for mpi4py ... done",
    "  checking for MPI compile and link ...",
    "  MPI C compiler:    /usr/bin/mpicc",
    # another program's DLL, another package's build, a CalledProcessError of another command
    "FileNotFoundError: Could not find module 'D:\\code\\py\\CTAEdit\\shared.dll' (or one of its dependencies). Try using the full path with constructor syntax.",
    "subprocess.CalledProcessError: Command '['cmake', '--build', '.', '--config', 'Release', '--', '/m']' returned non-zero exit status 1.",
    "  ERROR: Failed building wheel for tensorrt_llm",
]


@pytest.mark.parametrize("line", QUIET)
def test_healthy_or_foreign_lines_name_none_of_these_causes(line):
    ids = explain_ids(line + "\n")
    assert not set(ids) & {"mpi4py-build-failed", "trt-pip-install-failed", "trt-windows-dll-not-found", "trtllm-plugin-library-missing"}, ids


def test_a_submodule_of_the_bindings_is_not_the_missing_compiled_module():
    assert "trtllm-plugin-library-missing" not in explain_ids("ModuleNotFoundError: No module named 'tensorrt_llm.bindings.executor'\n")


# ---- source builds (knowledge_base/catalogue/tensorrt_llm_source_build.toml) and images of another CPU (docker.toml: runc)
BUILD_LINES = [
    # TensorRT-LLM 0.7+: CMake's size check of the prebuilt libraries, as CMake wraps it
    ("  The batch manager library is truncated or incomplete.  This is usually", "trtllm-source-lfs-not-pulled", {"library": "batch manager"}),
    ("  The internal_cutlass_kernels library is truncated or incomplete. This is usually caused by using Git LFS (Large File "
     "Storage) incorrectly. Please try running command `git lfs install && git lfs pull`.", "trtllm-source-lfs-not-pulled",
     {"library": "internal_cutlass_kernels"}),
    # 0.5 / 0.6: GNU ld reads the pointer file; older binutils capitalise BFD's text
    ("/usr/bin/ld: /src/TensorRT-LLM/cpp/tensorrt_llm/executor/x86_64-linux-gnu/libtensorrt_llm_executor_static.a: file not recognized: "
     "File format not recognized", "trtllm-source-lfs-not-pulled",
     {"library": "/src/TensorRT-LLM/cpp/tensorrt_llm/executor/x86_64-linux-gnu/libtensorrt_llm_executor_static.a"}),
    # TensorRT's development files: 0.x's NvInferVersion.h read (wrapped by CMake), FindTensorRT of later releases and other projects
    ('  file STRINGS file "/usr/local/tensorrt/include/NvInferVersion.h" cannot be', "source-build-tensorrt-not-found",
     {"path": "/usr/local/tensorrt/include/NvInferVersion.h"}),
    ("  Could NOT find TensorRT (missing: TensorRT_LIBRARY TensorRT_LIBRARIES TensorRT_INCLUDE_DIR) (Required is at least version \"10\")",
     "source-build-tensorrt-not-found", {"missing": "TensorRT_LIBRARY TensorRT_LIBRARIES TensorRT_INCLUDE_DIR"}),
    ("RuntimeError: TensorRT was not installed properly. Please run `pip install tensorrt` manually and relaunch build_wheel.py",
     "source-build-tensorrt-not-found", {}),
    # the CUDA compiler: TensorRT-LLM's own check and CMake's
    ("  No CMAKE_CUDA_COMPILER could be found.", "cuda-toolkit-not-found", {}),
    ("  Failed to find nvcc.", "cuda-toolkit-not-found", {}),
    # runc 1.0.0-rc, 1.0.x and 1.1+ wordings of the first exec of an image of another CPU architecture
    ('Step 5/6 : RUN pip install --no-cache-dir -r requirements.txt ---> Running in 442f03a062d4 standard_init_linux.go:211: exec user '
     'process caused "exec format error"', "image-platform-mismatch", {}),
    ("standard_init_linux.go:228: exec user process caused: exec format error", "image-platform-mismatch", {}),
    ("exec /bin/sh: exec format error", "image-platform-mismatch", {"program": "/bin/sh"}),
    # pip: the tensorrt frontend without one of its parts
    ("tensorrt-cu12 10.3.0 requires tensorrt-cu12_libs==10.3.0, which is not installed.", "trt-python-bindings-missing",
     {"package": "tensorrt-cu12", "requirement": "tensorrt-cu12_libs==10.3.0"}),
]


@pytest.mark.parametrize("line, expect, fields", BUILD_LINES, ids=[e + ":" + l.strip()[:40] for l, e, _ in BUILD_LINES])
def test_the_source_build_and_platform_wordings_name_their_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


BUILD_QUIET = [
    # a healthy configure: the libraries found, and nvparsers, which TensorRT 9 no longer ships and the build does not need
    "-- Library that was found /usr/local/tensorrt/targets/x86_64-linux-gnu/lib/libnvinfer.so",
    "-- Library that was found nvparsers_LIB_PATH-NOTFOUND",
    "-- Looking for a CUDA compiler - /usr/local/cuda/bin/nvcc",
    "-- Found CUDAToolkit: /usr/local/cuda/include (found version \"12.2.140\")",
    # other packages' and other files' wordings
    "-- Could NOT find NCCL (missing: NCCL_INCLUDE_DIR NCCL_LIBRARY)",
    "/usr/bin/ld:/usr/lib/x86_64-linux-gnu/libfoo.a: file format not recognized; treating as linker script",
    'file STRINGS file "/opt/project/VERSION" cannot be read.',
    "torch 2.1.0 requires sympy, which is not installed.",
    "tensorrt-cu12 10.3.0 requires tensorrt-cu12-bindings==10.3.0, but you have tensorrt-cu12-bindings 10.1.0 which is incompatible.",
]


@pytest.mark.parametrize("line", BUILD_QUIET)
def test_healthy_or_foreign_build_lines_name_none_of_these_causes(line):
    ids = explain_ids(line + "\n")
    assert not set(ids) & {"trtllm-source-lfs-not-pulled", "source-build-tensorrt-not-found", "cuda-toolkit-not-found",
                           "trt-python-bindings-missing", "image-platform-mismatch"}, ids
