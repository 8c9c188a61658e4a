"""Triton's and tensorrtllm_backend's own semantics, as pure functions over parsed configs.

Everything here mirrors a named place in the sources; the places (``repo@commit:path:line``) are
kept beside each function.  Inputs are the plain dicts of the ``triton.repo`` fact (one per model,
as :func:`trtdiag.parsers.pbtxt.parse_config` returns them), outputs are plain dicts and lists.

* :func:`placeholder_verdicts` / :func:`blocking_placeholders` — what an unfilled ``${…}`` does in
  the release the repository came from (the per-release table).
* :func:`fill_like_fill_template` / :func:`parse_substitutions` — byte for byte what that tag's
  ``tools/fill_template.py -i`` writes, its own inserted defaults included.
* :func:`validate_set_value` — whether a value for a placeholder would keep the file loadable.
* :func:`normalize_instance_groups`, :func:`validate_model_config` — Triton's normalisation
  (instance_group count and kind defaults, kinds given by number, preferred batch sizes) and the
  checks that follow it.
* :func:`validate_ensemble_scheduling`, :func:`validate_ensemble` — ``ensemble_utils.cc`` and the
  ensemble part of ``model_config_utils.cc``: steps, wiring, unused tensors, data types, shapes with
  batching, batch sizes, missing models and versions, cycles, decoupled propagation.
* :func:`bls_coherence` — BLS ↔ tensorrt_llm max_batch_size and decoupled agreement.

Sources read (the commits fetched):
  core     = triton-inference-server/core@73aad7c
  common   = triton-inference-server/common@83adf7c
  server   = triton-inference-server/server@e1db8a6
  backend  = triton-inference-server/tensorrtllm_backend@<tag>
"""

from __future__ import annotations

from string import Template
from typing import Any

from . import backend_table as bt

CORE = "triton-inference-server/core@73aad7c"
COMMON = "triton-inference-server/common@83adf7c"
SERVER = "triton-inference-server/server@e1db8a6"

KIND_NAMES = {0: "KIND_AUTO", 1: "KIND_GPU", 2: "KIND_CPU", 3: "KIND_MODEL"}  # model_config.proto ModelInstanceGroup.Kind
WILDCARD_DIM = -1  # common src/model_config.h


# ====================================================================== placeholders
def _generic_verdict(p: dict[str, Any]) -> dict[str, Any]:
    """No table row (a placeholder the user added, or no release detected): what the file's shape says."""
    if not p.get("in_string"):
        return {"outcome": "parse_error", "reason": f"outside quotes ({p.get('field')}): Triton cannot parse the file", "source": None}
    if p.get("param") is None:
        return {"outcome": "load_error", "reason": "a string field of the schema holding the literal ${…}", "source": None}
    return {"outcome": "unknown", "reason": "a parameter not in the release table", "source": None}


def match_reader_rules(model_py: str) -> dict[str, dict[str, Any]]:
    """The table's reader rules (``reader_rules``: the expressions the harvest used on each tag's
    Python models) applied to a repository's own ``model.py`` text: parameter key → {outcome,
    type, default, reason, condition, line, models}.  The first rule of a key that matches wins,
    as in the harvest.  Pure: the caller reads the file."""
    import re

    out: dict[str, dict[str, Any]] = {}
    for r in bt.table().get("reader_rules") or []:
        if r["key"] in out:
            continue
        m = re.search(r["pattern"], model_py)
        if m:
            out[r["key"]] = {k: r.get(k) for k in ("outcome", "type", "default", "reason", "condition", "models")}
            out[r["key"]]["line"] = model_py.count("\n", 0, m.start()) + 1
    return out


def placeholder_verdicts(model: dict[str, Any], template: str | None, tags: list[str]) -> list[dict[str, Any]]:
    """Each ``${…}`` of a parsed model with what leaving it does, per the table rows of ``tags``
    (the release candidates of :func:`trtdiag.derive.triton_release.detect_release`).

    Returns one dict per placeholder: ``name, line, col, param/field, outcome, required,
    condition, default, fill_template_default, reason, source`` (``repo@tag:file:line``), and
    ``outcomes`` (tag → outcome) when the candidate tags disagree; then ``outcome`` is the
    least severe of them (a placeholder is called blocking only when every candidate release
    says so)."""
    order = {"ignored": 0, "unknown": 1, "request_error": 2, "load_error": 3, "parse_error": 4}
    out = []
    for p in model.get("placeholders") or []:
        field = p.get("field")
        if p.get("in_string") and p.get("param") is None:
            field = field or "backend"
        per: dict[str, dict[str, Any]] = {}
        if template:
            for tag in tags:
                r = bt.row_for(tag, template, p["name"], p.get("param"), field if not p.get("in_string") or p.get("param") is None else None)
                if r is not None:
                    per[tag] = r
        base = {"name": p["name"], "line": p["line"], "col": p["col"], "in_string": p.get("in_string"),
                "param": p.get("param"), "field": p.get("field")}
        own = (model.get("reader_rules") or {}).get(p.get("param") or "") if p.get("in_string") else None
        if own and (template is None or template in (own.get("models") or [])):
            # the repository's own model.py says what it does with the value: that is what will run
            out.append(dict(base, outcome=own["outcome"], required=own["outcome"] in bt.BLOCKING, condition=own.get("condition"),
                            default=own.get("default"), fill_template_default=None, reason=own.get("reason"), type=own.get("type"),
                            source=f"{model.get('reader_file') or 'model.py'}:{own['line']}", outcomes=None, from_model_py=True))
            continue
        if not per:
            v = _generic_verdict(p)
            out.append(dict(base, outcome=v["outcome"], required=v["outcome"] in bt.BLOCKING, condition=None, default=None,
                            fill_template_default=None, reason=v["reason"], source=None, outcomes=None))
            continue
        outcomes = {t: r["outcome"] for t, r in per.items()}
        if not p.get("in_string"):  # outside quotes the file's own shape decides, whatever the row
            outcomes = {t: "parse_error" for t in per}
        worst_first = sorted(per.items(), key=lambda kv: order.get(outcomes[kv[0]], 1))
        tag, r = worst_first[0]
        src = r.get("reader") or r.get("file")
        out.append(dict(base, outcome=outcomes[tag], required=outcomes[tag] in bt.BLOCKING, condition=r.get("condition"),
                        default=r.get("default"), fill_template_default=r.get("fill_template_default"), reason=r.get("reason"),
                        type=r.get("type"),
                        source=f"{bt.table()['source']}@{tag}:{src}" if src else None,
                        outcomes=outcomes if len(set(outcomes.values())) > 1 else None))
    return out


def reads_parameter(template: str | None, tags: list[str], key: str, backend: str | None = None) -> tuple[bool | None, str | None]:
    """Whether the model of ``template`` in the candidate ``tags`` uses a value given for parameter
    ``key`` (so that a check of that value — a tokenizer folder, an engine path — is meaningful):
    (False, source) when every candidate tag's reader ignores it (v0.19 tensorrt_llm's C++
    backend and tokenizer_dir), (True, source) when one reads it, (None, None) when the table does
    not say.  Rows of the C++ backend apply only when ``backend`` is tensorrtllm (or unknown)."""
    used, src = [], None
    for tag in tags:
        for r in bt.rows(tag, template or ""):
            if r.get("param") != key:
                continue
            if r.get("backend") == "tensorrtllm" and backend not in (None, "tensorrtllm"):
                continue
            used.append(r.get("value_used", True))
            src = src or f"{bt.table()['source']}@{tag}:{r.get('reader') or r['file']}"
    if not used:
        return None, None
    return (any(used), src)


def blocking_placeholders(model: dict[str, Any], template: str | None, tags: list[str]) -> list[dict[str, Any]]:
    """The placeholders of ``model`` that keep it from loading or serving in every candidate release."""
    return [v for v in placeholder_verdicts(model, template, tags) if v["required"]]


# ====================================================================== fill_template.py
def parse_substitutions(arg: str, tag: str) -> dict[str, str]:
    """``key:value,key:value`` split the way that tag's fill_template.py splits it.

    Before v0.16: ``arg.split(",")`` then ``key, value = sub.split(":")`` (a ',' or ':' inside a
    value raises ValueError there, so it does here).  From v0.16: the same with ``\\`` escaping the
    next character (tools/fill_template.py ``split()``)."""
    info = bt.fill_template_info(tag)
    if not info.get("escape_split"):
        out = {}
        for sub in arg.split(","):
            key, value = sub.split(":")  # noqa: the tag's own unpacking, ValueError included
            out[key] = value
        return out

    def split(s: str, delim: str) -> list[str]:
        res, cur, esc = [], "", False
        for ch in s:
            if esc:
                cur += ch
                esc = False
            elif ch == delim:
                res.append(cur)
                cur = ""
            elif ch == "\\":
                esc = True
            else:
                cur += ch
        res.append(cur)
        return res

    out = {}
    for sub in split(arg, ","):
        key, value = split(sub, ":")
        out[key] = value
    return out


def fill_like_fill_template(text: str, values: dict[str, str], tag: str) -> tuple[str | None, str | None]:
    """(what ``python3 tools/fill_template.py -i FILE …`` of ``tag`` leaves in FILE, error).

    Mirrors that tag's script: ``open(file_path)`` in text mode (universal newlines: ``\\r\\n`` and
    ``\\r`` read as ``\\n``, written back as ``\\n``), ``sub_dict`` seeded with the tag's own defaults
    (v0.12+: ``max_queue_size`` 0; v0.15: ``participant_ids`` from ``--participant_ids``, default "";
    v0.19: ``max_queue_delay_microseconds`` 0), then the given values, then
    ``Template(text).safe_substitute(sub_dict)``.  v0.19 asserts each given key occurs in the file
    (``assert key in pbtxt.template``): the error is returned and nothing would be written."""
    info = bt.fill_template_info(tag)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sub: dict[str, str] = {d["key"]: d["value"] for d in info.get("inserted_defaults") or []}
    for k, v in values.items():
        sub[k] = v
        if info.get("asserts_key_in_file") and k not in text:
            return None, f"AssertionError: key '{k}' does not exist in the file"
    return Template(text).safe_substitute(sub), None


def inserted_defaults(tag: str) -> dict[str, str]:
    """The values fill_template.py of ``tag`` fills without being asked (key → value)."""
    return {d["key"]: d["value"] for d in bt.fill_template_info(tag).get("inserted_defaults") or []}


# ====================================================================== --set values
_PB_BOOL = {"true", "false", "True", "False", "t", "f", "1", "0"}  # protobuf text_format booleans
_CPP_BOOL = {"True", "true", "TRUE", "1", "False", "false", "FALSE", "0"}  # backend model_state.cc GetParameter<bool>
_INT_FIELDS = {"max_batch_size", "count", "preferred_batch_size", "max_queue_delay_microseconds", "max_queue_size"}


def validate_set_value(row: dict[str, Any], value: str) -> tuple[bool, str | None]:
    """Whether ``value`` given for the table ``row``'s placeholder keeps the file parseable and
    the value meaningful: (ok, reason when not).  Pure; the applier decides what to do with it.

    Outside quotes the value must be of the schema field's type (text_format: integers for counts
    and sizes, true/false/t/f/1/0 for decoupled, a DataType name for data_type); inside a string it
    must not end the string (an unescaped '"' or a newline); a parameter the C++ backend reads as
    bool/int/float must convert the way ``GetParameter<T>`` converts, else the backend ignores it
    (reported, not refused: the file still loads)."""
    value = str(value)
    field = row.get("field")
    if not row.get("in_string", True):
        if field == "decoupled":
            return (value in _PB_BOOL, None if value in _PB_BOOL else f"decoupled takes true or false, not {value!r}")
        if field == "data_type":
            ok = value.startswith("TYPE_") and value[5:].isalnum()
            return ok, None if ok else f"data_type takes a Triton type name such as TYPE_FP32, not {value!r}"
        if field in _INT_FIELDS or row.get("type") in ("int32", "uint64"):
            try:
                n = int(value, 0)
            except ValueError:
                return False, f"{field} takes an integer, not {value!r}"
            if n < 0 and field in ("max_batch_size", "max_queue_delay_microseconds"):
                return False, f"{field} must not be negative"
            return True, None
        return True, None
    if '"' in value.replace('\\"', "") or "\n" in value:
        return False, "the value would end the quoted string early (a '\"' or a newline in it)"
    t = row.get("type")
    if row.get("backend") == "tensorrtllm" or row.get("reader", "").startswith("inflight_batcher_llm/src"):
        if t == "bool" and value not in _CPP_BOOL:
            return False, f"the backend reads {row.get('param')} as a boolean (true/false/1/0) and would ignore {value!r}"
        if t == "int":
            try:
                int(value.strip())
            except ValueError:
                return False, f"the backend reads {row.get('param')} as an integer and would ignore {value!r}"
        if t == "float":
            try:
                float(value.strip())
            except ValueError:
                return False, f"the backend reads {row.get('param')} as a number and would ignore {value!r}"
    if isinstance(t, str) and t.startswith("enum(") and value:
        allowed = t[5:-1].split("|")
        if value not in allowed and not (row.get("param") == "gpt_model_type" and value == "v1"):
            return False, f"{row.get('param')} takes one of {', '.join(allowed)}"
    return True, None


# ====================================================================== normalisation
def _kind_name(k: Any) -> str | int:
    if isinstance(k, int):
        return KIND_NAMES.get(k, k)
    return k or "KIND_AUTO"


def normalize_instance_groups(cfg: dict[str, Any], gpus: int | None = None) -> dict[str, Any]:
    """The instance groups Triton runs for a (non-ensemble) model, and the error it would raise.

    Mirrors core src/model_config_utils.cc NormalizeInstanceGroup (l.827-953) and
    SetDefaultInstanceCount (l.1030-1047), then ValidateInstanceGroup (l.1702-1800):

    * no instance_group → one group named after the model, kind KIND_AUTO (a backend's preferred
      groups are not known here);
    * KIND_AUTO → KIND_GPU when GPUs are present, else KIND_CPU (``gpus`` None: unknown, left AUTO→GPU);
    * a count below 1 (absent, 0 or negative: proto3 cannot tell them apart) → 1, or 2 for KIND_CPU
      on the tensorflow and onnxruntime backends;
    * a kind number with no name (``kind: 7``) → ``has unexpected kind KIND_AUTO`` (INTERNAL);
      KIND_CPU/KIND_MODEL listing gpus, KIND_GPU without GPUs → their errors.

    Returns ``{"groups": [{"name", "kind", "count", "count_from": "given"|"default", "gpus"}],
    "total": int, "error": str|None, "source": "...:line"}``."""
    name = cfg.get("name") or ""
    backend = cfg.get("backend") or ""
    if cfg.get("has_ensemble_scheduling") or cfg.get("platform") == "ensemble":
        return {"groups": [], "total": 0, "error": None, "source": f"{CORE}:src/model_config_utils.cc:1706"}
    groups_in = cfg.get("instance_groups")
    if groups_in is None:  # an older fact: kinds only
        groups_in = [{"name": None, "kind": k, "count": 0, "gpus": []} for k in cfg.get("instance_kinds") or []]
    groups = []
    if not groups_in:
        groups_in = [{"name": name, "kind": "KIND_AUTO", "count": 0, "gpus": []}]
    err = None
    for i, g in enumerate(groups_in):
        kind = _kind_name(g.get("kind"))
        gname = g.get("name") or f"{name}_{i}"
        gg = list(g.get("gpus") or [])
        if kind == "KIND_AUTO":
            kind = "KIND_CPU" if gpus == 0 else "KIND_GPU"
        count = int(g.get("count") or 0)
        count_from = "given"
        if count < 1:
            count_from = "default"
            count = 2 if (kind == "KIND_CPU" and backend in ("tensorflow", "onnxruntime")) else 1
        if kind == "KIND_GPU" and not gg and gpus:
            gg = list(range(gpus))
        groups.append({"name": gname, "kind": kind, "count": count, "count_from": count_from, "gpus": gg})
        if err is None:
            if not isinstance(kind, str) or kind not in ("KIND_GPU", "KIND_CPU", "KIND_MODEL"):
                err = f"instance group {gname} of model {name} has unexpected kind KIND_AUTO"
            elif kind == "KIND_MODEL" and g.get("gpus"):
                err = f"instance group {gname} of model {name} has kind KIND_MODEL but specifies one or more GPUs"
            elif kind == "KIND_CPU" and g.get("gpus"):
                err = f"instance group {gname} of model {name} has kind KIND_CPU but specifies one or more GPUs"
            elif kind == "KIND_GPU" and gpus == 0:
                err = f"instance group {gname} of model {name} has kind KIND_GPU but no GPUs are available"
            elif kind == "KIND_GPU" and gpus and any(x >= gpus or x < 0 for x in g.get("gpus") or []):
                bad = next(x for x in g.get("gpus") if x >= gpus or x < 0)
                err = (f"instance group {gname} of model {name} specifies invalid or unsupported gpu id {bad}. GPUs with at least the "
                       f"minimum required CUDA compute compatibility of 6.000000 are: {', '.join(str(x) for x in range(gpus))}")
    return {"groups": groups, "total": sum(g["count"] for g in groups), "error": err,
            "source": f"{CORE}:src/model_config_utils.cc:940,1034-1045,1729-1790"}


def preferred_batch_sizes(cfg: dict[str, Any]) -> list[int] | None:
    """dynamic_batching.preferred_batch_size after normalisation: [max_batch_size] when none is
    given and max_batch_size > 0 (core src/model_config_utils.cc:776-784); None without dynamic batching."""
    if not cfg.get("dynamic_batching"):
        return None
    pref = cfg.get("preferred_batch_size")
    if pref:
        return list(pref)
    mb = cfg.get("max_batch_size") or 0
    return [mb] if mb > 0 else []


PLATFORM_BACKEND = {"tensorflow_graphdef": "tensorflow", "tensorflow_savedmodel": "tensorflow", "tensorrt_plan": "tensorrt",
                    "onnxruntime_onnx": "onnxruntime", "pytorch_libtorch": "pytorch", "torch_aoti": "pytorch"}  # core src/constants.h
FILE_BACKEND = {"model.savedmodel": "tensorflow", "model.graphdef": "tensorflow", "model.plan": "tensorrt",
                "model.onnx": "onnxruntime", "model.xml": "openvino", "model.pt": "pytorch", "model.pt2": "pytorch",
                "model.py": "python"}


def autocomplete_backend_fields(cfg: dict[str, Any], folder: str | None = None, version_files: list[str] | None = None) -> dict[str, Any]:
    """What Triton fills in before validating (core src/model_config_utils.cc:1049-1300
    AutoCompleteBackendFields): the name from the model's folder, the backend from the platform,
    and from the model file in the first version folder when neither is given
    (``version_files`` None: not known; then ``backend_unknown`` is set and the platform/backend
    check is left out)."""
    out = dict(cfg)
    if not out.get("name") and folder:
        out["name"] = folder
    plat, be = out.get("platform") or "", out.get("backend") or ""
    if not be and plat in PLATFORM_BACKEND:
        out["backend"] = PLATFORM_BACKEND[plat]
    elif not be and not plat:
        for f in version_files or []:
            if f in FILE_BACKEND:
                out["backend"] = FILE_BACKEND[f]
                break
        model_name = out.get("name") or folder or ""
        if not out.get("backend") and "." in model_name:  # a custom backend named by the model: model.<backend>
            out["backend"] = model_name.split(".", 1)[1]
        if not out.get("backend") and version_files is None:
            out["backend_unknown"] = True
    return out


def validate_model_config(cfg: dict[str, Any], gpus: int | None = None) -> list[str]:
    """Triton's ValidateModelConfig (core src/model_config_utils.cc:1434-1690) on one parsed model,
    after normalisation (pass it through :func:`autocomplete_backend_fields` first when the
    folder is known); the first error is the one tritonserver reports (later ones are listed
    too).  Values that came from a placeholder (None) are not judged."""
    errs: list[str] = []
    name = cfg.get("name") or ""
    backend, platform = cfg.get("backend") or "", cfg.get("platform") or ""
    if not name:
        errs.append("model configuration must specify 'name'")
    if not backend:
        if platform != "ensemble" and not cfg.get("backend_unknown"):
            errs.append(f"unexpected platform type '{platform}' for {name}")
    elif platform == "ensemble":
        errs.append(f"Ensemble model '{name}' must have platform type 'ensemble' and empty backend type")
    mb = cfg.get("max_batch_size")
    if mb is not None and mb < 0:
        errs.append(f"'max_batch_size' must be non-negative value for {name}")
    pref = preferred_batch_sizes(cfg) if mb is not None else None
    for size in pref or []:
        if size <= 0:
            errs.append(f"dynamic batching preferred size must be positive for {name}")
            break
        if size > mb:
            errs.append(f"dynamic batching preferred size must be <= max batch size for {name}")
            break
    db = cfg.get("dynamic_batching_detail") or {}
    levels = db.get("priority_levels") or 0
    if levels:
        if not db.get("default_priority_level") or db["default_priority_level"] > levels:
            errs.append(f"default priority level must be in range [1, {levels}] for {name}")
        for lvl in db.get("priority_queue_policy") or {}:
            if int(lvl) == 0 or int(lvl) > levels:
                errs.append(f"priority queue policy must have priority level in range [1, {levels}] for {name}")
                break
    if db.get("preserve_ordering"):
        if levels > 1:
            errs.append(f"Only one priority level is allowed when 'preserve_ordering' is true for {name}")
        pols = [db.get("default_queue_policy") or {}] + list((db.get("priority_queue_policy") or {}).values())
        if any(p.get("timeout_us") and p.get("action") == "DELAY" for p in pols):
            errs.append(f"Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for {name}")
    if cfg.get("has_ensemble_scheduling"):
        errs.extend(validate_ensemble_scheduling(cfg))
    elif platform == "ensemble":
        errs.append(f"ensemble scheduling must be set for ensemble {name} whose platform is ensemble")
    if not cfg.get("has_ensemble_scheduling") and platform != "ensemble":
        ig = normalize_instance_groups(cfg, gpus)
        if ig["error"]:
            errs.append(ig["error"])
    return errs


def _element_count(dims: list[int]) -> int:
    """common include/triton/common/model_config.h GetElementCount: -1 (wildcard) if any -1, -2 if
    any other negative, else the product (0 for no dims)."""
    cnt = 0
    for i, d in enumerate(dims):
        if d == WILDCARD_DIM:
            return -1
        if d < 0:
            return -2
        cnt = d if i == 0 else cnt * d
    return cnt


def validate_io(cfg: dict[str, Any]) -> list[str]:
    """ValidateModelIOConfig / ValidateIOShape (core src/model_config_utils.cc:293-420, 1314-1330)
    on the inputs and outputs as written.  Triton runs it after the backend auto-completes the
    config (python, onnxruntime, tensorrt… may add dims and types), so a missing data_type or dims
    is only certain when nothing auto-completes it; the caller decides."""
    name = cfg.get("name") or ""
    mb = cfg.get("max_batch_size") or 0
    for kind, tensors in (("model input ", cfg.get("inputs") or []), ("model output ", cfg.get("outputs") or [])):
        for t in tensors:
            if not t.get("name"):
                return [f"{kind}must specify 'name' for {name}"]
            pre = f"{kind}'{t['name']}' "
            if t.get("data_type") in (None, "TYPE_INVALID"):
                return [pre + f"must specify 'data_type' for {name}"]
            dims, reshape = list(t.get("dims") or []), t.get("reshape")
            if not dims:
                return [pre + f"must specify 'dims' for {name}"]
            if reshape is not None and not reshape and mb == 0:
                return [pre + f"cannot have empty reshape for non-batching model as scalar tensors are not supported for {name}"]
            if any(d < 1 and d != WILDCARD_DIM for d in dims):
                return [pre + f"dimension must be integer >= 1, or -1 to indicate a variable-size dimension for {name}"]
            if reshape is not None:
                if any(d < 1 and d != WILDCARD_DIM for d in reshape):
                    return [pre + f"reshape dimensions must be integer >= 1, or -1 to indicate a variable-size dimension for {name}"]
                ds, rs = _element_count(dims), _element_count(reshape)
                if ds != rs and (rs != 0 or ds != 1):
                    return [pre + f"has different size for dims and reshape for {name}"]
                if ds == -1:
                    def trunks(v: list[int]) -> list[int]:
                        out, cur = [], 1
                        for d in v:
                            if d != WILDCARD_DIM:
                                cur *= d
                            else:
                                out.append(cur)
                                cur = 1
                        return out + [cur]
                    a, b = trunks(dims), trunks(reshape)
                    if len(a) != len(b):
                        return [pre + f"has different number of variable-size dimensions for dims and reshape for {name}"]
                    if a != b:
                        return [pre + f"has different size for dims and reshape for {name}"]
    return []


# ====================================================================== ensembles
def validate_ensemble_scheduling(cfg: dict[str, Any]) -> list[str]:
    """ValidateEnsembleSchedulingConfig + BuildEnsembleGraph (core src/model_config_utils.cc:79-280):
    the ensemble on its own, before its steps' models are looked at.  First error first."""
    name = cfg.get("name") or ""
    if cfg.get("platform") != "ensemble":
        return [f"ensemble scheduling cannot be set for model '{name}' whose platform is not ensemble"]
    if cfg.get("instance_groups"):
        return [f"instance group should not be specified for ensemble '{name}'"]
    if cfg.get("has_optimization"):
        return [f"optimization should not be specified for ensemble '{name}'"]
    if cfg.get("model_warmup_count"):
        return [f"model_warmup can not be specified for ensemble '{name}'"]
    steps = cfg.get("ensemble_steps") or []
    if not steps:
        return [f"must specify 'step' for ensemble '{name}'"]
    # BuildEnsembleGraph
    tensors: dict[str, dict[str, Any]] = {}

    def node(n: str, is_output: bool) -> dict[str, Any]:
        return tensors.setdefault(n, {"name": n, "is_output": is_output, "ready": False, "prev": [], "next": []})

    for idx, st in enumerate(steps):
        if not st.get("model_name"):
            return [f"must specify 'model_name' in step {idx} of ensemble '{name}'"]
        if not st.get("input_map"):
            return [f"must specify 'input_map' in step {idx} of ensemble '{name}'"]
        if not st.get("output_map"):
            return [f"must specify 'output_map' in step {idx} of ensemble '{name}'"]
        outs = []
        for _k, ens_t in st["output_map"].items():
            if ens_t in tensors:
                if tensors[ens_t]["is_output"]:
                    return [f"ensemble tensor '{ens_t}' can appear in an output map only once for ensemble '{name}' step {idx}"]
                tensors[ens_t]["is_output"] = True
            else:
                node(ens_t, True)
            outs.append(tensors[ens_t])
        for _k, ens_t in st["input_map"].items():  # a protobuf map: one key once, so no "mapped to multiple" here
            src = node(ens_t, False)
            for o in outs:
                o["prev"].append(src)
                src["next"].append(o)
    queue = []
    for t in cfg.get("inputs") or []:
        if t["name"] not in tensors:
            return [f"ensemble input '{t['name']}' for ensemble {name}' is not used"]
        tensors[t["name"]]["ready"] = True
        queue.append(tensors[t["name"]])
    while queue:
        cur = queue.pop(0)
        for nxt in cur["next"]:
            if nxt["ready"]:
                continue
            if all(p["ready"] for p in nxt["prev"]):
                nxt["ready"] = True
                queue.append(nxt)
    outputs = set()
    for t in cfg.get("outputs") or []:
        n = tensors.get(t["name"])
        if n is None:
            return [f"ensemble output '{t['name']}' for ensemble {name}' is not used"]
        if not n["ready"]:
            msg = f"output '{t['name']}' for ensemble '{name}' is not written"
            last, prevs, seen = n, n["prev"], set()
            while prevs:
                nxt_prevs = None
                for p in prevs:
                    if not p["ready"] and p["name"] not in seen:
                        seen.add(p["name"])
                        last, nxt_prevs = p, p["prev"]
                        break
                prevs = nxt_prevs
            if last["name"] != n["name"]:
                msg += f": at least one of its depending tensors, '{last['name']}', is not connected"
            return [msg]
        outputs.add(t["name"])
    for tname, n in tensors.items():  # unordered_map order in Triton; the first found here
        if tname in outputs:
            continue
        if not n["ready"] or not n["next"]:
            return [f"ensemble tensor '{tname}' is unused in ensemble '{name}'"]
    return []


def _full_dims(dims: list[int], batching: bool) -> list[int]:
    return ([-1] if batching else []) + list(dims)


def _dims_match(a: list[int], b: list[int]) -> bool:
    """common src/model_config.cc:131 CompareDimsWithWildcard."""
    return len(a) == len(b) and all(x == WILDCARD_DIM or y == WILDCARD_DIM or x == y for x, y in zip(a, b))


def _dims_str(d: list[int]) -> str:
    return "[" + ",".join(str(x) for x in d) + "]"


def loaded_versions(cfg: dict[str, Any]) -> list[int]:
    """The versions Triton loads from a model's numeric folders under its version policy (default
    latest 1; ``versions`` are the folder names)."""
    vs = sorted(int(v) for v in cfg.get("versions") or [] if str(v).isdigit())
    pol = cfg.get("version_policy") or {"latest": 1}
    if "all" in pol:
        return vs
    if "specific" in pol:
        return [v for v in vs if v in set(pol["specific"])]
    n = int(pol.get("latest") or 1)
    return vs[-n:] if vs else []


def validate_ensemble(ens: dict[str, Any], models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The verdict Triton reaches on one ensemble of a repository: ``{"errors": [...],
    "decoupled": bool|None, "first": str|None}``.

    Order as tritonserver does it: the ensemble's own config (validate_model_config, incl.
    validate_ensemble_scheduling); the dependency graph (core
    src/model_repository_manager/model_repository_manager.cc: missing step models l.2150-2158,
    required versions l.1896-1908, circular dependencies between ensembles l.2240-2262); then
    ValidateEnsembleConfig (core src/ensemble_scheduler/ensemble_utils.cc:240-400): each step's
    max_batch_size against the ensemble's, the tensor mapping (inputs exist and are mapped once,
    required inputs mapped, outputs exist, data type and shape consistency with the batch dimension
    expanded), and the decoupled labels (a step fed by two different decoupled steps is refused; an
    ensemble with a decoupled step is itself decoupled).  ``models``: folder name → parsed model
    (steps name models by folder name).  Step models that failed to parse stop the check there
    (their own finding says why)."""
    errs = validate_model_config(ens)
    out = {"errors": errs, "decoupled": None, "first": errs[0] if errs else None}
    if errs:
        return out
    name = ens.get("name") or ""
    steps = ens.get("ensemble_steps") or []
    missing = []
    for st in steps:
        if st["model_name"] not in models and st["model_name"] not in missing:
            missing.append(st["model_name"])
    if missing:
        errs.append(f"ensemble {name} contains models that are not available or ambiguous: {', '.join(missing)}")
    # cycles between ensembles (a step naming an ensemble that leads back here)
    if not errs:
        def upstream_path(cur: str, seen: tuple[str, ...]) -> str | None:
            m = models.get(cur) or {}
            for st in m.get("ensemble_steps") or []:
                up = st["model_name"]
                if up == name:
                    return cur
                if up in seen or up not in models:
                    continue
                r = upstream_path(up, seen + (up,))
                if r:
                    return r
            return None
        last = upstream_path(name, (name,))
        if last is not None:
            errs.append(f"circular dependency between ensembles: {name} -> ... -> {last} -> {name}")
    if not errs:
        for st in steps:
            m = models[st["model_name"]]
            if m.get("parse_error") or m.get("read_error"):
                out["first"] = None
                out["blocked_by"] = st["model_name"]
                return out
            want = int(st.get("model_version", -1))
            if want != -1 and "versions" in m and want not in loaded_versions(m):
                errs.append(f"ensemble '{name}' depends on '{st['model_name']}' whose required version {want} is not loaded.")
                break
    if errs:
        out["first"] = errs[0]
        return out
    batching = (ens.get("max_batch_size") or 0) > 0
    tensors: dict[str, dict[str, Any]] = {}
    for t in ens.get("inputs") or []:
        dims = t["reshape"] if t.get("reshape") is not None else t["dims"]
        tensors[t["name"]] = {"model": name, "type": t["data_type"], "dims": list(dims), "full": _full_dims(dims, batching),
                              "decoupled": False, "label": 0, "visited": False, "prev": [], "next": [], "sibling": None}
    sink = {"model": name, "prev": [], "next": [], "visited": False, "label": 0, "decoupled": False, "sibling": None}
    for t in ens.get("outputs") or []:
        dims = t["reshape"] if t.get("reshape") is not None else t["dims"]
        n = tensors.setdefault(t["name"], {"model": name, "type": t["data_type"], "dims": list(dims), "full": _full_dims(dims, batching),
                                           "decoupled": False, "label": 0, "visited": False, "prev": [], "next": [], "sibling": None})
        sink["prev"].append(n)
        n["next"].append(sink)

    def consistent(lhs: dict[str, Any], rhs: dict[str, Any], ens_t: str) -> str | None:
        pre = f"in ensemble {name}, ensemble tensor {ens_t}: "
        if lhs["type"] != rhs["type"]:
            return pre + f"inconsistent data type: {lhs['type']} is inferred from model {lhs['model']} while {rhs['type']} is inferred from model {rhs['model']}"
        if not _dims_match(lhs["dims"], rhs["dims"]) and not _dims_match(lhs["full"], rhs["full"]):
            return pre + f"inconsistent shape: {_dims_str(lhs['full'])} is inferred from model {lhs['model']} while {_dims_str(rhs['full'])} is inferred from model {rhs['model']}"
        return None

    for st in steps:
        sname = st["model_name"]
        m = models[sname]
        smb = m.get("max_batch_size") or 0
        emb = ens.get("max_batch_size") or 0
        if smb != 0 and smb < emb:
            errs.append(f"ensemble {name} allows maximum batch size {emb}, but it contains model {sname} which only allows maximum batch size to be {smb}")
            break
        sbatch = smb > 0
        if not m.get("inputs") and not m.get("outputs"):
            # the backend auto-completes the IO from the model file (TensorRT, ONNX, …): nothing to compare here
            out.setdefault("not_judged", []).append(sname)
            continue
        ins = {t["name"]: t for t in m.get("inputs") or []}
        bad = next((k for k in st["input_map"] if k not in ins), None)
        if bad is not None:
            errs.append(f"in ensemble {name}, ensemble tensor {st['input_map'][bad]} is mapping to non-existing input {bad} in model {sname}")
            break
        e = None
        for iname, t in ins.items():
            if iname in st["input_map"]:
                ens_t = st["input_map"][iname]
                mt = {"model": sname, "type": t["data_type"], "dims": list(t["dims"]), "full": _full_dims(t["dims"], sbatch)}
                if ens_t in tensors:
                    e = consistent(tensors[ens_t], mt, ens_t)
                    if e:
                        break
                else:
                    tensors[ens_t] = dict(mt, decoupled=False, label=0, visited=False, prev=[], next=[], sibling=None)
            elif not t.get("optional"):
                e = f"in ensemble {name}, input {iname} in model {sname} is not mapped to any ensemble tensors"
                break
        if e:
            errs.append(e)
            break
        outs = {t["name"]: t for t in m.get("outputs") or []}
        bad = next((k for k in st["output_map"] if k not in outs), None)
        if bad is not None:
            errs.append(f"in ensemble {name}, ensemble tensor {st['output_map'][bad]} is mapped from non-existing output {bad} in model {sname}")
            break
        sibling = {"visited": False, "label": 0}
        for oname, ens_t in st["output_map"].items():
            t = outs[oname]
            mt = {"model": sname, "type": t["data_type"], "dims": list(t["dims"]), "full": _full_dims(t["dims"], sbatch)}
            if ens_t in tensors:
                e = consistent(tensors[ens_t], mt, ens_t)
                if e:
                    break
            else:
                tensors[ens_t] = dict(mt, decoupled=False, label=0, visited=False, prev=[], next=[], sibling=None)
            tensors[ens_t]["sibling"] = sibling
        if e:
            errs.append(e)
            break
        dec = bool(m.get("decoupled"))
        for ens_t in st["output_map"].values():
            n = tensors[ens_t]
            n["decoupled"] = dec
            for src in st["input_map"].values():
                p = tensors[src]
                n["prev"].append(p)
                p["next"].append(n)
    if errs:
        out["first"] = errs[0]
        return out
    # decoupled labels (ensemble_utils.cc:306-360)
    label = 0
    queue = []
    for t in ens.get("inputs") or []:
        n = tensors[t["name"]]
        n["visited"] = True
        queue.append(n)
    while queue and not errs:
        cur = queue[0]
        for nxt in cur["next"]:
            if nxt["visited"]:
                continue
            if not all(p["visited"] for p in nxt["prev"]):
                continue
            prev_label = nxt["prev"][0]["label"]
            if any(p["label"] != prev_label for p in nxt["prev"]):
                who = nxt.get("model") or name  # the model the tensor was first inferred from (TensorNode::model_id_)
                errs.append(f"in ensemble {name}, step of model '{who}' receives inputs originated from different decoupled models")
                break
            sib = nxt.get("sibling")
            if sib is not None:
                if sib["visited"]:
                    nxt["label"] = sib["label"]
                else:
                    if nxt["decoupled"]:
                        label += 1
                        nxt["label"] = label
                    else:
                        nxt["label"] = prev_label
                    sib["label"], sib["visited"] = nxt["label"], True
            else:
                if nxt.get("decoupled"):
                    label += 1
                    nxt["label"] = label
                else:
                    nxt["label"] = prev_label
            nxt["visited"] = True
            queue.append(nxt)
        queue.pop(0)
    out["decoupled"] = None if errs else label != 0
    out["first"] = errs[0] if errs else None
    return out


# ====================================================================== BLS ↔ tensorrt_llm
def bls_target(bls: dict[str, Any], tags: list[str]) -> tuple[str | None, str]:
    """The model a tensorrt_llm_bls model sends requests to, and why: the parameter when it holds a
    real value; the backend's own default when the release falls back (v0.13+: a value starting
    with '${' or "" means 'tensorrt_llm'; v0.7–v0.8 always 'tensorrt_llm'); None when the release
    would use the literal placeholder (v0.9–v0.12)."""
    params = bls.get("parameters") or {}
    if "tensorrt_llm_model_name" in params and params["tensorrt_llm_model_name"]:
        return params["tensorrt_llm_model_name"], "given"
    if "tensorrt_llm_model_name" not in params:
        return "tensorrt_llm", "the BLS model of this release names 'tensorrt_llm' itself"
    outcomes = set()
    for tag in tags:
        r = bt.row_for(tag, "inflight_batcher_llm/tensorrt_llm_bls", "tensorrt_llm_model_name", "tensorrt_llm_model_name")
        if r:
            outcomes.add((r["outcome"], r.get("default")))
    if outcomes and all(o == "ignored" for o, _ in outcomes):
        return "tensorrt_llm", "the backend's default when the parameter is left unfilled"
    return None, "the release sends requests to the literal '${tensorrt_llm_model_name}'"


def choose_values(models: dict[str, dict[str, Any]], judgement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Values trtdiag may fill without being told, each with where it comes from, for the preview
    to show as chosen (not given).  Only from the repository's real model names or the release
    table's own defaults, never from a guess:

    * ``tensorrt_llm_model_name`` — the folder whose config matches the tensorrt_llm template (or
      has backend "tensorrtllm"); when there is none, the release's own default if it has one.
    * the defaults the release's fill_template.py inserts itself (``max_queue_size`` 0 …).
    Returns placeholder → {"value", "why"}."""
    out: dict[str, dict[str, Any]] = {}
    target = None
    for folder, m in models.items():
        tmpl = (judgement["models"].get(folder) or {}).get("template") or ""
        if m.get("backend") == "tensorrtllm" or tmpl.endswith("/tensorrt_llm") and tmpl.startswith("inflight_batcher_llm"):
            target = folder
            break
    tags = judgement["release"]["tags"]
    if target:
        out["tensorrt_llm_model_name"] = {"value": target, "why": f"chosen: the repository's tensorrt_llm model ({target}/config.pbtxt)"}
    else:
        defaults = {(bt.row_for(t, "inflight_batcher_llm/tensorrt_llm_bls", "tensorrt_llm_model_name", "tensorrt_llm_model_name") or {}).get("default")
                    for t in tags}
        if len(defaults) == 1 and list(defaults)[0] == "tensorrt_llm":
            out["tensorrt_llm_model_name"] = {"value": "tensorrt_llm", "why": "chosen: the backend's own default for this release"}
    if tags:
        common = None
        for t in tags:
            d = inserted_defaults(t)
            common = d if common is None else {k: v for k, v in common.items() if d.get(k) == v}
        for k, v in (common or {}).items():
            out[k] = {"value": v, "why": f"chosen: fill_template.py of {tags[0] if len(tags) == 1 else tags[0] + '–' + tags[-1]} inserts it itself"}
    return out


def bls_coherence(bls: dict[str, Any], trtllm: dict[str, Any]) -> list[dict[str, Any]]:
    """What breaks between a BLS model and the tensorrt_llm model it calls.

    * max_batch_size: the BLS forwards each request with its batch; Triton refuses a request whose
      batch exceeds the callee's max_batch_size: "inference request batch-size must be <= N for
      'tensorrt_llm'" (core src/infer_request.cc:1102-1107).
    * decoupled: a decoupled BLS streams by calling tensorrt_llm with streaming; tensorrt_llm
      deployed with decoupled false answers "Streaming is only supported if model is deployed using
      decoupled mode." (backend inflight_batcher_llm/src/utils.cc).
    Returns [{"kind", "severity", "message", "source"}]."""
    out = []
    bmb, tmb = bls.get("max_batch_size"), trtllm.get("max_batch_size")
    if bmb is not None and tmb is not None and tmb > 0 and bmb > tmb:
        out.append({"kind": "max_batch_size", "severity": "error",
                    "message": f"{bls.get('name')} allows batches of {bmb}, {trtllm.get('name')} of {tmb}: requests with a batch above {tmb} fail with "
                               f"\"inference request batch-size must be <= {tmb} for '{trtllm.get('name')}'\"",
                    "source": f"{CORE}:src/infer_request.cc:1102"})
    if bls.get("decoupled") is True and trtllm.get("decoupled") is False:
        out.append({"kind": "decoupled", "severity": "error",
                    "message": f"{bls.get('name')} is decoupled (streams) but {trtllm.get('name')} is not: streaming requests fail with "
                               "\"Streaming is only supported if model is deployed using decoupled mode.\"",
                    "source": "triton-inference-server/tensorrtllm_backend:inflight_batcher_llm/src/utils.cc"})
    return out


# how clients may call a decoupled model (server src/http_server.cc)
DECOUPLED_CLIENTS = {
    "refused": "HTTP /v2/models/<m>/infer: \"HTTP end point doesn't support models with decoupled transaction policy\" "
               f"({SERVER}:src/http_server.cc:3278-3291,3832); gRPC ModelInfer likewise",
    "works": "gRPC ModelStreamInfer; HTTP /generate_stream; HTTP /generate when the model sends exactly one response "
             f"(non-streaming request; {SERVER}:src/http_server.cc:4526-4540)",
}
