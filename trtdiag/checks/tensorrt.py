"""Installed TensorRT and TensorRT-LLM: what will load the engines."""

from __future__ import annotations

from ..model import info, ok, warning
from ..registry import check


def _short(v: str | None) -> str:
    return v or "unknown"


@check("TRT001", area="tensorrt", title="TensorRT runtime that will load engines")
def trt_runtime(facts):
    """Which libnvinfer will deserialize engines, its own getInferLibVersion(), and where it lies.

    Why: an engine plan loads only in the TensorRT release that built it; this is the version the
    engine checks (ENG001) compare against.  Found without importing tensorrt: pip's
    tensorrt_libs/ (preloaded by the tensorrt package), LD_LIBRARY_PATH, the ld.so cache; the
    version is asked of the library itself in a child process.
    Fix: none needed; if this is not the TensorRT you expect, see TRT002/TRT003.
    """
    inst = facts["trt.installed"]
    if not inst.get("version"):
        yield info("TensorRT: not found", "No libnvinfer on LD_LIBRARY_PATH, in the ld.so cache or in pip's "
                   "tensorrt_libs, and no tensorrt Python package: nothing here can load an engine.",
                   evidence={"searched": ["pip tensorrt_libs/tensorrt_lean_libs", "LD_LIBRARY_PATH", "/etc/ld.so.cache"]})
        return
    kind = {"nvinfer": "full runtime", "nvinfer_lean": "lean runtime: loads only plans built version-compatible",
            "nvinfer_dispatch": "dispatch runtime"}.get(inst.get("kind"), "from package metadata")
    ev = {"path": inst.get("path"), "source": inst.get("source"), "python_package": inst.get("python_package")}
    ev.update({f"pip {n}": v for n, v in (inst.get("pip") or {}).items()})
    yield ok(f"TensorRT {inst['version']} will load engines ({kind})", **{k: v for k, v in ev.items() if v})


@check("TRT002", area="tensorrt", title="One TensorRT version on the library path", kb="engine-tensorrt-library-conflict")
def several_trt(facts):
    """Several different libnvinfer versions are reachable (pip, LD_LIBRARY_PATH, ld.so cache).

    Why: which one a process loads depends on how it starts (Python preloads pip's tensorrt_libs;
    tritonserver's C++ backend follows LD_LIBRARY_PATH and the ld.so cache), so the same engine
    can load in one and fail in the other with "The engine plan file is not compatible with this
    version of TensorRT".
    Fix: keep one TensorRT: remove the others from LD_LIBRARY_PATH or uninstall the extra pip
    packages, so every process loads the version the engines were built with.
    """
    libs = facts["trt.libraries"]
    cands = [c for c in libs.get("candidates", []) if c.get("version")]
    versions = sorted({c["version"] for c in cands})
    if len(versions) < 2:
        return
    sel = libs.get("selected") or {}
    lines = [f"{c['version']}  {c['path']}  ({c['source']})" for c in cands]
    yield warning(
        f"{len(versions)} different TensorRT versions are reachable: {', '.join(versions)}",
        f"A Python process would load TensorRT {sel.get('version')} from {sel.get('path')}; a process started "
        "another way (tritonserver, another LD_LIBRARY_PATH) may load a different one and refuse engines built "
        "for this one.",
        evidence={"libraries": lines, "selected": sel.get("path")},
    )


@check("TRT003", area="tensorrt", title="tensorrt Python package matches its libnvinfer", kb="engine-tensorrt-library-conflict")
def python_vs_lib(facts):
    """The tensorrt Python package's version differs from the libnvinfer it will load.

    Why: the bindings are built against one libnvinfer; with another one `import tensorrt` fails or
    engines built through it do not load in the runtime that serves them.
    Fix: `pip install tensorrt==<libnvinfer version>` (or make the libraries match the package).
    """
    inst = facts["trt.installed"]
    py, lib = inst.get("python_package"), inst.get("version")
    if not py or not lib or not inst.get("path"):
        return
    if lib.split(".")[:3] == py.split(".")[:3]:
        yield ok(f"tensorrt package {py} matches libnvinfer {lib}")
        return
    yield warning(f"tensorrt Python package {py}, but libnvinfer {lib} will be loaded",
                  "The Python bindings and the library that loads engines are different TensorRT releases.",
                  evidence={"python_package": py, "library": inst.get("path"), "library_version": lib},
                  )


@check("TRT004", area="tensorrt", title="TensorRT-LLM installed")
def trtllm(facts):
    """The installed tensorrt_llm (distribution metadata and tensorrt_llm/version.py, commit where
    recorded) and the Triton TensorRT-LLM backend (its directory and version variables).

    Why: an engine must be run by the TensorRT-LLM release that built it (ENG002 compares them).
    Fix: none needed.
    """
    t = facts["trtllm.installed"]
    be = t.get("backend")
    if not t.get("version") and not be:
        return
    ev = {"path": t.get("path"), "commit": t.get("commit")}
    if be:
        ev["backend_dir"] = be.get("dir")
        ev.update({f"env {k}": v for k, v in (be.get("env") or {}).items()})
    if t.get("version"):
        yield ok(f"TensorRT-LLM {t['version']}" + (f" (commit {t['commit'][:10]})" if t.get("commit") else ""), **ev)
    else:
        yield info("Triton TensorRT-LLM backend found, tensorrt_llm Python package not found", **{"evidence": ev})


@check("TRT005", area="tensorrt", title="TensorRT-LLM's required TensorRT is the one installed", kb="engine-tensorrt-library-conflict")
def trtllm_requires(facts):
    """tensorrt_llm's METADATA pins a TensorRT release (Requires-Dist: tensorrt==…); the TensorRT found
    here (its Python package, else its libnvinfer) must satisfy it.

    Why: TensorRT-LLM is built against one TensorRT; with another, `import tensorrt_llm` fails or
    the engines it builds are for a TensorRT that will not serve them.
    Fix: `pip install "<the requirement shown>"` in the serving environment.
    """
    t = facts["trtllm.installed"]
    req = t.get("requires_tensorrt")
    if not req:
        return
    inst = facts["trt.installed"]
    have = inst.get("python_package") or inst.get("version")
    name, spec = _split_req(req)
    if not have:
        yield warning(f"TensorRT-LLM {t.get('version')} requires {req}; no TensorRT found",
                      f"Install it: pip install \"{req}\"", evidence={"requirement": req})
        return
    if not spec or _satisfies(spec, have):
        yield ok(f"TensorRT {have} satisfies TensorRT-LLM's requirement {req}")
        return
    yield warning(f"TensorRT-LLM {t.get('version')} requires {req}, but TensorRT {have} is installed",
                  f"tensorrt_llm was built against {req}; with TensorRT {have} it may not import, and engines it builds "
                  f"will not match the TensorRT that serves them. Install it: pip install \"{req}\"",
                  evidence={"requirement": req, "installed": have, "source": inst.get("source")})


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
