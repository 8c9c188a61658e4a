"""``trtdiag plan`` for TensorRT-LLM's PyTorch backend (trtllm-serve, the llmapi model): a Hugging
Face config.json, the LLM-API YAML and trtdiag plan's own flags, merged as trtllm-serve merges
them, into the KV-cache estimate of trtdiag/derive/torch_memory.py (PLAN003) and its levers (PLAN004)."""

from __future__ import annotations

import time
from typing import Any


def _args_from(args, yaml_doc: dict[str, Any] | None) -> dict[str, Any]:
    from ...derive import llmapi as la

    cli: dict[str, Any] = {}
    for flag, path in (("tp", "tensor_parallel_size"), ("pp", "pipeline_parallel_size"), ("max_batch_size", "max_batch_size"),
                       ("max_num_tokens", "max_num_tokens"), ("kv_cache_free_gpu_mem_fraction", "kv_cache_config.free_gpu_memory_fraction"),
                       ("max_tokens_in_paged_kv_cache", "kv_cache_config.max_tokens")):
        v = getattr(args, flag, None)
        if v is not None:
            cli[path] = v
    if getattr(args, "kv_cache_dtype", None):
        cli["kv_cache_config.dtype"] = {"float16": "float16", "bfloat16": "bfloat16", "fp8": "fp8", "int8": "int8"}[args.kv_cache_dtype]
    if getattr(args, "max_input_len", None) and getattr(args, "max_output_len", None):
        cli["max_seq_len"] = args.max_input_len + args.max_output_len
    # the flags of this command count as typed on the command line: they win over the YAML
    return la.merge(cli, yaml_doc, semantics={"kv_cache_deep_merge": True, "explicit_cli_wins": True})["args"]


def _total(args, target_fn) -> tuple[int, int, dict[str, Any], Any]:
    """(device total, memory in use before the server, description, compute capability)."""
    from ...derive import memory as mm

    free, target, cc = target_fn(args, 1)
    total = int(target.get("total") or free)
    used = max(0, total - int(free))  # the driver's reserve on an idle card, other processes on a live one
    return total, used, target, cc


def run(args, target_fn) -> int:
    from ...core.errors import InputError
    from ...core.finding import Finding, Report, Severity
    from ...derive import torch_memory as tm
    from ...derive.hf_model import model_format, read_hf_config
    from ...fsutil import read_json
    from ..main import print_report

    t0 = time.perf_counter()
    cfg = read_json(args.model_config)
    fmt = model_format(cfg if isinstance(cfg, dict) else None)
    if fmt["format"] != "HF":
        raise InputError(f"{args.model_config}: not a Hugging Face config.json (TensorRT-LLM reads it as {fmt['format'] or 'nothing'}); "
                         "the PyTorch-backend plan needs the checkpoint's config.json")
    hf = read_hf_config(cfg)
    if not (hf.get("num_hidden_layers") and hf.get("hidden_size") and hf.get("num_attention_heads")):
        raise InputError(f"{args.model_config}: no num_hidden_layers / hidden_size / num_attention_heads")
    doc = None
    if args.llm_api_options:
        from ...probes.llmapi import read_yaml

        doc, err = read_yaml(args.llm_api_options)
        if err:
            raise InputError(f"{args.llm_api_options}: {err}")
        if doc is not None and not isinstance(doc, dict):
            raise InputError(f"{args.llm_api_options}: the top level is not a mapping of LlmArgs fields")
    llm_args = _args_from(args, doc)
    total, used, target, cc = _total(args, target_fn)
    # memory held before the server starts counts in the profiling pass's peak (total − free)
    p = tm.plan(hf, total, llm_args, gpu_cc=tuple(cc) if cc else None, other_used=used)
    e = p["asked"]
    what = (f"{e['precision']} weights, max_num_tokens {p['inputs']['max_num_tokens']}, fraction {e['fraction']:g}"
            + (f", tp {p['inputs']['tp']}" if p["inputs"]["tp"] > 1 else "") + f" on {target['gpu']}")
    arithmetic = tm.summary(e)
    if not e["fits_load"]:
        verdict = Finding("PLAN003", Severity.ERROR, f"Does not load: {what}",
                          f"weights {e['weights'] / tm.GiB:.2f} GiB + activations {e['activations'] / tm.GiB:.2f} GiB + non-torch "
                          f"{e['non_torch'] / tm.GiB:.2f} GiB leave no KV cache on {total / tm.GiB:.2f} GiB", area="plan")
    elif e["sequences"] < 1:
        verdict = Finding("PLAN003", Severity.WARNING, f"The KV cache holds no full sequence of {e['max_seq_len']} tokens: {what}",
                          f"{e['max_tokens']:,} tokens of KV cache for max_seq_len {e['max_seq_len']}", area="plan")
    else:
        verdict = Finding("PLAN003", Severity.OK, f"KV cache {e['max_tokens']:,} tokens, {e['sequences']} sequences of {e['max_seq_len']} tokens: {what}",
                          f"max_batch_size {e['max_batch_size']}: " + (f"all {e['max_batch_size']} fit at full length" if e["holds_batch"] else
                                                                      f"{e['sequences']} fit at full length at once; the scheduler admits what fits"),
                          area="plan")
    verdict.evidence = {"arithmetic": arithmetic}
    ev = {"target": target, "inputs": p["inputs"], "estimate": {k: v for k, v in e.items()}, "lever rows": p["levers"],
          "source": "docs/pytorch_backend.md (tensorrt_llm/_torch/pyexecutor/_util.py cal_max_tokens)"}
    table = Finding("PLAN004", Severity.INFO, "Levers on the KV cache", "Per rank; the YAML line that sets each lever.",
                    evidence={"levers": tm.table(p), **ev}, area="plan")
    context = {"model_config": args.model_config}
    if args.llm_api_options:
        context["llm_api_options"] = args.llm_api_options
    report = Report(command="plan", findings=[verdict, table], context=context, duration_s=time.perf_counter() - t0,
                    empty="Nothing to plan.", quiet_info=False)
    # the terminal and markdown show the table and the levers' YAML; the structured evidence is for --json
    table.display = {"levers": table.evidence["levers"], "set with": "; ".join(f"{r['lever']}: {r['yaml']}" for r in p["levers"])}
    print_report(report, args)
    return 1 if verdict.severity is Severity.ERROR else 0
