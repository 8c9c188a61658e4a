"""Fixes for memory findings.

- :func:`parameter_fix`: set one ``parameters { key: … value: { string_value: "…" } }`` of the
  tensorrt_llm model's config.pbtxt (kv_cache_free_gpu_mem_fraction, max_tokens_in_paged_kv_cache).
  A minimal text edit: only the value string changes, comments and layout stay.
- :func:`rebuild_fix`: the commands that rebuild the engine smaller (lower max_batch_size, shorter
  lengths, weight-only quantization).  Shown, never applied automatically (``safe=False``): a
  rebuild takes the checkpoint, time and a GPU, and the user chooses the trade-off.
- :func:`kill_fix`: stop a process that holds GPU memory (needs ``--kill``).
"""

from __future__ import annotations

import re

from ..core.errors import InputError
from ..core.finding import Change, Fix
from .plan import command_line, edit_fix


def _param_re(key: str) -> re.Pattern[str]:
    return re.compile(
        r'(parameters\s*:?\s*\{\s*key\s*:\s*"' + re.escape(key) + r'"\s*value\s*:?\s*\{\s*string_value\s*:\s*")((?:[^"\\]|\\.)*)(")',
        re.S,
    )


def get_parameter(text: str, key: str) -> str | None:
    m = _param_re(key).search(text)
    return m.group(2) if m else None


def set_parameter(text: str, key: str, value: str) -> str | None:
    """``text`` with the string_value of parameter ``key`` replaced; None when the key is absent."""
    m = _param_re(key).search(text)
    if m is None:
        return None
    return text[: m.start(2)] + value + text[m.end(2) :]


def parameter_fix(facts, fix_id: str, summary: str, config_path: str, key: str, value: str, note: str = "") -> Fix | None:
    """An edit of the config.pbtxt at ``config_path`` setting ``key`` to ``value``; None when the
    file cannot be read or has no such parameter (the finding still says what to set)."""
    try:
        before = facts.file_text(config_path)
    except InputError:
        return None
    if before is None:
        return None
    after = set_parameter(before, key, value)
    if after is None or after == before:
        return None
    return edit_fix(fix_id, summary, config_path, before, after, safe=True, note=note)


def rebuild_argv(n: dict, *, max_batch_size: int | None = None, max_input_len: int | None = None,
                 max_output_len: int | None = None, checkpoint_dir: str | None = None, output_dir: str | None = None) -> list[str]:
    """trtllm-build with the engine's own settings, some of them changed."""
    ver = str(n.get("trtllm_version") or "")
    m = re.match(r"(\d+)\.(\d+)", ver)
    new_cli = bool(m) and (int(m.group(1)), int(m.group(2))) >= (0, 11)  # --max_output_len became --max_seq_len
    mi = max_input_len or n.get("max_input_len")
    mo = max_output_len if max_output_len is not None else n.get("max_output_len")
    argv = ["trtllm-build", "--checkpoint_dir", checkpoint_dir or "CHECKPOINT_DIR", "--output_dir", output_dir or "NEW_ENGINE_DIR"]
    if n.get("dtype"):
        argv += ["--gemm_plugin", str(n["dtype"])]
    argv += ["--max_batch_size", str(max_batch_size or n.get("max_batch_size") or 1)]
    if mi:
        argv += ["--max_input_len", str(mi)]
    if new_cli and mi and mo is not None:
        argv += ["--max_seq_len", str(mi + mo)]
    elif mo is not None:
        argv += ["--max_output_len", str(mo)]
    if n.get("paged_kv_cache"):
        argv += ["--paged_kv_cache", "enable"]
    if n.get("remove_input_padding"):
        argv += ["--remove_input_padding", "enable"]
    return argv


def convert_argv(n: dict, weight_only: str, model_dir: str | None = None, output_dir: str | None = None) -> list[str]:
    """The model's convert_checkpoint.py (examples/<model>/) with weight-only quantization."""
    argv = ["python3", "convert_checkpoint.py", "--model_dir", model_dir or "HF_MODEL_DIR", "--output_dir", output_dir or "CHECKPOINT_DIR",
            "--dtype", str(n.get("dtype") or "float16"), "--use_weight_only", "--weight_only_precision", weight_only]
    if (n.get("tp") or 1) > 1:
        argv += ["--tp_size", str(n["tp"])]
    if (n.get("pp") or 1) > 1:
        argv += ["--pp_size", str(n["pp"])]
    return argv


def rebuild_fix(n: dict, *, max_batch_size: int | None = None, max_input_len: int | None = None, max_output_len: int | None = None,
                weight_only: str | None = None, checkpoint_dir: str | None = None, engine_dir: str | None = None,
                output_dir: str | None = None) -> Fix:
    """The rebuild as commands.  With the checkpoint (--checkpoint-dir) and the engine directory known
    and no re-conversion needed, it is a ``rebuild`` change the applier can run: trtllm-build into a
    new directory, swapped in only when the build succeeds."""
    changes: list[Change] = []
    what = []
    if weight_only:
        conv = convert_argv(n, weight_only, output_dir=checkpoint_dir)
        changes.append(Change("command", argv=conv, note="in TensorRT-LLM's examples/<model>/ folder"))
        what.append(f"{weight_only} weight-only")
    if max_batch_size:
        what.append(f"max_batch_size {max_batch_size}")
    if max_input_len:
        what.append(f"max_input_len {max_input_len} + max_output_len {max_output_len}")
    runnable = bool(checkpoint_dir and engine_dir and not weight_only)
    out = output_dir or (engine_dir.rstrip("/") + ".rebuild" if engine_dir else None)
    build = rebuild_argv(n, max_batch_size=max_batch_size, max_input_len=max_input_len, max_output_len=max_output_len,
                         checkpoint_dir=checkpoint_dir, output_dir=out if runnable else None)
    if runnable:
        changes.append(Change("rebuild", argv=build, output=out, target=engine_dir, note="the old engine is kept beside it"))
    else:
        changes.append(Change("command", argv=build))
    fid = "rebuild-" + ("weight-only-" + weight_only if weight_only else "smaller-batch" if max_batch_size else "shorter")
    return Fix(id=fid, summary="rebuild the engine with " + ", ".join(what), safe=False, changes=changes,
               preview="\n".join("$ " + command_line(c.argv or []) for c in changes))


def kill_fix(pid: int, name: str | None, used_gib: float | None, gpu_index: int) -> Fix:
    held = f", which holds {used_gib:.2f} GiB on GPU {gpu_index}" if used_gib is not None else f" on GPU {gpu_index}"
    return Fix(id="stop-gpu-process", summary=f"stop PID {pid} ({name or 'unknown'}){held}", safe=False, requires="--kill",
               changes=[Change("kill", pid=int(pid), note="SIGTERM, then SIGKILL if it does not exit")],
               preview=f"$ kill {int(pid)}    (trtdiag fix --apply --kill)")
