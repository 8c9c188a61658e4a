"""Container checks (CTR0xx): /dev/shm, ulimits, visible GPUs, memory limit, the image's versions.

They read ``container.info`` (probes/container.py) and, where a launch command is known
(``trtdiag exec -- …``), ``launch.command`` (probes/launch.py).  Numbers and where they come from:

- Docker gives a container a 64 MiB /dev/shm unless run with ``--shm-size`` or ``--ipc=host``
  (docker run reference).  Triton's Python backend (used by tensorrtllm_backend's preprocessing,
  postprocessing and BLS models) keeps one shared-memory region per model instance in /dev/shm,
  sized by ``--backend-config=python,shm-default-byte-size`` and grown by
  ``shm-growth-byte-size`` (python_backend README, "Managing Shared Memory": 64 MB per instance,
  grown in 64 MB steps, in older releases; 1 MB and 1 MB steps in current ones — so with
  the old default two instances already overflow Docker's 64 MiB); when it cannot grow it fails
  with "Failed to increase the shared memory pool size for key '…' to N bytes. If you are running
  Triton inside docker, use '--shm-size' flag to control the shared memory region size."  NCCL puts its intra-node buffers in /dev/shm too.  The
  tensorrtllm_backend and NGC guides start containers with ``--shm-size=2g`` (or ``--ipc=host``)
  and ``--ulimit memlock=-1 --ulimit stack=67108864``.
"""

from __future__ import annotations

from typing import Any

from ..model import error, info, ok, warning
from ..registry import check

MiB = 1 << 20
GiB = 1 << 30
DOCKER_DEFAULT_SHM = 64 * MiB
SHM_RECOMMENDED = 2 * GiB  # tensorrtllm_backend README: docker run … --shm-size=2g
SHM_MIN_TRITON = 256 * MiB
STACK_RECOMMENDED = 64 * MiB  # --ulimit stack=67108864
MEMLOCK_MIN = 64 * MiB


def _get(facts, name: str, default: Any = None) -> Any:
    """A fact of another area, or ``default`` when its probe failed or is not installed."""
    try:
        return facts.get(name, default)
    except Exception:  # the other area's probe module may be absent in this build
        return default


def _launch(facts) -> dict[str, Any]:
    return _get(facts, "launch.command") or {}


def _world_size(facts) -> int | None:
    ws = facts.opt("world_size")
    if ws is None:
        ws = _launch(facts).get("world_size")
    try:
        return int(ws) if ws is not None else None
    except (TypeError, ValueError):
        return None


def _human(n: int | None) -> str:
    if n is None:
        return "unlimited"
    if n >= GiB:
        return f"{n / GiB:.1f} GiB"
    if n >= MiB:
        return f"{n / MiB:.0f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} B"


def _uses_triton(launch: dict[str, Any]) -> bool:
    return launch.get("kind") in ("tritonserver", "launch_triton_server")


def _run_hint(facts) -> str:
    rt = (_get(facts, "container.info") or {}).get("runtime", {}).get("runtime")
    if rt == "kubernetes":
        return "mount an emptyDir with medium: Memory (sizeLimit: 2Gi) at /dev/shm in the pod spec"
    return "restart the container with `docker run --shm-size=2g …` (or `--ipc=host`)"


@check("CTR001", area="container", title="/dev/shm large enough for Triton's Python backend and NCCL", kb="shm-too-small")
def shm_size(facts):
    """Checks the size and free space of /dev/shm, and segments left there by killed servers.

    Why: Triton's Python backend (the preprocessing, postprocessing and BLS models of
    tensorrtllm_backend) exchanges tensors through shared-memory regions in /dev/shm, one per
    model instance, and NCCL puts its intra-node buffers there.  Docker's default /dev/shm is
    64 MiB; the server then dies at load with "Failed to increase the shared memory pool size"
    or a "Bus error".  Segments named triton_python_backend_shm_region_* or nccl-* left by a
    killed server keep their memory until removed.

    Fix: run the container with `--shm-size=2g` (or `--ipc=host`); on Kubernetes mount an
    emptyDir with `medium: Memory` at /dev/shm.  Remove leftover segments when no server runs.
    """
    ci = facts["container.info"]
    shm = ci.get("shm") or {}
    launch = _launch(facts)
    ws = _world_size(facts) or 1
    triton = _uses_triton(launch) or bool(facts.opt("model_repo"))
    needs = "Triton's Python backend" if triton else ("NCCL across %d ranks" % ws if ws > 1 else None)
    in_container = (ci.get("runtime") or {}).get("in_container")
    if not shm.get("exists"):
        sev = error if needs else warning
        yield sev("/dev/shm does not exist",
                  "There is no /dev/shm in this container, so POSIX shared memory (shm_open) fails: "
                  "Triton's Python backend and NCCL cannot start.",
                  evidence={"path": "/dev/shm"}, )
        return
    size, free = shm.get("size"), shm.get("free")
    ev: dict[str, Any] = {"path": "/dev/shm", "size": _human(size), "size_bytes": size}
    if free is not None:
        ev["free"] = _human(free)
    if (shm.get("mount") or {}).get("fstype"):
        ev["filesystem"] = shm["mount"]["fstype"]
    pb = (launch.get("python_backend") or {}).get("shm-default-byte-size")
    if pb:
        ev["python backend shm-default-byte-size"] = _human(pb)
    if needs:
        ev["needed by"] = needs
    ev["recommended"] = _human(SHM_RECOMMENDED) + " (docker run --shm-size=2g, or --ipc=host)"
    leftovers = shm.get("leftovers") or []
    if size is None:
        yield info("Could not read the size of /dev/shm", "statvfs and the mount table gave no size.", evidence=ev)
        return
    if size <= DOCKER_DEFAULT_SHM and (needs or in_container):
        # without a Triton launch, a model repository or several ranks, nothing here needs it yet
        yield (error if needs else warning)(f"/dev/shm is {_human(size)}: Docker's default, too small for {needs or 'Triton and NCCL'}",
                    f"This container was started without --shm-size or --ipc=host, so /dev/shm holds only {_human(size)}. "
                    f"Triton's Python backend needs a shared-memory region per model instance and NCCL puts its buffers "
                    f"there; the server fails at load with \"Failed to increase the shared memory pool size\" or \"Bus error\". "
                    f"Fix: {_run_hint(facts)}.",
                    evidence=ev)
        return
    if (needs and size < SHM_MIN_TRITON) or (pb and size < 4 * pb):
        yield error(f"/dev/shm is {_human(size)}: too small for {needs or 'the Python backend'}",
                    "Each Python-backend model instance takes at least shm-default-byte-size of /dev/shm and grows from "
                    "there; with this little the first large request or the second instance fails. "
                    f"Fix: {_run_hint(facts)}.", evidence=ev)
        return
    if (needs or in_container) and size < SHM_RECOMMENDED:
        yield warning(f"/dev/shm is {_human(size)}, below the {_human(SHM_RECOMMENDED)} the deployment guides use",
                      "Enough to start, but large batches through the Python backend or NCCL with many ranks may run out; "
                      f"fix: {_run_hint(facts)}.", evidence=ev)
        return
    if leftovers:
        total = sum(x.get("bytes", 0) for x in leftovers)
        ev["leftover segments"] = [x["name"] for x in leftovers[:10]] + ([f"… {len(leftovers) - 10} more"] if len(leftovers) > 10 else [])
        ev["leftover bytes"] = _human(total)
        if free is not None and free < SHM_MIN_TRITON:
            yield (error if needs else warning)(f"/dev/shm is nearly full ({_human(free)} free): {len(leftovers)} segments left by a killed server",
                        "A server that was killed did not remove its shared-memory regions; they hold the memory the next "
                        "start needs. Remove them when no Triton or NCCL process runs: "
                        "rm -f /dev/shm/triton_python_backend_shm_region_* /dev/shm/nccl-*", evidence=ev)
            return
        yield warning(f"{len(leftovers)} shared-memory segments left in /dev/shm ({_human(total)})",
                      "Left by a server that was killed, or held by one still running. When none runs, remove them: "
                      "rm -f /dev/shm/triton_python_backend_shm_region_* /dev/shm/nccl-*", evidence=ev)
        return
    if free is not None and size and free < SHM_MIN_TRITON and needs:
        yield warning(f"/dev/shm has only {_human(free)} free of {_human(size)}", "Something else fills it.", evidence=ev)
        return
    yield ok(f"/dev/shm is {_human(size)}", **{k: v for k, v in ev.items() if k != "recommended"})


def _multi_rank(facts) -> bool:
    return (_world_size(facts) or 1) > 1


@check("CTR002", area="container", title="memlock ulimit high enough for NCCL and pinned memory", kb="ulimit-memlock")
def memlock(facts):
    """Checks the locked-memory limit (ulimit -l) that the server will inherit.

    Why: NCCL over InfiniBand/RoCE and GPUDirect register (lock) host memory; with Docker's default
    limit (8 MiB on most hosts) multi-GPU runs fail to register memory (ibv_reg_mr) or fall back
    to slower transports.  NVIDIA's container guides start containers with --ulimit memlock=-1.

    Fix: `docker run --ulimit memlock=-1 …` (Kubernetes: raise the limit in the container
    runtime's default ulimits, e.g. containerd's LimitMEMLOCK=infinity).
    """
    lim = (facts["container.info"].get("ulimits") or {}).get("memlock")
    if not lim:
        return
    soft = lim.get("soft")
    ev = {"soft limit": _human(soft), "hard limit": _human(lim.get("hard")), "recommended": "unlimited (--ulimit memlock=-1)"}
    if soft is None:
        yield ok("memlock is unlimited", **{k: v for k, v in ev.items() if k != "recommended"})
        return
    if _multi_rank(facts) and soft < MEMLOCK_MIN:
        ev["world size"] = _world_size(facts)
        yield warning(f"memlock is limited to {_human(soft)} for a {_world_size(facts)}-rank launch",
                      "NCCL's InfiniBand/RoCE transport and GPUDirect RDMA must lock host memory; with this limit they fail "
                      "(\"ibv_reg_mr failed\") or fall back to slower transports. Fix: restart the container with "
                      "`docker run --ulimit memlock=-1 …`.", evidence=ev)
        return
    launch = _launch(facts)
    if launch or (facts["container.info"].get("runtime") or {}).get("in_container"):
        yield info(f"memlock is limited to {_human(soft)}",
                   "Fine for one GPU; multi-GPU runs over InfiniBand need `--ulimit memlock=-1`.", evidence=ev)


@check("CTR003", area="container", title="stack ulimit as the deployment guides set it")
def stack(facts):
    """Checks the stack-size limit (ulimit -s) that the server will inherit.

    Why: NVIDIA's container guides for Triton and TensorRT-LLM run containers with
    --ulimit stack=67108864 (64 MiB); deep recursion in model code, Python backend stubs and some
    plugins can overflow the usual 8 MiB default with a bare "Segmentation fault".

    Fix: `docker run --ulimit stack=67108864 …`.  Only reported inside a container or for a
    launch through `trtdiag exec`; severity info.
    """
    ci = facts["container.info"]
    lim = (ci.get("ulimits") or {}).get("stack")
    if not lim or not (_launch(facts) or (ci.get("runtime") or {}).get("in_container")):
        return
    soft = lim.get("soft")
    ev = {"soft limit": _human(soft), "hard limit": _human(lim.get("hard")), "recommended": "64 MiB (--ulimit stack=67108864)"}
    if soft is None or soft >= STACK_RECOMMENDED:
        yield ok(f"stack limit is {_human(soft)}", **{k: v for k, v in ev.items() if k != "recommended"})
    else:
        yield info(f"stack limit is {_human(soft)}, below the 64 MiB the NVIDIA guides set",
                   "Usually enough; if the server dies with a bare \"Segmentation fault\" while loading, restart the "
                   "container with `--ulimit stack=67108864`.", evidence=ev)


def _cuda_visible(value: str, available: int | None) -> tuple[int, list[str]]:
    """How many devices CUDA enumerates under CUDA_VISIBLE_DEVICES=value (CUDA stops at the first
    entry that is not a valid device: "-1" hides all, "0,-1,1" keeps only 0)."""
    kept: list[str] = []
    for tok in value.split(","):
        tok = tok.strip()
        if not tok:
            break
        if tok.isdigit():
            if available is not None and int(tok) >= available:
                break
        elif not (tok.startswith("GPU-") or tok.startswith("MIG-")):
            break
        if tok in kept:
            break
        kept.append(tok)
    return len(kept), kept


def visible_gpus(facts) -> dict[str, Any]:
    """How many GPUs the server process will see, and why (``limited_by``: what lowered it)."""
    g = facts["container.info"].get("gpus") or {}
    nodes = g.get("device_nodes") or []
    inv = _get(facts, "gpu.inventory")
    why: dict[str, Any] = {}
    limited_by: list[str] = []
    if inv and not inv.get("nvml_error") and isinstance(inv.get("gpus"), list):
        count = len(inv["gpus"])
        why["NVML"] = f"{count} GPU(s)"
    else:
        count = len(nodes)
        why["device nodes"] = nodes or "(none: no /dev/nvidiaN)"
        if not nodes:
            limited_by.append("no /dev/nvidiaN device nodes: started without --gpus, or no GPU here")
    nvd = g.get("nvidia_visible_devices")
    if nvd is not None:
        why["NVIDIA_VISIBLE_DEVICES"] = nvd if nvd != "" else "(empty)"
        if nvd.strip().lower() in ("void", "none", ""):
            if count:
                limited_by.append(f"NVIDIA_VISIBLE_DEVICES={nvd or '(empty)'}")
            count = 0
    cvd = g.get("cuda_visible_devices")
    if cvd is not None:
        why["CUDA_VISIBLE_DEVICES"] = cvd if cvd != "" else "(empty)"
        n, _ = _cuda_visible(cvd, count)
        if n < count:
            limited_by.append(f"CUDA_VISIBLE_DEVICES={cvd or '(empty)'}")
        count = min(count, n)
    return {"count": count, "why": why, "limited_by": limited_by}


@check("CTR004", area="container", title="enough GPUs visible for the world size", kb="world-size-mismatch")
def gpus_vs_world_size(facts):
    """Checks that the GPUs this process can see (device nodes or NVML, then NVIDIA_VISIBLE_DEVICES
    and CUDA_VISIBLE_DEVICES as CUDA applies them) are at least the ranks to start on this machine.

    Why: TensorRT-LLM puts one rank on one GPU.  A container started with `--gpus 1` (or a
    CUDA_VISIBLE_DEVICES left from a test) and a tp=2 engine fails only after MPI has started all
    ranks, with "Assertion failed: … mpiSize == … tp * pp" or a CUDA "invalid device ordinal".

    Fix: start the container with the GPUs the engine needs (`docker run --gpus all` or
    `--gpus '"device=0,1"'`; Kubernetes `nvidia.com/gpu: N`), unset or widen CUDA_VISIBLE_DEVICES,
    or build the engine for fewer ranks.  Not applicable without a world size
    (--world-size, or a launch command that says it).
    """
    ws = _world_size(facts)
    if ws is None:
        return
    launch = _launch(facts)
    v = visible_gpus(facts)
    ev = {"world size": ws, "GPUs visible": v["count"], **v["why"]}
    if launch.get("mpi"):
        ev["launcher"] = f"{launch['mpi'].get('launcher')} ({launch['mpi'].get('ranks')} ranks)"
    if v["count"] is not None and v["count"] < ws:
        if (launch.get("mpi") or {}).get("hosts"):
            yield info(f"{v['count']} GPU(s) here for {ws} ranks spread over several hosts",
                       "mpirun names other hosts; each host needs as many GPUs as it runs ranks.", evidence=ev)
            return
        remedies = [f"start the container with at least {ws} GPUs (docker run --gpus all, or Kubernetes nvidia.com/gpu: {ws})"]
        if any(x.startswith("CUDA_VISIBLE_DEVICES") for x in v["limited_by"]):
            remedies.append("unset or widen CUDA_VISIBLE_DEVICES")
        if v["count"]:
            remedies.append(f"use an engine built for {v['count']} rank(s)")
        yield error(f"{ws} ranks to start but only {v['count']} GPU(s) visible",
                    f"TensorRT-LLM runs one rank per GPU; this process sees {v['count']}"
                    + (f" ({'; '.join(v['limited_by'])})" if v["limited_by"] else "")
                    + ". Fix: " + ", or ".join(remedies) + ".",
                    evidence=ev)
        return
    yield ok(f"{v['count']} GPU(s) visible for {ws} rank(s)", **ev)


@check("CTR005", area="container", title="container memory limit leaves room to load the engine", kb="ctr-memory-limit")
def memory_limit(facts):
    """Reports whether this runs in a container (/.dockerenv, /run/.containerenv, cgroup names) and
    its memory limit (cgroup v2 memory.max or v1 memory.limit_in_bytes), and compares the limit
    with the engine files the ranks on this machine will read.

    Why: TensorRT deserialises each rank's engine through host memory; a container limit below
    the engine sizes gets the server OOM-killed while loading: exit code 137, "Killed", no
    error in the log.

    Fix: raise the limit (`docker run --memory 64g`, Kubernetes resources.limits.memory) to more
    than the engine files of this machine plus a few GiB.
    """
    ci = facts["container.info"]
    rt = ci.get("runtime") or {}
    mem = ci.get("memory") or {}
    limit = mem.get("limit")
    if not rt.get("in_container") and limit is None:
        return
    ev: dict[str, Any] = {"runtime": rt.get("runtime") or "none detected", "memory limit": _human(limit)}
    if rt.get("markers"):
        ev["markers"] = rt["markers"]
    if mem.get("path"):
        ev["cgroup file"] = mem["path"]
    eng = _get(facts, "engine.info")
    need = None
    if eng and eng.get("ranks"):
        sizes = [r.get("size") or 0 for r in eng["ranks"]]
        ws = _world_size(facts) or len(sizes)
        need = sum(sorted(sizes, reverse=True)[: max(1, min(ws, len(sizes)))])
        ev["engine bytes on this machine"] = _human(need)
    if limit is not None and need is not None and limit < need + 2 * GiB:
        yield error(f"Container memory limit {_human(limit)} is below the engines' {_human(need)} plus working room",
                    "Each rank reads its engine into host memory while deserialising it; the kernel will OOM-kill the "
                    "server during load (exit code 137, no error in the log). Raise the limit (docker run --memory, or "
                    "resources.limits.memory) to at least " + _human(need + 4 * GiB) + ".", evidence=ev)
        return
    title = f"Running in {rt.get('runtime')}" if rt.get("in_container") else "Memory-limited cgroup"
    yield ok(f"{title}, memory limit {_human(limit)}", **ev)


def _vparts(v: str) -> list[str]:
    import re

    return re.findall(r"\d+", str(v).split("+")[0])[:4]


def _same_version(image: str, installed: str) -> bool:
    a, b = _vparts(image), _vparts(installed)
    n = min(len(a), len(b))
    return n > 0 and [int(x) for x in a[:n]] == [int(x) for x in b[:n]]


@check("CTR006", area="container", title="the image's TensorRT / TensorRT-LLM versions are the ones installed", kb="container-version-mismatch")
def image_versions(facts):
    """Compares the version variables an NGC image sets (TRT_VERSION / TENSORRT_VERSION,
    TRTLLM_VERSION / TENSORRT_LLM_VERSION; TRITON_SERVER_VERSION and
    NVIDIA_TRITON_SERVER_VERSION are shown as evidence) with the TensorRT and TensorRT-LLM that
    are actually installed (facts trt.installed, trtllm.installed).

    Why: a `pip install tensorrt_llm` or `pip install tensorrt` inside an NGC Triton image
    replaces the versions the image's tensorrtllm_backend was built against; engines built with
    one and served by the other fail with version-mismatch or undefined-symbol errors.

    Fix: use the image whose release matches the engine (the Triton/TensorRT-LLM support matrix),
    or rebuild the engine with the versions installed; do not pip-install over the image's.
    """
    env = facts["container.info"].get("versions") or {}
    if not env:
        return
    pairs = [("TensorRT", ("TRT_VERSION", "TENSORRT_VERSION", "NV_TENSORRT_VERSION"), "trt.installed"),
             ("TensorRT-LLM", ("TRTLLM_VERSION", "TENSORRT_LLM_VERSION", "TRT_LLM_VERSION"), "trtllm.installed")]
    compared = False
    context = {k: env[k] for k in ("NVIDIA_TRITON_SERVER_VERSION", "TRITON_SERVER_VERSION") if k in env}
    for name, vars_, fact in pairs:
        var = next((v for v in vars_ if env.get(v)), None)
        if var is None:
            continue
        inst = _get(facts, fact) or {}
        have = inst.get("version")
        ev = {f"image {var}": env[var], f"installed {name}": have or "not found", **context}
        if inst.get("source"):
            ev["installed from"] = inst["source"]
        if inst.get("path"):
            ev["installed at"] = inst["path"]
        if have is None:
            if fact in ("trt.installed", "trtllm.installed") and inst:
                compared = True
                yield warning(f"The image says {name} {env[var]}, but no {name} is installed",
                              f"{var} is set by the image, yet {name} was not found: it was uninstalled or the "
                              f"environment is another Python's.", evidence=ev)
            continue
        compared = True
        if _same_version(env[var], have):
            yield ok(f"{name} {have} as the image says ({var}={env[var]})", **ev)
        else:
            yield error(f"The image was built for {name} {env[var]}, but {have} is installed",
                        f"{var}={env[var]} is what this image's libraries and backends were built against; {name} {have} "
                        f"replaced it (usually a pip install inside the image). Engines and the backend will disagree "
                        f"about versions at load.", evidence=ev)
    if not compared and context:
        yield info("NGC Triton image " + " / ".join(f"{k}={v}" for k, v in context.items()), evidence=dict(env))
