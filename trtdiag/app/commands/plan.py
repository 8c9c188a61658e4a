"""trtdiag plan: will this model fit on this GPU, before you build (or for an engine you have)?

Takes a model's Hugging Face config.json (--model-config) or a built engine directory
(--engine-dir), a target GPU (--gpu-memory 24GiB, --gpu L4, or the live GPU) and the build you
have in mind; prints, per rank, what loading takes (weights, activations, CUDA context), what is
left for the KV cache and how many full-length sequences it holds, and a table of what would fit:
the largest max_batch_size at these lengths, the lengths at this batch size, and each precision
(fp16/bf16, int8 / int4 weight-only, fp8 or int8 KV cache).  The arithmetic is docs/memory.md's.

Exit code 0 when the asked configuration fits (loads, and its KV cache holds max_batch_size
sequences of max_input_len + max_output_len tokens), 1 when it does not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

from ..main import HelpFormatter, add_output_options

EXAMPLES = """\
examples:
  trtdiag plan --model-config Qwen-7B-Chat/config.json --gpu-memory 24GiB --max-batch-size 4 --max-input-len 2048 --max-output-len 2048
  trtdiag plan --model-config config.json --params 7.7e9 --gpu L4 --weight-only int4
  trtdiag plan --engine-dir /engines/llama-7b/tp1                 on the GPU of this machine
  trtdiag plan --engine-dir /engines/llama-7b/tp1 --gpu A10G --max-batch-size 16 --json
"""

# Memory of common GPUs as NVML / nvidia-smi report it (MiB), and compute capability.  The H100
# figure is measured (../shared/fixtures/gpu); the others are the usual nvidia-smi totals of those
# boards and may differ by a few MiB between boards and drivers.
GPUS = {
    "H100-80GB": (81559, (9, 0)), "H100-NVL": (95830, (9, 0)), "H200": (143771, (9, 0)), "H20": (97871, (9, 0)),
    "A100-80GB": (81920, (8, 0)), "A100-40GB": (40960, (8, 0)), "A800-80GB": (81920, (8, 0)),
    "L40S": (46068, (8, 9)), "L40": (46068, (8, 9)), "L4": (23034, (8, 9)), "RTX-4090": (24564, (8, 9)), "RTX-6000-ADA": (49140, (8, 9)),
    "A10": (23028, (8, 6)), "A10G": (23028, (8, 6)), "A40": (46068, (8, 6)), "RTX-3090": (24576, (8, 6)), "RTX-A6000": (49140, (8, 6)),
    "T4": (15360, (7, 5)), "V100-32GB": (32768, (7, 0)), "V100-16GB": (16384, (7, 0)),
}

_UNITS = {"": 1 << 30, "b": 1, "k": 1000, "kb": 1000, "kib": 1 << 10, "ki": 1 << 10, "m": 10**6, "mb": 10**6, "mib": 1 << 20, "mi": 1 << 20,
          "g": 1 << 30, "gb": 10**9, "gib": 1 << 30, "gi": 1 << 30, "t": 1 << 40, "tb": 10**12, "tib": 1 << 40, "ti": 1 << 40}


def parse_size(text: str) -> int:
    """'24GiB', '24G' and a bare '24' are GiB; '24GB' is 24e9 bytes; '81559MiB'; '1e10B'."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?(?:[eE]\d+)?)\s*([A-Za-z]*)\s*", text or "")
    unit = (m.group(2).lower() if m else None)
    if not m or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a memory size (examples: 24GiB, 80GB, 81559MiB)")
    f = float(m.group(1)) * _UNITS[unit]
    if not f < 1 << 60:  # 1 EiB: no GPU has that (and 1e400 is no number at all)
        raise argparse.ArgumentTypeError(f"{text!r}: larger than any GPU's memory")
    value = int(f)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the size must be positive")
    return value


def parse_params(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?(?:[eE]\d+)?)\s*([kKmMbBtT]?)\s*", text or "")
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a parameter count (examples: 7.7e9, 7.7B, 13B)")
    value = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}[m.group(2).lower()]
    if not value < 1e15:  # a thousand times the largest published model (and 1e400 is no number)
        raise argparse.ArgumentTypeError(f"{text!r}: not a parameter count a model has")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be positive")
    return value


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return v


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be above 0 and below 1 (TensorRT-LLM refuses 1.0 and more)")
    return v


def gpu_key(name: str) -> str | None:
    k = re.sub(r"[\s_]+", "-", name.strip().upper()).replace("NVIDIA-", "").replace("GEFORCE-", "")
    if k in GPUS:
        return k
    alias = {"H100": "H100-80GB", "A100": "A100-80GB", "V100": "V100-32GB", "4090": "RTX-4090", "3090": "RTX-3090", "A6000": "RTX-A6000"}
    return alias.get(k)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="will the model fit on the GPU? memory per rank and what would fit", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    src = p.add_argument_group("the model (one of)")
    src.add_argument("--model-config", metavar="PATH", help="the model's Hugging Face config.json")
    src.add_argument("--engine-dir", metavar="DIR", help="a built TensorRT-LLM engine directory (config.json + rank*.engine)")
    src.add_argument("--params", type=parse_params, metavar="N", help="parameter count (7.7e9, 7.7B) instead of the estimate from config.json")
    tgt = p.add_argument_group("the GPU (default: this machine's, through NVML)")
    tgt.add_argument("--gpu-memory", type=parse_size, metavar="SIZE", help="the card's total memory: 24GiB, 80GB, 81559MiB")
    tgt.add_argument("--gpu", metavar="NAME", help="a known GPU: " + ", ".join(GPUS))
    tgt.add_argument("--gpu-memory-used", type=parse_size, metavar="SIZE",
                     help="memory already in use on the card before the server starts, as nvidia-smi shows it (other processes; "
                          "on a unified-memory device such as DGX Spark, the host's own use); default: the 480 MiB an idle card shows")
    b = p.add_argument_group("the build (default: the engine's, or fp16, batch 8, 1024 + 1024 tokens)")
    b.add_argument("--dtype", choices=["float16", "bfloat16", "float32"], help="model dtype (default: config.json's torch_dtype, else float16)")
    b.add_argument("--weight-only", choices=["int8", "int4"], help="weight-only quantization (convert_checkpoint.py --use_weight_only --weight_only_precision)")
    b.add_argument("--kv-cache-dtype", choices=["float16", "bfloat16", "fp8", "int8"], help="KV cache dtype (default: the model dtype)")
    b.add_argument("--max-batch-size", type=_positive, metavar="N")
    b.add_argument("--max-input-len", type=_positive, metavar="N")
    b.add_argument("--max-output-len", type=_positive, metavar="N")
    b.add_argument("--max-num-tokens", type=_positive, metavar="N", help="tokens of one context step with packed input (default: batch × input)")
    b.add_argument("--max-beam-width", type=_positive, metavar="N")
    b.add_argument("--tp", type=_positive, metavar="N", help="tensor-parallel ranks")
    b.add_argument("--pp", type=_positive, metavar="N", help="pipeline-parallel ranks")
    b.add_argument("--tokens-per-block", type=_positive, metavar="N", help="paged KV block size in tokens (default 64)")
    b.add_argument("--contiguous-kv", action="store_true", help="the KV cache is not paged (V1 runtime): allocated in full at load")
    s = p.add_argument_group("serving (config.pbtxt of the tensorrt_llm model)")
    s.add_argument("--kv-cache-free-gpu-mem-fraction", type=_fraction, metavar="F", help="share of the memory free after load for the KV cache (default 0.9)")
    s.add_argument("--max-tokens-in-paged-kv-cache", type=_positive, metavar="N", help="cap on the KV cache in tokens")
    t = p.add_argument_group("PyTorch backend (trtllm-serve, Triton's llmapi model)")
    t.add_argument("--llm-api-options", "--config", dest="llm_api_options", metavar="YAML",
                   help="the LLM-API YAML of trtllm-serve --config / --extra_llm_api_options (implies --backend pytorch)")
    t.add_argument("--backend", choices=["tensorrt", "pytorch"], help="tensorrt: an engine's memory (default); pytorch: the profiling-pass KV cache")
    add_output_options(p, strict=False)  # --json carries the per-rank breakdown
    return p


def _from_engine(path: str, args=None):
    import os
    from pathlib import Path

    from ...derive import memory as mm
    from ...core.errors import InputError
    from ...fsutil import read_json
    from ...parsers.engine_config import normalize

    from ...parsers import plan_header

    d = Path(path).absolute()
    if d.is_file():
        d = d.parent
        if not (d / "config.json").is_file():
            raise InputError(f"{path}: a single plan file; trtdiag plan needs the TensorRT-LLM engine directory "
                             f"(config.json beside the rank*.engine files), and {d / 'config.json'} does not exist")
    if not d.is_dir():
        raise InputError(f"{path}: no such engine directory")
    n = normalize(read_json(d / "config.json"))
    if n["layout"] is None:
        raise InputError(f"{d / 'config.json'}: not a TensorRT-LLM engine config (no pretrained_config/build_config or builder_config)")
    # a size the file gives as something else ("max_batch_size": "eight") is never planned as a
    # default: the option that gives it is asked for (ENG009 says the same in `check`)
    for key, raw in (n.get("unreadable") or {}).items():
        name = key.rsplit(".", 1)[-1]
        opt = {"max_batch_size": "max_batch_size", "max_input_len": "max_input_len", "max_output_len": "max_output_len",
               "max_num_tokens": "max_num_tokens", "max_beam_width": "max_beam_width"}.get(name)
        if opt and getattr(args, opt, None):
            continue
        given = f"; give --{opt.replace('_', '-')} N to plan for N" if opt else ""
        raise InputError(f"{d / 'config.json'}: {key} is {raw!r}, not a whole number{given}")
    model = mm.model_from_engine(n)
    if model is None:
        raise InputError(f"{d / 'config.json'}: the config does not give num_layers, num_heads, hidden_size and vocab_size")
    sizes, not_plans = [], []
    for p in sorted(d.iterdir()):
        if p.suffix in (".engine", ".plan"):
            try:
                h = plan_header.read(str(p))
            except InputError as exc:
                not_plans.append(f"{p.name} ({exc})")
                continue
            if h.get("kind") in ("plan", "ptrt"):
                sizes.append(h["size"])
            else:
                what = {"lfs-pointer": "a Git LFS pointer, not the engine: run `git lfs pull` in the repository it came from",
                        "empty": "empty (0 bytes)"}.get(h.get("kind"), "not a TensorRT plan")
                not_plans.append(f"{p.name} is {what}")
    if not sizes:
        if not_plans:
            raise InputError(f"{d}: no engine to plan from: " + "; ".join(not_plans))
        raise InputError(f"{d}: no *.engine file next to config.json")
    return n, model, mm.build_from_engine(n), max(sizes)


def _free_of(args, total: int) -> tuple[int, str]:
    """Free memory before load on a card given by size: total − what is in use (``--gpu-memory-used``,
    else the 480 MiB an idle H100 shows)."""
    from ...derive import memory as mm
    from ...core.errors import UsageError

    used = getattr(args, "gpu_memory_used", None)
    if used is None:
        return total - mm.DRIVER_RESERVE, "total − the 480 MiB the driver keeps, measured on an H100"
    if used >= total:
        raise UsageError(f"--gpu-memory-used {used / mm.GiB:.2f} GiB is not less than the card's {total / mm.GiB:.2f} GiB")
    return total - used, f"total − {used / mm.GiB:.2f} GiB in use before the server starts (--gpu-memory-used)"


def _target(args, world: int):
    """(free bytes before load, description, compute capability) of the GPU each rank gets."""
    from ...derive import memory as mm
    from ...core.errors import UsageError

    if args.gpu_memory and args.gpu:
        raise UsageError("give --gpu-memory or --gpu, not both")
    if args.gpu:
        k = gpu_key(args.gpu)
        if k is None:
            raise UsageError(f"unknown GPU {args.gpu!r}; known: {', '.join(GPUS)} (or give --gpu-memory 24GiB)")
        mib, cc = GPUS[k]
        total = mib * mm.MiB
        free, assumed = _free_of(args, total)
        return free, {"gpu": k, "total": total, "free_before_load": free, "assumed": assumed}, list(cc)
    if args.gpu_memory:
        total = args.gpu_memory
        free, assumed = _free_of(args, total)
        return free, {"gpu": "a " + f"{total / mm.GiB:.2f}".rstrip("0").rstrip(".") + " GiB card", "total": total,
                      "free_before_load": free, "assumed": assumed}, None
    if getattr(args, "gpu_memory_used", None) is not None:
        raise UsageError("--gpu-memory-used needs --gpu-memory or --gpu (the live GPU's use is read through NVML)")
    from ...core.facts import Facts

    inv = Facts()["gpu.inventory"]
    gpus = inv.get("gpus") or []
    if inv.get("nvml_error") or not gpus:
        raise UsageError(f"no GPU here ({inv.get('nvml_error') or 'none visible'}): give --gpu-memory 24GiB or --gpu {next(iter(GPUS))}")
    used = gpus[: max(1, min(world, len(gpus)))]
    g = min(used, key=lambda g: g.get("free") or 0)
    return int(g["free"]), {"gpu": f"GPU {g['index']}: {g.get('name')}", "total": g.get("total"), "free_before_load": g.get("free"),
                            "source": inv.get("source", "nvml")}, g.get("cc")


def run(args) -> int:
    from ...derive import memory as mm
    from ..main import print_report
    from ...core.errors import UsageError
    from ...fsutil import read_json
    from ...core.finding import Finding, Report, Severity

    import time

    t0 = time.perf_counter()
    if bool(args.model_config) == bool(args.engine_dir):
        raise UsageError("give --model-config config.json or --engine-dir DIR (one of them)")
    if getattr(args, "llm_api_options", None) or getattr(args, "backend", None) == "pytorch":
        if args.engine_dir:
            raise UsageError("the PyTorch backend loads a Hugging Face checkpoint: give --model-config config.json, not --engine-dir")
        from .plan_torch import run as run_torch

        return run_torch(args, _target)
    weights = None
    if args.engine_dir:
        n, model, build, engine_weights = _from_engine(args.engine_dir, args)
        built = build
        model = replace(model, params=args.params or mm.params_from_weights(model, build, engine_weights))
        source = {"engine_dir": args.engine_dir, "engine weights per rank": engine_weights}
    else:
        cfg = read_json(args.model_config)
        model = mm.model_from_hf_config(cfg, params=args.params)
        dt = mm.canonical_dtype(str(cfg.get("torch_dtype") or "")) if isinstance(cfg, dict) else None
        build = mm.BuildShape(dtype=dt if dt in ("float16", "bfloat16") else "float16", max_batch_size=8, max_input_len=1024, max_output_len=1024)
        built = None
        source = {"model_config": args.model_config}
    ch = {k: v for k, v in {
        "dtype": args.dtype, "weight_only": args.weight_only, "kv_dtype": args.kv_cache_dtype, "max_batch_size": args.max_batch_size,
        "max_input_len": args.max_input_len, "max_output_len": args.max_output_len, "max_num_tokens": args.max_num_tokens,
        "max_beam_width": args.max_beam_width, "tp": args.tp, "pp": args.pp, "tokens_per_block": args.tokens_per_block}.items() if v is not None}
    if args.contiguous_kv:
        ch["paged_kv"] = False
    if "max_input_len" in ch or "max_output_len" in ch:
        ch["max_seq_len"] = None
    build = replace(build, **ch)
    if build.weight_only in ("int8", "int4") and "dtype" not in ch and mm.canonical_dtype(build.dtype) == "float32":
        build = replace(build, dtype="float16")
    if built is not None and all(getattr(build, k) == getattr(built, k) for k in ("dtype", "weight_only", "tp", "pp")):
        weights = engine_weights  # the engine's own size, not an estimate
    serving = mm.Serving(kv_fraction=args.kv_cache_free_gpu_mem_fraction, max_tokens=args.max_tokens_in_paged_kv_cache)
    world = build.tp * build.pp
    free, target, cc = _target(args, world)
    e = mm.estimate(model, build, free, serving, weights=weights)
    ans = mm.answers(model, build, free, serving, weights=weights, cc=cc)
    what = (f"{build.precision_label()}, max_batch_size {build.max_batch_size}, {build.max_input_len} + {build.max_output_len} tokens"
            + (f", tp {build.tp}" if build.tp > 1 else "") + (f", pp {build.pp}" if build.pp > 1 else "") + f" on {target['gpu']}")
    per_rank = dict(rank=0, ranks=world, **mm.breakdown(e))  # every rank alike: the largest one
    ev = {**source, "target": target, "model": {**model.to_dict(), "param_count": int(model.param_count())},
          "arithmetic": mm.summary(e), "per_rank": [per_rank], "answers": ans}
    if e["fits"]:
        verdict = Finding("PLAN001", Severity.OK, f"Fits: {what}",
                          f"The KV cache holds {e['kv_sequences']} sequences of {e['kv_tokens_per_sequence']} tokens (max_batch_size {build.max_batch_size}).")
    elif not e["fits_load"]:
        short = e["deficit"] / mm.GiB
        verdict = Finding("PLAN001", Severity.ERROR, f"Does not load: {what}" + (f" ({short:.2f} GiB short)" if short > 0 else ""),
                          f"Weights {e['weights'] / mm.GiB:.2f} GiB + activations {e['activations'] / mm.GiB:.2f} GiB + CUDA context "
                          f"{e['overhead'] / mm.GiB:.2f} GiB" + (f" + contiguous KV cache {e['kv_bytes'] / mm.GiB:.2f} GiB" if e["rule"] == "contiguous" else "")
                          + f" against {e['free_before_load'] / mm.GiB:.2f} GiB free.")
    else:  # loads; the paged KV cache holds fewer full sequences than max_batch_size: MEM002's warning
        verdict = Finding("PLAN001", Severity.WARNING, f"Loads, but the KV cache holds {e['kv_sequences']} of {build.max_batch_size} full-length sequences: {what}",
                          f"After load {e['free_after_load'] / mm.GiB:.2f} GiB are free; the KV cache gets {e['kv_tokens']:,} tokens at "
                          f"{e['kv_bytes_per_token']:,} B per token, {e['kv_sequences']} sequences of {e['kv_tokens_per_sequence']} tokens. "
                          f"With the default guaranteed_no_evict scheduler at most {e['kv_sequences']} full-length requests run at once; "
                          "the others wait (shorter requests share the cache). The table below says what holds them all.")
    verdict.evidence = {"arithmetic": ev["arithmetic"]}
    verdict.area = "memory"
    table = Finding("PLAN002", Severity.INFO, _table_title(target), "Per rank; the built/asked precision first.",
                    evidence={"what fits": mm.table(ans, build, "built" if built is not None and weights is not None else "asked"), **{k: v for k, v in ev.items() if k != "arithmetic"}}, area="memory")
    report = Report(command="plan", findings=[verdict, table], context={k: v for k, v in source.items() if isinstance(v, str)},
                    empty="Nothing to plan.", quiet_info=False,
                    duration_s=time.perf_counter() - t0)
    # the terminal and markdown show the table and the verdict; the structured evidence is for --json
    table.display = {"what fits": table.evidence["what fits"], "model": _model_line(model), "target": _target_line(target)}
    print_report(report, args)
    return 0 if e["fits_load"] else 1


def _model_line(model) -> str:
    return (f"{model.param_count() / 1e9:.2f} B parameters, {model.num_layers} layers, {model.num_heads} heads "
            f"({model.num_kv_heads} KV) × {model.head_size}, hidden {model.hidden_size}, vocab {model.vocab_size}")


def _table_title(t: dict) -> str:
    """"What fits on an A10G (24 GiB)" for a card given by name, "What fits in 24.00 GiB" for a
    size, "What fits on this GPU" only for the GPU that is here."""
    from ...derive import memory as mm

    total = t.get("total")
    size = f"{total / mm.GiB:.1f}".removesuffix(".0") + " GiB" if isinstance(total, (int, float)) and total > 0 else None
    if t.get("assumed") and str(t.get("gpu", "")).startswith("a ") and str(t.get("gpu", "")).endswith(" GiB card"):
        return f"What fits in {size} of GPU memory"
    if t.get("assumed"):
        name = str(t.get("gpu"))
        article = "an" if name[:1].upper() in "AEFHILMNORSX" else "a"  # as the letter is spoken: an A10G, an H100, a B200
        return f"What fits on {article} {name}" + (f" ({size})" if size else "")
    return "What fits on this GPU" + (f" ({str(t.get('gpu')).split(': ', 1)[-1]})" if t.get("gpu") else "")


def _target_line(t: dict) -> str:
    from ...derive import memory as mm

    s = f"{t['gpu']}, {t['free_before_load'] / mm.GiB:.2f} GiB free before load"
    return s + (f" ({t['assumed']})" if t.get("assumed") else "")
