"""Installed TensorRT and TensorRT-LLM: what will load the engines.

Shared helpers of the tensorrt rules (one rule a file beside this one)."""

from __future__ import annotations

from ...core.finding import info, ok, warning

def _short(v: str | None) -> str:
    return v or "unknown"

def _split_req(req: str) -> tuple[str, str]:
    import re

    m = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)$", req)
    return (m.group(1), m.group(2).strip()) if m else (req, "")

def _satisfies(spec: str, version: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        ss = SpecifierSet(spec)
        v = Version(version)
        if ss.contains(v, prereleases=True):
            return True
        # a library version 10.0.1.6 against ==10.0.1: compare the releases TensorRT pins
        return any(s.operator == "==" and Version(s.version).release == v.release[:len(Version(s.version).release)] for s in ss)
    except Exception:
        return True  # an unparsable requirement: do not raise a false alarm
