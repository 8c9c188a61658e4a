"""A small ELF reading layer: what the dynamic loader reads, and nothing more.

What trtdiag needs from a shared library is what ``ld.so`` needs: its SONAME, NEEDED entries,
RPATH/RUNPATH, and its dynamic symbol table (``.dynsym``: which symbols it defines and which it
expects another library to define).  Those live in two small sections, so this module reads the
ELF header, the section header table, ``.dynamic``, ``.dynsym`` and their string tables — never
the code, never the debug info — and never runs ``nm``/``readelf``/``ldd``.

Two readers, one answer:

* :func:`read` / :func:`symbols` decode those few tables with :mod:`struct` over an ``mmap`` of
  the file (ELF32/ELF64, either byte order).  This is the path ``trtdiag check`` takes: reading
  libopen-pal's ~1,500 dynamic symbols costs about a millisecond.
* :func:`symbols_pyelftools` reads the same tables through pyelftools (a full ELF parser,
  imported only there).  It is ~50× slower (pyelftools decodes each symbol through ``construct``,
  and its import alone is ~60 ms), which is why it is not on the hot path; the tests check that
  both readers agree on Debian's real Open MPI and hwloc libraries.

Malformed input raises :class:`ElfError` (one line), never an ``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

from ..core.errors import InputError

import mmap
import os
import struct
from dataclasses import dataclass, field
from typing import Callable, Iterable

SHT_DYNAMIC = 6
SHT_DYNSYM = 11
DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 14, 15, 29
STB_NAMES = {0: "local", 1: "global", 2: "weak", 10: "unique"}
MACHINES = {3: "x86", 62: "x86_64", 183: "aarch64", 21: "ppc64", 20: "ppc"}


class ElfError(InputError):
    """The file is not an ELF shared object this reader understands."""


def checked(path, read, *args):
    """``read(*args)``, the decoding errors of a malformed file turned into one :class:`ElfError` line."""
    try:
        return read(*args)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise ElfError(f"{os.fspath(path)}: malformed ELF ({exc})") from None


@dataclass
class ElfInfo:
    path: str
    elfclass: int  # 32 or 64
    machine: str
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": self.path, "class": self.elfclass, "machine": self.machine, "soname": self.soname,
                "needed": self.needed, "rpath": self.rpath, "runpath": self.runpath}


class _Elf:
    """The parsed header and section table of one mapped file."""

    def __init__(self, path: str):
        self.path = path
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size < 52:
                    raise ElfError(f"{path}: {size} bytes, too small to be an ELF file")
                self.m = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise ElfError(f"{path}: {exc.strerror or exc}") from None
        m = self.m
        if m[:4] != b"\x7fELF":
            magic = bytes(m[:4])
            self.close()
            raise ElfError(f"{path}: not an ELF file (magic {magic!r})")
        cls, data = m[4], m[5]
        if cls not in (1, 2) or data not in (1, 2):
            self.close()
            raise ElfError(f"{path}: unknown ELF class/byte order ({cls}/{data})")
        self.is64 = cls == 2
        self.e = "<" if data == 1 else ">"
        try:
            if self.is64:
                (_t, mach, _v, _entry, _phoff, shoff, _fl, _eh, _phes, _phn, shentsize, shnum, _shstrndx) = struct.unpack_from(self.e + "HHIQQQIHHHHHH", m, 16)
            else:
                (_t, mach, _v, _entry, _phoff, shoff, _fl, _eh, _phes, _phn, shentsize, shnum, _shstrndx) = struct.unpack_from(self.e + "HHIIIIIHHHHHH", m, 16)
        except struct.error:
            self.close()
            raise ElfError(f"{path}: truncated ELF header") from None
        self.machine = MACHINES.get(mach, f"machine {mach}")
        self.sections: list[tuple[int, int, int, int, int]] = []  # (type, offset, size, link, entsize)
        if shoff == 0 or shnum == 0:
            self.close()
            raise ElfError(f"{path}: no section header table (stripped with --strip-sections?)")
        if shentsize < (64 if self.is64 else 40):
            self.close()
            raise ElfError(f"{path}: section header entries of {shentsize} bytes (malformed)")
        if shoff + shnum * shentsize > len(m):
            self.close()
            raise ElfError(f"{path}: section header table past the end of the file (truncated?)")
        fmt = self.e + ("IIQQQQIIQQ" if self.is64 else "IIIIIIIIII")
        try:
            for i in range(shnum):
                _name, typ, _flags, _addr, off, sz, link, _info, _align, entsize = struct.unpack_from(fmt, m, shoff + i * shentsize)
                self.sections.append((typ, off, sz, link, entsize))
        except struct.error:
            self.close()
            raise ElfError(f"{path}: section header table truncated") from None

    def close(self) -> None:
        try:
            self.m.close()
        except Exception:
            pass

    def section(self, typ: int):
        for s in self.sections:
            if s[0] == typ:
                return s
        return None

    def strtab(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self.sections):
            raise ElfError(f"{self.path}: string table index {index} out of range")
        _t, off, sz, _l, _e = self.sections[index]
        if off + sz > len(self.m):
            raise ElfError(f"{self.path}: string table past the end of the file (truncated?)")
        return off, sz

    def string(self, tab: tuple[int, int], offset: int) -> bytes:
        start = tab[0] + offset
        if offset >= tab[1]:
            raise ElfError(f"{self.path}: string offset {offset} outside its table")
        end = self.m.find(b"\0", start, tab[0] + tab[1])
        return self.m[start : end if end >= 0 else tab[0] + tab[1]]


def _open(path: str | os.PathLike) -> _Elf:
    return _Elf(os.fspath(path))


def read(path: str | os.PathLike) -> ElfInfo:
    """SONAME, NEEDED, RPATH and RUNPATH of one ELF file (from ``.dynamic``; kept per file
    identity by :mod:`trtdiag.probes.elf_store`)."""
    from . import elf_store

    def decode(d: dict) -> ElfInfo:
        return ElfInfo(os.fspath(path), d["class"], d["machine"], d["soname"], list(d["needed"]), list(d["rpath"]), list(d["runpath"]))

    return elf_store.cached("read", path, lambda: checked(path, _read, path), ElfInfo.to_dict, decode)


def _read(path: str | os.PathLike) -> ElfInfo:
    elf = _open(path)
    try:
        info = ElfInfo(elf.path, 64 if elf.is64 else 32, elf.machine)
        dyn = elf.section(SHT_DYNAMIC)
        if dyn is None:
            return info  # a static executable: needs nothing
        _t, off, sz, link, _e = dyn
        tab = elf.strtab(link)
        fmt, step = (elf.e + "qQ", 16) if elf.is64 else (elf.e + "iI", 8)
        if off + sz > len(elf.m):
            raise ElfError(f"{elf.path}: .dynamic past the end of the file (truncated?)")
        for pos in range(off, off + sz - step + 1, step):
            tag, val = struct.unpack_from(fmt, elf.m, pos)
            if tag == 0:
                break
            if tag in (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH):
                s = elf.string(tab, val).decode("utf-8", "replace")
                if tag == DT_NEEDED:
                    info.needed.append(s)
                elif tag == DT_SONAME:
                    info.soname = s
                elif tag == DT_RPATH:
                    info.rpath.extend(p for p in s.split(":") if p)
                else:
                    info.runpath.extend(p for p in s.split(":") if p)
        return info
    finally:
        elf.close()


@dataclass
class Symbols:
    defined: set[str]
    undefined: set[str]  # global undefined: the loader must find these
    count: int  # entries in .dynsym
    weak_undefined: set[str] = field(default_factory=set)  # may stay unresolved


def _prefix_filter(prefixes: Iterable[str] | None) -> Callable[[bytes], bool]:
    if prefixes is None:
        return lambda b: True
    pre = tuple(p.encode() for p in prefixes)
    return lambda b: b.startswith(pre)


def symbols(path: str | os.PathLike, prefixes: Iterable[str] | None = None) -> Symbols:
    """The global/weak dynamic symbols a library defines and those it leaves undefined, keeping
    only names that start with one of ``prefixes`` (all when None).  Kept per file identity by
    :mod:`trtdiag.probes.elf_store`."""
    from . import elf_store

    pre = None if prefixes is None else tuple(prefixes)

    def encode(s: Symbols) -> dict:
        return {"defined": sorted(s.defined), "undefined": sorted(s.undefined), "count": s.count, "weak_undefined": sorted(s.weak_undefined)}

    def decode(d: dict) -> Symbols:
        return Symbols(set(d["defined"]), set(d["undefined"]), int(d["count"]), set(d["weak_undefined"]))

    kind = "symbols" if pre is None else "symbols:" + ",".join(pre)
    return elf_store.cached(kind, path, lambda: checked(path, _symbols, path, pre), encode, decode)


def dynsym_layout(elf):
    """Where .dynsym lies and how to read it: (offset, entry count, entry size, struct format,
    index of the name, info and section-index fields, its string table), or None without one."""
    sec = elf.section(SHT_DYNSYM)
    if sec is None:
        return None
    _t, off, sz, link, entsize = sec
    tab = elf.strtab(link)
    if off + sz > len(elf.m):
        raise ElfError(f"{elf.path}: .dynsym past the end of the file (truncated?)")
    if elf.is64:
        fmt, esz, iname, iinfo, ishndx = elf.e + "IBBHQQ", 24, 0, 1, 3
    else:
        fmt, esz, iname, iinfo, ishndx = elf.e + "IIIBBH", 16, 0, 3, 5
    entsize = entsize or esz
    if entsize < esz:
        raise ElfError(f"{elf.path}: .dynsym entries of {entsize} bytes (malformed)")
    return off, sz // entsize, entsize, fmt, iname, iinfo, ishndx, tab


def _symbols(path: str | os.PathLike, prefixes: Iterable[str] | None) -> Symbols:
    keep = _prefix_filter(prefixes)
    elf = _open(path)
    try:
        out = Symbols(set(), set(), 0)
        lay = dynsym_layout(elf)
        if lay is None:
            return out
        off, n, entsize, fmt, iname, iinfo, ishndx, tab = lay
        m = elf.m
        strs, strend = tab[0], tab[0] + tab[1]
        out.count = n
        for i in range(1, n):  # entry 0 is the null symbol
            ent = struct.unpack_from(fmt, m, off + i * entsize)
            bind = ent[iinfo] >> 4
            if bind == 0:  # local
                continue
            noff = ent[iname]
            if noff == 0 or noff >= tab[1]:
                continue
            start = strs + noff
            end = m.find(b"\0", start, strend)
            name = m[start : end if end >= 0 else strend]
            if not keep(name):
                continue
            if ent[ishndx] != 0:
                out.defined.add(name.decode("utf-8", "replace"))
            else:
                (out.weak_undefined if bind == 2 else out.undefined).add(name.decode("utf-8", "replace"))
        return out
    finally:
        elf.close()


def symbols_pyelftools(path: str | os.PathLike, prefixes: Iterable[str] | None = None) -> Symbols:
    """The same answer as :func:`symbols`, read with pyelftools (slow; for verification)."""
    from elftools.elf.elffile import ELFFile
    from elftools.common.exceptions import ELFError as _PyElfError

    keep = _prefix_filter(prefixes)
    out = Symbols(set(), set(), 0)
    try:
        with open(path, "rb") as fh:
            e = ELFFile(fh)
            sec = e.get_section_by_name(".dynsym")
            if sec is None:
                return out
            out.count = sec.num_symbols()
            for s in sec.iter_symbols():
                if not s.name or s["st_info"]["bind"] == "STB_LOCAL":
                    continue
                if not keep(s.name.encode()):
                    continue
                if s["st_shndx"] != "SHN_UNDEF":
                    out.defined.add(s.name)
                else:
                    (out.weak_undefined if s["st_info"]["bind"] == "STB_WEAK" else out.undefined).add(s.name)
    except (OSError, _PyElfError) as exc:
        raise ElfError(f"{path}: {exc}") from None
    return out


def read_pyelftools(path: str | os.PathLike) -> ElfInfo:
    """The same answer as :func:`read`, read with pyelftools (slow; for verification)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.dynamic import DynamicSection

    with open(path, "rb") as fh:
        e = ELFFile(fh)
        info = ElfInfo(os.fspath(path), e.elfclass, MACHINES.get({"EM_X86_64": 62, "EM_AARCH64": 183, "EM_386": 3}.get(e["e_machine"], -1), e["e_machine"]))
        for sec in e.iter_sections():
            if isinstance(sec, DynamicSection):
                for t in sec.iter_tags():
                    if t.entry.d_tag == "DT_NEEDED":
                        info.needed.append(t.needed)
                    elif t.entry.d_tag == "DT_SONAME":
                        info.soname = t.soname
                    elif t.entry.d_tag == "DT_RPATH":
                        info.rpath.extend(p for p in t.rpath.split(":") if p)
                    elif t.entry.d_tag == "DT_RUNPATH":
                        info.runpath.extend(p for p in t.runpath.split(":") if p)
    return info
