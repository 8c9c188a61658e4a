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

from typing import Any

FLAGS = {"--trust_remote_code", "--fail_fast_on_attention_window_too_large", "--enable_chunked_prefill"}
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
