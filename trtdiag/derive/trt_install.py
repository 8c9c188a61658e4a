"""How to install a TensorRT runtime: the pip package for the CUDA major version the driver
supports, or an NGC container (trtdiag/data/tensorrt_install.json, with its sources)."""

from __future__ import annotations

from functools import lru_cache

from .. import data


@lru_cache(maxsize=1)
def table() -> dict:
    return data.load_json("tensorrt_install.json")


def cuda_major(cuda_driver: object) -> int | None:
    """NVML's CUDA driver version (12040 for 12.4) as its major, None when unknown."""
    return cuda_driver // 1000 if isinstance(cuda_driver, int) and not isinstance(cuda_driver, bool) and cuda_driver > 0 else None


def install_advice(cuda_driver: object = None, version: str | None = None) -> dict:
    """``{"text": one sentence, "commands": [...]}``.  With the driver's CUDA major known, the one
    package for it; else the package for each major.  ``version`` pins the release (the one the
    engine was built with)."""
    t = table()
    pin = f"=={version}" if version else ""
    major = cuda_major(cuda_driver)
    if major is not None and str(major) in t["pip"]:
        pkg = t["pip"][str(major)]["package"]
        cmd = f"pip install {pkg}{pin}"
        text = f"Install it for the driver's CUDA {major}: `{cmd}`, or use {t['container']}."
        return {"text": text, "commands": [cmd]}
    cmds = [f"pip install {v['package']}{pin}" for _, v in sorted(t["pip"].items())]
    majors = sorted(t["pip"])
    text = ("Install it with pip for the CUDA major version of the driver: "
            + ", ".join(f"`{c}` (CUDA {m})" for c, m in zip(cmds, majors)) + f"; or use {t['container']}.")
    return {"text": text, "commands": cmds}
