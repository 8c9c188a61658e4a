"""trt.libraries, trt.installed, trtllm.installed: which TensorRT and TensorRT-LLM are installed,
found without importing either.

Where libnvinfer comes from, in the order it wins:

1. pip's ``tensorrt_libs/`` (and ``tensorrt_lean_libs/``, ``tensorrt_dispatch_libs/``) in the
   target interpreter's site-packages: the ``tensorrt`` Python package preloads these by full
   path, so any Python process (TensorRT-LLM, model.py) uses them whatever LD_LIBRARY_PATH says.
2. ``LD_LIBRARY_PATH`` directories, in order (what the dynamic loader searches first for a C++
   process such as tritonserver's TensorRT-LLM backend).
3. the ld.so cache (``/etc/ld.so.cache``, parsed directly: a 40 kB read, no ``ldconfig`` child).

Each library's own ``getInferLibVersion()`` (and Major/Minor/Patch/Build) is read through ctypes in
ONE child process with a timeout (:mod:`trtdiag.proc`): a broken or hanging library cannot take
trtdiag down.  With nothing installed no child is started (a few ms).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ..core.facts import probe
from ..fsutil import which

LIB_RE = re.compile(r"^lib(nvinfer|nvinfer_lean|nvinfer_dispatch)\.so(\.\d+)*$")
PIP_LIB_DIRS = {"tensorrt_libs": "pip:tensorrt-libs", "tensorrt_lean_libs": "pip:tensorrt-lean-libs",
                "tensorrt_dispatch_libs": "pip:tensorrt-dispatch-libs"}
LD_CACHE = "/etc/ld.so.cache"

# Runs in a child: load each library by path, ask it its version.  argv[1] = JSON list of paths.
VERSION_CODE = r'''
import ctypes, json, sys
out = {}
for p in json.loads(sys.argv[1]):
    try:
        lib = ctypes.CDLL(p)
        v = {"int": int(lib.getInferLibVersion())}
        for part in ("Major", "Minor", "Patch", "Build"):
            f = getattr(lib, "getInferLib%sVersion" % part, None)
            v[part.lower()] = int(f()) if f is not None else None
        out[p] = v
    except Exception as exc:
        out[p] = {"error": "%s: %s" % (type(exc).__name__, exc)}
print(json.dumps(out))
'''


def ld_cache_entries(path: str = LD_CACHE, data: bytes | None = None) -> list[tuple[str, str]]:
    """(soname, path) pairs of the glibc ld.so cache for this machine's architecture, read by
    :mod:`trtdiag.probes.ldcache` (the one parser of that format).  [] for a cache it cannot read."""
    from . import ldcache

    if data is None:
        return ldcache.load_cache(path)
    try:
        return ldcache.parse_cache(data)
    except ldcache.CacheError:
        return []


def loader_cache() -> list[tuple[str, str]]:
    """The ld.so cache, parsed directly; where that format is not understood (an old glibc, another
    libc), what `ldconfig -p` prints, through a child with a timeout."""
    entries = ld_cache_entries()
    if entries or not os.path.exists(LD_CACHE):
        return entries
    exe = which("ldconfig") or ("/sbin/ldconfig" if os.path.exists("/sbin/ldconfig") else None)
    if not exe:
        return []
    from .. import proc

    res = proc.run([exe, "-p"], timeout=5)
    return parse_ldconfig_p(res.stdout) if res.ok else []


def parse_ldconfig_p(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if "=>" in line:
            left, path = line.rsplit("=>", 1)
            out.append((left.strip().split(" ", 1)[0], path.strip()))
    return out


def version_from_name(name: str) -> str | None:
    m = re.search(r"\.so\.(\d+(?:\.\d+)*)$", name)
    return m.group(1) if m else None


def find_candidates(site_dirs: list[str], env: dict | None = None, cache: list[tuple[str, str]] | None = None) -> list[dict]:
    env = os.environ if env is None else env
    cands: list[dict] = []
    seen: set[str] = set()

    def add(path: str, source: str) -> None:
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(real):
            return
        seen.add(real)
        name = os.path.basename(path)
        kind = LIB_RE.match(name).group(1) if LIB_RE.match(name) else "nvinfer"
        cands.append({"path": path, "realpath": real, "soname": name, "kind": kind, "source": source,
                      "version": version_from_name(os.path.basename(real)) or version_from_name(name)})

    for d in site_dirs:
        for sub, source in PIP_LIB_DIRS.items():
            p = os.path.join(d, sub)
            for n in _listdir(p):
                if LIB_RE.match(n):
                    add(os.path.join(p, n), source)
    for d in (env.get("LD_LIBRARY_PATH") or "").split(os.pathsep):
        if d:
            for n in _listdir(d):
                if LIB_RE.match(n):
                    add(os.path.join(d, n), "LD_LIBRARY_PATH")
    for soname, path in (loader_cache() if cache is None else cache):
        if LIB_RE.match(soname):
            add(path, "ldconfig")
    return cands


def _listdir(d: str) -> list[str]:
    try:
        return sorted(os.listdir(d))
    except OSError:
        return []


def read_versions(paths: list[str], python: str | None = None, timeout: float = 30.0) -> dict[str, dict]:
    """getInferLibVersion() & co. of each library, through one child process — only for the
    libraries whose answer is not kept from an earlier run (probes/answer_cache.py: keyed by the
    file's path, size, mtime and inode, so an upgraded library is asked again)."""
    if not paths:
        return {}
    from . import answer_cache

    kept = answer_cache.get("libnvinfer-version", paths) if python is None else {}
    ask = [p for p in paths if p not in kept]
    if not ask:
        return kept
    from .. import proc

    data, res = proc.run_python_json(VERSION_CODE, python=python, timeout=timeout, args=[json.dumps(ask)])
    if data is None:
        why = "timed out" if res.timed_out else (res.error or (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[-1])
        return {**kept, **{p: {"error": f"version probe failed: {why}"} for p in ask}}
    if python is None:
        answer_cache.put("libnvinfer-version", {p: v for p, v in data.items() if isinstance(v, dict) and "error" not in v})
    return {**kept, **data}


def format_version(v: dict) -> str | None:
    if v.get("major") is not None and v.get("minor") is not None:
        return f"{v['major']}.{v['minor']}.{v.get('patch') or 0}.{v.get('build') or 0}"
    n = v.get("int")
    if isinstance(n, int) and n > 0:  # MAJOR*10000 + MINOR*100 + PATCH (TensorRT ≥ 10); 8.x: *1000
        return f"{n // 10000}.{n // 100 % 100}.{n % 100}" if n >= 100000 else f"{n // 1000}.{n // 100 % 10}.{n % 100}"
    return None


@probe("trt.libraries")
def trt_libraries(facts) -> dict[str, Any]:
    from .python import site_dirs

    dirs = site_dirs(facts)
    cands = find_candidates(dirs)
    if cands:
        vers = read_versions([c["realpath"] for c in cands], python=None)
        for c in cands:
            v = vers.get(c["realpath"], {})
            c["lib_version"] = v
            if "error" in v:
                c["error"] = v["error"]
                pkg = pip_package_version(facts, c["source"])
                if pkg and len((c.get("version") or "").split(".")) < 3:
                    c["version"], c["version_from"] = pkg, "pip package metadata (the library did not load here)"
            else:
                c["version"] = format_version(v) or c["version"]
    return {"candidates": cands, "selected": select(cands)}


PIP_PACKAGES = {
    "pip:tensorrt-libs": ("tensorrt-cu12-libs", "tensorrt-cu13-libs", "tensorrt-cu11-libs", "tensorrt-libs"),
    "pip:tensorrt-lean-libs": ("tensorrt-lean-cu12-libs", "tensorrt-lean-cu13-libs", "tensorrt-lean-cu11-libs", "tensorrt-lean-libs"),
    "pip:tensorrt-dispatch-libs": ("tensorrt-dispatch-cu12-libs", "tensorrt-dispatch-cu13-libs", "tensorrt-dispatch-cu11-libs", "tensorrt-dispatch-libs"),
}


def pip_package_version(facts, source: str) -> str | None:
    pk = (facts.get("python.packages") or {}).get("packages", {})
    return next((pk[n] for n in PIP_PACKAGES.get(source, ()) if pk.get(n)), None)


def select(cands: list[dict]) -> dict | None:
    """The library that will load engines: the full runtime before lean/dispatch, pip before
    LD_LIBRARY_PATH before the ld cache (the order of :func:`find_candidates`)."""
    usable = [c for c in cands if not c.get("error")] or cands
    for kind in ("nvinfer", "nvinfer_lean", "nvinfer_dispatch"):
        for c in usable:
            if c["kind"] == kind:
                return c
    return None


@probe("trt.installed")
def trt_installed(facts) -> dict[str, Any]:
    libs = facts["trt.libraries"]
    sel = libs.get("selected")
    pk = (facts.get("python.packages") or {}).get("packages", {})
    dists = {n: v for n, v in sorted(pk.items()) if n.startswith("tensorrt") and not n.startswith("tensorrt-llm")}
    # the bindings are what `import tensorrt` runs; the meta packages only pull them in
    py = next((pk[n] for n in BINDINGS_PACKAGES if pk.get(n)), None)
    base = {"python_package": py, "pip": dists}
    if sel and sel.get("version"):
        return dict(base, version=sel["version"], source=f"{sel['source']} {sel['path']}", path=sel["path"], kind=sel["kind"])
    if py:
        return dict(base, version=py, source="python package metadata (no libnvinfer found to ask)", path=None, kind=None)
    return dict(base, version=None, source=None, path=None, kind=None)


BINDINGS_PACKAGES = ("tensorrt-cu12-bindings", "tensorrt-cu13-bindings", "tensorrt-cu11-bindings", "tensorrt-bindings",
                     "tensorrt", "tensorrt-cu12", "tensorrt-cu13", "tensorrt-cu11")


VERSION_RE = re.compile(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", re.M)
COMMIT_RE = re.compile(r"""^(?:__commit__|__git_commit__|git_commit|commit|__git_hash__)\s*=\s*['"]([0-9a-fA-F]{7,40})['"]""", re.M)


@probe("trtllm.installed")
def trtllm_installed(facts) -> dict[str, Any]:
    from .python import site_dirs

    data = facts["python.packages"]
    pk = data.get("packages", {})
    out: dict[str, Any] = {"version": pk.get("tensorrt-llm"), "commit": None, "path": None,
                           "version_file": None, "backend": backend_info()}
    for d in site_dirs(facts):
        vf = os.path.join(d, "tensorrt_llm", "version.py")
        if os.path.isfile(vf):
            out["path"] = os.path.join(d, "tensorrt_llm")
            out["version_file"] = vf
            try:
                with open(vf, encoding="utf-8", errors="replace") as fh:
                    text = fh.read(64 * 1024)
            except OSError:
                break
            m = VERSION_RE.search(text)
            if m:
                out["version"] = m.group(1)
            m = COMMIT_RE.search(text)
            if m:
                out["commit"] = m.group(1)
            break
    loc = (data.get("locations") or {}).get("tensorrt-llm")
    out["requires_tensorrt"] = requires_tensorrt(loc) if loc else None
    if loc and not out["commit"]:  # pip install git+…@commit records it here (PEP 610)
        try:
            with open(os.path.join(loc, "direct_url.json"), encoding="utf-8") as fh:
                out["commit"] = (json.load(fh).get("vcs_info") or {}).get("commit_id")
        except (OSError, ValueError, AttributeError):
            pass
    return out


REQ_RE = re.compile(r"^Requires-Dist:\s*(tensorrt(?:[-_]cu\d+)?)\s*(\(?[<>=!~][^;]*?\)?)?\s*(?:;.*)?$", re.I | re.M)


def requires_tensorrt(dist_info: str) -> str | None:
    """The TensorRT requirement in tensorrt_llm's METADATA ("tensorrt==9.3.0.post12.dev1")."""
    try:
        with open(os.path.join(dist_info, "METADATA"), encoding="utf-8", errors="replace") as fh:
            text = fh.read(256 * 1024)
    except OSError:
        return None
    m = REQ_RE.search(text)
    if not m:
        return None
    return m.group(1).lower() + (m.group(2) or "").strip("() ")


BACKEND_DIRS = ("/opt/tritonserver/backends/tensorrtllm",)
ENV_RE = re.compile(r"(TRT_?LLM|TENSORRT_?LLM).*(VERSION|COMMIT)", re.I)


def backend_info(env: dict | None = None) -> dict[str, Any] | None:
    """The Triton TensorRT-LLM backend: its directory, and the version environment variables a
    container sets (names containing TRTLLM/TENSORRT_LLM and VERSION/COMMIT)."""
    env = os.environ if env is None else env
    found = {k: v for k, v in env.items() if ENV_RE.search(k)}
    d = next((p for p in BACKEND_DIRS if os.path.isdir(p)), None)
    if not d and not found:
        return None
    return {"dir": d, "files": _listdir(d)[:20] if d else [], "env": found}
