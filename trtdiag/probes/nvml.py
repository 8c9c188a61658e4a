"""The dozen NVML calls ``gpu.inventory`` makes, through ctypes on ``libnvidia-ml.so.1``.

nvidia-ml-py (``pynvml``) binds all of NVML in one 8,000-line module whose import alone costs
25–40 ms of interpreter time — as long as the rest of a ``trtdiag check`` on a GPU machine.  These
are the same C calls pynvml makes for the functions the probe uses, with the same arguments,
buffer sizes and structure layouts (nvidia-ml-py@13.615.71: pynvml.py ``nvmlInitWithFlags``,
``nvmlSystemGetDriverVersion``, ``nvmlSystemGetCudaDriverVersion``, ``nvmlDeviceGetCount`` →
``nvmlDeviceGetCount_v2``, ``nvmlDeviceGetHandleByIndex`` → ``_v2``, ``nvmlDeviceGetName``,
``nvmlDeviceGetUUID``, ``nvmlDeviceGetCudaComputeCapability``, ``nvmlDeviceGetMemoryInfo``
(``c_nvmlMemory_t``), ``nvmlDeviceGetComputeRunningProcesses_v3`` (``c_nvmlProcessInfo_v2_t``),
``nvmlSystemGetProcessName``, ``nvmlErrorString``, ``nvmlShutdown``).  tools/gpu_validate.py
compares this binding's answers with pynvml's on the GPU machine.

Errors raise :class:`NvmlError`, whose text is NVML's own ``nvmlErrorString`` (what pynvml's
``NVMLError`` prints).
"""

from __future__ import annotations

import ctypes
import threading
from ctypes import byref, c_char_p, c_int, c_uint, c_ulonglong, c_void_p

LIB = "libnvidia-ml.so.1"
SUCCESS, ERROR_INSUFFICIENT_SIZE, ERROR_FUNCTION_NOT_FOUND = 0, 7, 13
DRIVER_VERSION_BUFFER, DEVICE_NAME_BUFFER, DEVICE_UUID_BUFFER, PROCESS_NAME_BUFFER = 80, 96, 96, 1024
VALUE_NOT_AVAILABLE = (1 << 64) - 1  # usedGpuMemory when the driver cannot say (pynvml: None)


class Memory(ctypes.Structure):  # nvmlMemory_t
    _fields_ = [("total", c_ulonglong), ("free", c_ulonglong), ("used", c_ulonglong)]


class ProcessInfo(ctypes.Structure):  # nvmlProcessInfo_v2_t (the _v2 and _v3 calls)
    _fields_ = [("pid", c_uint), ("usedGpuMemory", c_ulonglong), ("gpuInstanceId", c_uint), ("computeInstanceId", c_uint)]


class ProcessInfoV1(ctypes.Structure):  # nvmlProcessInfo_v1_t (drivers before the _v2 call)
    _fields_ = [("pid", c_uint), ("usedGpuMemory", c_ulonglong)]


class NvmlError(Exception):
    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code


_lib = None
_lock = threading.Lock()


def load() -> ctypes.CDLL:
    """The NVML library (loaded once); OSError when it cannot be loaded."""
    global _lib
    with _lock:
        if _lib is None:
            _lib = ctypes.CDLL(LIB)
        return _lib


def _error_text(code: int) -> str:
    try:
        fn = load().nvmlErrorString
        fn.restype = c_char_p
        s = fn(c_int(code))
        return s.decode("utf-8", "replace") if s else f"NVML error {code}"
    except (OSError, AttributeError):
        return f"NVML error {code}"


def _fn(name: str):
    try:
        return getattr(load(), name)
    except AttributeError:
        raise NvmlError(ERROR_FUNCTION_NOT_FOUND, "Function Not Found") from None


def _check(ret: int) -> None:
    if ret != SUCCESS:
        raise NvmlError(ret, _error_text(ret))


def init() -> None:
    _check(_fn("nvmlInitWithFlags")(c_uint(0)))


#: nvmlInit begun by :func:`start_init` and not yet taken by :func:`init_started`: (thread, outcome)
_early: tuple[threading.Thread, list] | None = None


def start_init() -> None:
    """Begin ``nvmlInit`` in a thread now.  The driver's initialisation is the longest wait of a
    ``check`` on a GPU machine (about 50 ms, spent in C with the interpreter lock released); begun
    as the process starts, it overlaps the imports and argument parsing that come before the
    probes.  :func:`init_started` takes its outcome; :func:`finish_early` tidies up when nothing did."""
    global _early
    with _lock:
        if _early is not None:
            return
        outcome: list = []

        def go() -> None:
            try:
                init()
                outcome.append(None)
            except (OSError, NvmlError) as exc:
                outcome.append(exc)

        t = threading.Thread(target=go, name="nvml init", daemon=True)
        _early = (t, outcome)
    t.start()


def _take_early() -> tuple[threading.Thread, list] | None:
    global _early
    with _lock:
        early, _early = _early, None
    return early


def init_started() -> None:
    """``nvmlInit``, or the outcome of the one :func:`start_init` began (its error raised here)."""
    early = _take_early()
    if early is None:
        return init()
    t, outcome = early
    t.join()
    err = outcome[0] if outcome else NvmlError(-1, "nvmlInit did not finish")
    if isinstance(err, OSError):  # the library did not load: init() says it as the probe expects
        return init()
    if err is not None:
        raise err


def finish_early(timeout: float = 5.0) -> None:
    """Before the process leaves: wait for an initialisation that nothing took, and shut it down
    (a daemon thread still inside the driver's C code at finalisation can crash the process)."""
    early = _take_early()
    if early is None:
        return
    t, outcome = early
    t.join(timeout)
    if not t.is_alive() and outcome and outcome[0] is None:
        try:
            shutdown()
        except NvmlError:
            pass


def shutdown() -> None:
    _check(_fn("nvmlShutdown")())


def _string(name: str, size: int, *args) -> str:
    buf = ctypes.create_string_buffer(size)
    _check(_fn(name)(*args, buf, c_uint(size)))
    return buf.value.decode("utf-8", "replace")


def driver_version() -> str:
    return _string("nvmlSystemGetDriverVersion", DRIVER_VERSION_BUFFER)


def cuda_driver_version() -> int:
    v = c_int()
    _check(_fn("nvmlSystemGetCudaDriverVersion")(byref(v)))
    return v.value


def device_count() -> int:
    n = c_uint()
    _check(_fn("nvmlDeviceGetCount_v2")(byref(n)))
    return n.value


def handle(index: int) -> c_void_p:
    h = c_void_p()
    _check(_fn("nvmlDeviceGetHandleByIndex_v2")(c_uint(index), byref(h)))
    return h


def name(h: c_void_p) -> str:
    return _string("nvmlDeviceGetName", DEVICE_NAME_BUFFER, h)


def uuid(h: c_void_p) -> str:
    return _string("nvmlDeviceGetUUID", DEVICE_UUID_BUFFER, h)


def compute_capability(h: c_void_p) -> tuple[int, int]:
    major, minor = c_int(), c_int()
    _check(_fn("nvmlDeviceGetCudaComputeCapability")(h, byref(major), byref(minor)))
    return major.value, minor.value


def memory(h: c_void_p) -> tuple[int, int, int]:
    """(total, free, used) bytes."""
    m = Memory()
    _check(_fn("nvmlDeviceGetMemoryInfo")(h, byref(m)))
    return int(m.total), int(m.free), int(m.used)


def compute_processes(h: c_void_p) -> list[tuple[int, int | None]]:
    """(pid, used bytes or None) of each compute process on the device, asked the way pynvml
    asks: the count first, then an array of twice that plus five (processes may start between
    the calls).  Drivers without the _v3 call are asked through _v2, then the first version."""
    for fname, struct in (("nvmlDeviceGetComputeRunningProcesses_v3", ProcessInfo),
                          ("nvmlDeviceGetComputeRunningProcesses_v2", ProcessInfo),
                          ("nvmlDeviceGetComputeRunningProcesses", ProcessInfoV1)):
        try:
            fn = _fn(fname)
        except NvmlError:
            continue
        count = c_uint(0)
        ret = fn(h, byref(count), None)
        if ret == SUCCESS:
            return []
        if ret != ERROR_INSUFFICIENT_SIZE:
            _check(ret)
        count.value = count.value * 2 + 5
        arr = (struct * count.value)()
        _check(fn(h, byref(count), arr))
        return [(int(p.pid), None if p.usedGpuMemory == VALUE_NOT_AVAILABLE else int(p.usedGpuMemory))
                for p in arr[: count.value]]
    raise NvmlError(ERROR_FUNCTION_NOT_FOUND, "Function Not Found")


def process_name(pid: int) -> str:
    return _string("nvmlSystemGetProcessName", PROCESS_NAME_BUFFER, c_uint(pid))
