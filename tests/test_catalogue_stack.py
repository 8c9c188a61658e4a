"""The serving stack's messages (Triton core / server / tensorrt_backend / python_backend,
tensorrtllm_backend, pip, NCCL, libnvidia-container) and the ranking of wrappers against what they
wrap.  Every line here is written from the catalogue's templates and the sources' own wrapping (the
origins quoted beside each case), never taken from a frozen evaluation log."""

from __future__ import annotations

import pytest

from trtdiag.logscan.templates import catalogue
from tests.conftest import explain_text, explain_ids as ids, assert_names_first


# ---- the families are in the catalogue, with their sources ----------------------------------------

def test_the_stack_families_carry_their_releases():
    fams: dict[str, set[str]] = {}
    for m in catalogue():
        fams.setdefault(m["family"], set()).add(m["origin"].split(":")[0].split("@")[-1])
    assert {"libnvidia_container", "pip", "triton", "triton_tensorrt", "python_backend", "tensorrtllm_backend", "tensorrt"} <= set(fams)
    by_template = {m["template"]: m for m in catalogue()}
    nvml = by_template["nvml error: driver/library version mismatch"]
    assert nvml["entry"] == "nvml-driver-library-mismatch" and nvml["family"] == "libnvidia_container"
    assert by_template["Building wheel for {name} (setup.py)"]["first"].startswith("pypa/pip@")
    assert by_template["model expected the shape of dimension {} to be between {} and {} but received {}"]["entry"] == "trt-shape-outside-profile"


# ---- request shapes: Triton core, the TensorRT backend, the tensorrtllm backend -------------------

SHAPES = [
    # triton-inference-server/tensorrt_backend src/tensorrt_utils.cc (ValidateDimension), wrapped by
    # "request specifies invalid shape for input '{}' for {}. Error details: {}"
    ("E1201 00:00:00.000000 1 infer_handler.cc:1] request specifies invalid shape for input 'input_ids' for tensorrt_plan_0_0. "
     "Error details: model expected the shape of dimension 1 to be between 1 and 512 but received 600",
     "trt-shape-outside-profile", {"dimension": "1", "min": "1", "max": "512", "found": "600"}),
    # triton-inference-server/core src/infer_request.cc: unexpected shape (with its NOTE on max_batch_size)
    ("[StatusCode.INVALID_ARGUMENT] [request id: <id_unknown>] unexpected shape for input 'text_input' for model 'ensemble'. "
     "Expected [-1,1], got [1]. NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape.",
     "triton-request-shape-mismatch", {"input": "text_input", "model": "ensemble", "expected": "[-1,1]", "found": "[1]"}),
    # triton-inference-server/server: the HTTP JSON parser
    ('{"error":"Unable to parse \'data\': Shape does not match true shape of \'data\' field"}',
     "triton-request-shape-mismatch", {}),
    # tensorrtllm_backend inflight_batcher_llm/src/utils.cc (TLLM_CHECK_WITH_INFO)
    ("[TensorRT-LLM][ERROR] Assertion failed: Expected inputTokens tensors to have 2 dimensions (/tmp/tensorrtllm_backend/inflight_batcher_llm/src/utils.cc:167)",
     "triton-request-shape-mismatch", {}),
    # TensorRT-LLM's batch manager (GptManager::getReqInputTokens): the tensor's name after "for"
    ("[TensorRT-LLM][ERROR] Cannot process new request: [TensorRT-LLM][ERROR] Assertion failed: Expected batch dimension to be 1 for each request for input_ids",
     "triton-request-batch-too-large", {"tensor": "input_ids"}),
    # triton-inference-server/core: the sequence batcher
    ("inference request to model 'tensorrt_llm' must specify batch-size 1 due to requirements of sequence batcher",
     "triton-request-batch-too-large", {"model": "tensorrt_llm"}),
]


@pytest.mark.parametrize("line,expect,fields", SHAPES, ids=[f"{c[1]}-{i}" for i, c in enumerate(SHAPES)])
def test_request_shape_messages_name_their_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


# ---- pip: the failed build of mpi4py in each release's wording; a healthy build is quiet -----------

@pytest.mark.parametrize("line", [
    "  Building wheel for mpi4py (pyproject.toml) ... error",  # cli/spinners.py, interactive
    "  Building wheel for mpi4py (setup.py) ... error",  # operations/build/wheel_legacy.py
    "  Building wheel for mpi4py (pyproject.toml): finished with status 'error'",  # non-interactive spinner
    "  × Building wheel for mpi4py (pyproject.toml) did not run successfully.",  # exceptions.py
    "ERROR: Failed to build installable wheels for some pyproject.toml based projects (mpi4py)",  # 24.1+
    "ERROR: Failed to build 'mpi4py' when getting requirements to build wheel",  # 25.3
    "ERROR: Could not build wheels for mpi4py, which is required to install pyproject.toml-based projects",  # 23.x
])
def test_pip_wordings_of_a_failed_mpi4py_build(line):
    assert ids(line + "\n")[:1] == ["mpi4py-build-failed"]


def test_a_healthy_pip_build_is_quiet():
    log = ("Building wheels for collected packages: mpi4py\n"
           "  Building wheel for mpi4py (pyproject.toml) ... done\n"
           "  Building wheel for mpi4py (pyproject.toml): finished with status 'done'\n"
           "Successfully built mpi4py\n")
    assert ids(log) == []
    assert ids("ERROR: Failed to build installable wheels for some pyproject.toml based projects (flash-attn)\n") == []


# ---- wrappers rank after what they wrap, whatever the order of the lines --------------------------

# nvidia-container-cli: warnx("initialization error: %s") around error_set_nvml(…, "nvml error") with the
# NVML reason lower-cased (libnvidia-container src/cli/configure.c, src/driver.c, src/error_generic.c);
# docker appends ": unknown"
CLI = "nvidia-container-cli: initialization error: nvml error: driver/library version mismatch: unknown."
DOCKER = ("docker: Error response from daemon: failed to create task for container: failed to create shim task: "
          "OCI runtime create failed: runc create failed: unable to start container process: error during container init: "
          "error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy'\n" + CLI)


def test_the_container_cli_is_not_the_cause_of_the_nvml_error_it_wraps():
    assert ids(CLI + "\n")[0] == "nvml-driver-library-mismatch"
    assert ids(DOCKER + "\n")[0] == "nvml-driver-library-mismatch"
    # and nvidia-smi's own wording on another line, in either order
    smi = "Failed to initialize NVML: Driver/library version mismatch\n"
    assert ids(CLI + "\n" + smi)[0] == ids(smi + CLI + "\n")[0] == "nvml-driver-library-mismatch"


def test_the_container_cli_requirement_error_is_the_driver_too_old():
    # src/cli/dsl.c: "unsatisfied condition: %s, please update your driver to a newer version, or use an earlier cuda container"
    line = ("nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.4, please update your driver to a newer "
            "version, or use an earlier cuda container: unknown.\n")
    ranked = explain_text(line)
    assert ranked[0].entry_id == "cuda-driver-too-old" and ranked[0].fields.get("required_cuda") == "12.4"


def test_the_container_cli_alone_is_the_toolkit_error():
    line = ("nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object "
            "file: no such file or directory: unknown.\n")
    assert ids(line)[0] == "nvidia-container-toolkit-error"


# NCCL: a WARN line names the cause, the generic result code follows (or precedes, in another rank's log)
DUP = "node1:1234:1234 [1] NCCL INFO init.cc:1245 NCCL WARN Duplicate GPU detected : rank 1 and rank 0 both on CUDA device 1000\n"
GENERIC = "torch.distributed.DistBackendError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/NCCLUtils.hpp:275, unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.21.5\n"
CONNECT = "node1:1234:1234 [0] misc/socket.cc:484 NCCL WARN Net : Connect to 10.0.0.2<43215> failed : Connection refused\n"


@pytest.mark.parametrize("cause,specific", [(DUP, "nccl-duplicate-gpu"), (CONNECT, "fleet-rank-unreachable")])
def test_a_specific_nccl_cause_ranks_before_the_generic_nccl_error(cause, specific):
    for log in (GENERIC + cause, cause + GENERIC):
        ranked = ids(log)
        assert ranked[0] == specific, ranked
        assert "nccl-error" in ranked[1:]


def test_the_generic_nccl_error_alone_is_still_named():
    assert ids(GENERIC)[0] == "nccl-error"


# Triton: "failed to load all models" and the load wrappers around a model's own error
def test_triton_load_wrappers_rank_after_the_models_error():
    log = ("error: creating server: Internal - failed to load all models\n"
           "E1201 00:00:00.000000 1 model_lifecycle.cc:1] failed to load 'tensorrt_llm' version 1: Internal: "
           "request specifies invalid shape for input 'input_ids' for tensorrt_llm_0_0. Error details: "
           "model expected the shape of dimension 0 to be between 1 and 8 but received 16\n")
    ranked = ids(log)
    assert ranked[0] == "trt-shape-outside-profile", ranked


# ---- CUDA runtime and NCCL wordings of installation failures (cudaGetErrorString, libnccl) --------

@pytest.mark.parametrize("line,expect", [
    ("RuntimeError: CUDA error: the provided PTX was compiled with an unsupported toolchain.", "cuda-driver-too-old"),
    ("[TensorRT-LLM][ERROR] CUDA runtime error in cudaGetDeviceCount(&count): forward compatibility was attempted on non supported HW", "cuda-driver-too-old"),
    ("Error Code 1: Cuda Runtime (system has unsupported display driver / cuda driver combination)", "nvml-driver-library-mismatch"),
    ("RuntimeError: Unexpected error from cudaGetDeviceCount(). Error 34: CUDA driver is a stub library", "gpu-no-driver"),
    ("node1:1:1 [1] NCCL INFO init.cc:1 NCCL WARN Mismatched NCCL version detected : rank 1 version 22703 rank 0 version 21805", "fleet-rank-version-skew"),
])
def test_runtime_wordings_of_installation_failures(line, expect):
    assert ids(line + "\n")[:1] == [expect]


def test_an_nccl_version_skew_ranks_before_the_generic_invalid_usage():
    skew = "node1:1:1 [1] NCCL INFO init.cc:1 NCCL WARN Mismatched NCCL version detected : rank 1 version 22703 rank 0 version 21805\n"
    generic = "RuntimeError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, invalid usage (run with NCCL_DEBUG=WARN for details), NCCL version 2.27.3\n"
    assert ids(generic + skew)[0] == "fleet-rank-version-skew"


def test_triton_without_gpus_is_no_driver_visible():
    # triton-inference-server/core src/model_config_utils.cc
    line = ("E1201 00:00:00.000000 1 model_lifecycle.cc:1] failed to load 'tensorrt_llm' version 1: Invalid argument: "
            "instance group tensorrt_llm_0 of model tensorrt_llm has kind KIND_GPU but no GPUs are available\n")
    assert ids(line)[0] == "gpu-no-driver"


def test_the_batch_managers_draft_tokens_check_is_a_batch_too_large():
    # GptManager::fillLlmRequest: "Expected batch dimension to be 1 for each draft tokens"
    line = "[TensorRT-LLM][ERROR] Cannot process new request: [TensorRT-LLM][ERROR] Assertion failed: Expected batch dimension to be 1 for each draft tokens\n"
    assert ids(line)[0] == "triton-request-batch-too-large"


def test_docker_without_the_nvidia_device_driver_is_the_toolkit_error():
    # moby daemon/errors.go: fmt.Sprintf("could not select device driver %q with capabilities: %v", driver, caps)
    line = 'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\n'
    ranked = explain_text(line)
    assert ranked[0].entry_id == "nvidia-container-toolkit-error" and ranked[0].fields.get("capabilities", "").startswith("[[gpu]]")


@pytest.mark.parametrize("line", [
    "RuntimeError: NCCL error: unhandled system error (run with NCCL_DEBUG=INFO for details)",
    "ncclInternalError: internal error - please report this issue to the NCCL developers",
    "RuntimeError: NCCL error: remote process exited or there was a network error",
])
def test_nccl_result_texts_whoever_wraps_them(line):
    # ncclGetErrorString (libnccl 2.27.3)
    assert ids(line + "\n")[:1] == ["nccl-error"]


def test_mpirun_that_cannot_find_its_program():
    # Open MPI help-orterun.txt [orterun:exe-not-found], as mpirun prints it (program name for %s)
    log = ("--------------------------------------------------------------------------\n"
           "mpirun was unable to find the specified executable file, and therefore\n"
           "did not launch the job.  This error was first reported for process\n"
           "rank 0; it may have occurred for other processes as well.\n")
    ranked = explain_text(log)
    assert ranked[0].entry_id == "mpirun-executable-not-found" and ranked[0].fields.get("program") == "mpirun"
