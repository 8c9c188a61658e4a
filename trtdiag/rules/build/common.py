"""Build environment checks (BLD0xx): memory and cores for building TensorRT-LLM from source,
free disk for engines.

Building TensorRT-LLM's C++/CUDA code (``python3 scripts/build_wheel.py``) runs one compiler or
linker per job; its default job count is the number of CPUs, and each nvcc job can take several
GB.  Machines with many cores and little memory get the build killed by the OOM killer while
compiling or linking (NVIDIA/TensorRT-LLM#186: 32 GB was not enough at the default; #1028: "over
30G at compile time").  trtdiag budgets 2.5 GiB per job.

Shared helpers of the build rules (one rule a file beside this one)."""

from __future__ import annotations

import os

from ...core.finding import error, ok, warning

GiB = 1024**3

GB_PER_JOB = 2.5  # planning figure per build job; see the module docstring for the sources

SOURCE_BUILD_DISK = 64 * GiB  # free space trtdiag asks for before a from-source build (build tree + wheel + ccache)

def _fmt(n: float | int | None) -> str:
    """A size in the unit that shows it: never "0.0 GiB" for a few bytes."""
    if n is None:
        return "?"
    if n >= GiB // 10:
        return f"{n / GiB:.1f} GiB"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{int(n)} bytes"

def source_build(facts) -> dict | None:
    """Is a TensorRT-LLM source build in view: :mod:`trtdiag.derive.launch`."""
    return facts.derived("launch.source_build")


def recommended_jobs(mem_bytes: int, cores: int) -> int:
    return max(1, min(cores, int(mem_bytes / GiB / GB_PER_JOB)))
