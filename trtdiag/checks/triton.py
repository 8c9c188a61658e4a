"""Triton model repository checks (TRI0xx): the five config.pbtxt files of tensorrtllm_backend's
inflight_batcher_llm, filled, parseable and in agreement with the engine they serve.

Every check reads ``triton.repo`` (None: no repository given or found, the check does not apply)
and, where it compares with the engine, ``triton.engine``.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from ..model import error, info, ok, warning
from ..registry import check

AREA = "triton"


def _repo(facts) -> dict[str, Any] | None:
    return facts["triton.repo"]


def _engine(facts) -> dict[str, Any] | None:
    eng = facts.get("triton.engine")
    return eng if eng and eng.get("normalized") else None


def _rel(repo: dict[str, Any], path: str) -> str:
    try:
        return os.path.relpath(path, repo["root"])
    except ValueError:
        return path


def _loc(repo, m, line) -> str:
    return f"{m['config_path']}:{line}"


def _parsed(repo) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, m in repo["models"].items():
        if not m.get("parse_error"):
            yield name, m


def _truthy(v: str | None) -> bool | None:
    if v is None:
        return None
    s = v.strip().lower()
    if s in ("true", "1", "yes", "y", "t", "on"):
        return True
    if s in ("false", "0", "no", "n", "f", "off", ""):
        return False
    return None


def _int(v: str | None) -> int | None:
    try:
        return int(str(v).strip()) if v is not None and str(v).strip() else None
    except ValueError:
        return None


def _trtllm(repo) -> tuple[str, dict[str, Any]] | tuple[None, None]:
    n = repo.get("trtllm_model")
    if n and not repo["models"][n].get("parse_error"):
        return n, repo["models"][n]
    return None, None


def _trtllm_model(facts) -> tuple[dict[str, Any] | None, str | None, dict[str, Any] | None]:
    """(repository, name, model) of the tensorrtllm model that parsed; Nones when there is none."""
    repo = _repo(facts)
    if repo is None:
        return None, None, None
    name, m = _trtllm(repo)
    return repo, name, m


# ---------------------------------------------------------------- TRI001 placeholders
def required_placeholders(m: dict[str, Any]) -> list[dict[str, Any]]:
    """Placeholders that keep the model from loading or serving (see probes.triton.blocks_loading)."""
    from ..probes.triton import blocks_loading

    return [p for p in m.get("placeholders") or [] if blocks_loading(p)]


@check("TRI001", area=AREA, title="Model configs have no unfilled ${placeholders}", kb="triton-config-placeholder")
def unfilled_placeholders(facts):
    """Every ``${name}`` left in a model's config.pbtxt, with file:line:col.

    Why: the templates in tensorrtllm_backend's all_models/inflight_batcher_llm are filled with
    tools/fill_template.py; a placeholder left outside quotes (``max_batch_size:
    ${triton_max_batch_size}``) makes Triton fail to parse the file, and one left in a required
    parameter (gpt_model_path, gpt_model_type, tokenizer_dir, tensorrt_llm_model_name) makes the
    model fail to load or serve.  Placeholders left in optional parameters are read by the backend
    as "not specified" and its defaults apply (reported as info).

    Fix: ``trtdiag fix --apply --set name=value,…`` fills them the way fill_template.py would
    (values from the engine's config.json where they are knowable: triton_max_batch_size,
    max_beam_width, engine_dir with --engine-dir), with a reviewable diff and a backup.
    """
    repo = _repo(facts)
    if repo is None:
        return
    from ..fixes.fill_template import plan_fill

    any_found = False
    for name, m in repo["models"].items():
        phs = m.get("placeholders") or []
        if not phs:
            continue
        any_found = True
        required = required_placeholders(m)
        optional = [p for p in phs if p not in required]
        fix, plan = plan_fill(facts, repo, name)
        where = [f"{_rel(repo, m['config_path'])}:{p['line']}:{p['col']} ${{{p['name']}}}" for p in phs]
        ev: dict[str, Any] = {"file": m["config_path"], "placeholders": where}
        if plan.get("values"):
            ev["values to fill"] = plan["values"]
        if plan.get("unresolved"):
            ev["still without a value"] = plan["unresolved"]
        if plan.get("invalid"):
            ev["filled file would not parse"] = plan["invalid"]
        if plan.get("conflicts"):
            ev["conflict"] = plan["conflicts"]
        names = sorted({p["name"] for p in required})
        unresolved = plan.get("unresolved") or []
        todo = [n for n in unresolved if n in names] or unresolved
        import shlex

        cmd = "trtdiag fix --apply --model-repo " + shlex.quote(repo["root"])
        for opt in ("engine_dir", "tokenizer_dir"):
            if facts.opt(opt):
                cmd += f" --{opt.replace('_', '-')} {shlex.quote(str(facts.opt(opt)))}"
        if required:
            if todo:
                cmd += " --set " + ",".join(f"{n}=…" for n in todo)
            msg = (f"{_rel(repo, m['config_path'])} still holds {len(phs)} template placeholder(s); "
                   f"{', '.join('${' + n + '}' for n in names)} stop{'s' if len(names) == 1 else ''} model '{name}' from loading: "
                   + ("Triton cannot parse a ${…} where a number or true/false belongs" if any(not p["in_string"] for p in required)
                      else "Triton or the backend needs a real value there")
                   + f". Fill them: {cmd}")
            yield error(f"{name}/config.pbtxt: {len(phs)} unfilled placeholder(s), first at line {phs[0]['line']}", msg, evidence=ev, fix=fix)
        else:
            if sorted(ev.get("still without a value") or []) == sorted({p["name"] for p in optional}):
                ev.pop("still without a value")  # the same names as the placeholders listed
            msg = (f"{_rel(repo, m['config_path'])} leaves {len(optional)} optional parameter(s) as placeholders "
                   f"({', '.join(sorted({'${' + p['name'] + '}' for p in optional}))}); the backend reads them as "
                   f"'not specified' and uses its defaults. To choose a value yourself: {cmd} --set NAME=VALUE")
            yield info(f"{name}/config.pbtxt: {len(optional)} optional parameter(s) left unfilled", msg, evidence=ev, fix=fix)
    if not any_found:
        yield ok("No ${placeholders} left in the model configs", repository=repo["root"], models=sorted(repo["models"]))
        return
    # --set keys that fill nothing: usually a typo (tokenizer_path for tokenizer_dir)
    left = sorted({p["name"] for m in repo["models"].values() for p in m.get("placeholders") or []})
    for key in sorted(k for k in (facts.opt("set") or {}) if not k.startswith("__") and k not in left):
        import difflib

        close = difflib.get_close_matches(key, left, n=1)
        yield warning(f"--set {key}: no ${{{key}}} in any config.pbtxt",
                      f"No model config of {repo['root']} holds ${{{key}}}, so --set {key}=… fills nothing"
                      + (f"; did you mean {close[0]}?" if close else ".") + " Placeholders left: " + ", ".join(left) + ".",
                      evidence={"key": key, "placeholders left": left})


# ---------------------------------------------------------------- TRI002 parse errors
@check("TRI002", area=AREA, title="Model configs parse with Triton's ModelConfig schema", kb="triton-config-parse-error")
def parse_errors(facts):
    """Each config.pbtxt parsed with Triton's own schema (inference.ModelConfig from tritonclient,
    google.protobuf.text_format), placeholders aside.

    Why: tritonserver refuses a model whose config does not parse ("failed to load model …
    Error parsing text-format inference.ModelConfig: LINE:COL: …"); an unknown field, a misspelt
    enum (TYPE_INT23) or an unbalanced brace stops that model and every ensemble that uses it.

    Fix: edit the file at the line shown.
    """
    repo = _repo(facts)
    if repo is None:
        return
    bad = 0
    for name, m in repo["models"].items():
        if m.get("read_error"):
            bad += 1
            yield error(f"{name}/config.pbtxt cannot be read", m["read_error"], evidence={"file": m["config_path"]})
        elif m.get("parse_error"):
            bad += 1
            line = m.get("parse_error_line")
            yield error(
                f"{name}/config.pbtxt does not parse (line {line})",
                f"{m['config_path']}:{m['parse_error']}. tritonserver will refuse to load model '{name}' "
                "(Error parsing text-format inference.ModelConfig). Edit the file at that line.",
                evidence={"file": m["config_path"], "line": line, "error": m["parse_error"]},
            )
    if not bad:
        held = any(m.get("placeholders") for m in repo["models"].values())
        yield ok("Every config.pbtxt parses with Triton's ModelConfig schema" + (" (placeholders aside: TRI001)" if held else ""), models=sorted(repo["models"]))


# ---------------------------------------------------------------- TRI003 engine dir
@check("TRI003", area=AREA, title="gpt_model_path names a directory that holds the engine", kb="triton-engine-dir-missing")
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


# ---------------------------------------------------------------- TRI004 tokenizer dir
def _tokenizer_problem(pi: dict[str, Any]) -> str | None:
    from ..probes.triton import TOKENIZER_FILES

    if not pi.get("exists"):
        return "does not exist"
    if not pi.get("is_dir"):
        return "is not a directory"
    if pi.get("error"):
        return f"cannot be read ({pi['error']})"
    if not set(pi.get("entries") or []) & set(TOKENIZER_FILES):
        return "holds no tokenizer files (" + ", ".join(TOKENIZER_FILES[:4]) + ", …)"
    return None


@check("TRI004", area=AREA, title="tokenizer_dir holds a tokenizer", kb="tokenizer-dir-missing")
def tokenizer_dir(facts):
    """The preprocessing and postprocessing models' ``tokenizer_dir`` exists and holds tokenizer
    files (tokenizer.json, tokenizer.model, tokenizer_config.json, vocab files).

    Why: their model.py calls AutoTokenizer.from_pretrained(tokenizer_dir) when the model loads;
    a wrong path fails with "OSError: Can't load tokenizer for '…'" (or "… is not a local folder
    and is not a valid model identifier"), and the ensemble cannot load.

    An engine directory given as tokenizer_dir is left to TOK002 when it runs (it names that
    mistake); TOK001 leaves the directories of config.pbtxt files to this check.

    Fix: set tokenizer_dir to the Hugging Face model folder the engine was converted from
    (``trtdiag fix --apply --set tokenizer_dir=DIR`` on a template).
    """
    repo = _repo(facts)
    if repo is None:
        return
    seen = 0
    for name, m in _parsed(repo):
        params = m.get("parameters") or {}
        if "tokenizer_dir" not in params or params["tokenizer_dir"] is None:
            continue
        seen += 1
        path = params["tokenizer_dir"]
        pi = (m.get("paths") or {}).get("tokenizer_dir") or {}
        prob = _tokenizer_problem(pi)
        ev = {"file": m["config_path"], "tokenizer_dir": path}
        if (prob and prob.startswith("holds no tokenizer files") and "TOK002" in (getattr(facts, "selected_checks", None) or ())
                and any(str(e).endswith((".engine", ".plan")) for e in pi.get("entries") or [])):
            continue  # an engine directory given as tokenizer_dir: TOK002 names that mistake
        if prob is None:
            yield ok(f"{name}: tokenizer_dir holds a tokenizer", **ev)
            continue
        if prob == "does not exist" and not os.path.isabs(path) and path.count("/") == 1 and not path.startswith("."):
            yield warning(f"{name}: tokenizer_dir {path} is a Hugging Face Hub id, not a local folder",
                          f"model.py will download the tokenizer from the Hub when the model loads; that needs network access (and a token for gated models) inside the server. "
                          f"Download it once and point tokenizer_dir at the folder.", evidence=ev)
            continue
        yield error(f"{name}: tokenizer_dir {path} {prob}",
                    f"Model '{name}' loads its tokenizer from {path} ({m['config_path']}), which {prob}; model.py's AutoTokenizer.from_pretrained fails and the model does not load. "
                    "Set tokenizer_dir to the Hugging Face model folder the engine was built from.", evidence=ev)


# ---------------------------------------------------------------- TRI005 max_batch_size vs engine
@check("TRI005", area=AREA, title="max_batch_size within the engine's", kb="triton-max-batch-size-exceeds-engine")
def max_batch_size(facts):
    """The tensorrt_llm model's max_batch_size is not above the engine's (build_config.max_batch_size).

    Why: Triton hands the backend batches as large as the config allows; the engine's
    optimisation profiles stop at the batch size it was built with, so larger batches fail at run
    time or are never used.  The ensemble and the Python models must then not allow more either.

    Fix: align max_batch_size (and dynamic_batching.preferred_batch_size) of every model with the
    engine's — a diff ``trtdiag fix --apply`` applies with a backup — or rebuild the engine with a
    larger --max_batch_size.
    """
    repo = _repo(facts)
    eng = _engine(facts)
    if repo is None or eng is None:
        return
    name, m = _trtllm(repo)
    emb = eng["normalized"].get("max_batch_size")
    if m is None or emb is None or m.get("max_batch_size") is None:
        return
    mb = m["max_batch_size"]
    ev = {"file": m["config_path"], "max_batch_size": mb, "engine max_batch_size": emb, "engine": eng.get("config_path") or eng.get("path")}
    if mb > emb:
        from ..fixes.batch_size import plan_align
        from ..fixes.fill_template import plan_fill

        filling = {n for n in repo["models"] if repo["models"][n].get("placeholders") and plan_fill(facts, repo, n)[0] is not None}
        fix = plan_align(repo, emb, skip=filling)
        yield error(f"{name}: max_batch_size {mb} exceeds the engine's {emb}",
                    f"{m['config_path']} allows batches of {mb}, but the engine ({ev['engine']}) was built with max_batch_size {emb}. "
                    f"Set max_batch_size to {emb} in every model of the repository (trtdiag fix --apply does it), or rebuild the engine with --max_batch_size {mb}.",
                    evidence=ev, fix=fix)
    else:
        yield ok(f"{name}: max_batch_size {mb} ≤ engine's {emb}", **ev)


# ---------------------------------------------------------------- TRI006 ensemble
@check("TRI006", area=AREA, title="Ensemble steps name real models, tensors and batch sizes", kb="triton-ensemble-step-mismatch")
def ensemble_steps(facts):
    """Each ensemble step names a model of the repository, maps only inputs and outputs that model
    has, maps every required input, and no step allows a smaller max_batch_size than the ensemble;
    the BLS model's tensorrt_llm_model_name names a model of the repository.

    Why: tritonserver validates ensembles when it loads them and refuses with "ensemble E
    contains models that are not available", "… is mapping to non-existing input …", "ensemble E
    allows maximum batch size N, but it contains model M which only allows maximum batch size to
    be K"; a BLS model pointing at a missing model fails every request.

    Fix: make the names agree (rename the model folder or the step's model_name) and give the
    ensemble a max_batch_size no larger than its steps'.
    """
    repo = _repo(facts)
    if repo is None:
        return
    models = repo["models"]
    for ename, e in _parsed(repo):
        steps = e.get("ensemble_steps") or []
        if not steps:
            continue
        problems = 0
        for st in steps:
            sname = st["model_name"]
            ev = {"file": e["config_path"], "step": sname}
            if sname not in models:
                problems += 1
                hint = (f" The folder {sname}/ is there but holds no config.pbtxt: copy it from the templates."
                        if sname in (repo.get("folders_without_config") or []) else f" Models present: {', '.join(sorted(models))}.")
                yield error(f"ensemble {ename}: step model '{sname}' is not in the repository",
                            f"tritonserver: \"ensemble {ename} contains models that are not available: {sname}\".{hint}",
                            evidence=dict(ev, models=sorted(models)))
                continue
            sm = models[sname]
            if sm.get("parse_error"):
                continue
            ins = {t["name"]: t for t in sm.get("inputs") or []}
            outs = {t["name"] for t in sm.get("outputs") or []}
            for k, v in st["input_map"].items():
                if k not in ins:
                    problems += 1
                    yield error(f"ensemble {ename}: step {sname} has no input '{k}'",
                                f"tritonserver: \"in ensemble {ename}, ensemble tensor {v} is mapping to non-existing input {k} in model {sname}\". "
                                f"Inputs of {sname}: {', '.join(sorted(ins))}.", evidence=ev)
            mapped = set(st["input_map"])
            for iname, t in ins.items():
                if iname not in mapped and not t.get("optional"):
                    problems += 1
                    yield error(f"ensemble {ename}: required input '{iname}' of {sname} is not mapped",
                                f"tritonserver: \"in ensemble {ename}, input {iname} in model {sname} is not mapped to any ensemble tensors\". "
                                f"Add input_map {{ key: \"{iname}\" value: \"…\" }} to the step, or mark the input optional in {sname}/config.pbtxt.", evidence=ev)
            for k, v in st["output_map"].items():
                if k not in outs:
                    problems += 1
                    yield error(f"ensemble {ename}: step {sname} has no output '{k}'",
                                f"tritonserver: \"in ensemble {ename}, ensemble tensor {v} is mapped from non-existing output {k} in model {sname}\". "
                                f"Outputs of {sname}: {', '.join(sorted(outs))}.", evidence=ev)
            emb, smb = e.get("max_batch_size"), sm.get("max_batch_size")
            if emb is not None and smb is not None and smb != 0 and smb < emb:
                problems += 1
                yield error(f"ensemble {ename}: max_batch_size {emb} > {sname}'s {smb}",
                            f"tritonserver: \"ensemble {ename} allows maximum batch size {emb}, but it contains model {sname} which only allows maximum batch size to be {smb}\". "
                            f"Set max_batch_size: {smb} in {e['config_path']} (or raise {sname}'s).", evidence=dict(ev, ensemble_max_batch_size=emb, step_max_batch_size=smb))
        if not problems:
            yield ok(f"ensemble '{ename}': {len(steps)} steps agree with their models", file=e["config_path"])
    for bname, b in _parsed(repo):
        target = (b.get("parameters") or {}).get("tensorrt_llm_model_name")
        if target and target not in models:
            yield error(f"{bname}: tensorrt_llm_model_name '{target}' is not in the repository",
                        f"The BLS model sends every request to model '{target}' ({b['config_path']}), which the repository does not hold; requests fail. "
                        f"Set it to {repo.get('trtllm_model') or 'the tensorrtllm model'}.", evidence={"file": b["config_path"], "tensorrt_llm_model_name": target, "models": sorted(models)})


# ---------------------------------------------------------------- TRI007 decoupled
@check("TRI007", area=AREA, title="Decoupled (streaming) mode agrees between models", kb="triton-decoupled-mismatch")
def decoupled(facts):
    """Streaming needs decoupled mode all the way down: the BLS model and the tensorrt_llm model
    it calls must agree, and accumulate_tokens only means something on a decoupled BLS.

    Why: a streaming request (``streaming: true``) reaching a tensorrt_llm model deployed with
    ``decoupled: false`` fails with "Streaming is only supported if model is deployed using
    decoupled mode."; a decoupled model cannot be called through HTTP /infer ("HTTP end point
    doesn't support models with decoupled transaction policy").

    Fix: set ``model_transaction_policy { decoupled: true }`` in tensorrt_llm (and the BLS) to
    stream, or false in both for one response per request (fill_template: decoupled_mode).
    """
    repo = _repo(facts)
    if repo is None:
        return
    name, m = _trtllm(repo)
    if m is None or m.get("decoupled") is None:
        return
    ev: dict[str, Any] = {name: m["decoupled"]}
    for bname, b in _parsed(repo):
        params = b.get("parameters") or {}
        if "tensorrt_llm_model_name" not in params or bname == name:
            continue
        ev[bname] = b.get("decoupled")
        if b.get("decoupled") and not m["decoupled"]:
            yield error(f"{bname} is decoupled (streams) but {name} is not",
                        f"{b['config_path']} sets decoupled: true, {m['config_path']} decoupled: false. Streaming requests through {bname} reach {name}, "
                        f"which answers \"Streaming is only supported if model is deployed using decoupled mode.\" Set decoupled: true in {m['config_path']} "
                        f"(or false in both for non-streaming serving).", evidence=dict(ev, files=[b["config_path"], m["config_path"]]))
            return
        if _truthy(params.get("accumulate_tokens")) and b.get("decoupled") is False:
            yield warning(f"{bname}: accumulate_tokens is on but the model is not decoupled",
                          f"accumulate_tokens only changes streamed responses; with decoupled: false in {b['config_path']} there is no stream. "
                          "Set decoupled: true in it and in the tensorrt_llm model to stream, or accumulate_tokens to false.", evidence=dict(ev, file=b["config_path"]))
            return
    if m["decoupled"]:
        yield info(f"{name} is decoupled: clients must stream",
                   f"With decoupled: true ({m['config_path']}) and in every ensemble that contains it, non-streaming calls are refused: HTTP /infer answers "
                   "\"HTTP end point doesn't support models with decoupled transaction policy\" and gRPC ModelInfer \"ModelInfer RPC doesn't support models with decoupled transaction policy\". "
                   "Use gRPC streaming (async_stream_infer) or HTTP /v2/models/<model>/generate_stream — or set decoupled: false (decoupled_mode=false) for one response per request.",
                   evidence=ev)
    else:
        yield ok(f"{name} is not decoupled: one response per request (streaming requests are refused)", **ev)


# ---------------------------------------------------------------- TRI008 inflight batching
INFLIGHT = ("inflight_batching", "inflight_fused_batching")
ENGINE_FEATURES = (
    ("paged_kv_cache", "paged KV cache", "--paged_kv_cache enable"),
    ("remove_input_padding", "packed input (remove_input_padding)", "--remove_input_padding enable"),
    ("gpt_attention_plugin", "the GPT attention plugin", "--gpt_attention_plugin <dtype>"),
)


@check("TRI008", area=AREA, title="Inflight batching has the engine features it needs", kb="triton-inflight-needs-engine-features")
def inflight_features(facts):
    """``gpt_model_type`` (fill_template: batching_strategy) ``inflight_fused_batching`` or
    ``inflight_batching`` needs an engine built with paged KV cache, packed input
    (remove_input_padding) and the GPT attention plugin; anything else must be one of V1,
    inflight_batching, inflight_fused_batching.

    Why: TensorRT-LLM's GptModelConfig::supportsInflightBatching() is
    usePackedInput && usePagedKvCache && useGptAttentionPlugin; without them the tensorrt_llm model
    fails to load.

    Fix: rebuild with trtllm-build --gpt_attention_plugin <dtype> --remove_input_padding enable
    --paged_kv_cache enable, or serve with gpt_model_type V1 (static batching).
    """
    repo, name, m = _trtllm_model(facts)
    if m is None:
        return
    gmt = (m.get("parameters") or {}).get("gpt_model_type")
    if gmt is None:
        return
    ev: dict[str, Any] = {"file": m["config_path"], "gpt_model_type": gmt}
    if gmt not in ("V1",) + INFLIGHT:
        yield error(f"{name}: gpt_model_type '{gmt}' is not one the backend knows",
                    f"{m['config_path']} sets gpt_model_type to '{gmt}'; the tensorrtllm backend accepts V1, inflight_batching or inflight_fused_batching and refuses to load otherwise.",
                    evidence=ev)
        return
    eng = _engine(facts)
    if gmt not in INFLIGHT or eng is None:
        return
    n = eng["normalized"]
    ev["engine"] = eng.get("config_path") or eng.get("path")
    lacking = [(label, flag) for key, label, flag in ENGINE_FEATURES if n.get(key) is False]
    for key, _label, _flag in ENGINE_FEATURES:
        ev[f"engine {key}"] = n.get(key)
    if lacking:
        yield error(f"{name}: {gmt} needs " + " and ".join(l for l, _ in lacking) + ", which the engine lacks",
                    f"{m['config_path']} asks for {gmt}, which needs an engine built with paged KV cache, packed input and the GPT attention plugin; "
                    f"the engine ({ev['engine']}) was built without " + ", ".join(l for l, _ in lacking) + ". "
                    f"Rebuild with trtllm-build {' '.join(f for _, f in lacking)}, or set gpt_model_type to V1.",
                    evidence=ev)
    elif all(n.get(k) for k, _, _ in ENGINE_FEATURES):
        yield ok(f"{name}: engine supports {gmt}", **ev)


# ---------------------------------------------------------------- TRI009 parameters vs engine limits
def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None and v.strip() else None
    except ValueError:
        return None


@check("TRI009", area=AREA, title="KV-cache and beam parameters fit the engine", kb="kv-cache-config-invalid")
def engine_limits(facts):
    """The tensorrt_llm model's max_tokens_in_paged_kv_cache, max_attention_window_size,
    enable_kv_cache_reuse, kv_cache_free_gpu_mem_fraction and max_beam_width agree with the
    engine's lengths and features.

    Why: a KV cache smaller than one sequence of the engine's max_seq_len cannot hold the longest
    request; a window above max_seq_len is cut back; KV-cache reuse needs paged KV cache and paged
    context FMHA; a memory fraction outside (0, 1] or a beam width above the engine's makes the
    model fail to load.

    Fix: the values shown in each finding (or rebuild the engine with the lengths you need).
    """
    repo, name, m = _trtllm_model(facts)
    if m is None:
        return
    p = m.get("parameters") or {}
    f = m["config_path"]
    eng = _engine(facts)
    n = eng["normalized"] if eng else {}
    src = (eng.get("config_path") or eng.get("path")) if eng else None
    msl = n.get("max_seq_len")
    found = False
    frac_raw = p.get("kv_cache_free_gpu_mem_fraction")
    frac = _float(frac_raw)
    if frac_raw is not None and frac_raw.strip() and (frac is None or not 0 < frac <= 1):
        found = True
        yield error(f"{name}: kv_cache_free_gpu_mem_fraction {frac_raw!r} is not in (0, 1]",
                    f"{f} sets kv_cache_free_gpu_mem_fraction to {frac_raw!r}; it is the fraction of free GPU memory given to the KV cache after the engine loads. Use e.g. 0.9.",
                    evidence={"file": f, "kv_cache_free_gpu_mem_fraction": frac_raw})
    tok = _int(p.get("max_tokens_in_paged_kv_cache"))
    if tok is not None and eng:
        if n.get("paged_kv_cache") is False:
            found = True
            yield warning(f"{name}: max_tokens_in_paged_kv_cache set on an engine without paged KV cache",
                          f"{f} sets max_tokens_in_paged_kv_cache {tok}, but the engine ({src}) was built without paged KV cache; the setting is ignored.",
                          evidence={"file": f, "max_tokens_in_paged_kv_cache": tok, "engine paged_kv_cache": False})
        elif msl and tok < msl:
            found = True
            yield warning(f"{name}: KV cache of {tok} tokens is smaller than one {msl}-token sequence",
                          f"{f} caps the paged KV cache at {tok} tokens, but the engine ({src}) allows sequences of {msl} tokens (max_input_len + max_output_len); "
                          f"a request that long can never be scheduled. Raise max_tokens_in_paged_kv_cache to at least {msl} (× max_beam_width), or leave it unset and use kv_cache_free_gpu_mem_fraction.",
                          evidence={"file": f, "max_tokens_in_paged_kv_cache": tok, "engine max_seq_len": msl})
    win = _int(p.get("max_attention_window_size"))
    if win is not None and msl and win > msl:
        found = True
        yield warning(f"{name}: max_attention_window_size {win} exceeds the engine's max_seq_len {msl}",
                      f"{f} sets max_attention_window_size {win}; the engine ({src}) holds at most {msl} tokens per sequence and TensorRT-LLM cuts the window back to {msl}. Set it to {msl} or less, or leave it unset.",
                      evidence={"file": f, "max_attention_window_size": win, "engine max_seq_len": msl})
    if _truthy(p.get("enable_kv_cache_reuse")) and eng:
        lacking = [x for x, k in (("paged KV cache", "paged_kv_cache"), ("paged context FMHA", "use_paged_context_fmha")) if n.get(k) is False]
        if lacking:
            found = True
            yield error(f"{name}: enable_kv_cache_reuse needs " + " and ".join(lacking),
                        f"{f} turns on KV-cache reuse, which needs an engine built with paged KV cache and --use_paged_context_fmha enable; the engine ({src}) was built without "
                        + " and ".join(lacking) + ". Rebuild with them, or set enable_kv_cache_reuse to false.",
                        evidence={"file": f, "enable_kv_cache_reuse": p.get("enable_kv_cache_reuse"), "engine paged_kv_cache": n.get("paged_kv_cache"), "engine use_paged_context_fmha": n.get("use_paged_context_fmha")})
    bw = _int(p.get("max_beam_width"))
    ebw = n.get("max_beam_width")
    if bw is not None and ebw and bw > ebw:
        found = True
        yield error(f"{name}: max_beam_width {bw} exceeds the engine's {ebw}",
                    f"{f} sets max_beam_width {bw}; the engine ({src}) was built with max_beam_width {ebw}. Set it to {ebw} or rebuild with --max_beam_width {bw}.",
                    evidence={"file": f, "max_beam_width": bw, "engine max_beam_width": ebw})
    if not found and eng and any(p.get(k) is not None for k in ("max_tokens_in_paged_kv_cache", "max_attention_window_size", "enable_kv_cache_reuse", "max_beam_width")):
        yield ok(f"{name}: KV-cache and beam parameters fit the engine", file=f, engine_max_seq_len=msl)


# ---------------------------------------------------------------- TRI010 world size
@check("TRI010", area=AREA, title="World size matches the engine's tp × pp", kb="world-size-mismatch")
def world_size(facts):
    """The world size the server is launched with (--world-size, or what `exec` read from
    launch_triton_server.py --world_size / mpirun -n) equals the engine's tp_size × pp_size.

    Why: each rank loads rank<R>.engine; with fewer ranks the model waits forever or fails with
    "Assertion failed: mpiSize == tp * pp", with more some ranks have no engine.

    When MPI005 runs on the same engine (the repository's, or --engine-dir) it owns this question.

    Fix: launch with --world_size equal to tp × pp (python3 scripts/launch_triton_server.py
    --world_size N --model_repo …).
    """
    repo = _repo(facts)
    ws = facts.opt("world_size")
    eng = _engine(facts)
    if repo is None or ws is None or eng is None:
        return
    if "MPI005" in (getattr(facts, "selected_checks", None) or ()) and isinstance(facts.get("engine.info"), dict):
        return  # MPI005 compares the launch with the same engine (and mpirun -n, --world-size): one finding
    n = eng["normalized"]
    tp, pp = n.get("tp") or 1, n.get("pp") or 1
    ev = {"world_size": ws, "engine tp": tp, "engine pp": pp, "engine": eng.get("config_path") or eng.get("path")}
    if int(ws) != tp * pp:
        yield error(f"world size {ws} ≠ engine tp {tp} × pp {pp} = {tp * pp}",
                    f"The server is to be launched with {ws} rank(s), but the engine ({ev['engine']}) was built for {tp * pp} (tp {tp} × pp {pp}). "
                    f"Launch with: python3 scripts/launch_triton_server.py --world_size {tp * pp} --model_repo {repo['root']}",
                    evidence=ev)
    else:
        yield ok(f"world size {ws} = tp {tp} × pp {pp}", **ev)


# ---------------------------------------------------------------- TRI011 instances and queue delay
MAX_SANE_DELAY_US = 1_000_000


@check("TRI011", area=AREA, title="Instance counts and queue delays make sense", kb="triton-instance-config")
def instances(facts):
    """Instance groups have a count of at least 1; the tensorrt_llm model runs one instance under
    inflight batching; preferred batch sizes do not exceed max_batch_size; the dynamic batcher
    does not hold requests back for a second or more.

    Why: Triton refuses a count below 1 and a preferred batch size above max_batch_size; every
    extra tensorrt_llm instance loads the whole engine again (out of GPU memory) while inflight
    batching already batches inside one instance; max_queue_delay_microseconds is added to the
    latency of requests that wait for a batch.

    Fix: count: 1 for tensorrt_llm (KIND_CPU, as in the templates); a few preprocessing /
    postprocessing instances; max_queue_delay_microseconds in the hundreds, not millions.
    """
    repo = _repo(facts)
    if repo is None:
        return
    trt_name = repo.get("trtllm_model")
    problems = 0
    for name, m in _parsed(repo):
        f = m["config_path"]
        cnt = m.get("instance_count")
        if cnt is not None and m.get("instance_kinds") and cnt < 1:
            problems += 1
            yield error(f"{name}: instance_group count {cnt}",
                        f"{f} asks for {cnt} instances; tritonserver refuses an instance group with a count below 1. Set count: 1 (or more for the Python models).",
                        evidence={"file": f, "count": cnt})
        if name == trt_name:
            gmt = (m.get("parameters") or {}).get("gpt_model_type")
            if cnt is not None and cnt > 1 and gmt in INFLIGHT:
                problems += 1
                yield warning(f"{name}: {cnt} instances under {gmt}",
                              f"{f} runs {cnt} instances of the tensorrtllm model; each loads the whole engine and its KV cache again, while inflight batching already batches requests inside one. Set count: 1.",
                              evidence={"file": f, "count": cnt, "gpt_model_type": gmt})
            if "KIND_GPU" in (m.get("instance_kinds") or []):
                problems += 1
                yield warning(f"{name}: instance_group kind KIND_GPU",
                              f"{f} uses KIND_GPU, so Triton creates one tensorrt_llm instance per visible GPU, each loading the engine; the backend places the engine on GPUs itself. Use kind: KIND_CPU as in the templates.",
                              evidence={"file": f, "kinds": m.get("instance_kinds")})
        mb = m.get("max_batch_size")
        pref = m.get("preferred_batch_size") or []
        too_big = [x for x in pref if mb is not None and mb > 0 and x > mb]
        if too_big:
            problems += 1
            yield error(f"{name}: preferred_batch_size {too_big} above max_batch_size {mb}",
                        f"{f}: tritonserver refuses a dynamic_batching preferred_batch_size larger than max_batch_size ({mb}). Set preferred_batch_size: [ {mb} ] or drop it.",
                        evidence={"file": f, "preferred_batch_size": pref, "max_batch_size": mb})
        d = m.get("max_queue_delay_microseconds")
        if d is not None and d >= MAX_SANE_DELAY_US:
            problems += 1
            yield warning(f"{name}: max_queue_delay_microseconds {d} (= {d / 1e6:g} s)",
                          f"{f}: the dynamic batcher may hold each request up to {d / 1e6:g} s waiting for a fuller batch. Microseconds, not milliseconds: use a few hundred (e.g. 100) or 0 with inflight batching.",
                          evidence={"file": f, "max_queue_delay_microseconds": d})
    if not problems:
        yield ok("Instance counts and queue delays are sensible", models=sorted(repo["models"]))


# ---------------------------------------------------------------- TRI012 version folders
@check("TRI012", area=AREA, title="Each model has a version folder (and model.py for Python models)", kb="triton-model-version-missing")
def version_folders(facts):
    """Every model folder holds a numeric version folder (``1/``), and a Python-backend model's
    version folder holds ``model.py``.

    Why: tritonserver loads versions, not folders: without one it refuses the model with "at least
    one version must be available under the version policy of model 'ensemble'".  git does not keep
    empty folders, so ``ensemble/1`` and ``tensorrt_llm/1`` are easily lost when the templates are
    copied or committed; the Python models (preprocessing, postprocessing, tensorrt_llm_bls) need
    their ``1/model.py``.

    Fix: ``mkdir -p REPO/MODEL/1`` (for ensemble and tensorrt_llm), and copy ``1/model.py`` from
    tensorrtllm_backend's all_models/inflight_batcher_llm for the Python models.
    """
    repo = _repo(facts)
    if repo is None:
        return
    problems = 0
    for name, m in _parsed(repo):
        versions = m.get("versions")
        if versions is None:
            continue
        if not versions:
            problems += 1
            yield error(f"{name}: no version folder",
                        f"{m['path']} holds no numeric version folder; tritonserver refuses it with \"at least one version must be available under the version policy of model '{name}'\". "
                        f"Create it: mkdir -p {m['path']}/1", evidence={"model": m["path"]})
            continue
        if m.get("backend") == "python" and not m.get("model_py"):
            problems += 1
            yield error(f"{name}: no model.py in {'/'.join(versions[-1:])}/",
                        f"{name} uses the Python backend, which loads {m['path']}/{versions[-1]}/model.py; it is missing. "
                        f"Copy it from tensorrtllm_backend/all_models/inflight_batcher_llm/{name}/1/model.py (the same release as the templates).",
                        evidence={"model": m["path"], "versions": versions})
    if not problems:
        yield ok("Every model has a version folder", models=sorted(repo["models"]))
