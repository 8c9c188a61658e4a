"""Triton's ``llmapi`` model of TensorRT-LLM (``triton_backend/all_models/llmapi/tensorrt_llm``), read
statically (pure functions over parsed files).

From the source (NVIDIA/TensorRT-LLM: config.pbtxt@c8c6df08, 1/model.yaml@c8c6df08, 1/model.py@b35ac1b6):

- ``config.pbtxt``: ``backend: "python"``, ``instance_group [{count: 1, kind: KIND_CPU}]``, and the
  comment "The below config arguments are specific in model.yaml / Please don't add it in
  config.pbtxt: max_batch_size … model_transaction_policy { decoupled … }";
- ``1/model.yaml``: LLM(...) keys (``model``, ``backend: "pytorch"``, ``tensor_parallel_size``,
  ``pipeline_parallel_size`` …) plus ``triton_config: {max_batch_size, decoupled}``;
- ``1/model.py``: reads ``os.environ.get('LLM_CONFIG_PATH', 'model.yaml')`` joined to
  ``pb_utils.get_model_dir()`` (an absolute LLM_CONFIG_PATH replaces it);
  ``auto_complete_config`` sets decoupled and max_batch_size from ``triton_config["decoupled"]`` /
  ``["max_batch_size"]`` (a KeyError when either is missing); ``initialize`` passes every other key
  through ``update_llm_args_with_extra_dict({}, …)`` to ``LLM(**args)``; with ``global_mpi_size() > 1``
  the ranks come from MPI (launch_triton_server.py / mpirun), one per tp × pp.
"""

from __future__ import annotations

import os
from typing import Any

REQUIRED_TRITON_CONFIG = ("max_batch_size", "decoupled")


def config_path(model_version_dir: str, env: dict[str, str]) -> str:
    """The YAML model.py will read: LLM_CONFIG_PATH (absolute, or relative to the version dir) or model.yaml."""
    return os.path.join(model_version_dir, env.get("LLM_CONFIG_PATH") or "model.yaml")


def is_llmapi_model(pbtxt: dict[str, Any], version_entries: list[str]) -> bool:
    return pbtxt.get("backend") == "python" and "model.yaml" in version_entries


def check(pbtxt: dict[str, Any], model_yaml: dict[str, Any] | None, *, yaml_path: str,
          visible_gpus: int | None = None, model_dir_info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Problems of one llmapi model: [{"severity", "id", "message", ...}].

    ``pbtxt``: trtdiag.parsers.pbtxt.parse_config output, plus ``transaction_policy_set`` (the file
    has a ``model_transaction_policy`` block; the parser reports decoupled False without one);
    ``model_yaml``: the parsed YAML (None: missing);
    ``model_dir_info``: {"exists", "format", "error"} of the ``model`` path when it is local."""
    out: list[dict[str, Any]] = []
    if model_yaml is None:
        out.append({"severity": "error", "id": "yaml-missing", "path": yaml_path,
                    "message": f"{yaml_path} is missing: model.py asserts \"'model.yaml' containing TRT-LLM engine args not found\""})
        return out
    if not isinstance(model_yaml, dict):
        out.append({"severity": "error", "id": "yaml-not-mapping", "path": yaml_path, "message": f"{yaml_path} is not a YAML mapping"})
        return out
    tc = model_yaml.get("triton_config")
    if not isinstance(tc, dict):
        out.append({"severity": "error", "id": "triton-config-missing", "path": yaml_path,
                    "message": f"{yaml_path} has no triton_config mapping: auto_complete_config reads triton_config['decoupled'] and ['max_batch_size'] (KeyError at load)"})
    else:
        for k in REQUIRED_TRITON_CONFIG:
            if k not in tc:
                out.append({"severity": "error", "id": "triton-config-key", "path": yaml_path, "key": k,
                            "message": f"{yaml_path}: triton_config has no {k}: model.py reads triton_config['{k}'] (KeyError at load)"})
    for k in ("max_batch_size",):
        if pbtxt.get(k) not in (None, 0):
            out.append({"severity": "warning", "id": "pbtxt-max-batch-size", "key": k,
                        "message": f"config.pbtxt sets max_batch_size {pbtxt.get(k)}; the llmapi model sets it from model.yaml's triton_config (the template says: \"Please don't add it in config.pbtxt\"; a value there cannot be overwritten by model.py)"})
    if pbtxt.get("transaction_policy_set"):
        out.append({"severity": "warning", "id": "pbtxt-decoupled",
                    "message": "config.pbtxt sets model_transaction_policy.decoupled; the llmapi model sets it from model.yaml's triton_config.decoupled"})
    for k in ("max_batch_size", "decoupled"):
        if k in model_yaml and k != "max_batch_size":
            out.append({"severity": "error", "id": "triton-key-top-level", "key": k,
                        "message": f"{yaml_path}: {k} at the top level goes to LLM(...); it belongs under triton_config"})
    if "model" not in model_yaml:
        out.append({"severity": "error", "id": "model-missing", "message": f"{yaml_path} has no model: LLM(...) needs the model path or name"})
    elif model_dir_info is not None:
        if not model_dir_info.get("exists"):
            out.append({"severity": "error", "id": "model-path", "path": model_yaml["model"],
                        "message": f"model {model_yaml['model']!r} is a local path that does not exist"})
        elif model_dir_info.get("error"):
            out.append({"severity": "error", "id": "model-format", "path": model_yaml["model"],
                        "message": f"model {model_yaml['model']}: {model_dir_info['error']}"})
    tp = model_yaml.get("tensor_parallel_size", 1)
    pp = model_yaml.get("pipeline_parallel_size", 1)
    ranks = (tp if isinstance(tp, int) and tp > 0 else 1) * (pp if isinstance(pp, int) and pp > 0 else 1)
    ids = (pbtxt.get("parameters") or {}).get("gpu_device_ids")
    if ids:
        devs = [d.strip() for d in str(ids).split(",") if d.strip()]
        if len(devs) != ranks:
            out.append({"severity": "warning", "id": "gpu-device-ids", "gpu_device_ids": devs, "ranks": ranks,
                        "message": f"gpu_device_ids names {len(devs)} GPU(s) but tensor_parallel_size × pipeline_parallel_size is {ranks}"})
        if visible_gpus is not None:
            bad = [d for d in devs if d.isdigit() and int(d) >= visible_gpus]
            if bad:
                out.append({"severity": "error", "id": "gpu-device-ids-visible", "gpu_device_ids": devs,
                            "message": f"gpu_device_ids {', '.join(bad)} not among the {visible_gpus} visible GPU(s)"})
    if visible_gpus is not None and ranks > visible_gpus:
        out.append({"severity": "error", "id": "ranks-gt-gpus", "ranks": ranks, "visible": visible_gpus,
                    "message": f"tensor_parallel_size × pipeline_parallel_size = {ranks} but {visible_gpus} GPU(s) are visible"})
    return out
