#!/usr/bin/env python3
"""Record what the installed NVIDIA driver's libcuda says for every CUresult code: cuGetErrorName and
cuGetErrorString for 0 … 1000 (codes it does not know are left out), with the driver's version.

Run on a machine with an NVIDIA driver (no GPU work is done; cuInit is not called):

    python3 tools/cuda_driver_error_strings.py > tools/data/cuda_driver_errors-<driver>.json

tools/harvest_cuda_errors.py reads the output beside the CUDA headers and libcudart's own lookups.
"""
import ctypes
import ctypes.util
import json
import sys


def main() -> int:
    lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "libcuda.so.1")
    ver = ctypes.c_int(0)
    lib.cuDriverGetVersion(ctypes.byref(ver))
    codes = {}
    for code in range(0, 1001):
        name = ctypes.c_char_p()
        text = ctypes.c_char_p()
        if lib.cuGetErrorName(code, ctypes.byref(name)) != 0 or not name.value:
            continue
        lib.cuGetErrorString(code, ctypes.byref(text))
        codes[str(code)] = [name.value.decode(), (text.value or b"").decode()]
    driver = ""
    try:
        with open("/proc/driver/nvidia/version") as fh:
            driver = fh.readline().strip()
    except OSError:
        pass
    json.dump({"cuda_driver_version": ver.value, "driver": driver, "codes": codes}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
