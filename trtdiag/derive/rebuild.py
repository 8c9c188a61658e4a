"""What a matching rebuild runs (pure, from facts; the planner attaches it as the fix): the engine's own build settings, rebuilt with the installed TensorRT-LLM.

For a trtllm-build engine the argv is reconstructed from ``build_config`` in its config.json
(flag names as trtllm-build has them: ``--max_output_len`` up to 0.9, ``--max_seq_len`` from 0.10;
plugins as ``--gemm_plugin float16`` / ``disable``; ``--paged_kv_cache`` and
``--remove_input_padding`` take ``enable`` / ``disable``; see the trtllm-build reference,
https://nvidia.github.io/TensorRT-LLM/commands/trtllm-build.html).  The checkpoint comes from
``--checkpoint-dir`` or is found beside the engine.  The build writes into a new directory; the
applier (:func:`trtdiag.fixes.applier.run_rebuild`) swaps it in only when the build succeeds and
keeps the old engine aside.

For a legacy engine (examples/<model>/build.py, TensorRT-LLM ≤ 0.7) the build.py command line is
shown (run it from the examples of the installed release); it is not run by ``--apply``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.finding import Change, Fix
from ..fixes.plan import command_line

FIX_ID = "rebuild-engine"


def release_tuple(v: str | None) -> tuple[int, ...]:
    if not v:
        return ()
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", v)
    return tuple(int(x) for x in m.groups() if x is not None) if m else ()


def _plugin_value(v: Any, dtype: str | None) -> str:
    if v is None or v is False:
        return "disable"
    if v is True:
        return dtype or "auto"
    s = str(v)
    return "disable" if s.lower() in ("", "none", "false", "disable", "disabled") else s


def _enable(v: Any) -> str:
    if isinstance(v, str):
        return "disable" if v.lower() in ("", "none", "false", "disable", "disabled") else "enable"
    return "enable" if v else "disable"


def trtllm_build_argv(cfg: dict, checkpoint: str, output: str, installed: str | None, exe: str = "trtllm-build") -> list[str]:
    bc = cfg.get("build_config") or {}
    pc = cfg.get("pretrained_config") or {}
    plug = bc.get("plugin_config") or cfg.get("plugin_config") or {}
    dtype = pc.get("dtype")
    argv = [exe, "--checkpoint_dir", checkpoint, "--output_dir", output]
    for key in ("max_batch_size", "max_input_len"):
        if bc.get(key) is not None:
            argv += [f"--{key}", str(bc[key])]
    rel = release_tuple(installed) or release_tuple(cfg.get("version"))
    seq = bc.get("max_seq_len")
    if seq is None and bc.get("max_input_len") is not None and bc.get("max_output_len") is not None:
        seq = bc["max_input_len"] + bc["max_output_len"]
    if rel and rel < (0, 10):
        out_len = bc.get("max_output_len")
        if out_len is None and seq is not None and bc.get("max_input_len") is not None:
            out_len = seq - bc["max_input_len"]
        if out_len is not None:
            argv += ["--max_output_len", str(out_len)]
    elif seq is not None:
        argv += ["--max_seq_len", str(seq)]
    for key in ("max_num_tokens", "max_beam_width", "max_draft_len"):
        if bc.get(key) not in (None, 0) or (key == "max_beam_width" and bc.get(key) is not None):
            argv += [f"--{key}", str(bc[key])]
    if "gpt_attention_plugin" in plug:
        argv += ["--gpt_attention_plugin", _plugin_value(plug["gpt_attention_plugin"], dtype)]
    if "gemm_plugin" in plug:
        argv += ["--gemm_plugin", _plugin_value(plug["gemm_plugin"], dtype)]
    paged = plug.get("paged_kv_cache")
    if paged is None and isinstance(bc.get("kv_cache_type"), str):
        argv += ["--kv_cache_type", bc["kv_cache_type"].split(".")[-1].lower()]
    elif paged is not None:
        argv += ["--paged_kv_cache", _enable(paged)]
    if "remove_input_padding" in plug:
        argv += ["--remove_input_padding", _enable(plug["remove_input_padding"])]
    if plug.get("use_paged_context_fmha") is not None:
        argv += ["--use_paged_context_fmha", _enable(plug["use_paged_context_fmha"])]
    if plug.get("tokens_per_block") is not None and _enable(paged) == "enable":
        argv += ["--tokens_per_block", str(plug["tokens_per_block"])]
    if bc.get("gather_context_logits"):
        argv += ["--gather_context_logits"]
    return argv


# examples/<dir>/build.py of TensorRT-LLM ≤ 0.7; builder_config.name is the model name
# ("chatglm3_6b", "llama", "gpt"), the directory its family
LEGACY_EXAMPLE_DIRS = ("baichuan", "bert", "bloom", "chatglm", "falcon", "gptj", "gptneox", "gpt", "internlm", "llama",
                       "mpt", "opt", "phi", "qwen", "mamba", "mixtral", "mistral", "starcoder", "skywork")


def legacy_example_dir(name: str) -> str:
    n = name.lower()
    hits = [d for d in LEGACY_EXAMPLE_DIRS if n.startswith(d)]
    return max(hits, key=len) if hits else n


def legacy_build_argv(cfg: dict, checkpoint: str, output: str) -> list[str]:
    bc = cfg.get("builder_config") or {}
    plug = cfg.get("plugin_config") or {}
    name = str(bc.get("name") or "<model>")
    dtype = bc.get("precision") or "float16"
    tp, pp = int(bc.get("tensor_parallel") or 1), int(bc.get("pipeline_parallel") or 1)
    argv = ["python3", f"examples/{legacy_example_dir(name)}/build.py", "--model_dir", checkpoint, "--dtype", str(dtype)]
    for key in ("max_batch_size", "max_input_len", "max_output_len", "max_beam_width", "max_num_tokens"):
        if bc.get(key) is not None:
            argv += [f"--{key}", str(bc[key])]
    if plug.get("gpt_attention_plugin"):
        argv += ["--use_gpt_attention_plugin", _plugin_value(plug["gpt_attention_plugin"], dtype)]
    if plug.get("gemm_plugin"):
        argv += ["--use_gemm_plugin", _plugin_value(plug["gemm_plugin"], dtype)]
    if plug.get("remove_input_padding"):
        argv += ["--remove_input_padding"]
    if plug.get("paged_kv_cache"):
        argv += ["--paged_kv_cache"]
        if plug.get("tokens_per_block"):
            argv += ["--tokens_per_block", str(plug["tokens_per_block"])]
    argv += ["--world_size", str(tp * pp), "--tp_size", str(tp), "--pp_size", str(pp), "--output_dir", output]
    return argv


def find_trtllm_build(facts) -> str:
    """trtllm-build beside the target interpreter (its virtualenv's bin), else from PATH (both
    read from recorded facts: ``files.info`` and ``host.system``)."""
    py = facts.opt("python")
    if py:
        cand = os.path.join(os.path.dirname(py), "trtllm-build")
        if facts.path_info(cand).get("executable"):
            return cand
    return ((facts.get("host.system") or {}).get("tools") or {}).get("trtllm-build") or "trtllm-build"


def output_dir_for(facts, engine_dir: str, installed: str | None) -> str:
    if facts.opt("output_dir"):
        return facts.path_info(facts.opt("output_dir"))["abspath"]
    base = facts.path_info(engine_dir)["abspath"].rstrip(os.sep)
    return f"{base}.rebuild-trtllm-{installed}" if installed else f"{base}.rebuild"


def same_filesystem(facts, path: str, other: str) -> bool:
    """Whether ``path`` (or its nearest existing parent) lies on the filesystem of ``other``."""
    a, b = facts.path_info(path).get("dev"), facts.path_info(other).get("dev")
    return a is None or b is None or a == b


def rebuild_fix(facts, reason: str) -> tuple[Fix | None, str]:
    """The Fix that rebuilds the engine with the installed versions, or (None, why not)."""
    e = facts["engine.info"]
    if e and e.get("is_file") and e.get("config"):
        return None, (f"rebuild the whole engine directory: `trtdiag fix --engine-dir {os.path.dirname(facts.path_info(e['path'])['abspath'])}` "
                      "shows the trtllm-build command")
    if not e or e.get("is_file") or not e.get("config"):
        v = (facts.get("trt.installed") or {}).get("version")
        return None, ("run the command that built the plan again under " + (f"TensorRT {v}" if v else "the TensorRT that will serve it")
                      + " (e.g. `trtexec --onnx=MODEL.onnx --saveEngine=PLAN`)")
    cfg = e["config"]
    installed = (facts.get("trtllm.installed") or {}).get("version")
    ckpt = e.get("checkpoint_dir")
    target = facts.path_info(e["path"])["abspath"]
    output = output_dir_for(facts, target, installed)
    layout = e["normalized"].get("layout")
    if not ckpt:
        shown = (trtllm_build_argv(cfg, "<CHECKPOINT_DIR>", output, installed) if layout == "trtllm-build"
                 else legacy_build_argv(cfg, "<MODEL_DIR>", output))
        return None, (command_line(shown) + "   (no checkpoint found beside the engine: pass --checkpoint-dir "
                      "DIR to `trtdiag fix` to have it run)")
    ckpt = facts.path_info(ckpt)["abspath"]
    if layout == "legacy":
        argv = legacy_build_argv(cfg, ckpt, output)
        if release_tuple(installed) >= (0, 8):
            d = legacy_example_dir(str((cfg.get("builder_config") or {}).get("name") or "<model>"))
            text = (f"TensorRT-LLM {installed} has no build.py: convert the model, then build: "
                    f"python3 examples/{d}/convert_checkpoint.py --model_dir {ckpt} --output_dir {output}.ckpt "
                    f"--dtype {(cfg.get('builder_config') or {}).get('precision') or 'float16'} && trtllm-build "
                    f"--checkpoint_dir {output}.ckpt --output_dir {output} (with the same max_* and plugin settings; "
                    f"for reference the old build was: {command_line(argv)})")
            return Fix(FIX_ID, f"rebuild the legacy engine with TensorRT-LLM {installed} ({reason})", safe=False,
                       changes=[], preview=text), text
        return Fix(FIX_ID, f"rebuild the legacy engine with build.py of the installed TensorRT-LLM ({reason})",
                   safe=False, changes=[],
                   preview="$ " + command_line(argv) + "\n(run it in the examples/ of the installed TensorRT-LLM release, "
                   "then point the server at the new directory; trtdiag does not run build.py itself)"), command_line(argv)
    argv = trtllm_build_argv(cfg, ckpt, output, installed, exe=find_trtllm_build(facts))
    if not same_filesystem(facts, output, os.path.dirname(target)):
        # the swap is a rename: across filesystems it fails after the old engine was moved aside
        text = (f"$ {command_line(argv)}\n# not run by --apply: {output} is on another filesystem than {target}, and the "
                "swap is a rename; choose an --output-dir beside the engine")
        return Fix(FIX_ID, f"rebuild the engine with the installed TensorRT-LLM {installed or ''} ({reason})", safe=False,
                   changes=[], preview=text), command_line(argv)
    ch = Change("rebuild", argv=argv, output=output, target=target,
                note=f"build into {output}; on success the old engine is kept aside and the new one takes {target}")
    preview = ("$ " + command_line(argv) + f"\n# on success: {target} is moved aside (kept), {output} takes its place;"
               " on failure nothing changes")
    return Fix(FIX_ID, f"rebuild the engine with the installed TensorRT-LLM {installed or ''} ({reason})".replace("  ", " "),
               safe=False, changes=[ch], preview=preview), command_line(argv)
