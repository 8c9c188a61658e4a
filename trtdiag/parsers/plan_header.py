"""The TensorRT plan (engine) header: what built a plan, read from its first bytes only.

A 20 GB engine costs the same as a 1 MB one: :func:`read` opens the file, reads ``HEAD`` bytes and
takes the size from ``fstat``.  Nothing here loads TensorRT.

What is established, and how (../shared/docs/engine_header.md, ../shared/fixtures/engines,
../shared/fixtures/trt_runtime):

``ftrt`` plans (TensorRT ≥ 8.6)
    ====== ======= ==========================================================================
    offset size    meaning
    ====== ======= ==========================================================================
    0      4       magic ``ftrt`` (u32 LE 0x74727466 = 1953657958).  Verified: the 11.4.0.106
                   runtime's "incompatible serialization version (A != 1953657958)".
    8      u64 LE  number of entries in the section table (1 in the 8.6.1.6 plan).
    16     u64 LE  total plan size in bytes; the runtime asserts ``plan.header.size ==
                   blobSize``.  Verified: 11.4.0.106 runtime (crafted headers) and the real
                   8.6.1.6 plan (3,228 at 16, file is 3,228 bytes).
    24     4 x u8  major, minor, patch, build of the TensorRT that built the plan.
                   Verified ONLY on a real TensorRT 8.6.1.6 plan (08 06 01 06).  Whether 10.x and
                   later releases keep it there is not established, so for any other major.minor
                   the bytes are returned as ``candidate_version`` and ``version`` stays None
                   with the reason.
    28     u32 LE  platform tag: 0 for Linux x86-64 (8.6.1.6 plan; 11.4.0.106 runtime accepts 0
                   and rejects anything else with "Platform specific tag mismatch detected").
    ====== ======= ==========================================================================

``ptrt`` plans (TensorRT before 8.6, and the safety runtime)
    Magic ``ptrt`` (1953657968).  A newer runtime refuses them with "Trying to load an engine
    created with incompatible serialization version (1953657968 != 1953657958)" (11.4.0.106, on
    a real 2021 Jetson plan).  The rest of this layout is not established: the version is
    'unknown'.

Git LFS pointers begin ``version https://git-lfs`` (the runtime reads 'vers' = 1936876918 as the
magic).  Anything else is not a TensorRT plan.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from ..fsutil import read_head

HEAD = 64  # bytes read from every plan; never more

MAGIC_FTRT = b"ftrt"
MAGIC_PTRT = b"ptrt"
LFS_PREFIX = b"version https://git-lfs"

#: (major, minor) of releases whose plans were seen to carry the version at bytes 24..27.
VERIFIED_VERSION_AT_24 = {(8, 6): "real plan built by TensorRT 8.6.1.6 (../shared/fixtures/engines)"}

PLATFORM_TAGS = {0: "Linux x86-64"}  # the only value established (8.6.1.6 plan, 11.4 runtime)


def magic_number(tag: bytes) -> int:
    """The u32 the runtime prints for a 4-byte magic ("incompatible serialization version (N != …)")."""
    return struct.unpack("<I", tag[:4].ljust(4, b"\0"))[0]


def parse(head: bytes, size: int) -> dict[str, Any]:
    """Decode a plan header from its first bytes and the file's size.

    Returns ``kind`` ("plan" | "ptrt" | "lfs-pointer" | "empty" | "not-a-plan"), ``magic``,
    ``size`` (the file's), ``size_field`` (what the header says), ``truncated``, ``platform_tag``,
    ``version`` (or None) and ``version_reason`` (why not, beginning "unknown: ").
    """
    out: dict[str, Any] = {
        "kind": None, "magic": None, "size": size, "size_field": None, "truncated": None,
        "platform_tag": None, "platform": None, "version": None, "candidate_version": None,
        "version_reason": None, "serialization_tag": None,
    }
    if size == 0 or not head:
        out.update(kind="empty", version_reason="unknown: the file is empty (0 bytes)")
        return out
    out["magic"] = head[:4].decode("latin-1")
    out["serialization_tag"] = magic_number(head[:4])
    if head.startswith(LFS_PREFIX):
        out.update(kind="lfs-pointer", version_reason="unknown: a Git LFS pointer file, not a plan (run `git lfs pull`)")
        text = head.decode("utf-8", "replace")
        out["lfs"] = {"text_head": text.splitlines()[0] if text else ""}
        return out
    if head[:4] == MAGIC_PTRT:
        out.update(kind="ptrt", version_reason="unknown: 'ptrt' plan, the serialization of TensorRT before 8.6 "
                   "(or the safety runtime); its version field is not established")
        return out
    if head[:4] != MAGIC_FTRT:
        out.update(kind="not-a-plan", version_reason=f"unknown: starts with {head[:4]!r}, not a TensorRT plan magic ('ftrt' or 'ptrt')")
        return out
    out["kind"] = "plan"
    if len(head) < 32:
        out.update(truncated=True, version_reason=f"unknown: only {len(head)} bytes, shorter than the 32-byte plan header")
        return out
    (size_field,) = struct.unpack_from("<Q", head, 16)
    out["size_field"] = size_field
    out["truncated"] = size_field != size
    (tag,) = struct.unpack_from("<I", head, 28)
    out["platform_tag"] = tag
    out["platform"] = PLATFORM_TAGS.get(tag, f"unknown platform tag {tag}")
    major, minor, patch, build = head[24:28]
    cand = f"{major}.{minor}.{patch}.{build}"
    out["candidate_version"] = cand
    if (major, minor) in VERIFIED_VERSION_AT_24:
        out["version"] = cand
        out["version_basis"] = f"bytes 24..27 of the header; layout verified on a {VERIFIED_VERSION_AT_24[(major, minor)]}"
    else:
        out["version_reason"] = (f"unknown: header bytes 24..27 read {cand}, but that field is verified only on TensorRT 8.6 "
                                 "plans; use the engine's config.json or `trtexec --getPlanVersionOnly`")
    return out


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read and decode the header of the plan at ``path`` (first HEAD bytes only).

    Raises :class:`~trtdiag.errors.InputError` when the path cannot be read as a file.
    """
    head, size = read_head(path, HEAD)
    out = parse(head, size)
    out["path"] = os.fspath(path)
    return out


def describe(h: dict[str, Any]) -> str:
    """One plain line: what this file is, as a user would want it said."""
    k = h.get("kind")
    if k == "empty":
        return "empty file (0 bytes)"
    if k == "lfs-pointer":
        return "a Git LFS pointer (a small text file), not the engine itself"
    if k == "ptrt":
        return "a plan serialized by TensorRT before 8.6 ('ptrt'); exact version not recorded where trtdiag can read it"
    if k == "not-a-plan":
        return f"not a TensorRT plan (starts with {h.get('magic')!r})"
    if h.get("truncated"):
        if h.get("size_field") is None:
            return f"truncated: {h.get('size')} bytes, shorter than a plan header"
        return f"truncated or padded: header says {h['size_field']:,} bytes, file has {h['size']:,}"
    v = h.get("version") or "an unknown TensorRT version"
    return f"TensorRT plan built by TensorRT {v}"


def is_loadable_shape(h: dict[str, Any]) -> bool:
    """True when nothing in the header alone says the runtime will refuse the file."""
    return h.get("kind") == "plan" and not h.get("truncated") and h.get("platform_tag") in (0, None)
