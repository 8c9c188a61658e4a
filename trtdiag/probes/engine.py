"""engine.info: the engine directory (or single plan) named with --engine-dir.

Reads config.json (either layout, :mod:`trtdiag.parsers.engine_config`), finds the rank engine
files (``rankN.engine`` from trtllm-build, ``<name>_<dtype>_tp<N>_rank<R>.engine`` from the legacy
build.py, any other ``*.engine`` / ``*.plan``), and reads only the first bytes of each
(:mod:`trtdiag.parsers.plan_header`).  It also looks for Git LFS pointer files where weights or
engines should be (in the engine directory and in the checkpoint directory).

What the user named and cannot be read as what it should be (missing path, empty / truncated /
random-bytes plan given as a file, unreadable or invalid config.json, a directory that holds no
engine at all) raises InputError: one line, exit 2.  Problems of rank files found inside a
directory are returned in ``problems`` and become findings.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.errors import InputError
from ..core.facts import probe
from ..fsutil import describe_oserror, read_head, read_json
from ..parsers import engine_config, plan_header

RANK_RE = re.compile(r"(?:^|_)rank(\d+)\.(?:engine|plan)$")
ENGINE_SUFFIXES = (".engine", ".plan", ".trt")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".npy", ".pt", ".pth", ".gguf")
LFS_MAX = 1024  # an LFS pointer is ~130 bytes; never read a big file to look


def is_lfs_pointer(path: str, size: int | None = None) -> bool:
    try:
        size = os.path.getsize(path) if size is None else size
        if size > LFS_MAX:
            return False
        head, _ = read_head(path, 64)
    except (OSError, InputError):
        return False
    return head.startswith(plan_header.LFS_PREFIX)


def lfs_pointers(d: str, suffixes: tuple[str, ...]) -> list[str]:
    out = []
    try:
        entries = sorted(os.scandir(d), key=lambda e: e.name)
    except OSError:
        return out
    for e in entries:
        if e.name.endswith(suffixes) and e.is_file():
            try:
                size = e.stat().st_size
            except OSError:
                continue
            if is_lfs_pointer(e.path, size):
                out.append(e.path)
    return out


def find_checkpoint(engine_dir: str, explicit: str | None) -> str | None:
    if explicit:
        return explicit
    parent = os.path.dirname(os.path.abspath(engine_dir))
    for cand in ("checkpoint", "ckpt", "tllm_checkpoint", "trtllm_checkpoint", "checkpoints"):
        p = os.path.join(parent, cand)
        if os.path.isfile(os.path.join(p, "config.json")):
            return p
    try:
        for n in sorted(os.listdir(parent)):
            p = os.path.join(parent, n)
            if "ckpt" in n.lower() or "checkpoint" in n.lower():
                if os.path.isfile(os.path.join(p, "config.json")):
                    return p
    except OSError:
        pass
    return None


def rank_of(name: str) -> int | None:
    m = RANK_RE.search(name)
    return int(m.group(1)) if m else None


def inspect_plan(path: str, size: int) -> dict[str, Any]:
    h = plan_header.read(path)
    h["description"] = plan_header.describe(h)
    return h


def problems_of(header: dict[str, Any]) -> list[dict[str, Any]]:
    p = header["path"]
    k = header["kind"]
    if k == "empty":
        return [{"kind": "empty", "path": p, "size": 0}]
    if k == "lfs-pointer":
        return [{"kind": "lfs-pointer", "path": p, "size": header["size"]}]
    if k == "not-a-plan":
        return [{"kind": "not-a-plan", "path": p, "size": header["size"], "magic": header["magic"]}]
    out = []
    if header.get("truncated"):
        out.append({"kind": "truncated", "path": p, "size": header["size"], "size_field": header.get("size_field")})
    if plan_header.is_foreign_platform(header):
        out.append({"kind": "foreign-platform", "path": p, "platform_tag": header["platform_tag"]})
    return out


@probe("engine.info")
def engine_info(facts) -> dict[str, Any] | None:
    target = facts.opt("engine_dir")
    if not target:
        return None
    if not os.path.exists(target):
        if os.path.islink(target):
            raise InputError(f"--engine-dir {target}: a broken symbolic link")
        raise InputError(f"--engine-dir {target}: no such file or directory")
    if os.path.isfile(target):
        return single_plan(target)
    if not os.path.isdir(target):
        raise InputError(f"--engine-dir {target}: not a directory or a regular file")
    return engine_directory(target, facts.opt("checkpoint_dir"))


def single_plan(path: str) -> dict[str, Any]:
    h = inspect_plan(path, 0)
    k = h["kind"]
    # the user named this file: if it is not a plan in any sense, say so in one line
    if k == "empty":
        raise InputError(f"{path}: empty file (0 bytes), not a TensorRT plan")
    if k == "not-a-plan":
        raise InputError(f"{path}: not a TensorRT plan (starts with {h['magic']!r}; a plan starts with 'ftrt', or 'ptrt' before TensorRT 8.6)")
    if k == "plan" and h.get("size_field") is None:
        raise InputError(f"{path}: truncated: {h['size']} bytes, shorter than the 32-byte plan header")
    if k == "plan" and h.get("truncated"):
        raise InputError(f"{path}: truncated: the plan header says {h['size_field']:,} bytes, the file has {h['size']:,}")
    # a rank file named inside an engine directory: its config.json says what built it
    cfg_path = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
    cfg = None
    if os.path.isfile(cfg_path):
        try:
            cfg = read_json(cfg_path)
        except InputError:
            cfg = None
        if engine_config.layout_of(cfg) is None:
            cfg = None
    norm = engine_config.normalize(cfg) if cfg else {k2: None for k2 in engine_config.NORMALIZED_KEYS}
    return {
        "path": path, "is_file": True, "config_path": cfg_path if cfg else None, "config": cfg,
        "normalized": norm,
        "ranks": [{"rank": rank_of(os.path.basename(path)) or 0, "path": path, "size": h["size"], "header": h}],
        "expected_ranks": None, "problems": problems_of(h), "checkpoint_dir": None, "lfs_pointers": [],
    }


def engine_directory(d: str, checkpoint: str | None) -> dict[str, Any]:
    cfg_path = os.path.join(d, "config.json")
    cfg = None
    if os.path.lexists(cfg_path):
        cfg = read_json(cfg_path)  # InputError: one line, exit 2
        if not isinstance(cfg, dict) or engine_config.layout_of(cfg) is None:
            if isinstance(cfg, dict) and ("model_type" in cfg or "architectures" in cfg):
                raise InputError(f"{cfg_path}: a Hugging Face model config (model_type {cfg.get('model_type')!r}), not an engine: "
                                 "pass the directory trtllm-build wrote (config.json + rank0.engine)")
            if isinstance(cfg, dict) and "architecture" in cfg and "mapping" in cfg:
                raise InputError(f"{cfg_path}: a TensorRT-LLM checkpoint config, not an engine: build it with "
                                 f"`trtllm-build --checkpoint_dir {d} --output_dir ENGINE_DIR`, or pass it as --checkpoint-dir")
            raise InputError(f"{cfg_path}: not a TensorRT-LLM engine config (no 'pretrained_config'/'build_config' nor 'builder_config')")
    try:
        names = sorted(os.listdir(d))
    except OSError as exc:
        raise InputError(describe_oserror(d, exc)) from None
    engines = [n for n in names if n.endswith(ENGINE_SUFFIXES)]
    if cfg is None and not engines:
        raise InputError(f"--engine-dir {d}: no config.json and no .engine/.plan file: not a TensorRT-LLM engine directory")
    norm = engine_config.normalize(cfg) if cfg is not None else {k: None for k in engine_config.NORMALIZED_KEYS}
    problems: list[dict[str, Any]] = []
    ranks = []
    for n in engines:
        p = os.path.join(d, n)
        if os.path.isdir(p):
            raise InputError(f"{p}: is a directory, expected an engine file")
        h = inspect_plan(p, 0)
        r = rank_of(n)
        ranks.append({"rank": r if r is not None else 0, "path": p, "size": h["size"], "header": h})
        problems.extend(problems_of(h))
    ranks.sort(key=lambda x: (x["rank"], x["path"]))
    expected = norm.get("world_size") if cfg is not None else None
    if expected:
        have = {x["rank"] for x in ranks}
        # never a loop over the claimed rank count: at most MISSING_LISTED missing ranks are
        # named; the count is arithmetic (the config's numbers are bounded by parsers/engine_config.py)
        n_missing = expected - len({r for r in have if 0 <= r < expected})
        r = 0
        listed = 0
        while listed < min(n_missing, MISSING_LISTED):
            if r not in have:
                problems.append({"kind": "missing-rank", "rank": r, "expected_file": expected_name(norm, names, r, d), "missing_count": n_missing})
                listed += 1
            r += 1
        extra = sorted(x for x in have if x >= expected)
        if extra:
            problems.append({"kind": "extra-ranks", "ranks": extra, "world_size": expected})
    ckpt = find_checkpoint(d, checkpoint)
    lfs = [p for p in lfs_pointers(d, WEIGHT_SUFFIXES)]
    if ckpt and os.path.isdir(ckpt):
        lfs += lfs_pointers(ckpt, WEIGHT_SUFFIXES)
    for p in lfs:
        problems.append({"kind": "lfs-pointer", "path": p, "size": os.path.getsize(p)})
    return {
        "path": d, "is_file": False, "config_path": cfg_path if cfg is not None else None, "config": cfg,
        "normalized": norm, "ranks": ranks, "expected_ranks": expected, "problems": problems,
        "checkpoint_dir": ckpt, "lfs_pointers": lfs,
    }


MISSING_LISTED = 64


def expected_name(norm: dict, names: list[str], rank: int, d: str) -> str:
    legacy = [n for n in names if re.search(r"_rank\d+\.engine$", n)]
    if norm.get("layout") == "legacy" and legacy:
        return os.path.join(d, re.sub(r"_rank\d+\.engine$", f"_rank{rank}.engine", legacy[0]))
    return os.path.join(d, f"rank{rank}.engine")
