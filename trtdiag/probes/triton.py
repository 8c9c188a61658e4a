"""Facts about the Triton model repository: ``triton.repo`` and ``triton.engine``.

``triton.repo`` is None when no repository is named (``--model-repo``) and none lies at a
conventional place (a few stat() calls, nothing more).  Otherwise each model folder holding a
``config.pbtxt`` is read with Triton's own schema (:mod:`trtdiag.parsers.pbtxt`).

``triton.engine`` is the engine the repository will serve: ``engine.info`` when ``--engine-dir``
was given, else the directory the ``tensorrt_llm`` model's ``gpt_model_path`` (``engine_dir``)
parameter names, its config.json normalised with :func:`trtdiag.parsers.engine_config.normalize`.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.errors import InputError, ProbeError
from ..core.facts import probe
from ..derive.triton_repo import REQUIRED_STRING_PARAMS, TOKENIZER_FILES, blocks_loading  # noqa: F401

# Where people put the repository (tensorrtllm_backend README, NGC container docs), in order.
CONVENTIONAL = (
    "/tensorrtllm_backend/triton_model_repo",
    "/opt/tritonserver/models",
    "/models",
    "triton_model_repo",
    "model_repo",
)



# Triton reads the whole file with protobuf's text parser, which has no size limit of its own;
# this only keeps a mistaken multi-GiB file from being slurped
CONFIG_LIMIT = 256 * 1024 * 1024


def find_repo(explicit: str | None) -> str | None:
    if explicit:
        if not os.path.isdir(explicit):
            if os.path.exists(explicit):
                raise InputError(f"--model-repo {explicit}: not a directory")
            raise InputError(f"--model-repo {explicit}: no such directory")
        return explicit
    for cand in CONVENTIONAL:
        if os.path.isdir(cand):
            try:
                if any(os.path.isfile(os.path.join(cand, d, "config.pbtxt")) for d in os.listdir(cand)):
                    return cand
            except OSError:
                continue
    return None


PATH_PARAMS = ("gpt_model_path", "engine_dir", "tokenizer_dir", "encoder_engine_dir")


def path_info(path: str) -> dict[str, Any]:
    """What a path parameter points at, recorded as a fact (so ``check --from`` sees the same)."""
    try:
        real = os.path.realpath(path)
    except ValueError:  # a NUL byte in the value: no file can have that name
        return {"exists": False, "is_dir": False, "entries": None, "error": "not a usable path (it holds a NUL byte)", "realpath": None}
    out: dict[str, Any] = {"exists": os.path.exists(path), "is_dir": os.path.isdir(path), "entries": None, "error": None,
                           "realpath": real}
    if out["is_dir"]:
        try:
            out["entries"] = sorted(os.listdir(path))[:500]
        except OSError as exc:
            out["error"] = exc.strerror or str(exc)
    return out


def read_model(model_dir: str, facts=None) -> dict[str, Any]:
    """One model folder.  With ``facts``, config.pbtxt is read through :meth:`Facts.file_text`, so
    its text is recorded for the fix planner (and a snapshot plans the same edits).  A file that is
    not UTF-8 (bytes that protobuf skips in a comment) is read as bytes here; the planner then
    cannot edit it and says so."""
    import hashlib

    from ..fsutil import read_bytes
    from ..parsers import pbtxt

    config_path = os.path.join(model_dir, "config.pbtxt")
    out: dict[str, Any] = {"path": model_dir, "config_path": config_path}
    try:
        data = None
        if facts is not None:
            try:
                text = facts.file_text(config_path, limit=CONFIG_LIMIT)
            except InputError as exc:
                if "not UTF-8" not in str(exc):
                    raise
                text = None
                data = read_bytes(config_path, limit=CONFIG_LIMIT)
            else:
                if text is None:
                    raise InputError(f"{config_path}: no such file")
                data = text.encode("utf-8")
        else:
            data = read_bytes(config_path, limit=CONFIG_LIMIT)
    except InputError as exc:
        out.update({"read_error": str(exc), "parse_error": str(exc), "parse_error_line": None, "placeholders": [],
                    "name": None, "backend": None, "platform": None, "max_batch_size": None, "decoupled": None,
                    "instance_count": None, "max_queue_delay_microseconds": None, "preferred_batch_size": None,
                    "parameters": {}, "inputs": [], "outputs": [], "ensemble_steps": [], "instance_kinds": []})
        return out
    text, notes = pbtxt.decode_config(data)
    out.update(pbtxt.parse_config(text))
    out["read_error"] = None
    out["sha256"] = hashlib.sha256(data).hexdigest()
    out["non_utf8"] = notes  # [{"line", "col", "in": "comment"|"string"|"text"}]
    out["paths"] = {k: path_info(v) for k, v in (out.get("parameters") or {}).items() if k in PATH_PARAMS and v}
    versions = []
    try:
        versions = sorted(d for d in os.listdir(model_dir) if d.isdigit() and os.path.isdir(os.path.join(model_dir, d)))
    except OSError:
        pass
    out["versions"] = versions
    model_py = [os.path.join(model_dir, v, "model.py") for v in versions if os.path.isfile(os.path.join(model_dir, v, "model.py"))]
    out["model_py"] = model_py
    out["reader_rules"], out["reader_file"] = {}, None
    if model_py:  # what the repository's own model.py does with each parameter (the table's reader rules)
        from ..derive.triton_semantics import match_reader_rules

        try:
            src = read_bytes(model_py[-1], limit=4 * 1024 * 1024).decode("utf-8", "replace")
        except InputError:
            src = None
        if src is not None:
            out["reader_rules"], out["reader_file"] = match_reader_rules(src), model_py[-1]
    return out


@probe("triton.repo")
def triton_repo(facts) -> dict[str, Any] | None:
    root = find_repo(facts.opt("model_repo"))
    if root is None:
        return None
    models: dict[str, Any] = {}
    try:
        entries = sorted(os.listdir(root))
    except OSError as exc:
        from ..fsutil import describe_oserror

        raise InputError(describe_oserror(root, exc)) from None
    no_config = []
    for d in entries:
        md = os.path.join(root, d)
        if os.path.isfile(os.path.join(md, "config.pbtxt")):
            models[d] = read_model(md, facts)
        elif os.path.isdir(md) and not d.startswith("."):
            no_config.append(d)
    if not models:
        if os.path.isfile(os.path.join(root, "config.pbtxt")):
            parent = os.path.dirname(os.path.abspath(root))
            raise InputError(f"{root} is a model folder (it holds config.pbtxt); the repository is its parent: --model-repo {parent}")
        raise InputError(f"{root}: no model folder with a config.pbtxt in it; is this the model repository?")

    def first(pred):
        for n, m in models.items():
            if pred(m):
                return n
        return None

    trtllm = first(lambda m: m.get("backend") == "tensorrtllm")
    if trtllm is None:
        # an unfilled template (backend: "${triton_backend}"): the model that holds gpt_model_path and is not
        # a Python model — from v0.12 preprocessing holds a gpt_model_path too (read for multimodal models only)
        trtllm = first(lambda m: "gpt_model_path" in (m.get("parameters") or {}) and m.get("backend") != "python"
                       and not str(m.get("path", "")).endswith(("preprocessing", "postprocessing")))
    pre = "preprocessing" if "preprocessing" in models else first(lambda m: "tokenizer_dir" in (m.get("parameters") or {}) and "preprocess" in m["path"])
    post = "postprocessing" if "postprocessing" in models else None
    # named: the user gave it (--model-repo); else it was found at a conventional place, and
    # `fix` proposes no edit to it (the checks still report it)
    return {"root": os.path.abspath(root), "models": models, "trtllm_model": trtllm, "preprocessing": pre, "postprocessing": post,
            "folders_without_config": no_config, "named": bool(facts.opt("model_repo"))}


def _engine_from_dir(path: str, source: str) -> dict[str, Any]:
    from ..fsutil import read_json
    from ..parsers.engine_config import normalize

    out: dict[str, Any] = {"path": path, "source": source, "config_path": None, "normalized": None, "engines": [], "error": None}
    if os.path.isfile(path):
        out["engines"] = [os.path.basename(path)]
        path = os.path.dirname(path) or "."
    if not os.path.isdir(path):
        out["error"] = "no such directory" if not os.path.exists(path) else "not a directory"
        return out
    try:
        out["engines"] = out["engines"] or sorted(f for f in os.listdir(path) if f.endswith((".engine", ".plan")))
    except OSError as exc:
        out["error"] = exc.strerror or str(exc)
        return out
    cfg = os.path.join(path, "config.json")
    if os.path.isfile(cfg):
        out["config_path"] = cfg
        try:
            data = read_json(cfg)
        except InputError as exc:
            out["error"] = str(exc)
            return out
        if isinstance(data, dict):
            out["normalized"] = normalize(data)
    return out


@probe("triton.engine")
def triton_engine(facts) -> dict[str, Any] | None:
    """The engine the repository will serve (see the module docstring); None when unknown."""
    if facts.opt("engine_dir"):
        try:
            info = facts["engine.info"]
        except (ProbeError, ImportError, KeyError):
            info = None
        if isinstance(info, dict) and info.get("normalized"):
            return {"path": info.get("path") or facts.opt("engine_dir"), "source": "--engine-dir",
                    "config_path": info.get("config_path"), "normalized": info["normalized"],
                    "engines": [os.path.basename(r.get("path", "")) for r in info.get("ranks") or []], "error": None}
        return _engine_from_dir(facts.opt("engine_dir"), "--engine-dir")
    repo = facts.get("triton.repo")
    if not repo or not repo.get("trtllm_model"):
        return None
    params = repo["models"][repo["trtllm_model"]].get("parameters") or {}
    for key in ("gpt_model_path", "engine_dir"):
        if params.get(key):
            return _engine_from_dir(params[key], f"{repo['trtllm_model']}/config.pbtxt {key}")
    return None
