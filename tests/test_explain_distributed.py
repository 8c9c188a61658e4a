"""explain on multi-GPU / multi-node launch failures: the wordings Open MPI 4.1 / 5.0 (PRRTE), NCCL and
TensorRT-LLM's executor print, built from their sources (knowledge_base/catalogue/mpi.toml, nccl.toml,
tensorrt_llm_dist.toml: tools/harvest_distributed.sh), name the right cause; consequences rank below
their cause; lines that are warnings or other failures stay quiet."""

from __future__ import annotations

import pytest

from tests.conftest import explain_text


def first(text: str):
    ranked = explain_text(text)
    return ranked[0] if ranked else None


CASES = [
    # Open MPI 5.0 / PRRTE 3.0.11 help-errmgr-base.txt [failed-daemon-launch]
    ("prterun was unable to reliably start one or more daemons.\n", "mpi-daemons-failed-to-start", {}),
    ("ORTE was unable to reliably start one or more daemons.\n", "mpi-daemons-failed-to-start", {"launcher": "ORTE"}),
    ("bash: orted: command not found\n", "mpi-daemons-failed-to-start", {"daemon": "orted"}),
    ("The singleton application was not able to find the executable \"orted\" in\n", "mpi-daemons-failed-to-start", {}),
    # help-plm-ssh.txt (PRRTE) and help-plm-rsh.txt (4.1) [agent-not-found]
    ('The value of the MCA parameter "plm_ssh_agent" was set to a path\nthat could not be found:\n\n  plm_ssh_agent: ssh : rsh\n',
     "mpi-ssh-agent-missing", {}),
    # btl_vader_get.c (4.1) and smsc_cma_module.c (5.0)
    ("[node:01234] CMA read -1, expected 65536, errno = 1\n", "mpi-shm-single-copy-denied", {"expected_bytes": "65536"}),
    ("[a1b2c3:00042] Read -1, expected 262144, errno = 1\n", "mpi-shm-single-copy-denied", {"errno": "1"}),
    # NCCL 2.18's wording (no errno) and 2.23+'s
    ("host:1:2 [0] misc/shmutils.cc:71 NCCL WARN Error: failed to extend /dev/shm/nccl-fjwOOB to 5967876 bytes\n", "shm-too-small", {"segment": "/dev/shm/nccl-fjwOOB"}),
    # UCX (HPC-X's Open MPI transport), mm_posix.c: the /dev/shm backing file could not be written
    ("[1700000000.123456] [host:1234:0]     mm_posix.c:206  UCX  ERROR Not enough memory to write total of 67108864 bytes. Please check that /dev/shm or the directory you specified has more available memory.\n",
     "shm-too-small", {"size_bytes": "67108864"}),
    # UCX ib_log.c: a registration that failed with ENOMEM under a locked-memory limit (1.16+ wording)
    ("[1700000000.1] [host:12:0]        ib_md.c:293  UCX  ERROR ibv_reg_mr(address=0x7f00, length=4194304, access=0xf) failed: Cannot allocate memory : Please set max locked memory (ulimit -l) to 'unlimited' (current: 65536 kbytes)\n",
     "ulimit-memlock", {"memlock_kb": "65536"}),
    # NCCL paths.cc, then the generic NCCL error it returns: the specific cause first
    ("host:1:2 [0] graph/paths.cc:343 NCCL WARN P2P is disabled between NVLINK connected GPUs 0 and 1. This should not be the case given their connectivity, and is probably due to a hardware issue. If you still want to proceed, you can set NCCL_IGNORE_DISABLED_P2P=1.\n"
     "RuntimeError: NCCL error in: /src/ProcessGroupNCCL.cpp:1000, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.21.5\n",
     "gpu-p2p-unsupported", {"gpu": "0", "peer_gpu": "1"}),
    ("[TensorRT-LLM][ERROR] CUDA runtime error in ::cudaDeviceEnablePeerAccess(peer, 0): peer access is not supported between these two devices (/src/ipcUtils.cpp:50)\n", "gpu-p2p-unsupported", {}),
    # TensorRT-LLM executor (executorImpl.cpp): leader mode, both releases' wordings, and orchestrator mode
    ("[TensorRT-LLM][ERROR] Assertion failed: With communicationMode kLEADER, MPI worldSize is expected to be equal to tp*pp*cp when participantIds are not specified (/src/executorImpl.cpp:640)\n", "world-size-mismatch", {}),
    ("[TensorRT-LLM][ERROR] Assertion failed: With communicationMode kLEADER, MPI worldSize is expected to be equal to tp*pp when participantIds are not specified (/app/tensorrt_llm/cpp/tensorrt_llm/executor/executorImpl.cpp:334)\n", "world-size-mismatch", {}),
    ("[TensorRT-LLM][ERROR] Assertion failed: When using the orchestrator mode and isOrchestrator is true, expect MPI worldSize to be 1. (/src/executorImpl.cpp:560)\n", "world-size-mismatch", {}),
    # Open MPI 5.0 help-mpi-runtime.txt [no-pmix-but]: srun without --mpi=pmix, then the world-size check it causes
    ("No PMIx server was reachable, but a PMI1/2 was detected.\nIf srun is being used to launch application,  2 singletons will be started.\n"
     "[TensorRT-LLM][ERROR] Assertion failed: MPI size 1 != TP size 2 * PP size 1 (/src/worldConfig.cpp:97)\n", "mpi-srun-without-pmi", {}),
    # NCCL's RAS service (2.24+)
    ("host:1:2 [0] ras/ras.cc:430 NCCL WARN NCCL version mismatch with remote peer 10.0.0.2<1234> (local: 22703, remote 22505)\n", "fleet-rank-version-skew", {}),
    # ibv_reg_mr with ENOMEM: the locked-memory limit
    ("host:1:2 [0] misc/ibvwrap.cc:190 NCCL WARN Call to ibv_reg_mr failed with error Cannot allocate memory\n", "ulimit-memlock", {}),
]


@pytest.mark.parametrize("text,expect,fields", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_sourced_wordings_name_the_cause(text, expect, fields):
    h = first(text)
    assert h is not None and h.entry_id == expect, [x.entry_id for x in explain_text(text)]
    for k, v in fields.items():
        assert h.fields.get(k) == v, h.fields


def test_consequences_of_a_failed_rank_rank_below_its_cause():
    log = ("[TensorRT-LLM][ERROR] Assertion failed: With communicationMode kLEADER, MPI worldSize is expected to be equal to tp*pp*cp when participantIds are not specified\n"
           "MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD\n"
           "PRTE has lost communication with a remote daemon.\n"
           "[host:00012] PMIX ERROR: UNREACHABLE in file server/pmix_server.c at line 2795\n"
           "prterun detected that one or more processes exited with non-zero status,\n")
    ids = [h.entry_id for h in explain_text(log)]
    assert ids == ["world-size-mismatch", "mpi-rank-failed"], ids
    alone = explain_text("MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD\n")
    assert [h.entry_id for h in alone] == ["mpi-rank-failed"] and not alone[0].fatal


@pytest.mark.parametrize("line", [
    # other errno values of a cross-process copy are other failures (ESRCH: the peer is gone)
    "[a1b2c3:00042] Read -1, expected 262144, errno = 3",
    # warnings: Open MPI falls back on another single-copy mechanism
    "WARNING: Linux kernel CMA support was requested via the",
    "WARNING: The default btl_vader_single_copy_mechanism CMA is",
    # INFO: NCCL uses shared memory between these PCIe GPUs and goes on
    "host:1:2 [0] NCCL INFO P2P is disabled between connected GPUs 0 and 1. You can repress this message with NCCL_IGNORE_DISABLED_P2P=1.",
    # ibv_reg_mr failing for another reason is not the memlock limit
    "host:1:2 [0] misc/ibvwrap.cc:190 NCCL WARN Call to ibv_reg_mr failed with error Bad address",
    # attaching to a peer's segment that is not there is not a small /dev/shm
    "host:1:2 [1] misc/shmutils.cc:129 NCCL WARN Error while attaching to shared memory segment /dev/shm/nccl-glnlGK (size 14156128), error: No such file or directory (2)",
    # healthy multi-GPU start lines
    "[TensorRT-LLM][INFO] MPI size: 2, rank: 0",
    "host:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC",
])
def test_warnings_and_other_failures_are_not_named_as_these_causes(line):
    ids = [h.entry_id for h in explain_text(line + "\n") if h.fatal]
    assert not (set(ids) & {"mpi-shm-single-copy-denied", "gpu-p2p-unsupported", "ulimit-memlock", "mpi-daemons-failed-to-start", "shm-too-small"}), ids
