"""The LLM-API options a ``trtllm-serve`` launch (or a Triton llmapi ``model.yaml``) will hand to
``LLM(...)``, merged as TensorRT-LLM merges them, and checked against the LlmArgs schema of the
release that will run them (:mod:`trtdiag.derive.llmargs_schema`).  Pure functions.

How ``trtllm-serve`` merges (``tensorrt_llm/commands/serve.py`` ``serve()``, NVIDIA/TensorRT-LLM@00209af1;
``update_llm_args_with_extra_dict`` in llmapi/llm_utils.py, later in llmapi/llm_args.py):

1. ``get_llm_args(...)`` builds a dict from the CLI flags: ``tensor_parallel_size`` (``--tp_size``),
   ``pipeline_parallel_size``, ``moe_expert_parallel_size``, ``max_batch_size``, ``max_num_tokens``,
   ``max_seq_len``, ``max_beam_width``, ``trust_remote_code``, ``backend`` … and
   ``kv_cache_config = KvCacheConfig(free_gpu_memory_fraction=--kv_cache_free_gpu_memory_fraction)``
   (CLI default 0.9), ``scheduler_config`` (GUARANTEED_NO_EVICT).
2. ``--config`` / ``--extra_llm_api_options`` (one option, two names) is ``yaml.safe_load``-ed and
   merged by ``update_llm_args_with_extra_dict(llm_args, yaml)``, whose rule depends on the release:

   * the releases read at NVIDIA/TensorRT-LLM@fcd3f31 and in llm_utils.py: the YAML's sections are
     built into their config objects, then ``llm_args | yaml``: a YAML key replaces the CLI's value
     **whole** (a YAML ``kv_cache_config:`` without ``free_gpu_memory_fraction`` drops the CLI's
     ``--kv_cache_free_gpu_memory_fraction``);
   * the 2026 main (NVIDIA/TensorRT-LLM@0004396, llm_args.py): ``kv_cache_config`` is merged key by
     key ("Deep merge kv_cache_config to prevent partial YAML kv_cache_config from replacing the
     complete kv_cache_config") and, with ``explicit_cli_keys``, a flag typed on the command line wins
     over the YAML ("Explicit CLI flag(s) … override the value(s) set in the YAML config").

   :func:`~trtdiag.derive.llmargs_schema.merge_semantics` tells which from the release's source.
3. ``--set PATH=YAML_VALUE``: applied last, one dotted path at a time.  (The issue's reading; the
   serve.py versions read here have no ``--set``.)

The result is validated by pydantic in ``TorchLlmArgs``; unknown keys fail (``extra="forbid"``).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from .llmargs_schema import flatten

# trtllm-serve flag → LlmArgs key (serve.py click options and get_llm_args)
CLI_TO_LLMARGS = {
    "--tp_size": "tensor_parallel_size", "--tensor_parallel_size": "tensor_parallel_size",
    "--pp_size": "pipeline_parallel_size", "--pipeline_parallel_size": "pipeline_parallel_size",
    "--cp_size": "context_parallel_size", "--context_parallel_size": "context_parallel_size",
    "--ep_size": "moe_expert_parallel_size", "--moe_expert_parallel_size": "moe_expert_parallel_size",
    "--cluster_size": "moe_cluster_parallel_size", "--moe_cluster_parallel_size": "moe_cluster_parallel_size",
    "--gpus_per_node": "gpus_per_node",
    "--max_batch_size": "max_batch_size", "--max_num_tokens": "max_num_tokens", "--max_seq_len": "max_seq_len",
    "--max_beam_width": "max_beam_width", "--backend": "backend", "--tokenizer": "tokenizer",
    "--kv_cache_free_gpu_memory_fraction": "kv_cache_config.free_gpu_memory_fraction",
    "--kv_cache_dtype": "kv_cache_config.dtype",  # trtllm-serve 2026 (NVIDIA/TensorRT-LLM#11487)
    "--free_gpu_memory_fraction": "kv_cache_config.free_gpu_memory_fraction",
    "--num_postprocess_workers": "num_postprocess_workers", "--revision": "revision",
    "--reasoning_parser": "reasoning_parser",
}
CLI_FLAGS_BOOL = {"--trust_remote_code": "trust_remote_code", "--enable_chunked_prefill": "enable_chunked_prefill",
                  "--fail_fast_on_attention_window_too_large": "fail_fast_on_attention_window_too_large"}
# serve.py defaults for what the CLI always passes (BuildConfig defaults for the sizes: 2048 / 8192)
CLI_DEFAULTS = {"tensor_parallel_size": 1, "pipeline_parallel_size": 1, "backend": "pytorch",
                "kv_cache_config.free_gpu_memory_fraction": 0.9}


def _set_path(d: dict, path: str, value: Any) -> None:
    cur = d
    parts = path.split(".")
    for p in parts[:-1]:
        if not isinstance(cur.get(p), dict):
            cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = value


def _get_path(d: Any, path: str) -> tuple[bool, Any]:
    cur = d
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return False, None
        cur = cur[p]
    return True, cur


def parse_set(items: list[str]) -> tuple[list[tuple[str, Any]], list[dict[str, Any]]]:
    """``--set PATH=YAML_VALUE`` items → ([(path, value)], [problems])."""
    import yaml

    out, problems = [], []
    for it in items:
        path, eq, raw = it.partition("=")
        if not eq or not path.strip():
            problems.append({"kind": "bad-set", "path": it, "message": f"--set {it!r}: expected PATH=VALUE"})
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as exc:
            problems.append({"kind": "bad-set", "path": path.strip(), "message": f"--set {it!r}: the value is not YAML ({exc.__class__.__name__})"})
            continue
        out.append((path.strip(), value))
    return out, problems


def merge(cli: dict[str, Any] | None, yaml_doc: dict[str, Any] | None, sets: list[tuple[str, Any]] | None = None,
          semantics: dict[str, Any] | None = None) -> dict[str, Any]:
    """The options ``LLM(...)`` receives: ``{"args": merged, "origin": {path: "cli"|"yaml"|"set"}, "dropped": […],
    "overridden": […]}``.

    ``cli``: dotted LlmArgs paths → values as read from the command line (:func:`from_cli`).
    ``semantics``: the schema's ``merge`` (:func:`~trtdiag.derive.llmargs_schema.merge_semantics`);
    None or no ``kv_cache_deep_merge``: a YAML key replaces the CLI's value whole, so a CLI
    ``kv_cache_config.*`` is dropped when the YAML has ``kv_cache_config`` (``dropped``).  With
    ``kv_cache_deep_merge`` the YAML's kv_cache_config is merged into the CLI's key by key; with
    ``explicit_cli_wins`` a flag typed on the command line beats the YAML (``overridden``)."""
    semantics = semantics or {}
    args: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path, value in (cli or {}).items():
        _set_path(args, path, value)
        origin[path] = "cli"
    dropped: list[dict[str, Any]] = []
    overridden: list[dict[str, Any]] = []
    yaml_doc = dict(yaml_doc or {})
    if semantics.get("explicit_cli_wins"):
        for path in [p for p in (cli or {})]:
            found, yv = _get_path(yaml_doc, path)
            if found:
                overridden.append({"path": path, "cli": cli[path], "yaml": yv})
                head, _, leaf = path.rpartition(".")
                if head:
                    ok, sub = _get_path(yaml_doc, head)
                    if ok and isinstance(sub, dict):
                        sub = dict(sub)
                        sub.pop(leaf, None)
                        _set_path(yaml_doc, head, sub)
                else:
                    yaml_doc.pop(path, None)
    if semantics.get("kv_cache_deep_merge") and isinstance(yaml_doc.get("kv_cache_config"), dict) and isinstance(args.get("kv_cache_config"), dict):
        for k, v in yaml_doc.pop("kv_cache_config").items():
            args["kv_cache_config"][k] = copy.deepcopy(v)
            origin["kv_cache_config." + k] = "yaml"
    for key, value in yaml_doc.items():
        for path in [p for p in origin if p == key or p.startswith(key + ".")]:
            if origin[path] == "cli" and "." in path:
                found, v = _get_path({key: value}, path)
                if not found:
                    dropped.append({"path": path, "value": (cli or {}).get(path), "replaced_by": key})
            del origin[path]
        args[key] = copy.deepcopy(value)
        origin[key] = "yaml"
    for path, value in sets or []:
        _set_path(args, path, value)
        origin[path] = "set"
    return {"args": args, "origin": origin, "dropped": dropped, "overridden": overridden}


def from_cli(flags: dict[str, Any]) -> dict[str, Any]:
    """{flag: value-string} of a trtllm-serve command line → {LlmArgs path: typed value}."""
    out: dict[str, Any] = {}
    for flag, raw in flags.items():
        if flag in CLI_FLAGS_BOOL:
            out[CLI_FLAGS_BOOL[flag]] = True
            continue
        key = CLI_TO_LLMARGS.get(flag)
        if key is None or raw is None:
            continue
        out[key] = _coerce_cli(raw)
    return out


def _coerce_cli(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    for conv in (int, float):
        try:
            return conv(raw)
        except ValueError:
            pass
    return raw


# ------------------------------------------------------------------------------------------ checks

def _type_ok(value: Any, types: list[str]) -> bool:
    if not types or "Any" in types or "object" in types:
        return True
    checks = {
        "None": lambda v: v is None,
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "bytes": lambda v: isinstance(v, (str, bytes)),
        "dict": lambda v: isinstance(v, dict),
        "list": lambda v: isinstance(v, (list, tuple)),
        "tuple": lambda v: isinstance(v, (list, tuple)),
        "set": lambda v: isinstance(v, (list, tuple, set)),
    }
    return any(checks.get(t, lambda v: True)(value) for t in types)


def _bounds_problem(value: Any, bounds: dict) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or (isinstance(value, float) and math.isnan(value)):
        return None
    for k, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if k in bounds:
            b = bounds[k]
            ok = {"ge": value >= b, "gt": value > b, "le": value <= b, "lt": value < b}[k]
            if not ok:
                return f"must be {sym} {b:g}"
    return None


def nearest(path: str, paths: list[str]) -> str | None:
    """The valid path a mistyped or misplaced ``path`` most likely meant: the same leaf name
    elsewhere (``free_gpu_memory_fraction`` → ``kv_cache_config.free_gpu_memory_fraction``), else
    the closest spelling among the siblings, else among all paths."""
    leaf = path.rsplit(".", 1)[-1]
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    same_leaf = sorted((p for p in paths if p.rsplit(".", 1)[-1] == leaf and p != path), key=lambda p: (p.count("."), p))
    if same_leaf:
        return same_leaf[0]
    siblings = [p for p in paths if (p.rsplit(".", 1)[0] if "." in p else "") == parent]
    for pool in (siblings, paths):
        names = {p.rsplit(".", 1)[-1] if pool is siblings else p: p for p in pool}
        import difflib  # only for a key that is wrong

        m = difflib.get_close_matches(leaf if pool is siblings else path, list(names), n=1, cutoff=0.75)
        if m:
            return names[m[0]]
    return None


# Field-level rules pydantic validators enforce but the annotation does not say (each from the source):
# KvCacheConfig.validate_free_gpu_memory_fraction: "kv_cache_config.free_gpu_memory_fraction must be a float between 0 and 1"
EXTRA_BOUNDS = {"kv_cache_config.free_gpu_memory_fraction": {"ge": 0.0, "le": 1.0}}


def validate(args: dict[str, Any], schema: dict[str, Any], release: str | None = None,
             later: dict[str, dict[str, Any]] | None = None, origin: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Problems of the merged options against ``schema`` (:func:`~trtdiag.derive.llmargs_schema.parse_source`).

    Each problem: ``{"kind": "unknown"|"not-yet"|"type"|"bound"|"choice", "path", "value", "message",
    "suggestion"?, "added_in"?, "source"?}``.  ``later``: {release: schema} of other releases, to name
    the one that added a key this release lacks.  Keys inside a section the schema cannot see into
    (a class from another module, a dict) are not judged."""
    flat = flatten(schema)
    paths = sorted(flat)
    problems: list[dict[str, Any]] = []
    root_extra = (schema.get("models") or {}).get(schema.get("root") or "", {}).get("extra")
    origin = origin or {}

    def where(path: str) -> str | None:
        for p in (path, path.split(".")[0]):
            if p in origin:
                return origin[p]
        return None

    def owner_models(prefix: str) -> list[str]:
        if not prefix:
            return [schema.get("root") or ""]
        f = flat.get(prefix[:-1]) or {}
        return list(f.get("models") or [])

    def owner_model(prefix: str) -> str | None:
        ms = owner_models(prefix)
        return ms[0] if len(ms) == 1 else None

    def owner_classvars(prefix: str) -> set[str]:
        out: set[str] = set()
        for m in owner_models(prefix):
            out.update((schema.get("models") or {}).get(m, {}).get("classvars") or [])
        return out

    def walk(obj: dict[str, Any], prefix: str, extra: str | None) -> None:
        for key, value in obj.items():
            path = prefix + str(key)
            f = flat.get(path)
            if f is None:
                alias_hit = next((p for p, e in flat.items() if (p.rsplit(".", 1)[0] + "." if "." in p else "") == prefix
                                  and str(key) in (e.get("aliases") or [])), None)
                if alias_hit:
                    f = flat[alias_hit]
                    path = alias_hit
            if f is None:
                if extra != "forbid":
                    # extra="ignore" (pydantic's default): the release drops the key without a word
                    if extra == "ignore" and str(key) not in owner_classvars(prefix):
                        s = nearest(path, paths)
                        problems.append({"kind": "ignored", "path": path, "value": value, "from": where(path), "suggestion": s,
                                         "message": f"{path} is not a field of {owner_model(prefix) or 'this section'}; TensorRT-LLM "
                                                    f"{release or 'of this release'} ignores it silently" + (f" (did you mean {s}?)" if s else "")})
                    continue
                pr: dict[str, Any] = {"kind": "unknown", "path": path, "value": value, "from": where(path)}
                added = None
                for rel, sch in (later or {}).items():
                    if path in flatten(sch):
                        added = rel
                        break
                if added:
                    pr.update(kind="not-yet", added_in=added,
                              message=f"{path} is not an LlmArgs field in TensorRT-LLM {release or 'this release'}; TensorRT-LLM {added} has it")
                else:
                    s = nearest(path, paths)
                    pr["suggestion"] = s
                    pr["message"] = f"{path} is not an LlmArgs field" + (f"; did you mean {s}?" if s else "")
                problems.append(pr)
                continue
            types = f.get("types") or []
            models = f.get("models") or []
            if isinstance(value, dict) and models:
                extras = [(schema["models"].get(m) or {}).get("extra") for m in models]
                # a union of sections: strict only when every alternative is strict
                sub_extra = "forbid" if extras and all(e == "forbid" for e in extras) else ("ignore" if "ignore" in extras else None)
                walk(value, path + ".", sub_extra)
                continue
            if value is None and ("None" in types or not types):
                continue
            other = [t for t in types if t != "None"]
            if models and not isinstance(value, dict) and not (other and _type_ok(value, other)):
                problems.append({"kind": "type", "path": path, "value": value, "from": where(path), "line": f.get("line"),
                                 "message": f"{path} must be a mapping of {models[0]} fields, not {type(value).__name__} {value!r}"})
                continue
            if not models and not _type_ok(value, types):
                problems.append({"kind": "type", "path": path, "value": value, "from": where(path), "line": f.get("line"),
                                 "message": f"{path} is {type(value).__name__} {value!r}; {f.get('annotation')} expected"})
                continue
            ch = f.get("choices")
            if ch and value not in ch and not (isinstance(value, str) and any(isinstance(c, str) and c.lower() == value.lower() for c in ch)):
                problems.append({"kind": "choice", "path": path, "value": value, "from": where(path), "line": f.get("line"),
                                 "message": f"{path} is {value!r}; one of {', '.join(map(repr, ch))} expected"})
                continue
            b = _bounds_problem(value, {**EXTRA_BOUNDS.get(path, {}), **(f.get("bounds") or {})})
            if b:
                problems.append({"kind": "bound", "path": path, "value": value, "from": where(path), "line": f.get("line"),
                                 "message": f"{path} is {value!r}; it {b}"})

    walk(args, "", root_extra)
    return problems


def value(args: dict[str, Any], path: str, default: Any = None) -> Any:
    found, v = _get_path(args, path)
    return v if found else default
