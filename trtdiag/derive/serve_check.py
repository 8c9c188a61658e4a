"""Everything that can be said before a ``trtllm-serve`` launch (or a Triton llmapi model) starts,
as plain findings: pure, over facts gathered elsewhere.

Input facts (all plain data):

- ``cmd``: :func:`trtdiag.derive.serve_launch.parse` of the command line (None for an llmapi model);
- ``yaml_doc`` / ``yaml_error``: the ``--config`` / ``--extra_llm_api_options`` file (or model.yaml
  without ``triton_config``) as ``yaml.safe_load`` read it, or why it could not be read;
- ``schema``: :func:`trtdiag.probes.llmapi.schema_for` (``source.kind`` "installed" or "shipped");
- ``installed_version``: the tensorrt_llm version of the target interpreter (None: not installed there);
- ``visible_gpus``: GPUs this process can see (None: unknown); ``in_container``: bool or None;
- ``model_info``: :func:`trtdiag.probes.llmapi.model_dir_info` of MODEL when it is a local path;
- ``serve_options``: :func:`trtdiag.probes.llmapi.serve_options_for` (the installed serve.py's options).

Each finding: ``{"id", "severity": "error"|"warning"|"info"|"ok", "title", "message", "evidence"}``.
The ids are proposals for the rule area ``LLA`` (see docs/pytorch_backend.md).  A finding whose
schema comes from a table of another release than the installed one is at most a warning: the
release that will run decides, and a false error with a wrong cause is worse than silence.
"""

from __future__ import annotations

from typing import Any

from . import llmapi as la
from . import serve_launch as sl


def _sev_for_schema(schema: dict[str, Any] | None, installed_version: str | None) -> str:
    """'error' when the schema is the installed release's own; 'warning' for a table of another release."""
    if not schema:
        return "warning"
    src = schema.get("source") or {}
    if src.get("kind") == "installed":
        return "error"
    rel = str(schema.get("release") or "")
    if installed_version and rel and (installed_version == rel or installed_version.startswith(rel + ".")):
        return "error"
    return "warning"


def _schema_label(schema: dict[str, Any]) -> str:
    src = schema.get("source") or {}
    if src.get("kind") == "installed":
        return f"the installed tensorrt_llm {schema.get('release') or ''} ({src.get('path')})".replace("  ", " ")
    return f"the shipped table {schema.get('release')} ({src.get('repo')}@{str(src.get('commit'))[:12]})"


def check(cmd: dict[str, Any] | None, yaml_doc: Any = None, *, yaml_path: str | None = None, yaml_error: str | None = None,
          schema: dict[str, Any] | None = None, installed_version: str | None = None, later: dict[str, dict] | None = None,
          visible_gpus: int | None = None, in_container: bool | None = None,
          model_info: dict[str, Any] | None = None, base_args: dict[str, Any] | None = None,
          serve_options: dict[str, Any] | None = None, serve_flag_names: set[str] | None = None) -> dict[str, Any]:
    """{"findings": [...], "args": merged LlmArgs, "world_size": n}.  ``base_args``: LlmArgs keys
    that come from elsewhere than the command line (the llmapi model passes none)."""
    out: list[dict[str, Any]] = []
    cli: dict[str, Any] = dict(base_args or {})
    sets: list[tuple[str, Any]] = []
    if cmd is not None and serve_options:
        for flag in sl.unknown_options(cmd, serve_options.get("options") or []):
            out.append({"id": "LLA011", "severity": "error", "title": "trtllm-serve has no such option",
                        "message": f"{flag}: the installed trtllm-serve ({serve_options.get('path')}) declares no such option "
                                   "(click stops with \"No such option\")", "evidence": {"option": flag, "serve_py": serve_options.get("path")}})
    if cmd is not None:
        cli.update(la.from_cli(cmd.get("options") or {}))
        sets, set_problems = la.parse_set(cmd.get("sets") or [])
        for p in set_problems:
            out.append({"id": "LLA010", "severity": "error", "title": "A --set override is not PATH=VALUE",
                        "message": p["message"], "evidence": {"set": p["path"]}})
    if yaml_error:
        out.append({"id": "LLA001", "severity": "error", "title": "The LLM-API YAML cannot be read",
                    "message": f"{yaml_path}: {yaml_error}", "evidence": {"path": yaml_path}})
        yaml_doc = None
    elif yaml_doc is not None and not isinstance(yaml_doc, dict):
        out.append({"id": "LLA001", "severity": "error", "title": "The LLM-API YAML is not a mapping",
                    "message": f"{yaml_path}: the top level is a {type(yaml_doc).__name__}; TensorRT-LLM wants a mapping of LlmArgs fields "
                               "(\"Configuration file root must be a mapping.\")", "evidence": {"path": yaml_path}})
        yaml_doc = None
    merged = la.merge(cli, yaml_doc if isinstance(yaml_doc, dict) else None, sets, semantics=(schema or {}).get("merge"))
    args = merged["args"]
    for d in merged["dropped"]:
        out.append({"id": "LLA006", "severity": "warning", "title": "A command-line setting is replaced by the YAML",
                    "message": f"{d['path']} = {d['value']!r} from the command line is lost: the YAML's {d['replaced_by']} section replaces "
                               "the one trtllm-serve built from the flags (update_llm_args_with_extra_dict: llm_args | yaml)",
                    "evidence": d})
    for o in merged.get("overridden") or []:
        out.append({"id": "LLA006", "severity": "info", "title": "A command-line flag overrides the YAML",
                    "message": f"{o['path']}: the command line's {o['cli']!r} wins over the YAML's {o['yaml']!r}", "evidence": o})
    if schema:
        sev = _sev_for_schema(schema, installed_version)
        label = _schema_label(schema)
        flag_names = set(serve_flag_names or ())
        for o in (serve_options or {}).get("options") or []:
            flag_names.update(n.lstrip("-") for n in o.get("names", []) if n.startswith("-"))
        for p in la.validate(args, schema, release=schema.get("release"), later=later, origin=merged["origin"]):
            kind = p["kind"]
            if kind == "unknown" and "." not in p["path"] and p["path"] in flag_names:
                # the YAML uses a trtllm-serve flag's name (free_gpu_memory_fraction, kv_cache_free_gpu_memory_fraction):
                # serve.py passes the YAML to LLM() as LlmArgs (llm_args | yaml), so the name is rejected there
                out.append({"id": "LLA002", "severity": sev, "title": "A trtllm-serve flag name in the LLM-API YAML",
                            "message": f"{p['path']} is the name of a trtllm-serve flag, not an LlmArgs field"
                                       + (f"; in the YAML it is {p['suggestion']}" if p.get("suggestion") else "")
                                       + " (the YAML goes to LLM() as LlmArgs, which forbids unknown keys)",
                            "evidence": {**{k: v for k, v in p.items() if k not in ("message", "kind")}, "schema": label}})
                continue
            fid, title, s = {"unknown": ("LLA002", "Unknown LLM-API option", sev),
                             "not-yet": ("LLA004", "LLM-API option of a later release", sev),
                             "type": ("LLA003", "LLM-API option of the wrong type", sev),
                             "bound": ("LLA003", "LLM-API option out of range", sev),
                             "choice": ("LLA003", "LLM-API option not among its choices", sev),
                             "ignored": ("LLA005", "LLM-API option that this release ignores", "warning")}[kind]
            ev = {k: v for k, v in p.items() if k not in ("message", "kind")}
            ev["schema"] = label
            out.append({"id": fid, "severity": s, "title": title, "message": p["message"], "evidence": ev})
    ws = sl.world_size(args)
    if visible_gpus is not None and ws > visible_gpus:
        out.append({"id": "LLA007", "severity": "error", "title": "More ranks than visible GPUs",
                    "message": f"tensor_parallel_size × pipeline_parallel_size × context_parallel_size = {ws}, but {visible_gpus} GPU(s) are visible",
                    "evidence": {"world_size": ws, "visible_gpus": visible_gpus,
                                 "tensor_parallel_size": args.get("tensor_parallel_size", 1),
                                 "pipeline_parallel_size": args.get("pipeline_parallel_size", 1)}})
    if cmd is not None:
        hp = sl.host_problem(cmd.get("host") or sl.DEFAULT_HOST, bool(in_container), bool(cmd.get("host_given")))
        if hp:
            out.append({"id": "LLA008", "severity": "warning", "title": "trtllm-serve listens on the loopback only",
                        "message": hp["message"], "evidence": {"host": hp["host"], "default": hp["default"], "port": cmd.get("port")}})
    if model_info is not None:
        mp = model_info.get("path")
        if not model_info.get("exists"):
            out.append({"id": "LLA009", "severity": "error", "title": "The model directory does not exist",
                        "message": f"{mp}: no such directory (a Hugging Face name would be downloaded; a path must exist)", "evidence": model_info})
        elif model_info.get("error"):
            out.append({"id": "LLA009", "severity": "error", "title": "The model directory is not a model TensorRT-LLM can read",
                        "message": f"{mp}: {model_info['error']}", "evidence": model_info})
        elif model_info.get("format") == "TLLM_ENGINE" and schema and _pytorch_only(schema):
            out.append({"id": "LLA009", "severity": "error", "title": "An engine directory for a release without the TensorRT backend",
                        "message": f"{mp} is a TensorRT engine (config.json with pretrained_config and build_config), but this release's "
                                   "TorchLlmArgs accepts backend 'pytorch' only: load the Hugging Face checkpoint instead", "evidence": model_info})
    return {"findings": out, "args": args, "world_size": ws, "origin": merged["origin"]}


def _pytorch_only(schema: dict[str, Any]) -> bool:
    f = ((schema.get("models") or {}).get("TorchLlmArgs") or {}).get("fields", {}).get("backend") or {}
    return f.get("choices") == ["pytorch"] and "TrtLlmArgs" not in (schema.get("models") or {})
