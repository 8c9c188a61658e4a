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
