"""Triton ``config.pbtxt`` files, read with Triton's own schema.

The schema is the ``inference.ModelConfig`` protobuf that tritonclient ships
(``tritonclient/grpc/model_config_pb2.py``), parsed with ``google.protobuf.text_format`` — the same
grammar tritonserver uses.  ``tritonclient.grpc``'s package ``__init__`` imports grpc (heavy, and
grpcio may be absent), so only the generated module is loaded, by file path, and only when a model
repository is actually read (about 40 ms; ``trtdiag check`` without a repository never pays it).

Templates from tensorrtllm_backend (``all_models/inflight_batcher_llm``) hold ``${name}``
placeholders that ``fill_template.py`` replaces.  A placeholder outside a string
(``max_batch_size: ${triton_max_batch_size}``) makes the file unparseable; one inside a string
(``string_value: "${engine_dir}"``) parses but means nothing.  :func:`parse_config` finds every
placeholder with its line and column first, then parses a copy in which each placeholder outside a
string is replaced by a dummy of the field's type (from the schema), so the rest of the file is
still checked and a real syntax error is reported with its own line.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from string import Template
from typing import Any

from ..core.errors import InputError

PLACEHOLDER_RE = re.compile(r"\$\{([_A-Za-z][_A-Za-z0-9]*)\}")

_PB2 = None
_FIELD_TYPES: dict[str, int] | None = None


class _Schema:
    """``inference.ModelConfig`` and ``inference.DataType`` built from the schema's descriptor."""

    def __init__(self, pool):
        from google.protobuf import message_factory

        self.DESCRIPTOR = pool.FindFileByName("model_config.proto")
        desc = pool.FindMessageTypeByName("inference.ModelConfig")
        get = getattr(message_factory, "GetMessageClass", None)
        self.ModelConfig = get(desc) if get else message_factory.MessageFactory(pool).GetPrototype(desc)
        dt = pool.FindEnumTypeByName("inference.DataType")

        class DataType:
            @staticmethod
            def Name(v: int) -> str:
                if v not in dt.values_by_number:
                    raise ValueError(v)
                return dt.values_by_number[v].name

        self.DataType = DataType


def _shipped_schema():
    """Triton's ModelConfig schema from trtdiag/data/triton_model_config.pb (written by
    tools/gen_model_config_descriptor.py from tritonclient's model_config_pb2; the version is in
    triton_model_config.json); None when the file is absent."""
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "triton_model_config.pb")
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    from google.protobuf import descriptor_pb2, descriptor_pool

    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(blob))
    return _Schema(pool)


def model_config_pb2():
    """Triton's ModelConfig schema: the descriptor trtdiag ships, else the generated
    ``model_config_pb2`` module of tritonclient, loaded without ``tritonclient.grpc``."""
    global _PB2
    if _PB2 is not None:
        return _PB2
    shipped = _shipped_schema()
    if shipped is not None:
        _PB2 = shipped
        return shipped
    mod = sys.modules.get("tritonclient.grpc.model_config_pb2")
    if mod is None:
        try:
            spec = importlib.util.find_spec("tritonclient")
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = None
        for loc in locations:
            cand = f"{loc}/grpc/model_config_pb2.py"
            try:
                open(cand, "rb").close()
                path = cand
                break
            except OSError:
                continue
        if path is None:
            raise InputError("cannot read Triton model configs: the tritonclient package (its model_config_pb2 schema) is not installed; pip install tritonclient")
        name = "trtdiag._triton_model_config_pb2"
        mspec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(mspec)
        mspec.loader.exec_module(mod)
        sys.modules[name] = mod
    _PB2 = mod
    return mod


def _field_types() -> dict[str, int]:
    """Field name → protobuf cpp_type, over every message of the ModelConfig schema."""
    global _FIELD_TYPES
    if _FIELD_TYPES is None:
        pb2 = model_config_pb2()
        out: dict[str, int] = {}
        enums: dict[str, str] = {}

        def walk(desc):
            for f in desc.fields:
                out.setdefault(f.name, f.cpp_type)
                if f.enum_type is not None:
                    enums.setdefault(f.name, f.enum_type.values[0].name)
            for nested in desc.nested_types:
                walk(nested)

        for desc in pb2.DESCRIPTOR.message_types_by_name.values():
            walk(desc)
        _FIELD_TYPES = out
        _ENUM_FIRST.update(enums)
    return _FIELD_TYPES


_ENUM_FIRST: dict[str, str] = {}


def _dummy_for(field: str | None) -> str:
    """A value of the field's type that text_format accepts (``1`` for counts and sizes)."""
    from google.protobuf.descriptor import FieldDescriptor as FD

    t = _field_types().get(field or "")
    if t == FD.CPPTYPE_BOOL:
        return "false"
    if t in (FD.CPPTYPE_FLOAT, FD.CPPTYPE_DOUBLE):
        return "1.0"
    if t == FD.CPPTYPE_ENUM:
        return _ENUM_FIRST.get(field or "", "0")
    if t == FD.CPPTYPE_STRING:
        return '""'
    return "1"


def _line_layout(line: str) -> tuple[list[tuple[int, int]], int]:
    """Where strings and a comment lie on one line of text format (strings do not span lines):
    the (start, end) of each quoted string, and the column of '#' (len(line) when none)."""
    in_str: str | None = None
    esc = False
    spans: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(line):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == in_str:
                spans.append((start, i))
                in_str = None
        elif ch in "\"'":
            in_str, start = ch, i
        elif ch == "#":
            return spans, i
    if in_str:
        spans.append((start, len(line)))
    return spans, len(line)


def scan_placeholders(text: str) -> list[dict[str, Any]]:
    """Every ``${name}`` outside comments: name, line, col (1-based), in_string, and the field it
    is the value of (the identifier before the nearest ':' on its line, when outside a string)."""
    out: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if "$" not in line:
            continue
        str_spans, comment_at = _line_layout(line)
        for m in PLACEHOLDER_RE.finditer(line):
            if m.start() >= comment_at:
                continue
            inside = any(a < m.start() < b for a, b in str_spans)
            field = None
            if not inside:
                fm = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*\[?[^:]*$", line[: m.start()])
                field = fm.group(1) if fm else None
            out.append({"name": m.group(1), "line": lineno, "col": m.start() + 1, "in_string": inside, "field": field})
    return out


def substitute_dummies(text: str, placeholders: list[dict[str, Any]]) -> str:
    """A copy of ``text`` in which each placeholder outside a string holds a dummy of its field's
    type; line numbers are unchanged."""
    lines = text.splitlines(keepends=True)
    by_line: dict[int, list[dict[str, Any]]] = {}
    for p in placeholders:
        if not p["in_string"]:
            by_line.setdefault(p["line"], []).append(p)
    for ln, ps in by_line.items():
        s = lines[ln - 1]
        for p in sorted(ps, key=lambda p: -p["col"]):
            a = p["col"] - 1
            b = a + len(p["name"]) + 3
            s = s[:a] + _dummy_for(p["field"]) + s[b:]
        lines[ln - 1] = s
    return "".join(lines)


def parse_text(text: str):
    """Parse ``text`` as an ``inference.ModelConfig``; returns (message, error) where error is
    ``{"line", "col", "message"}`` or None."""
    from google.protobuf import text_format

    pb2 = model_config_pb2()
    msg = pb2.ModelConfig()
    try:
        text_format.Parse(text, msg)
    except text_format.ParseError as exc:
        line, col = exc.GetLine(), exc.GetColumn()
        m = str(exc)
        mm = re.match(r"^\d+:\d+ : (.*)$", m, re.S)
        return None, {"line": line, "col": col, "message": mm.group(1) if mm else m}
    except (ValueError, RecursionError) as exc:  # pragma: no cover - defensive
        return None, {"line": None, "col": None, "message": str(exc)}
    return msg, None


def _dtype(v: int) -> str:
    pb2 = model_config_pb2()
    try:
        return pb2.DataType.Name(v)
    except ValueError:
        return str(v)


def _tensor(t) -> dict[str, Any]:
    d = {"name": t.name, "data_type": _dtype(t.data_type), "dims": list(t.dims),
         "reshape": list(t.reshape.shape) if t.HasField("reshape") else None}
    if hasattr(t, "optional"):
        d["optional"] = bool(t.optional)
    return d


def summarize(msg, placeholders: list[dict[str, Any]]) -> dict[str, Any]:
    """The plain-data view of a parsed ModelConfig that the checks read.  Values that came from a
    placeholder's dummy are None."""
    from_dummy = {p["field"] for p in placeholders if not p["in_string"]}
    params: dict[str, str | None] = {}
    for key, val in msg.parameters.items():
        sv = val.string_value
        params[key] = None if PLACEHOLDER_RE.search(sv) else sv
        for p in placeholders:  # which parameter a placeholder inside a string belongs to
            if p["in_string"] and "${" + p["name"] + "}" in sv:
                p.setdefault("param", key)
    counts = [g.count for g in msg.instance_group]
    # an enum may be given by number (kind: 2); proto3 enums are open, so a number with no name
    # (kind: 7) parses too and is kept as the number
    kinds = [_enum_name(g, "kind", g.kind) for g in msg.instance_group]
    groups = [{"name": g.name or None, "kind": _enum_name(g, "kind", g.kind), "count": int(g.count),
               "count_given": "count" not in from_dummy and _has_count(g), "gpus": list(g.gpus)} for g in msg.instance_group]
    instance_count = None if "count" in from_dummy else (sum(counts) if counts else None)
    decoupled = None
    if msg.HasField("model_transaction_policy") and "decoupled" not in from_dummy:
        decoupled = bool(msg.model_transaction_policy.decoupled)
    elif not msg.HasField("model_transaction_policy"):
        decoupled = False
    delay = None
    preferred: list[int] | None = None
    if msg.HasField("dynamic_batching"):
        if "max_queue_delay_microseconds" not in from_dummy:
            delay = int(msg.dynamic_batching.max_queue_delay_microseconds)
        if "preferred_batch_size" not in from_dummy:
            preferred = list(msg.dynamic_batching.preferred_batch_size)
    steps = []
    if msg.HasField("ensemble_scheduling"):
        for st in msg.ensemble_scheduling.step:
            steps.append({
                "model_name": st.model_name,
                "model_version": int(st.model_version),
                "input_map": dict(st.input_map),
                "output_map": dict(st.output_map),
            })
    return {
        "name": msg.name,
        "backend": msg.backend or None,
        "platform": msg.platform or None,
        "max_batch_size": None if "max_batch_size" in from_dummy else int(msg.max_batch_size),
        "decoupled": decoupled,
        "instance_count": instance_count,
        "instance_kinds": kinds,
        "dynamic_batching": msg.HasField("dynamic_batching"),
        "preferred_batch_size": preferred,
        "max_queue_delay_microseconds": delay,
        "parameters": params,
        "inputs": [_tensor(t) for t in msg.input],
        "outputs": [_tensor(t) for t in msg.output],
        "ensemble_steps": steps,
        "instance_groups": groups,
        "dynamic_batching_detail": _dynamic_batching(msg) if msg.HasField("dynamic_batching") else None,
        "version_policy": _version_policy(msg),
        "has_ensemble_scheduling": msg.HasField("ensemble_scheduling"),
        "has_optimization": msg.HasField("optimization"),
        "model_warmup_count": len(msg.model_warmup),
        "sequence_batching": msg.HasField("sequence_batching"),
    }


def _dynamic_batching(msg) -> dict[str, Any]:
    db = msg.dynamic_batching

    def pol(p) -> dict[str, Any]:
        return {"timeout_us": int(p.default_timeout_microseconds), "action": _enum_name(p, "timeout_action", p.timeout_action)}

    return {"priority_levels": int(db.priority_levels), "default_priority_level": int(db.default_priority_level),
            "preserve_ordering": bool(db.preserve_ordering), "default_queue_policy": pol(db.default_queue_policy),
            "priority_queue_policy": {int(k): pol(v) for k, v in db.priority_queue_policy.items()}}


def _version_policy(msg) -> dict[str, Any]:
    """{"latest": n} (the default: latest 1), {"all": True} or {"specific": [v, …]}."""
    if not msg.HasField("version_policy"):
        return {"latest": 1}
    which = msg.version_policy.WhichOneof("policy_choice")
    if which == "all":
        return {"all": True}
    if which == "specific":
        return {"specific": [int(v) for v in msg.version_policy.specific.versions]}
    return {"latest": int(msg.version_policy.latest.num_versions) or 1}


def _enum_name(msg, field: str, number: int) -> str | int:
    v = msg.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number.get(number)
    return v.name if v is not None else int(number)


def _has_count(g) -> bool:
    # proto3 scalars have no presence: 0 is what an absent count reads as
    return int(g.count) != 0


def decode_config(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Text of a config.pbtxt's bytes as protobuf's text parser sees them.

    Triton's parser (C++ protobuf TextFormat) reads bytes; a comment may hold any bytes, and only
    a string value must be UTF-8.  Python's text_format wants str, so bytes that are not UTF-8
    are decoded as U+FFFD here (line and column numbers are kept: one character per byte) and each
    is reported with its line and whether it lies in a comment (harmless) or in a string."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    notes: list[dict[str, Any]] = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        try:
            raw.decode("utf-8")
            continue
        except UnicodeDecodeError as exc:
            line = raw.decode("utf-8", "replace")
            spans, comment_at = _line_layout(line)
            col = len(raw[: exc.start].decode("utf-8", "replace")) + 1
            where = "comment" if col - 1 >= comment_at else ("string" if any(a < col - 1 < b for a, b in spans) else "text")
            notes.append({"line": lineno, "col": col, "in": where})
    return text, notes


def parse_config(text: str) -> dict[str, Any]:
    """Placeholders, parse error and summary of one config.pbtxt's text.

    Returns ``{"placeholders": [...], "parse_error": "LINE:COL: message" or None,
    "parse_error_line": int or None, **summary}`` (the summary keys are None when the file does
    not parse)."""
    placeholders = scan_placeholders(text)
    msg, err = parse_text(substitute_dummies(text, placeholders))
    out: dict[str, Any] = {"placeholders": placeholders, "parse_error": None, "parse_error_line": None}
    if err is not None:
        where = f"{err['line']}:{err['col']}" if err["line"] else "?"
        out["parse_error"] = f"{where}: {err['message']}"
        out["parse_error_line"] = err["line"]
        out.update({k: None for k in ("name", "backend", "platform", "max_batch_size", "decoupled", "instance_count",
                                       "max_queue_delay_microseconds", "preferred_batch_size")})
        out.update({"parameters": {}, "inputs": [], "outputs": [], "ensemble_steps": [], "instance_kinds": [], "dynamic_batching": False,
                    "instance_groups": [], "version_policy": None, "dynamic_batching_detail": None, "has_ensemble_scheduling": False, "has_optimization": False, "model_warmup_count": 0,
                    "sequence_batching": False})
        return out
    out.update(summarize(msg, placeholders))
    return out


def fill(text: str, values: dict[str, str]) -> str:
    """What tensorrtllm_backend's tools/fill_template.py writes with ``-i``: ``string.Template``'s
    ``safe_substitute`` over the whole file (placeholders without a value stay as they are)."""
    return Template(text).safe_substitute(values)


def top_level_field_lines(text: str, field: str) -> list[int]:
    """1-based numbers of the lines where ``field:`` is set at the top level of the message (not
    inside ``{}``/``[]``/``<>``), ignoring strings and comments."""
    depth = 0
    hits = []
    pat = re.compile(rf"^\s*{re.escape(field)}\s*:")
    for lineno, line in enumerate(text.splitlines(), 1):
        if depth == 0 and pat.match(line):
            hits.append(lineno)
        spans, comment_at = _line_layout(line)
        for i, ch in enumerate(line[:comment_at]):
            if ch in "{[<>]}" and not any(a <= i <= b for a, b in spans):
                depth = depth + 1 if ch in "{[<" else max(0, depth - 1)
    return hits
