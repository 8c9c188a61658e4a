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
          serve_options: dict[str, Any] | None = None, serve_flag_names: set[str] | None = None,
          cli_world_size_reported_elsewhere: bool = False) -> dict[str, Any]:
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
                out.append({"id": "LLA002", "severity": sev, "title": "Unknown LLM-API option (a trtllm-serve flag's name)",
                            "message": f"{p['path']} is not an LlmArgs field (it is the name of a trtllm-serve flag; the YAML goes "
                                       "to LLM() as LlmArgs, which forbids unknown keys)"
                                       + (f"; did you mean {p['suggestion']}?" if p.get("suggestion") else ""),
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
    cli_ws = sl.world_size({k: v for k, v in cli.items() if "." not in k})
    # with cli_world_size_reported_elsewhere the command line's own tp × pp is CTR004's question
    # (exec passes it as the world size); only a YAML / --set that raises it is this finding's
    if visible_gpus is not None and ws > visible_gpus and not (cli_world_size_reported_elsewhere and ws == cli_ws):
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
    if schema:
        from .llmargs_schema import flatten

        flat = flatten(schema)
        src = schema.get("source") or {}
        for f in out:
            ev = f.get("evidence") or {}
            field = flat.get(ev.get("path") or "")
            if field is None:
                continue
            ev.pop("line", None)
            if field.get("source"):
                ev["declared at"] = field["source"]
            elif src.get("kind") == "installed" and field.get("line"):
                ev["declared at"] = f"{src.get('path')}:{field['line']}"
    return {"findings": out, "args": args, "world_size": ws, "origin": merged["origin"],
            "has_yaml": yaml_doc is not None or bool(yaml_error) or bool(sets)}


def _pytorch_only(schema: dict[str, Any]) -> bool:
    f = ((schema.get("models") or {}).get("TorchLlmArgs") or {}).get("fields", {}).get("backend") or {}
    return f.get("choices") == ["pytorch"] and "TrtLlmArgs" not in (schema.get("models") or {})


# ------------------------------------------------------------------------------------------ derived

def _pick_schema(installed_schema: dict[str, Any] | None, installed: dict[str, Any] | None) -> dict[str, Any] | None:
    """The installed release's own schema; else the shipped table of its minor release; else the
    newest shipped table (whose findings are then warnings: another release's)."""
    from . import llmargs_tables as t

    if installed_schema:
        return installed_schema
    rel = t.release_key((installed or {}).get("version"))
    rels = t.shipped_releases()
    if rel and rel in rels:
        return t.shipped(rel)
    return t.shipped("main") if "main" in rels else None


def _later(schema: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    from . import llmargs_tables as t

    own = (schema or {}).get("release") if (schema or {}).get("source", {}).get("kind") == "shipped" else None
    return {r: s for r in t.shipped_releases() if r != own and r == "main" and (s := t.shipped(r))}


def _register() -> None:
    from ..core.facts import derived

    @derived("serve_check")
    def serve_check_fact(facts) -> dict[str, Any]:
        """Findings of the trtllm-serve launch (``llmapi.serve``) and of the Triton llmapi models
        (``llmapi.triton``), each tagged with its subject."""
        from . import llmargs_tables as t
        from . import triton_llmapi as tl

        out: dict[str, Any] = {"serve": None, "triton": []}
        s = facts.get("llmapi.serve")
        if isinstance(s, dict):
            schema = _pick_schema(s.get("schema"), s.get("installed"))
            flags = set(t.shipped_serve_flag_names())
            res = check(s.get("command"), s.get("yaml"), yaml_path=s.get("yaml_path"), yaml_error=s.get("yaml_error"),
                        schema=schema, installed_version=(s.get("installed") or {}).get("version"),
                        later=_later(schema),
                        visible_gpus=s.get("visible_gpus"), in_container=s.get("in_container"), model_info=s.get("model_info"),
                        serve_options=s.get("serve_options"), serve_flag_names=flags, cli_world_size_reported_elsewhere=True)
            for f in res["findings"]:
                f["subject"] = "trtllm-serve"
            res["has_yaml"] = res.get("has_yaml") or bool(s.get("yaml_path"))
            res["schema"] = (schema or {}).get("source")
            res["schema_release"] = (schema or {}).get("release")
            out["serve"] = res
        tr = facts.get("llmapi.triton")
        if isinstance(tr, dict):
            schema = _pick_schema(tr.get("schema"), tr.get("installed"))
            for m in tr.get("models") or []:
                subject = f"triton:{m.get('name')}"
                findings = []
                for p in tl.check(m.get("pbtxt") or {}, m.get("yaml") if not m.get("yaml_error") else None, yaml_path=m.get("yaml_path"),
                                  visible_gpus=tr.get("visible_gpus"), model_dir_info=m.get("model_info")):
                    findings.append({"id": "LLA012", "severity": p["severity"], "title": "Triton llmapi model: " + p["id"],
                                     "message": p["message"], "evidence": {k: v for k, v in p.items() if k not in ("message", "severity")},
                                     "subject": subject})
                doc = m.get("yaml")
                if isinstance(doc, dict) and not m.get("yaml_error"):
                    llm_args = {k: v for k, v in doc.items() if k != "triton_config"}
                    res = check(None, llm_args, yaml_path=m.get("yaml_path"), schema=schema,
                                installed_version=(tr.get("installed") or {}).get("version"), later=_later(schema),
                                visible_gpus=None)  # ranks vs GPUs: LLA012 above
                    for f in res["findings"]:
                        f["subject"] = subject
                    findings += res["findings"]
                elif m.get("yaml_error"):
                    findings.append({"id": "LLA001", "severity": "error", "title": "The llmapi model's YAML cannot be read",
                                     "message": f"{m.get('yaml_path')}: {m['yaml_error']}", "evidence": {"path": m.get("yaml_path")},
                                     "subject": subject})
                out["triton"].append({"model": m.get("name"), "yaml_path": m.get("yaml_path"), "findings": findings})
        return out


_register()
