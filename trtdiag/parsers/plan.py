"""A TensorRT plan (engine) file, read in every layout it has had: what built it and how it is laid out.

Reads at most :data:`HEAD` bytes from the start, :data:`ENGINE_PREFIX` bytes at the engine
section (one seek, only when that section starts beyond the first read) and the last
:data:`FOOTER` bytes.  A 20 GB plan costs what a 1 MB one does.  Nothing here loads TensorRT.

Layouts (each established from real plans, tests/data/engines/plans/MANIFEST.json, and from the
TensorRT 11.4.0.106 lean runtime, ``libnvinfer_lean.so.11``, as noted per field):

``ptrt`` plan (TensorRT before 8.6; the whole file is one "standard archive")
    ====== ====== ===========================================================================
    0      4      ``ptrt`` (u32 1953657968).  The 11.4 runtime refuses it at once: "Trying to
                  load an engine created with incompatible serialization version
                  (1953657968 != 1953657958)" (recorded on real plans).
    4      u32    0 in plans of TensorRT 8.2..8.5; non-zero in older plans (43, 96, 97 …).
                  TensorRT 8.x runtimes call this field the safe version ("safeVersionRead ==
                  safeSerializationVersion … Serialized Engine Version: 97",
                  NVIDIA/TensorRT#2195, NVIDIA/TensorRT#2105); TensorRT 7.x runtimes print it
                  as the serialization version ("Current Version: 96, Serialized Engine
                  Version: 89", megvii-research/video_analyst#188).
    8      u32    the serialization version when the field at 4 is 0 (205 in TensorRT 8.2
                  plans: "Current Version: 213, Serialized Engine Version: 205",
                  NVIDIA/TensorRT#2072).
    ====== ====== ===========================================================================

``ftrt`` plan (TensorRT 8.6 and later): a 32-byte header, a section table, the sections, a footer
    ====== ====== ===========================================================================
    0      4      ``ftrt`` (u32 1953657958, kPLAN_FILE_TAG in trtexec's printPlanVersion,
                  NVIDIA/TensorRT@v10.0.0:samples/common/sampleEngines.cpp).
    4      u32    0 (printPlanVersion reads the release only when this is 0).
    8      u64    number of entries in the section table (1 or 2 in real plans).
    16     u64    the plan's size; the runtime asserts ``plan.header.size == blobSize``.
    24     4 x u8 major, minor, patch, build of the TensorRT that built the plan
                  (printPlanVersion, TensorRT 9.0..11.1 sources; real plans of 8.6.1.6,
                  10.3.0.26, 10.6.0.26, 10.15.1.29; the 11.4.0.106 library's header writer
                  stores 11, 4, 0, 106 there).
    28     u32    the runtime-platform tag ("header.pad == expectedPlatformTag").  0 in 8.6
                  plans, ``rtrt`` in 10.x plans.  The 11.4.0.106 Linux x86-64 runtime
                  accepts 0 and ``rtrt`` and refuses anything else with "Platform specific
                  tag mismatch detected" (its throwUnlessHeaderOk compares with 0x74727472
                  and 0).  Its header writer stores ``rtrt`` for a plan built for the
                  platform it was built on and ``qtrt`` when its platform argument is 1
                  (RuntimePlatform::kWINDOWS_AMD64 in NvInfer.h); so ``rtrt`` says "runs only
                  where it was built", not which platform that was.  (libnvinfer_lean.so.11
                  of tensorrt-lean-cu12-libs 11.4.0.106: the check at .text 0x55b25b, the
                  writer at 0x60639e, which also stores 0b 04 00 6a at 24.)
    32     24 x n entries: u32 tag (``ENGN``, ``WGHT``, ``LEAN``, ``PLGN`` as the 11.4 library
                  knows them, stored byte-reversed: ``NGNE``), u32 0, u64 offset, u64 size.
    end-4  4      end-of-plan marker 99 8b 8d 8b (every real ftrt plan; the 11.4 runtime
                  asserts ``PlanFooter … == kEND_OF_PLAN_MARKER``).
    ====== ====== ===========================================================================

The ``ENGN`` section begins with the standard-archive header of a ``ptrt`` plan:
``ptrt``, u32 0, u32 serialization version (8.6.1.6: 236; 10.3.0.26: 239) in plans whose table
has only ``ENGN``, and ``ptrt``, u32 serialization version, u64 size (10.6.0.26: 239; 10.15.1.29:
240) in plans that also have ``WGHT``.  The 11.4 runtime reads the u32 at 4 of this section as
the version ("Current Version: 245, Serialized Engine Version: 239").

``WGHT`` is a section of the same file (its offset + size end at the footer in real plans): the
weights are stored apart from the engine section, not in another file.  ``LEAN`` is where a
version-compatible plan carries its own lean runtime (BuilderFlag::kVERSION_COMPATIBLE without
kEXCLUDE_LEAN_RUNTIME; the 11.4 runtime looks for it before anything else); no public plan with
one has been seen.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from ..fsutil import _open_regular, describe_oserror
from ..core.errors import InputError

HEAD = 512  # bytes read from the start of every plan
ENGINE_PREFIX = 256  # bytes read at the engine section, when it lies beyond HEAD
FOOTER = 4
MAX_SECTIONS = 8  # TensorRT 11.4 knows four section tags

MAGIC_FTRT = b"ftrt"
MAGIC_PTRT = b"ptrt"
LFS_PREFIX = b"version https://git-lfs"
END_OF_PLAN = bytes.fromhex("998b8d8b")
SECTION_TAGS = {"ENGN": "engine", "WGHT": "weights, stored apart from the engine section",
                "LEAN": "an embedded lean runtime (a version-compatible plan)", "PLGN": "plugin libraries serialized into the plan"}

TAG_RTRT = 0x74727472  # b"rtrt"
TAG_QTRT = 0x74727471  # b"qtrt"
PLATFORM_TAGS = {
    0: ("not set", "TensorRT 8.6 plans write 0; the 11.4.0.106 Linux x86-64 runtime accepts it"),
    TAG_RTRT: ("built to run on the platform it was built on (RuntimePlatform::kSAME_AS_BUILD)",
               "real 10.x plans; the 11.4.0.106 library writes it for platform 0 and its Linux x86-64 runtime accepts it"),
    TAG_QTRT: ("built on Linux for Windows AMD64 (RuntimePlatform::kWINDOWS_AMD64)",
               "the 11.4.0.106 library writes it for platform 1; its Linux x86-64 runtime refuses it"),
}
#: tags the 11.4.0.106 Linux x86-64 runtime lets through (throwUnlessHeaderOk in libnvinfer_lean.so.11)
ACCEPTED_PLATFORM_TAGS_11_4_LINUX_X86_64 = (0, TAG_RTRT)

#: how sure a value is
SURE = "established"  # the runtime reads the same bytes, or real plans and sources agree
LIKELY = "inferred"  # consistent with real plans and sources, not confirmed by a runtime
UNKNOWN = "unknown"


def magic_number(tag: bytes) -> int:
    """The u32 the runtime prints for a 4-byte magic ("incompatible serialization version (N != …)")."""
    return struct.unpack("<I", tag[:4].ljust(4, b"\0"))[0]


def tag_text(value: int) -> str | None:
    """``'rtrt'`` for 0x74727472; None when the four bytes are not printable letters."""
    b = struct.pack("<I", value)
    return b.decode("ascii") if all(0x20 < c < 0x7F for c in b) else None


def section_name(raw: bytes) -> str:
    """A section tag as the library names it: the bytes are stored reversed (``NGNE`` → ``ENGN``)."""
    name = raw[::-1]
    return name.decode("ascii") if all(0x20 < c < 0x7F for c in name) else raw.hex()


def _base(size: int) -> dict[str, Any]:
    return {
        "kind": None, "layout": None, "magic": None, "magic_u32": None, "size": size, "size_field": None,
        "size_matches": None, "release": None, "release_source": None, "release_bytes": None, "engine_release": None,
        "serialization_version": None,
        "archive": None, "sections": [], "weights_section": None, "lean_runtime_embedded": None,
        "platform_tag": None, "platform_tag_text": None, "platform": None, "footer_ok": None,
        "built_on": None,
        "confidence": {"release": UNKNOWN, "serialization_version": UNKNOWN, "platform": UNKNOWN, "compute_capability": UNKNOWN},
        "notes": [], "problems": [],
    }


def _device(out: dict[str, Any], archive: bytes) -> None:
    for tag in U8_FIELD_TAGS:
        i = archive.find(tag, 12, 48)
        if i >= 0:
            dev = device_of(archive_fields(archive, i))
            if dev:
                out["built_on"] = dev
                # the 11.4.0.106 runtime read these very fields of 10.15 plans ("expecting compute 9.0 got
                # compute 8.6", and 8.0 once they were set to 8.0: lean-11.4.0.106_device-variants.json);
                # the older layout is read the same way but no runtime of it was asked
                out["confidence"]["compute_capability"] = SURE if dev["layout"].startswith("total memory") else LIKELY
                out["notes"].append(f"built on a GPU of compute capability {dev['compute_capability'][0]}.{dev['compute_capability'][1]} "
                                    "(the device structure after the release fields)")
            return


def std_archive(b: bytes) -> dict[str, Any] | None:
    """Decode a standard-archive header (the start of a ``ptrt`` plan or of an ``ENGN`` section).

    Returns ``{"form", "version", "field4", "field8"}`` or None when ``b`` does not start ``ptrt``.
    """
    if len(b) < 12 or b[:4] != MAGIC_PTRT:
        return None
    f4, f8 = struct.unpack_from("<II", b, 4)
    if f4 == 0:
        return {"form": "ptrt/0/version", "version": f8, "field4": f4, "field8": f8}
    return {"form": "ptrt/version", "version": f4, "field4": f4, "field8": f8}


#: the tag of a u8 field in a standard archive: 02 80 01 00 (TensorRT 8.2 and later), 02 00 01 00 (8.0 and before)
U8_FIELD_TAGS = (b"\x02\x80\x01\x00", b"\x02\x00\x01\x00")


def archive_release(b: bytes) -> str | None:
    """The release an archive records as its first four u8 fields (major, minor, patch, build).

    In every real plan the archive payload (at 16 or 24 of the archive) opens with four tagged
    u8 fields: 8.6.1.6, 10.15.1.29 …, and 7.1.3.0 / 8.0.1.6 with the older tag.  The 11.4.0.106
    runtime reads these, not the header's bytes 24..27: with the serialization version set to
    its own it said "expecting library version 11.4.0.106 got" and these four bytes, whatever
    bytes 24..27 held (tests/data/trt_runtime/lean-11.4.0.106_real-plans-v2.json).
    """
    for tag in U8_FIELD_TAGS:
        i = b.find(tag, 12, 48)
        if i < 0:
            continue
        vals = []
        for k in range(4):
            at = i + 5 * k
            if b[at:at + 4] != tag or at + 5 > len(b):
                return None
            vals.append(b[at + 4])
        return ".".join(map(str, vals))
    return None


_FIELD_SIZES = {0x02: 1, 0x0A: 1, 0x07: 4, 0x08: 8, 0x09: 8}  # u8, bool, u32, u64, u64 (tag's low byte)


def archive_fields(b: bytes, start: int, limit: int = 40, offsets: list[int] | None = None) -> list[tuple[str, int | None]]:
    """The tagged fields of an archive from ``start``: ("u8", 8), ("u32", 86), ("open", None) …;
    stops at the first byte run that is no field tag.  ``offsets``, when given, receives where
    each field's value starts in ``b``."""
    out: list[tuple[str, int | None]] = []
    i = start
    while len(out) < limit and i + 4 <= len(b):
        tag = b[i:i + 4]
        if tag[1:4] not in (b"\x80\x01\x00", b"\x00\x01\x00"):
            break
        n = _FIELD_SIZES.get(tag[0])
        i += 4
        if n is None:
            out.append(("open", None))  # a structure or list begins (0x12, 0x10, 0xd2 …)
            if offsets is not None:
                offsets.append(i)
            continue
        if i + n > len(b):
            break
        v = b[i] if n == 1 else struct.unpack_from("<I" if n == 4 else "<Q", b, i)[0]
        out.append(("u8" if n == 1 else "u32" if n == 4 else "u64", v))
        if offsets is not None:
            offsets.append(i)
        i += n
    return out


def device_of(fields: list[tuple[str, int | None]]) -> dict[str, Any] | None:
    """The GPU a plan was built on, from the device structure after the release fields.

    Two layouts are seen in real plans (tests/data/engines/plans/MANIFEST.json): up to 10.6 the
    structure opens with u32 major, u32 minor, u32 SM clock (kHz), u32 memory clock (kHz),
    u32 bus width, u64 L2 size (a Jetson Nano plan: 5.3, 921,600 kHz, 64-bit, 256 KiB; an
    RTX 4090's: 8.9, 384-bit, 72 MiB); in 10.15 it opens with u64 total memory, u64 L2 size,
    and holds major, minor after two u32 1024 (an RTX 3060 12 GB's: 8.6, 28 SMs).  The
    compute capability is what TensorRT checks at load ("expecting compute X got compute Y").
    """
    vals = [(k, v) for k, v in fields[4:] if k != "open"]  # after the four release u8 fields
    if vals and vals[0] == ("u32", 0):  # 8.6 and 10.x write a u32 0 before the structure
        vals = vals[1:]
    if len(vals) < 6:
        return None
    (k0, v0), (k1, v1) = vals[0], vals[1]
    if k0 == k1 == "u32" and 3 <= v0 <= 15 and 0 <= v1 <= 9 and vals[2][0] == "u32" and vals[2][1] > 100_000:
        return {"compute_capability": [v0, v1], "sm_clock_khz": vals[2][1], "memory_clock_khz": vals[3][1],
                "memory_bus_width": vals[4][1], "l2_bytes": vals[5][1], "layout": "major/minor first (TensorRT 7.1 .. 10.6 plans)"}
    if k0 == "u64" and v0 > 1 << 30:
        for i in range(len(vals) - 3):
            (a, x), (b_, y), (c, mj), (d, mn) = vals[i:i + 4]
            if a == b_ == c == d == "u32" and x == y == 1024 and 3 <= mj <= 15 and 0 <= mn <= 9:
                dev = {"compute_capability": [mj, mn], "total_memory": v0, "l2_bytes": vals[1][1],
                       "layout": "total memory first (TensorRT 10.15 plans)"}
                if len(vals) > 5 and vals[3][0] == "u32":
                    dev["sm_clock_khz"], dev["memory_clock_khz"], dev["memory_bus_width"] = vals[3][1], vals[4][1], vals[5][1]
                if i >= 2 and vals[i - 2][0] == "u32":
                    dev["sm_count"] = vals[i - 2][1]
                return dev
    return None


def sections_of(head: bytes) -> tuple[list[dict[str, Any]], str | None]:
    """The section table of an ``ftrt`` header (entries that fit in ``head``) and a problem, if any."""
    (count,) = struct.unpack_from("<Q", head, 8)
    if count > MAX_SECTIONS:
        return [], f"the section table says {count:,} entries; real plans have 1 or 2"
    out = []
    for i in range(min(count, (len(head) - 32) // 24)):  # the entries that fit in what was read
        raw, _pad, off, size = struct.unpack_from("<4sIQQ", head, 32 + 24 * i)
        name = section_name(raw)
        out.append({"name": name, "offset": off, "size": size, "meaning": SECTION_TAGS.get(name, "unknown section")})
    return out, None


def parse(head: bytes, size: int, engine: bytes | None = None, footer: bytes | None = None) -> dict[str, Any]:
    """Decode a plan from its first bytes (``head``, :data:`HEAD` of them or fewer), its size, the
    first bytes of its engine section when that lies beyond ``head`` (``engine``) and its last
    :data:`FOOTER` bytes (``footer``).  Pure: no I/O.

    ``kind``: "ftrt" | "ptrt" | "lfs-pointer" | "empty" | "not-a-plan" | "truncated".
    ``confidence`` says for release, serialization_version and platform whether the value is
    "established", "inferred" or "unknown"; ``notes`` say why, ``problems`` what is wrong.
    """
    out = _base(size)
    if size == 0 or not head:
        out.update(kind="empty")
        out["problems"].append("the file is empty (0 bytes)")
        return out
    out["magic"] = head[:4].decode("latin-1")
    out["magic_u32"] = magic_number(head[:4])
    if head.startswith(LFS_PREFIX):
        out.update(kind="lfs-pointer")
        text = head.decode("utf-8", "replace")
        out["lfs"] = {"text_head": text.splitlines()[0] if text else ""}
        out["problems"].append("a Git LFS pointer, not the plan it names (run `git lfs pull`)")
        return out
    if head[:4] == MAGIC_PTRT:
        return _ptrt(head, size, out)
    if head[:4] != MAGIC_FTRT:
        out.update(kind="not-a-plan")
        out["problems"].append(f"starts with {head[:4]!r}, not a TensorRT plan magic ('ftrt' or 'ptrt')")
        return out
    return _ftrt(head, size, engine, footer, out)


def _ptrt(head: bytes, size: int, out: dict[str, Any]) -> dict[str, Any]:
    out.update(kind="ptrt", layout="ptrt (before TensorRT 8.6)")
    arc = std_archive(head)
    if arc is None:
        out["kind"] = "truncated"
        out["problems"].append(f"only {len(head)} bytes, shorter than a 'ptrt' header")
        return out
    out["archive"] = arc
    out["serialization_version"] = arc["version"]
    if arc["form"] == "ptrt/0/version":
        out["confidence"]["serialization_version"] = SURE
        out["notes"].append("serialization version at offset 8 (field at 4 is 0), as TensorRT 8.2..8.5 write it")
        if len(head) >= 24:
            (sz,) = struct.unpack_from("<Q", head, 16)
            out["size_field"] = sz + 24
            out["size_matches"] = sz + 24 == size
    else:
        out["confidence"]["serialization_version"] = LIKELY
        out["layout"] = "ptrt (TensorRT 8.0 or older)"
        out["notes"].append(f"field at 4 is {arc['field4']} (not 0): a plan older than TensorRT 8.2, whose runtimes print this "
                            "field as the serialization version (8.x runtimes call it the safe version)")
        # TensorRT 7 plans (97) hold their length less 24 as a u64 at 12; older ones (43) hold
        # something else there: take the field only when it agrees, never call it a mismatch
        if len(head) >= 20:
            (sz,) = struct.unpack_from("<Q", head, 12)
            if sz + 24 == size:
                out["size_field"] = size
                out["size_matches"] = True
    rel = archive_release(head[:96])
    _device(out, head)
    if rel:
        out["release"] = rel
        out["release_source"] = "the archive's first four u8 fields"
        out["confidence"]["release"] = LIKELY
        out["notes"].append(f"release {rel} from the archive's first four u8 fields (the field the 11.4 runtime reads in "
                            "ftrt plans; in 'ptrt' plans it agrees with the serialization versions the sources give)")
    else:
        out["notes"].append("no release found in the archive; the serialization version narrows it (trtdiag/data/trt_serialization_versions.json)")
    if out["size_matches"] is False:
        out["problems"].append(f"its archive header says {out['size_field']:,} bytes, the file has {size:,}")
    return out


def _ftrt(head: bytes, size: int, engine: bytes | None, footer: bytes | None, out: dict[str, Any]) -> dict[str, Any]:
    out.update(kind="ftrt", layout="ftrt (TensorRT 8.6 and later)")
    if len(head) < 32:
        out["kind"] = "truncated"
        out["problems"].append(f"only {len(head)} bytes, shorter than the 32-byte plan header")
        return out
    (f4,) = struct.unpack_from("<I", head, 4)
    (size_field,) = struct.unpack_from("<Q", head, 16)
    out["size_field"] = size_field
    out["size_matches"] = size_field == size
    if size_field != size:
        out["problems"].append(f"the plan header says {size_field:,} bytes, the file has {size:,}")
    rb = list(head[24:28])
    out["release_bytes"] = rb
    if f4 == 0 and rb[0] >= 8:
        out["release"] = ".".join(map(str, rb))
        out["release_source"] = "header bytes 24..27"
        out["confidence"]["release"] = SURE
        out["notes"].append("release from bytes 24..27, where trtexec --getPlanVersionOnly reads it")
    else:
        out["notes"].append(f"bytes 24..27 read {'.'.join(map(str, rb))}, not a release (field at 4 is {f4})")
    (tag,) = struct.unpack_from("<I", head, 28)
    out["platform_tag"] = tag
    out["platform_tag_text"] = tag_text(tag)
    meaning = PLATFORM_TAGS.get(tag)
    if meaning:
        out["platform"] = meaning[0]
        out["confidence"]["platform"] = SURE if tag in ACCEPTED_PLATFORM_TAGS_11_4_LINUX_X86_64 else LIKELY
        out["notes"].append(f"platform tag {out['platform_tag_text'] or tag}: {meaning[1]}")
    else:
        shown = repr(out["platform_tag_text"]) if out["platform_tag_text"] else str(tag)
        out["platform"] = f"unknown platform tag {shown}"
        out["problems"].append(f"platform tag {shown} is none the 11.4 Linux x86-64 runtime accepts (0 or 'rtrt')")
    sections, problem = sections_of(head)
    if problem:
        out["problems"].append(problem)
    out["sections"] = sections
    names = [s["name"] for s in sections]
    out["weights_section"] = "WGHT" in names
    out["lean_runtime_embedded"] = "LEAN" in names
    for s in sections:
        if s["offset"] + s["size"] > size:
            out["problems"].append(f"section {s['name']} ends at {s['offset'] + s['size']:,}, past the end of the file ({size:,} bytes)")
    eng = next((s for s in sections if s["name"] == "ENGN"), None)
    (count,) = struct.unpack_from("<Q", head, 8)
    if eng is None:
        if not problem and len(sections) == count:
            out["problems"].append("no ENGN (engine) section in the section table")
    else:
        blob = head[eng["offset"]:eng["offset"] + ENGINE_PREFIX] if eng["offset"] + ENGINE_PREFIX <= len(head) else (engine or b"")
        arc = std_archive(blob)
        if arc is None:
            if blob:
                out["problems"].append(f"the engine section starts {blob[:4]!r}, not 'ptrt'")
        else:
            out["archive"] = arc
            out["serialization_version"] = arc["version"]
            out["confidence"]["serialization_version"] = SURE if arc["form"] == "ptrt/version" else LIKELY
            erel = archive_release(blob)
            _device(out, blob)
            out["engine_release"] = erel
            if erel and out["release"] and erel != out["release"]:
                out["notes"].append(f"the engine section records release {erel}, the header {out['release']}: the runtime "
                                    "checks the engine section's")
                out["release"] = erel
                out["release_source"] = "the engine section's first four u8 fields (the header's bytes 24..27 differ)"
                out["confidence"]["release"] = LIKELY
            elif erel and out["release"]:
                out["notes"].append("the engine section records the same release (the copy the runtime checks)")
            elif erel:
                out["release"] = erel
                out["release_source"] = "the engine section's first four u8 fields"
                out["confidence"]["release"] = SURE
            out["notes"].append(
                f"serialization version {arc['version']} from the engine section at {eng['offset']} ("
                + ("'ptrt', u32 version, u64 size: the field the 11.4 runtime reads)" if arc["form"] == "ptrt/version"
                   else "'ptrt', u32 0, u32 version: the form of 8.6 and single-section 10.x plans)"))
    if footer is not None and len(footer) == FOOTER:
        out["footer_ok"] = footer == END_OF_PLAN
        if not out["footer_ok"] and out["size_matches"]:
            out["problems"].append(f"the last 4 bytes are {footer.hex()}, not the end-of-plan marker {END_OF_PLAN.hex()}")
    return out


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read and decode the plan at ``path``: :data:`HEAD` bytes, the engine section's first bytes
    (one seek, when beyond those) and the last :data:`FOOTER` bytes.

    Raises :class:`~trtdiag.core.errors.InputError` when the path cannot be read as a file.
    """
    fh, st = _open_regular(path)
    size = st.st_size
    engine = footer = None
    with fh:
        try:
            head = fh.read(HEAD)
            if head[:4] == MAGIC_FTRT and len(head) >= 32:
                sections, _ = sections_of(head)
                eng = next((s for s in sections if s["name"] == "ENGN"), None)
                if eng and eng["offset"] + 16 > len(head) and eng["offset"] < size:
                    fh.seek(eng["offset"])
                    engine = fh.read(ENGINE_PREFIX)
                if size >= 32 + FOOTER:
                    fh.seek(size - FOOTER)
                    footer = fh.read(FOOTER)
        except OSError as exc:
            raise InputError(describe_oserror(path, exc)) from None
    out = parse(head, size, engine, footer)
    out["path"] = os.fspath(path)
    return out


def describe(p: dict[str, Any]) -> str:
    """One plain line: what this file is, as a user would want it said."""
    k = p.get("kind")
    if k == "empty":
        return "empty file (0 bytes)"
    if k == "lfs-pointer":
        return "a Git LFS pointer (a small text file), not the engine itself"
    if k == "not-a-plan":
        return f"not a TensorRT plan (starts with {p.get('magic')!r})"
    if k == "truncated":
        return f"truncated: {p.get('size')} bytes, shorter than a plan header"
    sv = p.get("serialization_version")
    if k == "ptrt":
        return f"a 'ptrt' plan (TensorRT before 8.6), serialization version {sv}" if sv is not None else "a 'ptrt' plan (TensorRT before 8.6)"
    rel = p.get("release") or "an unknown TensorRT release"
    extra = f", serialization version {sv}" if sv is not None else ""
    if p.get("weights_section"):
        extra += ", weights in their own section"
    return f"TensorRT plan built by TensorRT {rel}{extra}"
