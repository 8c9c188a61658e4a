"""Which file the dynamic loader will load for a SONAME — worked out without loading anything.

``ld.so`` looks for a NEEDED library in this order (ld.so(8)):

1. ``DT_RPATH`` of the object that needs it (only when that object has no ``DT_RUNPATH``);
2. ``LD_LIBRARY_PATH``;
3. ``DT_RUNPATH`` of that object;
4. the cache ``/etc/ld.so.cache`` written by ``ldconfig``;
5. the default directories (``/lib``, ``/usr/lib`` and their multiarch/lib64 forms).

``$ORIGIN`` in an RPATH/RUNPATH is the directory of the object that carries it.  :func:`resolve`
follows that order; :func:`find` lists every library whose SONAME starts with a prefix, from
``LD_LIBRARY_PATH`` and the cache (plus any extra directories named, such as HPC-X's
``/opt/hpcx/ompi/lib``).

The cache is parsed directly (no ``ldconfig -p`` child).  The format implemented is glibc's
"new" format, ``glibc-ld.so.cache1.1`` (glibc ``sysdeps/generic/dl-cache.h``), standalone (glibc
≥ 2.32 writes only this) or appended after an old ``ld.so-1.7.0`` table::

    header (48 bytes, native byte order)
      char     magic[17]      "glibc-ld.so.cache"
      char     version[3]     "1.1"
      uint32   nlibs          number of entries
      uint32   len_strings    size of the string table that follows the entries
      uint8    flags          endianness marker (0 unset, 1 invalid, 2 little, 3 big)
      uint8    pad[3]
      uint32   extension_offset   (hwcaps extension; ignored here)
      uint32   unused[3]
    entry (24 bytes) × nlibs
      int32    flags          low byte: file type (3 = ELF libc6); next byte: arch/ABI
                              (0x0300 x86-64, 0x0a00 AArch64, 0x0500 PPC64, 0x0000 i386 …)
      uint32   key            offset of the SONAME string
      uint32   value          offset of the path string
      uint32   osversion
      uint64   hwcap          0 for the baseline entry; glibc-hwcaps subdirectory entries set it
    strings (NUL-terminated)

String offsets count from the start of the new-format header.  An old-format prefix
(``"ld.so-1.7.0"``, uint32 nlibs, 12-byte entries) is skipped, aligned to 8 bytes.  Entries are
sorted by SONAME with the preferred one first; the loader takes the first entry whose
arch flags match the running machine, which is what :func:`resolve` does (hwcaps-specific
entries are skipped: they only win on CPUs that ``ld.so`` has checked at run time).
"""

from __future__ import annotations

from ..core.errors import InputError

import os

import struct
from typing import Iterable, Mapping

CACHE = "/etc/ld.so.cache"
MAGIC_NEW = b"glibc-ld.so.cache1.1"
MAGIC_OLD = b"ld.so-1.7.0"
FLAG_ELF_LIBC6 = 0x0003
ARCH_FLAGS = {"x86_64": 0x0300, "aarch64": 0x0A00, "ppc64le": 0x0500, "ppc64": 0x0500, "i686": 0x0000, "i386": 0x0000}


def default_dirs(machine: str | None = None) -> list[str]:
    m = machine or os.uname().machine
    triplet = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu", "ppc64le": "powerpc64le-linux-gnu"}.get(m)
    out = []
    if triplet:
        out += [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
    if m in ("x86_64", "aarch64", "ppc64le", "ppc64"):
        out += ["/lib64", "/usr/lib64"]
    return out + ["/lib", "/usr/lib"]


class CacheError(InputError):
    pass


def parse_cache(data: bytes, machine: str | None = None) -> list[tuple[str, str]]:
    """``[(soname, path)]`` from the bytes of an ld.so.cache, in the cache's order, keeping only
    baseline entries (hwcap 0) for this machine's architecture."""
    base = 0
    if data.startswith(MAGIC_OLD):
        if len(data) < 16:
            raise CacheError("old-format header truncated")
        (nold,) = struct.unpack_from("=I", data, 12)
        base = (16 + nold * 12 + 7) & ~7
    if data[base : base + 20] != MAGIC_NEW:
        raise CacheError(f"no {MAGIC_NEW.decode()} header (found {data[base:base + 20]!r})")
    if len(data) < base + 48:
        raise CacheError("header truncated")
    nlibs, _len_strings = struct.unpack_from("=II", data, base + 20)
    if base + 48 + nlibs * 24 > len(data):
        raise CacheError(f"{nlibs} entries do not fit in {len(data)} bytes (truncated?)")
    want = ARCH_FLAGS.get(machine or os.uname().machine)
    out: list[tuple[str, str]] = []

    def cstr(off: int) -> str:
        start = base + off
        if start >= len(data):
            raise CacheError(f"string offset {off} past the end")
        end = data.find(b"\0", start)
        return data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")

    for flags, key, value, _osv, hwcap in struct.iter_unpack("=iIIIQ", data[base + 48 : base + 48 + nlibs * 24]):
        if flags & 0xFF != FLAG_ELF_LIBC6:
            continue
        if want is not None and flags & 0xFF00 != want:
            continue
        if hwcap:
            continue
        out.append((cstr(key), cstr(value)))
    return out


_cache_memo: dict[tuple[str, int, int], list[tuple[str, str]]] = {}


_links: dict[str, str] = {}
_remembering = 0  # probes now running inside remembered_links()


def realpath(path: str) -> str:
    """``os.path.realpath``, remembered while the MPI probes run (they resolve the same library
    paths hundreds of times; each resolution is an lstat per path component).  Outside
    :func:`remembered_links` nothing is remembered, and what was is forgotten when the last probe
    inside it ends, so a link changed between two runs is always seen."""
    if not _remembering:
        return os.path.realpath(path)
    r = _links.get(path)
    if r is None:
        r = _links[path] = os.path.realpath(path)
    return r


class remembered_links:
    """``with remembered_links(): …`` — resolutions are remembered inside (see :func:`realpath`)."""

    def __enter__(self):
        global _remembering
        _remembering += 1
        return self

    def __exit__(self, *exc):
        global _remembering
        _remembering -= 1
        if not _remembering:
            _links.clear()
        return False


def load_cache(path: str = CACHE) -> list[tuple[str, str]]:
    """The parsed cache (memoised on path, size and mtime); ``[]`` when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _cache_memo:
        try:
            with open(path, "rb") as fh:
                data = fh.read(64 * 1024 * 1024)
        except OSError:
            return []
        try:
            _cache_memo[key] = parse_cache(data)
        except CacheError:
            _cache_memo[key] = []
    return _cache_memo[key]


_index: tuple[list[tuple[str, str]], dict[str, str]] | None = None  # (entries, first path of each soname)


def cache_lookup(soname: str, cache: list[tuple[str, str]] | None = None) -> str | None:
    """The first path the cache gives for ``soname`` (as ld.so takes the first match).  The MPI
    probes ask a few dozen names of a cache of one to several thousand entries: the entries are
    indexed once per list (the list itself is kept with its index, so it is the same list)."""
    global _index
    entries = cache if cache is not None else load_cache()
    idx = _index
    if idx is None or idx[0] is not entries:
        first: dict[str, str] = {}
        for name, path in entries:
            first.setdefault(name, path)
        idx = _index = (entries, first)
    return idx[1].get(soname)


def ld_library_path(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    # an empty element means the current directory, as for ld.so
    return [p or "." for p in env.get("LD_LIBRARY_PATH", "").replace(";", ":").split(":")] if env.get("LD_LIBRARY_PATH") else []


def _expand(dirs: Iterable[str], origin: str | None) -> list[str]:
    out = []
    for d in dirs:
        if origin is not None:
            d = d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
        out.append(d)
    return out


def resolve_ex(soname: str, *, rpath: Iterable[str] = (), runpath: Iterable[str] = (), origin: str | None = None,
               env: Mapping[str, str] | None = None, cache: list[tuple[str, str]] | None = None) -> tuple[str | None, str | None]:
    """(path, how) the loader picks for ``soname`` needed by an object with these RPATH/RUNPATH
    entries living in ``origin``; how is "path", "RPATH", "LD_LIBRARY_PATH", "RUNPATH",
    "ld.so.cache" or "default dirs"; (None, None) when nothing is found."""
    if "/" in soname:
        return (soname, "path") if os.path.exists(soname) else (None, None)
    runpath = list(runpath)
    steps = []
    if not runpath:
        steps.append(("RPATH", _expand(rpath, origin)))
    steps.append(("LD_LIBRARY_PATH", ld_library_path(env)))
    steps.append(("RUNPATH", _expand(runpath, origin)))
    for how, dirs in steps:
        for d in dirs:
            p = os.path.join(d, soname)
            if os.path.isfile(p):
                return os.path.normpath(p), how
    p = cache_lookup(soname, cache)
    if p and os.path.exists(p):
        return p, "ld.so.cache"
    for d in default_dirs():
        p = os.path.join(d, soname)
        if os.path.isfile(p):
            return p, "default dirs"
    return None, None


def resolve(soname: str, **kw) -> str | None:
    """The path the loader picks for ``soname`` (see :func:`resolve_ex`), or None."""
    return resolve_ex(soname, **kw)[0]


def find(prefix: str, env: Mapping[str, str] | None = None, extra_dirs: Iterable[str] = (),
         cache: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Every ``(soname, path)`` whose name starts with ``prefix`` (e.g. ``"libmpi.so."``) from
    LD_LIBRARY_PATH, ``extra_dirs`` and the ld.so cache, in the loader's order of preference,
    without duplicate paths."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(name: str, path: str) -> None:
        real = realpath(path)
        if real not in seen:
            seen.add(real)
            out.append((name, path))

    for d in [*ld_library_path(env), *extra_dirs]:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if n.startswith(prefix) and os.path.isfile(os.path.join(d, n)):
                add(n, os.path.join(d, n))
    for name, path in cache if cache is not None else load_cache():
        if name.startswith(prefix) and os.path.exists(path):
            add(name, path)
    return out
