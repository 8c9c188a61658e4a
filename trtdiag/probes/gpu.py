"""Probe ``gpu.inventory``: the NVIDIA driver and every visible GPU, read through NVML.

Shape (bytes; docs/ARCHITECTURE.md)::

    {"nvml_error": str or None, "driver": "580.159.04", "cuda_driver": 13000,
     "source": "nvml" | "recorded:PATH",
     "visible": {"CUDA_VISIBLE_DEVICES": "1"} (only the variables that were set),
     "gpus": [{"index", "name", "uuid", "cc": [9, 0], "total", "free", "used",
               "procs": [{"pid", "used", "name", "local"}]}]}

``local`` is true when that PID, in this PID namespace, holds a /dev/nvidia* file open: only then
is it safe to act on the PID here (NVML reports host PIDs; inside a container the same number may
be another process).

NVML is reached through :mod:`trtdiag.probes.nvml`, a ctypes binding of the dozen calls used here
(the same calls nvidia-ml-py makes, without its ~30 ms import).  On a machine without the NVIDIA
driver (CI, a laptop) ``libnvidia-ml.so.1`` does not load and the probe answers in a few
milliseconds with ``nvml_error`` set and no GPUs.

``TRTDIAG_GPU_INVENTORY=PATH`` replaces NVML with a recorded inventory (a test double, and an
offline mode: record on the GPU machine, check elsewhere).  PATH is either a JSON file of the
shape above, or the XML of ``nvidia-smi -q -x``.

Visibility: NVML sees every GPU of the machine (it ignores ``CUDA_VISIBLE_DEVICES``); the server
sees only those ``CUDA_VISIBLE_DEVICES`` names, in that order, re-numbered from 0.  The probe
applies the same rule (:func:`select_visible`) so that rank *r* meets the GPU it will really use.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.facts import probe

NVML_LIB = "libnvidia-ml.so.1"
MiB = 1 << 20

# Compute capability of common data-centre and workstation GPUs, by the start of NVML's name (for
# recorded nvidia-smi XML, which does not carry it).  Source: developer.nvidia.com/cuda-gpus.
CC_BY_NAME = [
    ("NVIDIA B200", (10, 0)), ("NVIDIA GB200", (10, 0)),
    ("NVIDIA H200", (9, 0)), ("NVIDIA H100", (9, 0)), ("NVIDIA GH200", (9, 0)), ("NVIDIA H800", (9, 0)), ("NVIDIA H20", (9, 0)),
    ("NVIDIA L40", (8, 9)), ("NVIDIA L4", (8, 9)), ("NVIDIA GeForce RTX 40", (8, 9)), ("NVIDIA RTX 6000 Ada", (8, 9)),
    ("NVIDIA A100", (8, 0)), ("NVIDIA A800", (8, 0)), ("NVIDIA A30", (8, 0)),
    ("NVIDIA A10", (8, 6)), ("NVIDIA A40", (8, 6)), ("NVIDIA GeForce RTX 30", (8, 6)), ("NVIDIA RTX A6000", (8, 6)),
    ("Tesla T4", (7, 5)), ("NVIDIA T4", (7, 5)), ("Tesla V100", (7, 0)),
]


def cc_from_name(name: str) -> list[int] | None:
    for prefix, cc in CC_BY_NAME:
        if name.startswith(prefix):
            return list(cc)
    return None


def _nvml_present() -> str | None:
    """None when the NVML library loads; else why not (cheap: ctypes only, no pynvml)."""
    import ctypes

    try:
        ctypes.CDLL(NVML_LIB)
    except OSError as exc:
        return f"{NVML_LIB} cannot be loaded ({exc}): no NVIDIA driver on this machine, or it is not mounted into this container"
    return None


def parse_proc_driver_version(text: str) -> str | None:
    """The version in /proc/driver/nvidia/version: "NVRM version: NVIDIA UNIX Open Kernel Module for
    x86_64  580.159.04  Release Build …" or "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  …"."""
    m = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)", text)
    return m.group(1) if m else None


def _driver_from_proc() -> str | None:
    """The kernel module's version, when the driver is loaded (even where NVML cannot be used)."""
    try:
        with open("/proc/driver/nvidia/version", encoding="utf-8", errors="replace") as fh:
            return parse_proc_driver_version(fh.read(4096))
    except OSError:
        return None


def _proc_name(pid: int, nvml: Any) -> str | None:
    """The driver's name for the process first: NVML reports host PIDs, and inside a container the
    same number may belong to another process of this PID namespace.  psutil as a fallback."""
    try:
        name = os.path.basename(nvml.process_name(pid))
        if name:
            return name
    except Exception:
        pass
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # another PID namespace, gone, or no permission
        return None


def holds_device(pid: int, prefix: str = "/dev/nvidia") -> bool:
    """Whether process ``pid`` of this PID namespace has a file under ``prefix`` open: proof that
    the PID NVML reported is this process here (and not a namesake in a container's namespace)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefix):
                return True
        except OSError:
            continue
    return False


def read_nvml() -> dict[str, Any]:
    why = _nvml_present()
    if why:
        return {"nvml_error": why, "driver": _driver_from_proc(), "cuda_driver": None, "source": "nvml", "gpus": []}
    from . import nvml

    try:
        nvml.init_started()
    except nvml.NvmlError as exc:
        return {"nvml_error": f"nvmlInit failed: {exc}", "driver": _driver_from_proc(), "cuda_driver": None, "source": "nvml", "gpus": []}
    try:
        out: dict[str, Any] = {"nvml_error": None, "source": "nvml", "gpus": []}
        out["driver"] = nvml.driver_version()
        try:
            out["cuda_driver"] = nvml.cuda_driver_version()
        except nvml.NvmlError:
            out["cuda_driver"] = None
        for i in range(nvml.device_count()):
            h = nvml.handle(i)
            g: dict[str, Any] = {"index": i, "name": nvml.name(h), "uuid": nvml.uuid(h)}
            try:
                g["cc"] = list(nvml.compute_capability(h))
            except nvml.NvmlError:
                g["cc"] = cc_from_name(g["name"])
            total, free, used = nvml.memory(h)
            g.update(total=total, free=free, used=used)
            try:
                running = nvml.compute_processes(h)
            except nvml.NvmlError:
                running = []
            g["procs"] = [{"pid": pid, "used": mem, "name": _proc_name(pid, nvml), "local": holds_device(pid)} for pid, mem in running]
            out["gpus"].append(g)
        return out
    except nvml.NvmlError as exc:
        return {"nvml_error": f"NVML query failed: {exc}", "driver": _driver_from_proc(), "cuda_driver": None, "source": "nvml", "gpus": []}
    finally:
        try:
            nvml.shutdown()
        except Exception:
            pass


def _match(entry: str, gpu: dict[str, Any], position: int | None) -> bool:
    entry = entry.strip()
    if entry.isdigit():
        return position == int(entry) if position is not None else gpu.get("index") == int(entry)
    if entry.startswith("GPU-"):
        return str(gpu.get("uuid") or "").startswith(entry)
    return False


def in_container() -> bool:
    return os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv")


def select_visible(gpus: list[dict[str, Any]], cuda_visible: str | None, nvidia_visible: str | None = None,
                   container: bool = False) -> list[dict[str, Any]]:
    """The GPUs a CUDA process will see, in its order, re-indexed from 0 (``nvml_index`` keeps NVML's).

    ``NVIDIA_VISIBLE_DEVICES`` is read by the NVIDIA container runtime when a container starts:
    inside a container NVML already lists only those GPUs, numbered from 0 (measured on an H100
    container with NVIDIA_VISIBLE_DEVICES=0), so it is not applied again there.  On the host it
    has no effect on CUDA, but says which GPUs a container started with it will get: it is
    applied (indices, UUIDs, "all", "none"/"void").  ``CUDA_VISIBLE_DEVICES`` then selects, like
    CUDA does: indices or UUID prefixes, in the given order, up to the first entry that matches no
    GPU.  MIG instances (``MIG-…``) are not modelled: the parent GPUs are kept as NVML lists them.
    """
    out = list(gpus)
    if nvidia_visible is not None and not container and nvidia_visible.strip() not in ("", "all"):
        nv = nvidia_visible.strip()
        if nv in ("none", "void"):
            out = []
        else:
            entries = [e for e in nv.split(",") if e.strip()]
            out = [g for g in out if any(_match(e, g, None) for e in entries)]
    if cuda_visible is not None and "MIG-" in cuda_visible:
        cuda_visible = None  # MIG instances are not modelled: their parent GPUs are reported as they are
    if cuda_visible is not None:
        chosen: list[dict[str, Any]] = []
        for e in cuda_visible.split(","):
            hit = next((g for pos, g in enumerate(out) if _match(e, g, pos)), None)
            if hit is None or hit in chosen:
                break  # CUDA stops at the first invalid entry
            chosen.append(hit)
        out = chosen
    res = []
    for i, g in enumerate(out):
        g = dict(g)
        g.setdefault("nvml_index", g.get("index"))
        g["index"] = i
        res.append(g)
    return res


def _mib(text: str | None) -> int | None:
    m = re.match(r"\s*([\d.]+)\s*MiB", text or "")
    return int(float(m.group(1)) * MiB) if m else None


def inventory_from_nvidia_smi_xml(text: str, source: str = "") -> dict[str, Any]:
    """An inventory from ``nvidia-smi -q -x`` (MiB resolution; ``used`` = total - free, as NVML counts it)."""
    import xml.etree.ElementTree as ET

    from ..core.errors import InputError

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"{source}: not nvidia-smi XML ({exc})") from None
    if root.tag != "nvidia_smi_log":
        raise InputError(f"{source}: not the XML of `nvidia-smi -q -x` (root element <{root.tag}>)")
    cuda = root.findtext("cuda_version")
    cuda_driver = None
    if cuda and re.fullmatch(r"\d+\.\d+", cuda.strip()):
        major, minor = cuda.strip().split(".")
        cuda_driver = int(major) * 1000 + int(minor) * 10
    gpus = []
    for i, g in enumerate(root.findall("gpu")):
        fb = g.find("fb_memory_usage")
        total = _mib(fb.findtext("total")) if fb is not None else None
        free = _mib(fb.findtext("free")) if fb is not None else None
        procs = []
        for p in g.findall("processes/process_info"):
            pid = p.findtext("pid")
            procs.append({"pid": int(pid) if pid and pid.isdigit() else None, "used": _mib(p.findtext("used_memory")),
                          "name": os.path.basename(p.findtext("process_name") or "") or None})
        name = (g.findtext("product_name") or "").strip()
        minor = g.findtext("minor_number")
        gpus.append({"index": int(minor) if minor and minor.isdigit() else i, "name": name, "uuid": g.findtext("uuid"),
                     "cc": cc_from_name(name), "total": total, "free": free,
                     "used": (total - free) if total is not None and free is not None else None, "procs": procs})
    return {"nvml_error": None, "driver": root.findtext("driver_version"), "cuda_driver": cuda_driver, "gpus": gpus}


def _validate(inv: dict[str, Any], path: str) -> None:
    """A recorded inventory is user input: wrong types give one clear line (exit 2), not a crash later."""
    from ..core.errors import InputError

    def bad(where: str, what: str) -> InputError:
        return InputError(f"{path}: {where}: expected {what} (see docs/memory.md, gpu.inventory)")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if inv.get("cuda_driver") is not None and not is_int(inv["cuda_driver"]):
        raise bad("cuda_driver", "an integer like 12040")
    for i, g in enumerate(inv["gpus"]):
        if not isinstance(g, dict):
            raise bad(f"gpus[{i}]", "an object")
        for k in ("total", "free", "used"):
            if g.get(k) is not None and not (is_int(g[k]) and g[k] >= 0):
                raise bad(f"gpus[{i}].{k}", "bytes as a non-negative integer")
        if g.get("index") is not None and not is_int(g["index"]):
            raise bad(f"gpus[{i}].index", "an integer")
        cc = g.get("cc")
        if cc is not None and not (isinstance(cc, list) and len(cc) == 2 and all(is_int(x) for x in cc)):
            raise bad(f"gpus[{i}].cc", "[major, minor]")
        procs = g.get("procs", [])
        if not isinstance(procs, list):
            raise bad(f"gpus[{i}].procs", "a list")
        for j, p in enumerate(procs):
            if not isinstance(p, dict) or not is_int(p.get("pid")) or (p.get("used") is not None and not is_int(p["used"])):
                raise bad(f"gpus[{i}].procs[{j}]", 'an object with an integer "pid" and "used" bytes')


def load_recorded(path: str) -> dict[str, Any]:
    """A recorded inventory (JSON of this probe's shape, or nvidia-smi -q -x XML)."""
    from ..core.errors import InputError
    from ..fsutil import read_text

    text = read_text(path)
    if text.lstrip().startswith("<"):
        inv = inventory_from_nvidia_smi_xml(text, path)
    else:
        from ..fsutil import loads_json

        inv = loads_json(text, str(path))
        if not isinstance(inv, dict) or not isinstance(inv.get("gpus"), list):
            raise InputError(f"{path}: not a recorded GPU inventory (expected a JSON object with a \"gpus\" list, see docs/memory.md)")
    _validate(inv, path)
    inv = {k: v for k, v in inv.items() if not k.startswith("_")}
    inv.setdefault("nvml_error", None)
    inv.setdefault("driver", None)
    inv.setdefault("cuda_driver", None)
    inv["source"] = f"recorded:{path}"
    return inv


@probe("gpu.inventory")
def gpu_inventory(facts) -> dict[str, Any]:
    recorded = os.environ.get("TRTDIAG_GPU_INVENTORY")
    inv = load_recorded(recorded) if recorded else read_nvml()
    cvd, nvd = os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("NVIDIA_VISIBLE_DEVICES")
    visible = {k: v for k, v in (("CUDA_VISIBLE_DEVICES", cvd), ("NVIDIA_VISIBLE_DEVICES", nvd)) if v is not None}
    if visible:
        inv["visible"] = visible
        inv["gpus"] = select_visible(inv["gpus"], cvd, nvd, container=in_container())
    return inv
