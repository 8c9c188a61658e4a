"""Pure helpers over the MPI facts."""

from __future__ import annotations

import os
import re

def version_from_name(path: str | None) -> str | None:
    """libmpi.so.40.30.4 -> "40.30.4" (the library's libtool version, not the MPI release)."""
    if not path:
        return None
    m = re.search(r"\.so\.([\d.]+)$", os.path.basename(path))
    return m.group(1) if m else None


def same_library(facts, a: str | None, b: str | None) -> bool:
    """Two paths name the same library: one file, or copies (same size and file version); what
    the paths are comes from the recorded ``files.info`` fact."""
    if not a or not b:
        return a == b
    ia, ib = facts.path_info(a), facts.path_info(b)
    if ia.get("realpath") == ib.get("realpath"):
        return True
    if ia.get("size") is None or ib.get("size") is None:
        return False
    return ia["size"] == ib["size"] and version_from_name(ia["realpath"]) == version_from_name(ib["realpath"])


ALLOW_ROOT = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
