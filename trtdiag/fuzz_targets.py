"""Fuzz targets: every parser of untrusted input, as a function of raw bytes.

Used by the property-based tests (tests/test_fuzz.py, hypothesis) and the coverage-guided fuzzer
(tools/fuzz.py, atheris).  A target must either return or raise trtdiag's own
:class:`~trtdiag.errors.TrtdiagError` (a clear input error); any other exception is a bug.

Seeds are real files: ../shared/fixtures and tests/data.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Callable

from .errors import TrtdiagError


def _tmpfile(data: bytes, suffix: str = "") -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="trtdiag-fuzz-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _with_file(data: bytes, fn: Callable[[str], object], suffix: str = "") -> None:
    path = _tmpfile(data, suffix)
    try:
        fn(path)
    finally:
        os.unlink(path)


def t_read_json(data: bytes) -> None:
    from .fsutil import read_json

    _with_file(data, read_json, ".json")


def t_engine_config(data: bytes) -> None:
    """config.json of an engine directory: any JSON value must normalise or be refused cleanly."""
    from .parsers.engine_config import normalize

    try:
        cfg = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return
    if isinstance(cfg, dict):
        normalize(cfg)


def t_snapshot(data: bytes) -> None:
    from .facts import Facts
    from .snapshot import load_snapshot

    def go(path):
        Facts({}, snapshot=load_snapshot(path))

    _with_file(data, go, ".json")


def t_plan_header(data: bytes) -> None:
    """The engine plan header: from the first bytes only, with any claimed size."""
    from .parsers import plan_header

    h = plan_header.parse(data[:64], len(data))
    plan_header.describe(h)
    _with_file(data, plan_header.read, ".plan")


def t_pbtxt(data: bytes) -> None:
    """config.pbtxt through Triton's own schema, placeholders and all."""
    from .parsers import pbtxt

    text = data.decode("utf-8", "replace")
    pbtxt.parse_config(text)
    pbtxt.scan_placeholders(text)


def t_ldcache(data: bytes) -> None:
    from .probes import ldcache

    ldcache.parse_cache(data)


def t_elf(data: bytes) -> None:
    from .probes import elf

    def go(path):
        elf.read(path)
        elf.symbols(path, ["opal_", "hwloc_"])

    _with_file(data, go, ".so")


def t_launch(data: bytes) -> None:
    """A launch command line (exec's argv), split at NUL bytes."""
    from .probes import launch

    argv = [a.decode("utf-8", "replace") for a in data.split(b"\0")]
    launch.options_from(launch.parse(argv))


def t_tokenizer_dir(data: bytes) -> None:
    """A tokenizer folder holding one fuzzed file under each of the names trtdiag reads."""
    import shutil

    from .probes import tokenizer

    d = tempfile.mkdtemp(prefix="trtdiag-fuzz-tok-")
    try:
        for name in ("tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.json", "config.json"):
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(data)
        tokenizer.analyze_dir(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "read_json": t_read_json,
    "engine_config": t_engine_config,
    "snapshot": t_snapshot,
    "plan_header": t_plan_header,
    "pbtxt": t_pbtxt,
    "ldcache": t_ldcache,
    "elf": t_elf,
    "launch": t_launch,
    "tokenizer_dir": t_tokenizer_dir,
}


def seeds(name: str, repo_root: str) -> list[bytes]:
    """Real files to start from (mutated by the fuzzers)."""
    import glob

    shared = os.path.join(os.path.dirname(repo_root), "shared", "fixtures")
    pats = SEEDS.get(name, [])
    out = []
    for pat in pats:
        for p in sorted(glob.glob(os.path.join(shared if pat.startswith("shared:") else repo_root, pat.split(":", 1)[-1]), recursive=True)):
            if os.path.isfile(p) and os.path.getsize(p) <= 1 << 20:
                with open(p, "rb") as fh:
                    out.append(fh.read())
    out += LITERAL_SEEDS.get(name, [])
    return out or [b""]


SEEDS: dict[str, list[str]] = {
    "read_json": ["shared:gpu/*.json", "shared:trt_runtime/lean-11.4.0.106_real-plans.json"],
    "engine_config": ["tests/data/**/config.json"],
    "snapshot": ["tests/data/**/*snapshot*.json"],
    "plan_header": ["shared:engines/*.plan", "shared:engines/*.trt"],
    "pbtxt": ["shared:configs/**/config.pbtxt"],
    "ldcache": ["/etc/ld.so.cache"],
    "elf": ["/usr/lib/x86_64-linux-gnu/libhwloc.so.15*", "/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3/mca_*hwloc*.so"],
    "launch": [],  # see LITERAL_SEEDS
    "tokenizer_dir": ["tests/data/tokenizers/**/*.json"],
}


def run_target(name: str, data: bytes) -> None:
    try:
        TARGETS[name](data)
    except TrtdiagError:
        pass


LITERAL_SEEDS: dict[str, list[bytes]] = {
    "launch": [
        b"tritonserver\0--model-repository=/models\0--http-port\08010\0--grpc-port=8011",
        b"mpirun\0--allow-run-as-root\0-n\02\0tritonserver\0--model-repository\0/models\0:\0-n\01\0tritonserver",
        b"python3\0scripts/launch_triton_server.py\0--world_size=2\0--model_repo=/models",
        b"trtllm-serve\0/engines/llama\0--port\08000",
    ],
}
