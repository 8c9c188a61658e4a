"""Reading snapshots written by ``trtdiag collect``."""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .facts import SNAPSHOT_SCHEMA
from ..fsutil import read_json

MAX_SNAPSHOT = 64 * 1024 * 1024

# Shapes a snapshot must have where it has these (None: the probe found nothing, e.g. no --engine-dir).
FACT_TYPES: dict[str, tuple[type, ...]] = {
    "env.summary": (dict,), "env.vars": (dict,), "fleet.rank": (dict,), "fleet.reach": (dict,),
    "trt.installed": (dict, type(None)), "trtllm.installed": (dict, type(None)), "trt.libraries": (dict, type(None)),
    "gpu.inventory": (dict, type(None)), "engine.info": (dict, type(None)), "python.packages": (dict, type(None)),
    "fleet.snapshots": (list, type(None)),
}
OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "engine_dir": (str,), "model_repo": (str,), "python": (str,), "checkpoint_dir": (str,), "tokenizer_dir": (str,),
    "http_port": (int,), "grpc_port": (int,), "metrics_port": (int,), "world_size": (int,), "gpu_index": (int,),
    "load_tokenizer": (bool,), "trust_remote_code": (bool,), "launch_argv": (list,), "set": (list,),
}
_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "true/false", type(None): "null",
          float: "a number"}


def _kind(v: Any) -> str:
    return _NAMES.get(type(v), type(v).__name__)


def validate(data: Any, path: str) -> None:
    """Raise InputError (one line) unless ``data`` has the shape of a trtdiag snapshot."""
    if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
        raise InputError(f"{path}: not a trtdiag snapshot (expected schema {SNAPSHOT_SCHEMA!r})")
    for key in ("options", "facts", "errors"):
        if not isinstance(data.get(key, {}), dict):
            raise InputError(f"{path}: malformed snapshot ({key!r} is {_kind(data[key])}, expected an object)")
    for name, v in data.get("errors", {}).items():
        if not isinstance(v, str):
            raise InputError(f"{path}: malformed snapshot (errors[{name!r}] is {_kind(v)}, expected a string)")
    for name, v in data.get("facts", {}).items():
        want = FACT_TYPES.get(name)
        if want and not isinstance(v, want):
            raise InputError(f"{path}: malformed snapshot (facts[{name!r}] is {_kind(v)}, expected {' or '.join(_NAMES[t] for t in want)})")
    for name, v in data.get("options", {}).items():
        want = OPTION_TYPES.get(name)
        if want and v is not None and (not isinstance(v, want) or (want == (int,) and isinstance(v, bool))):
            raise InputError(f"{path}: malformed snapshot (options[{name!r}] is {_kind(v)}, expected {_NAMES[want[0]]})")


def load_snapshot(path: str) -> dict[str, Any]:
    data = read_json(path, MAX_SNAPSHOT)
    validate(data, path)
    data["_path"] = path
    return data
