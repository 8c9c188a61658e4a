"""CTR001: /dev/shm large enough for Triton's Python backend and NCCL."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import Any, DOCKER_DEFAULT_SHM, SHM_MIN_TRITON, SHM_RECOMMENDED, _human, _launch, _run_hint, _uses_triton, _world_size, error, info, ok, warning


@rule("CTR001", area="container", title="/dev/shm large enough for Triton's Python backend and NCCL", kb="shm-too-small")
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
