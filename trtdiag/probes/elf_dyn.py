"""What the dynamic loader checks at ``dlopen`` time beyond NEEDED and symbol names.

:mod:`trtdiag.probes.elf` reads SONAME, NEEDED, RPATH/RUNPATH and ``.dynsym``.  Whether a library
*loads* also depends on three more things, read here from the same mapped file:

* **Binding mode** (``DT_BIND_NOW``, ``DT_FLAGS`` & ``DF_BIND_NOW``, ``DT_FLAGS_1`` &
  ``DF_1_NOW``): a library linked ``-z now`` has every symbol bound at load, so one undefined
  function symbol makes ``dlopen`` fail.  Without it (and without ``LD_BIND_NOW`` in the
  environment, and opened ``RTLD_LAZY``, as Open MPI opens its MCA components and mpi4py its
  libmpi), function symbols are bound at their first call: ``dlopen`` succeeds and the process
  dies later with ``symbol lookup error: <library>: undefined symbol: <name>``.
* **Which undefined symbols are referenced by data relocations** (``R_*_GLOB_DAT``,
  ``R_*_64``/``ABS64``: bound at load even when lazy) and which only by PLT slots
  (``R_*_JUMP_SLOT``: lazy), in relocation order — the order in which ld.so meets them, so the
  first one is the name it prints.
* **Symbol versions** (``.gnu.version_r``: the versions a library needs from each NEEDED library,
  ``.gnu.version_d``: the versions a library defines): a needed version the provider lacks makes
  loading fail at once, whatever the binding mode (``version `FABRIC_1.9' not found (required
  by …)``).

Malformed input raises :class:`trtdiag.probes.elf.ElfError`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Iterable

from .elf import ElfError, _open, checked, dynsym_layout

SHT_RELA, SHT_REL, SHT_DYNAMIC, SHT_DYNSYM = 4, 9, 6, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED = 0x6FFFFFFD, 0x6FFFFFFE
DT_BIND_NOW, DT_FLAGS, DT_FLAGS_1 = 24, 30, 0x6FFFFFFB
DF_BIND_NOW, DF_1_NOW = 0x8, 0x1
# relocation types bound lazily (PLT slots); every other symbol relocation is bound at load
JUMP_SLOT = {"x86_64": {7}, "aarch64": {1026}, "x86": {7}, "ppc64": {21}, "ppc": {21}}
COPY = {"x86_64": {5}, "aarch64": {1024}, "x86": {5}, "ppc64": {19}, "ppc": {19}}
RELATIVE = {"x86_64": {8, 37}, "aarch64": {1027, 1032}, "x86": {8, 42}, "ppc64": {22, 248}, "ppc": {22, 248}}


@dataclass
class LoadFacts:
    path: str
    bind_now: bool = False
    # undefined global symbols (matching the prefixes) in relocation order, each with how it is
    # bound: "load" (a data relocation) or "lazy" (only PLT slots)
    undefined_refs: list[tuple[str, str]] = field(default_factory=list)
    version_needs: dict[str, list[str]] = field(default_factory=dict)  # NEEDED library -> versions
    version_defs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": self.path, "bind_now": self.bind_now, "undefined_refs": [list(r) for r in self.undefined_refs],
                "version_needs": self.version_needs, "version_defs": self.version_defs}


def _dynsym(elf) -> tuple[list[tuple[int, int, int]], tuple[int, int]]:
    """(name offset, bind, shndx) of every .dynsym entry, by index, and its string table."""
    lay = dynsym_layout(elf)
    if lay is None:
        return [], (0, 0)
    off, n, entsize, fmt, iname, iinfo, ishndx, tab = lay
    out = []
    unpack, m = struct.Struct(fmt).unpack_from, elf.m
    for i in range(n):
        ent = unpack(m, off + i * entsize)
        out.append((ent[iname], ent[iinfo] >> 4, ent[ishndx]))
    return out, tab


def _dynamic_tags(elf) -> list[tuple[int, int]]:
    sec = elf.section(SHT_DYNAMIC)
    if sec is None:
        return []
    _t, off, sz, _link, _e = sec
    fmt, step = (elf.e + "qQ", 16) if elf.is64 else (elf.e + "iI", 8)
    if off + sz > len(elf.m):
        raise ElfError(f"{elf.path}: .dynamic past the end of the file (truncated?)")
    out = []
    for pos in range(off, off + sz - step + 1, step):
        tag, val = struct.unpack_from(fmt, elf.m, pos)
        if tag == 0:
            break
        out.append((tag, val))
    return out


def _sections_of(elf, typ: int):
    return [s for s in elf.sections if s[0] == typ]


def load_facts(path: str | os.PathLike, prefixes: Iterable[str] | None = None) -> LoadFacts:
    """Binding mode, undefined symbols in relocation order (only names starting with one of
    ``prefixes``; all when None) and symbol versions of one ELF library (kept per file identity
    by :mod:`trtdiag.probes.elf_store`)."""
    from . import elf_store

    pre = None if prefixes is None else tuple(prefixes)

    def decode(d: dict) -> LoadFacts:
        return LoadFacts(os.fspath(path), bool(d["bind_now"]), [(n, k) for n, k in d["undefined_refs"]],
                         {lib: list(v) for lib, v in d["version_needs"].items()}, list(d["version_defs"]))

    kind = "load" if pre is None else "load:" + ",".join(pre)
    return elf_store.cached(kind, path, lambda: checked(path, _load_facts, path, pre), LoadFacts.to_dict, decode)


def _memoised(path: str | os.PathLike, kind: str, read, decode):
    """``read(elf)`` of the library at ``path``, kept per file identity (:mod:`trtdiag.probes.elf_store`)."""
    from . import elf_store

    def fresh():
        elf = _open(path)
        try:
            return checked(path, read, elf)
        finally:
            elf.close()

    return elf_store.cached(kind, path, fresh, lambda v: v, decode)


def version_needs(path: str | os.PathLike) -> dict[str, list[str]]:
    """The symbol versions a library needs from each NEEDED library (``.gnu.version_r``), memoised."""
    return _memoised(path, "verneed", _verneed, lambda d: {lib: list(v) for lib, v in d.items()})


def version_defs(path: str | os.PathLike) -> list[str]:
    """The symbol versions a library defines (``.gnu.version_d``), memoised on the file."""
    return _memoised(path, "verdef", _verdef, list)


def _load_facts(path, prefixes) -> LoadFacts:
    pre = tuple(prefixes) if prefixes is not None else None
    elf = _open(path)
    try:
        out = LoadFacts(elf.path)
        for tag, val in _dynamic_tags(elf):
            if tag == DT_BIND_NOW or (tag == DT_FLAGS and val & DF_BIND_NOW) or (tag == DT_FLAGS_1 and val & DF_1_NOW):
                out.bind_now = True
        syms, symtab = _dynsym(elf)
        names: dict[int, str] = {}
        dynsym_sec = elf.section(SHT_DYNSYM)
        dynsym_index = elf.sections.index(dynsym_sec) if dynsym_sec else -1
        jump = JUMP_SLOT.get(elf.machine, set())
        copy = COPY.get(elf.machine, set())
        relative = RELATIVE.get(elf.machine, set())
        # each undefined symbol: "load" if any relocation other than a PLT slot refers to it
        order: list[str] = []
        how: dict[str, str] = {}
        rel_secs = [s for s in elf.sections if s[0] in (SHT_RELA, SHT_REL) and s[3] == dynsym_index]
        # ld.so processes DT_RELA/DT_REL before DT_JMPREL; the PLT section is the one whose
        # entries are all JUMP_SLOTs — order the sections that way
        decoded = []
        for typ, off, sz, _link, entsize in rel_secs:
            if elf.is64:
                fmt, esz = (elf.e + "QQq", 24) if typ == SHT_RELA else (elf.e + "QQ", 16)
            else:
                fmt, esz = (elf.e + "IIi", 12) if typ == SHT_RELA else (elf.e + "II", 8)
            entsize = entsize or esz
            if entsize < esz or off + sz > len(elf.m):
                raise ElfError(f"{elf.path}: relocation section malformed or truncated")
            unpack = struct.Struct(fmt).unpack_from
            if elf.is64:
                ents = [(i >> 32, i & 0xFFFFFFFF) for i in (unpack(elf.m, pos)[1] for pos in range(off, off + sz - entsize + 1, entsize))]
            else:
                ents = [(i >> 8, i & 0xFF) for i in (unpack(elf.m, pos)[1] for pos in range(off, off + sz - entsize + 1, entsize))]
            is_plt = bool(ents) and all(t in jump for _s, t in ents)
            decoded.append((is_plt, ents))
        decoded.sort(key=lambda d: d[0])  # stable: non-PLT first
        for _is_plt, ents in decoded:
            for sym, rtype in ents:
                if sym == 0 or rtype in relative or sym >= len(syms):
                    continue
                noff, bind, shndx = syms[sym]
                # only global undefined ones (weak may stay unresolved) — and copy relocations: an
                # executable defines the symbol itself but its data must come from a library
                if (shndx != 0 and rtype not in copy) or bind != 1 or not 0 < noff < symtab[1]:
                    continue
                name = names.get(sym)
                if name is None:
                    name = names[sym] = elf.string(symtab, noff).decode("utf-8", "replace")
                if pre is not None and not name.startswith(pre):
                    continue
                kind = "lazy" if rtype in jump else ("copy" if rtype in copy else "load")
                if name not in how:
                    order.append(name)
                    how[name] = kind
                elif kind != "lazy" and how[name] == "lazy":
                    how[name] = kind
        out.undefined_refs = [(n, how[n]) for n in order]
        out.version_needs = _verneed(elf)
        out.version_defs = _verdef(elf)
        return out
    finally:
        elf.close()


def _verneed(elf) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for _t, off, sz, link, _e in _sections_of(elf, SHT_GNU_VERNEED):
        tab = elf.strtab(link)
        pos, guard = off, 0
        while pos + 16 <= off + sz and guard < 4096:
            guard += 1
            _ver, cnt, file_off, aux, nxt = struct.unpack_from(elf.e + "HHIII", elf.m, pos)
            lib = elf.string(tab, file_off).decode("utf-8", "replace")
            apos = pos + aux
            for _i in range(cnt):
                _hash, _flags, _other, name_off, anext = struct.unpack_from(elf.e + "IHHII", elf.m, apos)
                out.setdefault(lib, []).append(elf.string(tab, name_off).decode("utf-8", "replace"))
                if anext == 0:
                    break
                apos += anext
            if nxt == 0:
                break
            pos += nxt
    return out


def _verdef(elf) -> list[str]:
    out: list[str] = []
    for _t, off, sz, link, _e in _sections_of(elf, SHT_GNU_VERDEF):
        tab = elf.strtab(link)
        pos, guard = off, 0
        while pos + 20 <= off + sz and guard < 4096:
            guard += 1
            _ver, flags, _ndx, cnt, _hash, aux, nxt = struct.unpack_from(elf.e + "HHHHIII", elf.m, pos)
            if cnt and not flags & 0x1:  # VER_FLG_BASE names the file itself
                name_off = struct.unpack_from(elf.e + "II", elf.m, pos + aux)[0]
                out.append(elf.string(tab, name_off).decode("utf-8", "replace"))
            if nxt == 0:
                break
            pos += nxt
    return out
