#!/usr/bin/env python3
"""Generate trtdiag/data/backend_templates.json from tensorrtllm_backend's own sources.

Reads a clone (bare is fine) of https://github.com/triton-inference-server/tensorrtllm_backend
with ``git show TAG:PATH`` — nothing is copied — and writes, for every release tag v0.5.0 … v0.19.0:

* every ``${placeholder}`` of every ``all_models/*/*/config.pbtxt`` template (line, column, the
  schema field or parameter key it fills, inside quotes or not);
* what the backend does with the parameter when the placeholder is left as it is: the reader
  (C++ ``inflight_batcher_llm/src/*.cc`` ``GetParameter<T>("key")`` or the Python model's
  ``model.py``), its type, the default it applies, and the outcome — ``parse_error`` (Triton cannot
  parse the file), ``load_error``, ``request_error`` (loads, fails at the first request that
  needs it), ``ignored`` (the default applies) or ``unknown`` (the source read here does not say);
  each with the ``file:line`` the statement was read from;
* the defaults that tag's ``tools/fill_template.py`` inserts by itself and how it splits its
  argument (read from its AST);
* template fingerprints for release detection (per model: parameter keys, tensor names and
  types, and the sha256 of the unfilled file).

Outcomes of C++ parameters are derived from the code shape (``std::stoi`` etc. inside ``try``
fall back to the default on a literal ``${…}``); outcomes that need reading the code (string
parameters, the Python models) come from RULES below: each rule names a regular expression that
must match the tag's own file, and the row cites the line it matched. A rule whose expression
does not match a tag does not apply to it.

Usage:  python3 tools/harvest_backend_templates.py --git-dir /path/to/tensorrtllm_backend.git \
            [--out trtdiag/data/backend_templates.json]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = "triton-inference-server/tensorrtllm_backend"
TAGS = ["v0.5.0", "v0.6.0", "v0.6.1", "v0.7.0", "v0.7.1", "v0.7.2", "v0.8.0", "v0.9.0", "v0.10.0", "v0.11.0",
        "v0.12.0", "v0.13.0", "v0.14.0", "v0.15.0", "v0.16.0", "v0.17.0", "v0.18.0", "v0.18.1", "v0.18.2", "v0.19.0"]
PH = re.compile(r"\$\{([_A-Za-z][_A-Za-z0-9]*)\}")

# Outcome of a placeholder left outside quotes: Triton's text-format parser refuses the file.
SCHEMA_FIELD_TYPES = {
    "max_batch_size": "int32", "count": "int32", "decoupled": "bool", "preferred_batch_size": "int32",
    "max_queue_delay_microseconds": "uint64", "max_queue_size": "int32", "data_type": "DataType enum",
}

# Rules for readers whose effect needs reading the code.  Each: model folder (all_models/<flow>/<model>),
# parameter key, file (relative to the model's version folder "1/" or to the repo root when it starts
# with "inflight_batcher_llm/"), a regex that must match that file at the tag, and the verdict.
# The first rule of a (model, key) whose regex matches wins.
RULES: list[dict] = [
    # ---- preprocessing / postprocessing (Python) ------------------------------------------------
    {"models": ["inflight_batcher_llm/preprocessing", "inflight_batcher_llm/postprocessing", "gpt/preprocessing", "gpt/postprocessing"],
     "key": "tokenizer_dir", "file": "1/model.py", "pattern": r"from_pretrained\(\s*tokenizer_dir",
     "outcome": "load_error", "type": "path", "default": None,
     "reason": "model.py passes it to from_pretrained() when the model loads; the literal ${tokenizer_dir} is no folder and no Hub id"},
    {"models": ["inflight_batcher_llm/preprocessing", "inflight_batcher_llm/postprocessing", "gpt/preprocessing", "gpt/postprocessing"],
     "key": "tokenizer_type", "file": "1/model.py", "pattern": r"Unexpected tokenizer type",
     "outcome": "load_error", "type": "enum(t5|auto|llama)", "default": None,
     "reason": "model.py accepts only t5, auto or llama and raises AttributeError('Unexpected tokenizer type: …') otherwise"},
    {"models": ["inflight_batcher_llm/preprocessing"], "key": "add_special_tokens", "file": "1/model.py",
     "pattern": r"Set it as True by default", "outcome": "ignored", "type": "bool", "default": "True",
     "reason": "a value outside true/false/1/0/t/f/y/n/yes/no is reported and True is used"},
    {"models": ["inflight_batcher_llm/preprocessing"], "key": "add_special_tokens", "file": "1/model.py",
     "pattern": r"\{'string_value':\s*\"false\"\}\)\['string_value'\]\.lower\(\) in", "outcome": "ignored", "type": "bool",
     "default": "False", "reason": "anything but a true-like word (the literal placeholder included) reads as False"},
    {"models": ["inflight_batcher_llm/postprocessing"], "key": "skip_special_tokens", "file": "1/model.py",
     "pattern": r"Set it as True by default", "outcome": "ignored", "type": "bool", "default": "True",
     "reason": "a value outside true/false/1/0/t/f/y/n/yes/no is reported and True is used"},
    {"models": ["inflight_batcher_llm/postprocessing"], "key": "skip_special_tokens", "file": "1/model.py",
     "pattern": r"\{'string_value':\s*\"true\"\}\)\['string_value'\]\.lower\(\) in", "outcome": "ignored", "type": "bool",
     "default": "False", "reason": "anything but a true-like word (the literal placeholder included) reads as False"},
    {"models": ["inflight_batcher_llm/preprocessing"], "key": "visual_model_path", "file": "1/model.py",
     "pattern": r"visual_model_path == \"\$\{visual_model_path\}\"", "outcome": "ignored", "type": "path", "default": "None (not multimodal)",
     "reason": "model.py treats the literal placeholder (or \"\") as no visual model"},
    {"models": ["inflight_batcher_llm/preprocessing"], "key": "multimodal_model_path", "file": "1/model.py",
     "pattern": r"multimodal_model_path == \"\$\{multimodal_model_path\}\"", "outcome": "ignored", "type": "path", "default": "None (not multimodal)",
     "reason": "model.py treats the literal placeholder (or \"\") as no multimodal model"},
    {"models": ["inflight_batcher_llm/preprocessing"], "key": "gpt_model_path", "file": "1/model.py",
     "pattern": r"llm_model_path = model_config\['parameters'\]\['gpt_model_path'\]", "outcome": "ignored", "type": "path",
     "default": None, "condition": "read only for a multimodal model (visual/multimodal_model_path set): then the load fails",
     "reason": "model.py opens gpt_model_path/config.json only inside the multimodal branch"},
    {"models": ["inflight_batcher_llm/preprocessing"], "key": "max_num_images", "file": "1/model.py",
     "pattern": r"max_num_images_str\.isdigit\(\)", "outcome": "ignored", "type": "int", "default": "None",
     "reason": "a value that is not digits is reported and None is used"},
    # ---- BLS (Python) ---------------------------------------------------------------------------
    {"models": ["inflight_batcher_llm/tensorrt_llm_bls"], "key": "tensorrt_llm_model_name", "file": "1/model.py",
     "pattern": r"default_tensorrt_llm_model_name = 'tensorrt_llm'", "outcome": "ignored", "type": "model name",
     "default": "tensorrt_llm", "reason": "get_valid_param_value() treats a value starting with '${' (or \"\") as unset and uses 'tensorrt_llm'"},
    {"models": ["inflight_batcher_llm/tensorrt_llm_bls"], "key": "tensorrt_llm_model_name", "file": "1/model.py",
     "pattern": r"self\.llm_model_name = params\[\"tensorrt_llm_model_name\"\]", "outcome": "request_error", "type": "model name",
     "default": "tensorrt_llm (only when the key is absent)",
     "reason": "model.py uses the string as given: every request is sent to a model named '${tensorrt_llm_model_name}', which does not exist"},
    {"models": ["inflight_batcher_llm/tensorrt_llm_bls"], "key": "tensorrt_llm_draft_model_name", "file": "1/model.py",
     "pattern": r"draft_llm_model_name = get_valid_param_value", "outcome": "ignored", "type": "model name", "default": "None (no draft model)",
     "reason": "get_valid_param_value() treats a value starting with '${' as unset"},
    {"models": ["inflight_batcher_llm/tensorrt_llm_bls"], "key": "tensorrt_llm_draft_model_name", "file": "1/model.py",
     "pattern": r"\"tensorrt_llm_draft_model_name\"\]\[\"string_value\"\]", "outcome": "ignored", "type": "model name", "default": None,
     "condition": "used only by requests that ask for speculative decoding (num_draft_tokens > 0): those fail",
     "reason": "model.py keeps the string as given and calls that model only for speculative decoding"},
    {"models": ["inflight_batcher_llm/tensorrt_llm_bls"], "key": "multimodal_encoders_name", "file": "1/model.py",
     "pattern": r"multimodal_encoders_name = get_valid_param_value", "outcome": "ignored", "type": "model name", "default": "None (not multimodal)",
     "reason": "get_valid_param_value() treats a value starting with '${' as unset"},
    {"models": ["inflight_batcher_llm/tensorrt_llm_bls"], "key": "accumulate_tokens", "file": "1/model.py",
     "pattern": r"accumulate_tokens_str\.lower\(\) in", "outcome": "ignored", "type": "bool", "default": "False",
     "reason": "anything but true/yes/1/t (the literal placeholder included) reads as False"},
    # ---- whisper / disaggregated / multimodal (Python) ------------------------------------------
    {"models": ["whisper/whisper_bls"], "key": "n_mels", "file": "1/model.py", "pattern": r"n_mels = int\(parameters\[\"n_mels\"\]\)",
     "outcome": "load_error", "type": "int", "default": None, "reason": "model.py calls int() on it when the model loads: ValueError"},
    {"models": ["whisper/whisper_bls"], "key": "zero_pad", "file": "1/model.py", "pattern": r"parameters\[\"zero_pad\"\] == \"true\"",
     "outcome": "ignored", "type": "bool", "default": "False", "reason": "anything but 'true' reads as False"},
    {"models": ["whisper/whisper_bls"], "key": "engine_dir", "file": "1/model.py", "pattern": r"for key, value in parameters\.items\(\)",
     "outcome": "ignored", "type": "path", "default": None, "reason": "whisper_bls/1/model.py reads n_mels and zero_pad only; this key is not read"},
    {"models": ["disaggregated_serving/disaggregated_serving_bls"], "key": "context_model_name", "file": "1/model.py",
     "pattern": r"self\.context_model_name = get_parameter", "outcome": "request_error", "type": "model name", "default": None,
     "reason": "model.py sends every request's context phase to the model of this name; '${context_model_name}' does not exist"},
    {"models": ["disaggregated_serving/disaggregated_serving_bls"], "key": "generation_model_name", "file": "1/model.py",
     "pattern": r"self\.generation_model_name = get_parameter", "outcome": "request_error", "type": "model name", "default": None,
     "reason": "model.py sends every request's generation phase to the model of this name; '${generation_model_name}' does not exist"},
    {"models": ["multimodal/multimodal_encoders"], "key": "multimodal_model_path", "file": "1/model.py",
     "pattern": r"visual_config_path = os\.path\.join\(multimodal_model_path", "outcome": "load_error", "type": "path", "default": None,
     "reason": "model.py opens <multimodal_model_path>/config.json and model.engine when the model loads"},
    {"models": ["multimodal/multimodal_encoders"], "key": "visual_model_path", "file": "1/model.py",
     "pattern": r"os\.path\.join\(visual_model_path", "outcome": "load_error", "type": "path", "default": None,
     "reason": "model.py opens <visual_model_path>/model.engine and config.json when the model loads"},
    {"models": ["multimodal/multimodal_encoders"], "key": "hf_model_path", "file": "1/model.py",
     "pattern": r"!= \"\$\{hf_model_path\}\", \"Need to provide hf_model_path", "outcome": "ignored", "type": "path", "default": None,
     "condition": "needed for LLaVA-OneVision, mllama and Qwen2-VL: the load fails with 'Need to provide hf_model_path'",
     "reason": "model.py asserts it is not the literal placeholder only for those model types"},
    {"models": ["gpt/tensorrt_llm"], "key": "engine_dir", "file": "1/model.py", "pattern": r"\['parameters'\]\['engine_dir'\]",
     "outcome": "load_error", "type": "path", "default": None, "reason": "the Python GPT model loads its engine from this directory when it loads"},
    # ---- tensorrt_llm (C++ backend): string parameters ------------------------------------------
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "gpt_model_type", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"GetParameter<std::string>\(\"gpt_model_type\"\)", "outcome": "load_error", "type": "enum(V1|inflight_batching|inflight_fused_batching)",
     "default": None, "reason": "the backend accepts only V1/v1, inflight_batching or inflight_fused_batching and throws otherwise"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "gpt_model_path", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"Both encoder and decoder model paths are empty", "outcome": "load_error", "type": "path", "default": None,
     "condition": "unless encoder_model_path names an encoder-only engine",
     "reason": "a path that does not exist is taken as 'not specified'; with no encoder path either the load fails: 'Both encoder and decoder model paths are empty'"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "gpt_model_path", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"mModelPath = model_state_->GetParameter<std::string>\(\"gpt_model_path\"\)", "outcome": "load_error", "type": "path", "default": None,
     "reason": "the backend reads <gpt_model_path>/config.json when the model loads"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "encoder_model_path", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"encoder_model_path is not specified, will be left empty", "outcome": "ignored", "type": "path", "default": "\"\" (decoder-only)",
     "reason": "a path that does not exist is taken as 'not specified'"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "tokenizer_dir", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"tokenizerDir != \"\$\{tokenizer_dir\}\"", "outcome": "ignored", "type": "path", "default": None,
     "reason": "the C++ backend does not use tokenizer_dir (it logs that it is ignored unless it is empty or the literal placeholder)",
     "value_used": False},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "guided_decoding_backend", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"guidedDecodingBackendStr == \"\$\{guided_decoding_backend\}\"", "outcome": "ignored", "type": "enum(xgrammar)", "default": "no guided decoding",
     "reason": "the backend compares with the literal placeholder and turns guided decoding off"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "xgrammar_tokenizer_info_path", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"tokenizerInfoPath == \"\$\{xgrammar_tokenizer_info_path\}\"", "outcome": "ignored", "type": "path", "default": "no guided decoding",
     "reason": "the backend compares with the literal placeholder and turns guided decoding off"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "batch_scheduler_policy", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"batch_scheduler_policy parameter was not found or is invalid", "outcome": "ignored", "type": "enum(max_utilization|guaranteed_no_evict)",
     "default": "guaranteed_no_evict", "reason": "an unknown value is logged as a warning and the default policy is used"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "decoding_mode", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"decoding_mode parameter is invalid or not specified", "outcome": "ignored", "type": "enum", "default": "chosen by TensorRT-LLM",
     "reason": "an unknown value is logged as a warning and no decoding mode is set"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "gpu_device_ids", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"gpu_device_ids is not specified, will be automatically set", "outcome": "ignored", "type": "int list", "default": "all visible GPUs",
     "reason": "a value that is not a list of integers fails to convert inside try and the backend logs 'not specified'"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "participant_ids", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"GetParameter<std::string>\(\"participant_ids\"\)", "outcome": "ignored", "type": "int list", "default": "none (orchestrator off)",
     "reason": "a value that is not a list of integers fails to convert inside try and is skipped"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "lora_prefetch_dir", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"loraPrefetchDir = model_state_->GetParameter<std::string>", "outcome": "unknown", "type": "path", "default": None,
     "reason": "the string is passed on to TensorRT-LLM's PeftCacheConfig as given; what TensorRT-LLM does with a missing folder is not in this repository"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "medusa_choices", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"GetParameter<executor::MedusaChoices>\(\"medusa_choices\"\)", "outcome": "ignored", "type": "int list of lists", "default": "none",
     "reason": "the conversion fails inside try and the parameter is treated as not given"},
    {"models": ["inflight_batcher_llm/tensorrt_llm"], "key": "eagle_choices", "file": "inflight_batcher_llm/src/*.cc",
     "pattern": r"GetParameter<executor::EagleChoices>\(\"eagle_choices\"\)", "outcome": "ignored", "type": "int list of lists", "default": "none",
     "reason": "the conversion fails inside try and the parameter is treated as not given"},
]

NUMERIC = {"int32_t": "int", "int": "int", "uint32_t": "int", "int64_t": "int", "uint64_t": "int", "size_t": "int",
           "SizeType32": "int", "SizeType": "int", "executor::SizeType32": "int", "float": "float", "bool": "bool", "std::vector<int32_t>": "int list",
           "std::vector<std::vector<int32_t>>": "int list of lists"}


def git(gd: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", gd, *args], capture_output=True, text=True, check=True).stdout


def show(gd: str, tag: str, path: str) -> str | None:
    p = subprocess.run(["git", "--git-dir", gd, "show", f"{tag}:{path}"], capture_output=True)
    return p.stdout.decode("utf-8", "surrogateescape") if p.returncode == 0 else None


def ls(gd: str, tag: str, under: str) -> list[str]:
    return git(gd, "ls-tree", "-r", "--name-only", tag, under).split()


# ------------------------------------------------------------------ templates
def scan_template(text: str) -> tuple[list[dict], dict]:
    """Placeholders with their context, and the fingerprint of the template."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from trtdiag.parsers import pbtxt

    res = pbtxt.parse_config(text)
    rows = []
    for p in res["placeholders"]:
        row = {"placeholder": p["name"], "line": p["line"], "col": p["col"], "in_string": p["in_string"]}
        if p["in_string"] and p.get("param"):
            row["param"] = p["param"]
        elif p["in_string"]:
            line = text.splitlines()[p["line"] - 1]
            m = re.match(r"\s*([A-Za-z_]+)\s*:", line)
            row["field"] = m.group(1) if m else None
        else:
            row["field"] = p["field"]
        rows.append(row)
    fp = {
        "sha256": hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest(),
        "name": res.get("name"),
        "backend": res.get("backend"),
        "platform": res.get("platform"),
        "parameters": sorted((res.get("parameters") or {}).keys()),
        "inputs": sorted(f"{t['name']}:{t['data_type']}" for t in res.get("inputs") or []),
        "outputs": sorted(f"{t['name']}:{t['data_type']}" for t in res.get("outputs") or []),
        "parse_error": res.get("parse_error"),
    }
    return rows, fp


# ------------------------------------------------------------------ fill_template.py
def harvest_fill_template(src: str) -> dict:
    """The defaults fill_template.py puts into sub_dict before the user's values, and its splitting."""
    tree = ast.parse(src)
    out: dict = {"inserted_defaults": [], "escape_split": False, "asserts_key_in_file": False, "argparse_defaults": {}}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "split":
            out["escape_split"] = True
        if isinstance(node, ast.Assert) and "template" in ast.unparse(node.test):
            out["asserts_key_in_file"] = True
            out["assert_line"] = node.lineno
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            names = [a.value for a in node.args if isinstance(a, ast.Constant)]
            for kw in node.keywords:
                if kw.arg == "default" and names:
                    out["argparse_defaults"][names[0].lstrip("-")] = ast.literal_eval(kw.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            tgt = node.targets[0]
            if isinstance(tgt, ast.Name) and tgt.id == "sub_dict" and isinstance(node.value, ast.Dict):
                for k, v in zip(node.value.keys, node.value.values):
                    out["inserted_defaults"].append({"key": ast.literal_eval(k), "value": str(ast.literal_eval(v)), "line": k.lineno})
            if (isinstance(tgt, ast.Subscript) and isinstance(tgt.value, ast.Name) and tgt.value.id == "sub_dict"
                    and isinstance(tgt.slice, ast.Constant)):
                key = tgt.slice.value
                if isinstance(node.value, ast.Name):  # sub_dict["participant_ids"] = participant_ids (argparse default)
                    val = out["argparse_defaults"].get(node.value.id)
                    out["inserted_defaults"].append({"key": key, "value": str(val), "line": node.lineno,
                                                     "from": f"--{node.value.id} (argparse default)"})
                elif isinstance(node.value, ast.Constant):
                    out["inserted_defaults"].append({"key": key, "value": str(node.value.value), "line": node.lineno})
    # text-mode open(): universal newlines on read, "\n" on write; encoding the locale's (UTF-8 here)
    out["reads_text_mode"] = bool(re.search(r"open\(file_path\)", src))
    return out


# ------------------------------------------------------------------ C++ reader
def cpp_sources(gd: str, tag: str) -> dict[str, list[str]]:
    return {f: (show(gd, tag, f) or "").splitlines() for f in ls(gd, tag, "inflight_batcher_llm/src") if f.endswith(".cc")}


def _strings_after(lines: list[str], start: int, n: int = 8) -> str | None:
    """The text of the first TLLM_LOG_* message within n lines after start."""
    for i in range(start, min(len(lines), start + n)):
        if "TLLM_LOG_" in lines[i] or "throw" in lines[i]:
            buf = " ".join(lines[i:i + 4])
            parts = re.findall(r'"((?:[^"\\]|\\.)*)"', buf.split(";")[0])
            if parts:
                return "".join(parts)
    return None


def cpp_reader(srcs: dict[str, list[str]], key: str) -> dict | None:
    """Where and how the C++ backend reads parameter `key`."""
    for f, lines in srcs.items():
        for i, line in enumerate(lines):
            m = re.search(r"GetParameter<(.+?)>\(\s*(\"" + re.escape(key) + r"\"|fieldName)\s*\)", line)
            if not m:
                continue
            if m.group(2) == "fieldName":
                prev = "\n".join(lines[max(0, i - 6):i])
                fm = re.findall(r"fieldName\s*=\s*\"([^\"]+)\"", prev)
                if not fm or fm[-1] != key:
                    continue
            typ = m.group(1)
            # guarded: a `try` opened before this line and its `catch` after it
            guarded = False
            for j in range(i - 1, max(-1, i - 12), -1):
                s = lines[j].strip()
                if s.startswith("catch") or s.startswith("}") and "catch" in s:
                    break
                if s == "try" or s.startswith("try ") or s.startswith("try{"):
                    guarded = True
                    break
            catch_line = None
            if guarded:
                for j in range(i + 1, min(len(lines), i + 60)):
                    if re.match(r"\s*(\}\s*)?catch\b", lines[j]):
                        catch_line = j
                        break
            default = None
            lhs = re.search(r"(\w+)\s*=\s*(?:model_state_->)?GetParameter", line)
            var = lhs.group(1) if lhs else None
            if var:
                for j in range(i - 1, max(-1, i - 40), -1):
                    dm = re.search(r"[\w:<>]+\s+" + re.escape(var) + r"\s*(?:=\s*(.+?);|\{(.*?)\};)", lines[j])
                    if dm:
                        default = (dm.group(1) or dm.group(2) or "").strip()
                        default = {"std::nullopt": "not set (TensorRT-LLM's default)", "": "value-initialised"}.get(default, default)
                        break
            msg = _strings_after(lines, catch_line + 1) if catch_line is not None else None
            return {"file": f, "line": i + 1, "type": typ, "guarded": guarded, "default": default, "catch_message": msg,
                    "catch_line": catch_line + 1 if catch_line is not None else None}
    return None


# ------------------------------------------------------------------ verdicts
def rule_for(gd: str, tag: str, model: str, key: str, files_cache: dict) -> dict | None:
    for r in RULES:
        if model not in r["models"] or r["key"] != key:
            continue
        if r["file"].startswith("inflight_batcher_llm/"):
            paths = [f for f in ls(gd, tag, "inflight_batcher_llm/src") if f.endswith(".cc")]
        else:
            paths = [f"all_models/{model}/{r['file']}"]
        for p in paths:
            if p not in files_cache:
                files_cache[p] = show(gd, tag, p)
            text = files_cache[p]
            if not text:
                continue
            m = re.search(r["pattern"], text)
            if m:
                line = text.count("\n", 0, m.start()) + 1
                out = {k: r[k] for k in ("outcome", "type", "default", "reason", "value_used") if k in r}
                if r.get("condition"):
                    out["condition"] = r["condition"]
                out["reader"] = f"{p}:{line}"
                if r["file"].startswith("inflight_batcher_llm/"):
                    out["backend"] = "tensorrtllm"  # the C++ backend; a tensorrt_llm model on backend "python" reads its model.py
                return out
    return None


def verdict(gd: str, tag: str, model: str, row: dict, cpp: dict, files_cache: dict, backend_literal: str | None) -> dict:
    """What happens at load when this placeholder is left as it is."""
    if not row["in_string"]:
        f = row.get("field")
        return {"outcome": "parse_error", "type": SCHEMA_FIELD_TYPES.get(f, "schema field"), "default": None,
                "reason": f"outside quotes in {f}: Triton cannot parse the file (text-format ModelConfig)"}
    if "param" not in row:  # a string field of the schema: backend: "${triton_backend}"
        f = row.get("field")
        return {"outcome": "load_error", "type": "backend name" if f == "backend" else "schema string", "default": None,
                "values": ["tensorrtllm", "python"] if f == "backend" else None,
                "reason": f"Triton takes the literal as the {f}: no backend named '${{{row['placeholder']}}}' exists"}
    key = row["param"]
    r = rule_for(gd, tag, model, key, files_cache)
    if r:
        return r
    if model.endswith("/tensorrt_llm") and model.startswith("inflight_batcher_llm"):
        rd = cpp.get(key)
        if rd is None:
            return {"outcome": "ignored", "type": None, "default": None, "value_used": False, "backend": "tensorrtllm",
                    "reason": "the C++ backend of this tag does not read this key"}
        t = NUMERIC.get(rd["type"].strip(), None)
        where = f"{rd['file']}:{rd['line']}"
        if rd["guarded"] and t is not None:
            return {"outcome": "ignored", "backend": "tensorrtllm", "type": t, "default": rd["default"], "reader": where,
                    "message": rd["catch_message"],
                    "reason": f"GetParameter<{rd['type']}> converts inside try; the literal placeholder fails to convert and the default applies"}
        if not rd["guarded"] and t is not None:
            return {"outcome": "load_error", "type": t, "default": None, "reader": where,
                    "reason": f"GetParameter<{rd['type']}> outside try: the conversion of the literal placeholder throws when the model loads"}
        return {"outcome": "unknown", "type": rd["type"], "default": rd["default"], "reader": where,
                "reason": "string parameter without a rule: read the source cited"}
    return {"outcome": "unknown", "type": None, "default": None, "reason": "no rule for this Python model parameter"}


def harvest(gd: str, tags: list[str]) -> dict:
    out: dict = {
        "schema": 1,
        "generated_by": "tools/harvest_backend_templates.py",
        "source": REPO,
        "outcomes": {
            "parse_error": "Triton cannot parse the file: the model (and every ensemble using it) fails to load",
            "load_error": "the file parses; the model fails when it loads",
            "request_error": "the model loads; requests that reach the value fail",
            "ignored": "the backend treats the literal placeholder as not given and applies its default",
            "unknown": "the source read does not say",
        },
        "releases": {},
        # the rules for the Python models, so that a repository's own model.py can be read the same way
        "reader_rules": [dict({k: r[k] for k in ("models", "key", "pattern", "outcome", "type", "default", "reason") if k in r},
                              **({"condition": r["condition"]} if r.get("condition") else {}))
                         for r in RULES if r["file"] == "1/model.py"],
    }
    for tag in tags:
        commit = git(gd, "rev-parse", f"{tag}^{{commit}}").strip()
        ft_src = show(gd, tag, "tools/fill_template.py") or ""
        ft = harvest_fill_template(ft_src)
        ft["file"] = "tools/fill_template.py"
        ft["sha256"] = hashlib.sha256(ft_src.encode()).hexdigest()
        srcs = cpp_sources(gd, tag)
        files_cache: dict = {}
        models: dict = {}
        keys = set()
        for f in ls(gd, tag, "all_models"):
            if not f.endswith("/config.pbtxt"):
                continue
            model = "/".join(f.split("/")[1:3])
            text = show(gd, tag, f)
            rows, fp = scan_template(text)
            keys.update(r.get("param") for r in rows if r.get("param"))
            models[model] = {"file": f, "fingerprint": fp, "placeholders": rows}
        cpp = {k: cpp_reader(srcs, k) for k in keys}
        for model, m in models.items():
            for row in m["placeholders"]:
                v = verdict(gd, tag, model, row, cpp, files_cache, m["fingerprint"]["backend"])
                row.update({k: v.get(k) for k in ("outcome", "type", "default", "reason") if k in v})
                for k in ("reader", "condition", "message", "values", "backend"):
                    if v.get(k):
                        row[k] = v[k]
                if v.get("value_used") is False:  # a real value given here is not used either
                    row["value_used"] = False
                ins = next((d for d in ft["inserted_defaults"] if d["key"] == row["placeholder"]), None)
                row["fill_template_default"] = ins["value"] if ins else None
                row["required"] = row["outcome"] in ("parse_error", "load_error", "request_error")
                row["tag"] = tag
                row["file"] = m["file"]
        out["releases"][tag] = {"commit": commit, "fill_template": ft, "models": models}
        print(f"{tag}: {sum(len(m['placeholders']) for m in models.values())} placeholders in {len(models)} templates", file=sys.stderr)
    return out


def dump(data: dict) -> str:
    """JSON with one placeholder row per line (reviewable diffs, a third of the indented size)."""
    def enc(o, depth=0, key=None):
        pad = " " * depth
        if key in ("placeholders", "reader_rules") or not isinstance(o, (dict, list)) or (isinstance(o, list) and all(not isinstance(x, (dict, list)) for x in o)):
            if key in ("placeholders", "reader_rules"):
                return "[\n" + ",\n".join(pad + " " + json.dumps(r, ensure_ascii=False) for r in o) + "\n" + pad + "]" if o else "[]"
            return json.dumps(o, ensure_ascii=False)
        if isinstance(o, list):
            return "[\n" + ",\n".join(pad + " " + enc(x, depth + 1) for x in o) + "\n" + pad + "]" if o else "[]"
        if not o:
            return "{}"
        return "{\n" + ",\n".join(pad + " " + json.dumps(k) + ": " + enc(v, depth + 1, k) for k, v in o.items()) + "\n" + pad + "}"
    return enc(data) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--git-dir", required=True, help="a clone of triton-inference-server/tensorrtllm_backend (bare is fine)")
    ap.add_argument("--out", default="trtdiag/data/backend_templates.json")
    ap.add_argument("--tags", default=",".join(TAGS))
    ap.add_argument("--later-fill-template", action="append", default=[], metavar="SOURCE=FILE",
                    help="a later fill_template.py read elsewhere (e.g. NVIDIA/TensorRT-LLM@COMMIT:triton_backend/tools/fill_template.py=saved.py)")
    a = ap.parse_args()
    data = harvest(a.git_dir, a.tags.split(","))
    later = {}
    for spec in a.later_fill_template:
        src, _, path = spec.rpartition("=")
        text = Path(path).read_text()
        info = harvest_fill_template(text)
        info["sha256"] = hashlib.sha256(text.encode()).hexdigest()
        later[src] = info
    if later:  # after tensorrtllm_backend v0.19.0 the backend lives in TensorRT-LLM's triton_backend/ (release tags not tied here)
        data["later_fill_template"] = later
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(dump(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
