"""What a ``trtllm-serve`` command line says, read as its click options read it (pure).

Options per ``tensorrt_llm/commands/serve.py`` ``@click.command("serve")`` (NVIDIA/TensorRT-LLM@00209af1):
``MODEL`` (argument), ``--tokenizer``, ``--host`` (default ``localhost``), ``--port`` (8000),
``--backend`` (pytorch | tensorrt | _autodeploy; ``trt`` = tensorrt), ``--max_beam_width``,
``--max_batch_size`` (BuildConfig default 2048), ``--max_num_tokens`` (8192), ``--max_seq_len``,
``--tensor_parallel_size``/``--tp_size``, ``--pipeline_parallel_size``/``--pp_size``,
``--context_parallel_size``/``--cp_size``, ``--moe_expert_parallel_size``/``--ep_size``,
``--moe_cluster_parallel_size``/``--cluster_size``, ``--gpus_per_node``,
``--free_gpu_memory_fraction``/``--kv_cache_free_gpu_memory_fraction`` (0.9), ``--num_postprocess_workers``,
``--trust_remote_code`` (flag), ``--revision``, ``--config``/``--extra_llm_api_options`` (one YAML),
``--reasoning_parser``, ``--tool_parser``, ``--metadata_server_config_file``, ``--server_role``,
``--fail_fast_on_attention_window_too_large`` (flag), ``--otlp_traces_endpoint``,
``--disagg_cluster_uri``, ``--enable_chunked_prefill`` (flag), ``--media_io_kwargs``,
``--chat_template``, ``--custom_module_dirs`` (multiple), ``--log_level``, ``--custom_tokenizer``;
and ``--set PATH=VALUE`` (repeatable) where the release has it.
Click also accepts ``--opt=value``; for a repeated single-valued option the last one wins.
"""

from __future__ import annotations

import ast
from typing import Any

FLAGS = {"--trust_remote_code", "--fail_fast_on_attention_window_too_large", "--enable_chunked_prefill",
         "--no-telemetry", "--telemetry"}
YAML_OPTS = ("--config", "--extra_llm_api_options")
DEFAULT_HOST, DEFAULT_PORT = "localhost", 8000


def parse(args: list[str]) -> dict[str, Any]:
    """argv after ``trtllm-serve`` → {"model", "options": {flag: value}, "yaml", "sets": [...],
    "host", "port", "unknown": [...]}."""
    rest = list(args)
    if rest and rest[0] == "serve":
        rest = rest[1:]
    opts: dict[str, Any] = {}
    sets: list[str] = []
    model = None
    positional: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a.startswith("--"):
            name, eq, val = a.partition("=")
            if name in FLAGS:
                opts[name] = True
                i += 1
                continue
            if not eq:
                val = rest[i + 1] if i + 1 < len(rest) else None
                i += 2
            else:
                i += 1
            if name == "--set":
                if val is not None:
                    sets.append(val)
            elif name == "--custom_module_dirs":
                opts.setdefault(name, []).append(val)
            else:
                opts[name] = val
        else:
            positional.append(a)
            i += 1
    if positional:
        model = positional[0]
    yaml_path = next((opts[o] for o in reversed(YAML_OPTS) if opts.get(o)), None)
    if opts.get("--config") and opts.get("--extra_llm_api_options"):
        # one click option with two names: the later on the command line wins
        last = max((idx for idx, a in enumerate(rest) if a.split("=")[0] in YAML_OPTS), default=None)
        if last is not None:
            a = rest[last]
            yaml_path = a.partition("=")[2] if "=" in a else (rest[last + 1] if last + 1 < len(rest) else yaml_path)
    port_raw = opts.get("--port")
    try:
        port = int(port_raw) if port_raw is not None else DEFAULT_PORT
    except ValueError:
        port = None
    return {"model": model, "options": opts, "yaml": yaml_path, "sets": sets,
            "host": opts.get("--host") or DEFAULT_HOST, "host_given": "--host" in opts,
            "port": port, "backend": {"trt": "tensorrt"}.get(opts.get("--backend") or "pytorch", opts.get("--backend") or "pytorch")}


def world_size(merged_args: dict[str, Any]) -> int:
    """tp × pp × cp of the merged LlmArgs (the ranks the launch needs)."""
    def n(key: str) -> int:
        v = merged_args.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 1
    return n("tensor_parallel_size") * n("pipeline_parallel_size") * n("context_parallel_size")


def host_problem(host: str, in_container: bool, host_given: bool) -> dict[str, Any] | None:
    """``--host localhost`` (the default) binds the loopback only: inside a container, clients
    outside it (published ports) cannot connect."""
    if not in_container:
        return None
    if host in ("localhost", "127.0.0.1", "::1"):
        return {"severity": "warning", "host": host, "default": not host_given,
                "message": (f"trtllm-serve listens on {host}" + (" (the default of --host)" if not host_given else "")
                            + " inside a container: clients outside the container cannot connect through a published port; use --host 0.0.0.0")}
    return None


def options_from_source(text: str, command: str = "serve") -> list[dict[str, Any]]:
    """The click options of ``@click.command("serve")`` in serve.py's text (ast; nothing imported):
    ``[{"names": [...], "kind": "option"|"argument", "type"?, "default"?, "is_flag"?, "multiple"?, "line"}]``."""
    tree = ast.parse(text)
    out: list[dict[str, Any]] = []
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        decos = fn.decorator_list
        if not any(isinstance(d, ast.Call) and getattr(d.func, "attr", None) == "command" and d.args
                   and isinstance(d.args[0], ast.Constant) and d.args[0].value == command for d in decos):
            continue
        for d in decos:
            if not (isinstance(d, ast.Call) and getattr(d.func, "attr", None) in ("option", "argument")):
                continue
            names = [a.value for a in d.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            kw = {k.arg: k.value for k in d.keywords if k.arg}
            entry: dict[str, Any] = {"names": names, "kind": d.func.attr, "line": d.lineno}
            if "type" in kw:
                entry["type"] = ast.unparse(kw["type"])
            if "default" in kw:
                try:
                    entry["default"] = ast.literal_eval(kw["default"])
                except Exception:
                    entry["default"] = {"expr": ast.unparse(kw["default"])}
            if "is_flag" in kw:
                entry["is_flag"] = True
            if "multiple" in kw:
                entry["multiple"] = True
            out.append(entry)
    return out


def unknown_options(cmd: dict[str, Any], options: list[dict[str, Any]]) -> list[str]:
    """Flags of the command line that the release's serve command does not declare (click:
    "No such option")."""
    known = {n for o in options if o.get("kind") == "option" for n in o.get("names", []) if n.startswith("-")}
    if not known:
        return []
    given = list(cmd.get("options") or {})
    if cmd.get("sets"):
        given.append("--set")
    return [f for f in given if f not in known]
