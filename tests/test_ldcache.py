"""ld.so.cache parsing and the loader's search order (trtdiag/probes/ldcache.py).

Real: this machine's /etc/ld.so.cache, checked against `ldconfig -p` (glibc's own reader) and
against the path the real dynamic loader maps (read from /proc/self/maps of a child).
Constructed: small cache files built here byte by byte from the documented format, and empty
files standing in for libraries where only the search order is tested.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

from trtdiag.probes import ldcache

HAVE_CACHE = os.path.isfile("/etc/ld.so.cache") and shutil.which("ldconfig") is not None
ARCH = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(os.uname().machine)


@pytest.mark.skipif(not HAVE_CACHE or ARCH is None, reason="needs glibc's ld.so.cache and ldconfig")
def test_real_cache_matches_ldconfig_p():
    """Every baseline entry `ldconfig -p` prints for this architecture is parsed, in order."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=20).stdout
    want = []
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)$", line)
        if m and ARCH in m.group(2) and "hwcap" not in m.group(2):
            want.append((m.group(1), m.group(3)))
    got = ldcache.load_cache()
    assert got == want and len(got) > 10


def _cache_bytes(entries, old_prefix=False):
    """A glibc-ld.so.cache1.1 file: entries are (flags, soname, path, hwcap)."""
    strings = b""
    offs = []
    header_len = 48 + 24 * len(entries)
    for _f, key, val, _h in entries:
        k = header_len + len(strings)
        strings += key.encode() + b"\0"
        v = header_len + len(strings)
        strings += val.encode() + b"\0"
        offs.append((k, v))
    body = b"glibc-ld.so.cache1.1" + struct.pack("=IIB3sI12s", len(entries), len(strings), 2, b"\0" * 3, 0, b"\0" * 12)
    for (flags, _k, _v, hwcap), (k, v) in zip(entries, offs):
        body += struct.pack("=iIIIQ", flags, k, v, 0, hwcap)
    body += strings
    if old_prefix:
        old = b"ld.so-1.7.0" + b"\0" + struct.pack("=I", 1) + struct.pack("=iII", 1, 0, 0)
        old += b"\0" * (((len(old) + 7) & ~7) - len(old))
        body = old + body
    return body


def test_constructed_cache_keeps_this_arch_baseline_entries_in_order():
    x86, arm = 0x0303, 0x0A03
    native = ldcache.ARCH_FLAGS["x86_64"] | 3
    entries = [
        (native, "libfoo.so.1", "/opt/a/libfoo.so.1", 0),
        (native, "libfoo.so.1", "/opt/hwcaps/libfoo.so.1", 1 << 62),  # glibc-hwcaps entry: skipped
        (arm, "libbar.so.2", "/opt/arm/libbar.so.2", 0),  # another architecture: skipped
        (x86, "libbar.so.2", "/opt/x86/libbar.so.2", 0),
    ]
    for old in (False, True):
        got = ldcache.parse_cache(_cache_bytes(entries, old_prefix=old), machine="x86_64")
        assert got == [("libfoo.so.1", "/opt/a/libfoo.so.1"), ("libbar.so.2", "/opt/x86/libbar.so.2")]


@pytest.mark.parametrize("cut", [5, 30, 60])
def test_truncated_cache_is_an_error_not_a_crash(cut):
    data = _cache_bytes([(0x0303, "libfoo.so.1", "/x/libfoo.so.1", 0)])[:cut]
    with pytest.raises(ldcache.CacheError):
        ldcache.parse_cache(data, machine="x86_64")


def test_garbage_cache_file_gives_empty_list(tmp_path):
    p = tmp_path / "ld.so.cache"
    p.write_bytes(b"not a cache at all")
    assert ldcache.load_cache(str(p)) == []
    assert ldcache.load_cache(str(tmp_path / "missing")) == []


def test_search_order_rpath_ld_library_path_runpath(tmp_path):
    """Constructed: empty files named like libraries in four directories."""
    dirs = {}
    for name in ("rpath", "llp", "runpath", "origin"):
        d = tmp_path / name
        d.mkdir()
        (d / "libx.so.1").write_bytes(b"")
        dirs[name] = str(d)
    env = {"LD_LIBRARY_PATH": dirs["llp"]}
    cache = [("libx.so.1", "/nonexistent/libx.so.1")]
    # RPATH first when there is no RUNPATH
    assert ldcache.resolve_ex("libx.so.1", rpath=[dirs["rpath"]], env=env, cache=cache) == (os.path.join(dirs["rpath"], "libx.so.1"), "RPATH")
    # with a RUNPATH, RPATH is ignored and LD_LIBRARY_PATH wins over RUNPATH
    assert ldcache.resolve_ex("libx.so.1", rpath=[dirs["rpath"]], runpath=[dirs["runpath"]], env=env, cache=cache)[1] == "LD_LIBRARY_PATH"
    assert ldcache.resolve_ex("libx.so.1", runpath=[dirs["runpath"]], env={}, cache=cache)[1] == "RUNPATH"
    # $ORIGIN is the directory of the object that carries the RUNPATH
    assert ldcache.resolve("libx.so.1", runpath=["$ORIGIN"], origin=dirs["origin"], env={}, cache=cache) == os.path.join(dirs["origin"], "libx.so.1")
    assert ldcache.resolve("libnope.so.9", env=env, cache=cache) is None


@pytest.mark.skipif(not HAVE_CACHE, reason="needs glibc's ld.so.cache")
def test_resolve_agrees_with_the_real_loader(tmp_path):
    """Real: a child loads a library by SONAME; the path in its /proc/self/maps is what
    resolve() predicted — from the cache, and from LD_LIBRARY_PATH when a copy sits there."""
    soname = next((s for s in ("libhwloc.so.15", "libz.so.1", "libm.so.6") if ldcache.cache_lookup(s)), None)
    if soname is None:
        pytest.skip("no known library in the cache")
    code = ("import ctypes,sys; ctypes.CDLL(sys.argv[1]); "
            "print(next(l.split()[-1] for l in open('/proc/self/maps') if l.rstrip().endswith(sys.argv[1]) or sys.argv[1] in l.split()[-1]))")

    def loaded(env):
        p = subprocess.run([sys.executable, "-I", "-c", code, soname], capture_output=True, text=True, env=env, timeout=30)
        assert p.returncode == 0, p.stderr
        return os.path.realpath(p.stdout.strip())

    base = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    assert loaded(base) == os.path.realpath(ldcache.resolve(soname, env=base))
    shutil.copy(os.path.realpath(ldcache.cache_lookup(soname)), tmp_path / soname)
    env = dict(base, LD_LIBRARY_PATH=str(tmp_path))
    assert ldcache.resolve_ex(soname, env=env) == (str(tmp_path / soname), "LD_LIBRARY_PATH")
    assert loaded(env) == os.path.realpath(tmp_path / soname)


def test_find_lists_ld_library_path_first_without_duplicates(tmp_path):
    (tmp_path / "libmpi.so.40").write_bytes(b"")
    (tmp_path / "libmpi.so.12").write_bytes(b"")
    (tmp_path / "libother.so.1").write_bytes(b"")
    cache = [("libmpi.so.40", str(tmp_path / "libmpi.so.40"))]
    got = ldcache.find("libmpi.so.", env={"LD_LIBRARY_PATH": str(tmp_path)}, cache=cache)
    assert got == [("libmpi.so.12", str(tmp_path / "libmpi.so.12")), ("libmpi.so.40", str(tmp_path / "libmpi.so.40"))]


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=399))
def test_any_bytes_after_the_magic_give_entries_or_cache_error(tail, cut):
    """Fuzzed: a valid header followed by random bytes, truncated anywhere."""
    data = (_cache_bytes([(0x0303, "libfoo.so.1", "/x/libfoo.so.1", 0)]) + tail)[: 48 + cut]
    try:
        out = ldcache.parse_cache(data, machine="x86_64")
    except ldcache.CacheError:
        return
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in out)
