"""TRI003: gpt_model_path names a directory that holds the engine."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _trtllm_model, error, ok, os, warning


# ---------------------------------------------------------------- TRI003 engine dir
@rule("TRI003", area=AREA, title="gpt_model_path names a directory that holds the engine", kb="triton-engine-dir-missing")
def engine_dir(facts):
    """The tensorrt_llm model's ``gpt_model_path`` exists and holds rank engines and config.json.

    Why: the backend loads the engine from that path when the model loads; a wrong path is
    "[TensorRT-LLM][ERROR] … Failed to open …/config.json" and the tensorrt_llm model (and the
    ensemble) fail.  Paths are as the server sees them: run trtdiag where tritonserver runs (in
    its container).

    Fix: set gpt_model_path to the engine directory (``trtdiag fix --apply --set engine_dir=DIR``
    on a template) or build the engine there.
    """
    repo, name, m = _trtllm_model(facts)
    if m is None:
        return
    params = m.get("parameters") or {}
    key = "gpt_model_path" if "gpt_model_path" in params else ("engine_dir" if "engine_dir" in params else None)
    if key is None:
        yield error(f"{name}/config.pbtxt has no gpt_model_path parameter",
                    f"The tensorrtllm backend needs parameters {{ key: \"gpt_model_path\" value: {{ string_value: \"/path/to/engine\" }} }} in {m['config_path']}.",
                    evidence={"file": m["config_path"]})
        return
    path = params.get(key)
    if path is None:
        return  # an unfilled placeholder: TRI001 says so
    ev = {"file": m["config_path"], key: path}
    pi = (m.get("paths") or {}).get(key) or {}
    if not pi.get("exists"):
        yield error(f"{key} {path} does not exist",
                    f"Model '{name}' loads its engine from {path} ({m['config_path']}), which does not exist on this machine. "
                    f"Point {key} at the directory trtllm-build wrote (rank0.engine, config.json), or run trtdiag inside the serving container.",
                    evidence=ev)
        return
    if not pi.get("is_dir"):
        yield error(f"{key} {path} is not a directory",
                    f"The backend expects the engine directory (config.json plus rank<N>.engine files), not a file. Set {key} to {os.path.dirname(path) or '.'}.",
                    evidence=ev)
        return
    if pi.get("error"):
        yield error(f"{key} {path} cannot be read", f"{path}: {pi['error']}", evidence=ev)
        return
    files = pi.get("entries") or []
    engines = sorted(f for f in files if f.endswith((".engine", ".plan")))
    ev["engines"] = engines
    missing = [f for f in ("config.json",) if f not in files]
    if not engines or missing:
        what = " and ".join((["no *.engine file"] if not engines else []) + ([f"no {x}" for x in missing]))
        yield error(f"{key} {path} holds {what}",
                    f"Model '{name}' will find {what} in {path}. Build the engine into it (trtllm-build --output_dir {path}) or point {key} at the directory that holds it.",
                    evidence=ev)
        return
    opt_dir = facts.opt("engine_dir")
    opt_info = (facts.get("paths.options") or {}).get("engine_dir") or {}
    if opt_dir and opt_info.get("dir_realpath") and opt_info["dir_realpath"] != (pi.get("realpath") or path):
        yield warning(f"--engine-dir {opt_dir} is not the engine the repository serves",
                      f"{m['config_path']} sets {key} to {path}; the server will load that engine, not {opt_dir}. "
                      f"The engine checks looked at {opt_dir}.", evidence=dict(ev, engine_dir_option=opt_dir))
        return
    yield ok(f"{key} holds {len(engines)} engine file(s)", **ev)
