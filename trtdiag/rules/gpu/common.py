"""GPU0xx: the NVIDIA driver, NVML and the GPUs this process can see (fact ``gpu.inventory``).

Shared helpers of the gpu rules (one rule a file beside this one)."""

from __future__ import annotations

from ...core.errors import ProbeError

from ...core.finding import error, ok, warning

GiB = 1 << 30

def cuda_version_text(v: int | None) -> str | None:
    """NVML's CUDA driver version (12040) as CUDA writes it (12.4)."""
    if not isinstance(v, int) or v <= 0:
        return None
    return f"{v // 1000}.{(v % 1000) // 10}"

def _gpu_line(g: dict) -> str:
    cc = g.get("cc")
    parts = [f"GPU {g.get('index')}: {g.get('name')}"]
    if g.get("total") is not None:
        parts.append(f"{g['total'] / GiB:.2f} GiB")
    if cc:
        parts.append(f"compute capability {cc[0]}.{cc[1]}")
    return ", ".join(parts)

def _cuda_runtime(packages: dict) -> tuple[tuple[int, int], str] | None:
    """The CUDA runtime the Python environment ships ((12, 4), 'nvidia-cuda-runtime-cu12 12.4.127'),
    from the pip package that carries libcudart, else from a +cuXYZ local version (torch)."""
    import re

    for name, ver in sorted(packages.items()):
        if re.fullmatch(r"nvidia-cuda-runtime-cu\d+", name) and isinstance(ver, str):
            m = re.match(r"(\d+)\.(\d+)", ver)
            if m:
                return (int(m.group(1)), int(m.group(2))), f"{name} {ver}"
    for name in ("torch", "tensorrt-llm", "tensorrt_llm"):
        ver = packages.get(name)
        m = re.search(r"\+cu(\d+?)(\d)$", ver or "")
        if m:
            return (int(m.group(1)), int(m.group(2))), f"{name} {ver}"
    return None
