"""`fix --set KEY=VALUE`: each value checked and quoted for the field its placeholder fills.

Pure: from the parsed model repository (the ``triton.repo`` fact: each model's placeholders with
whether they sit inside a string and which protobuf field they are the value of).

- Inside a string (``string_value: "${tokenizer_dir}"``): the value is written escaped for
  Triton's text format (``\\`` and quotes escaped; Triton reads backslashes as escapes), so that
  it can never end the string.  A newline, a control character or a ``$`` before a name, ``{`` or ``$`` (the next fill would
  read it as a placeholder, so a second identical apply would change the file again) is refused.
- Outside a string (``max_batch_size: ${triton_max_batch_size}``): the value must be a literal of
  the field's type in Triton's ModelConfig schema: an integer (in the field's range), a float,
  ``true``/``false`` or an enum name; anything else could add text outside the field.
- A key that no model of the repository has as a placeholder or as a parameter name, and that is
  none of the values trtdiag derives itself, is unknown: refused (a typo would otherwise fill
  nothing, silently).  With the per-release template table (``trtdiag/data/backend_templates.json``)
  present, its placeholder names are known too.

:func:`checked_values` returns the values to fill (quoted) or raises
:class:`~trtdiag.core.errors.UsageError` naming the key, the file and the reason.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ..core.errors import UsageError

DERIVED = ("triton_max_batch_size", "max_beam_width", "batching_strategy", "engine_dir", "tokenizer_dir", "tensorrt_llm_model_name")
_INT = re.compile(r"^[+-]?\d{1,20}$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$")
_ENUM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BOOL = ("true", "false", "True", "False", "1", "0")


def _template_names() -> set[str]:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "backend_templates.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return set()
    names: set[str] = set()
    for rel in (data.get("releases") or {}).values() if isinstance(data, dict) else []:
        for m in (rel.get("models") or {}).values() if isinstance(rel, dict) else []:
            for p in m.get("placeholders") or [] if isinstance(m, dict) else []:
                n = p.get("placeholder") if isinstance(p, dict) else None
                if isinstance(n, str):
                    names.add(n)
    return names


def _field_type(field: str | None):
    from ..parsers import pbtxt

    try:
        return pbtxt._field_types().get(field or "")
    except Exception:  # no schema available: the literal check below still holds
        return None


def quote_string(value: str) -> str:
    """``value`` as it must stand between the quotes of a text-format string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def _check_bare(key: str, value: str, field: str | None, where: str) -> str:
    from google.protobuf.descriptor import FieldDescriptor as FD

    t = _field_type(field)
    v = value.strip()
    what = f"--set {key}={value!r}: {where} uses ${{{key}}} as the value of {field or 'a field'}"
    if t in (FD.CPPTYPE_INT32, FD.CPPTYPE_INT64, FD.CPPTYPE_UINT32, FD.CPPTYPE_UINT64):
        if not _INT.match(v):
            raise UsageError(f"{what}, an integer: {value!r} is not one")
        n = int(v)
        lo, hi = {FD.CPPTYPE_INT32: (-(2**31), 2**31 - 1), FD.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
                  FD.CPPTYPE_UINT32: (0, 2**32 - 1), FD.CPPTYPE_UINT64: (0, 2**64 - 1)}[t]
        if not lo <= n <= hi:
            raise UsageError(f"{what}, an integer from {lo} to {hi}")
        return v
    if t == FD.CPPTYPE_BOOL:
        if v not in _BOOL:
            raise UsageError(f"{what}, true or false: {value!r} is neither")
        return v
    if t in (FD.CPPTYPE_FLOAT, FD.CPPTYPE_DOUBLE):
        if not _FLOAT.match(v):
            raise UsageError(f"{what}, a number: {value!r} is not one")
        return v
    if t == FD.CPPTYPE_ENUM:
        if not _ENUM.match(v):
            raise UsageError(f"{what}, an enum name: {value!r} is not one")
        return v
    # a field the schema does not name (or a string field written bare): only a plain literal
    if _INT.match(v) or _FLOAT.match(v) or _ENUM.match(v):
        return v
    raise UsageError(f"{what}: only a number, true/false or a name can stand there, not {value!r}")


def checked_values(values: dict[str, str], repo: dict[str, Any] | None) -> dict[str, str]:
    """The --set values, quoted for where they go; UsageError for an unknown key or a value that
    does not fit its field (before anything is planned or written)."""
    user = {k: v for k, v in values.items() if not k.startswith("__")}
    if not user:
        return dict(values)
    models = (repo or {}).get("models") or {} if isinstance(repo, dict) else {}
    files = sorted({m.get("config_path") for m in models.values() if isinstance(m, dict) and m.get("config_path")})
    places: dict[str, list[tuple[dict, str]]] = {}
    params: set[str] = set()
    for m in models.values():
        if not isinstance(m, dict):
            continue
        for p in m.get("placeholders") or []:
            if isinstance(p, dict) and isinstance(p.get("name"), str):
                places.setdefault(p["name"], []).append((p, str(m.get("config_path"))))
        params |= {k for k in (m.get("parameters") or {}) if isinstance(k, str)}
    known = set(places) | params | set(DERIVED) | _template_names()
    out = dict(values)
    for key, value in user.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(f"--set {key}=…: not a placeholder name (letters, digits and _)")
        if key not in known:
            import difflib

            near = difflib.get_close_matches(key, sorted(known), n=1)
            where = f"the config.pbtxt files of {repo.get('root')}" if files and isinstance(repo, dict) else "no model repository (give --model-repo)"
            raise UsageError(f"--set {key}: unknown: no ${{{key}}} placeholder and no parameter named {key} in {where}"
                             + (f" (did you mean {near[0]}?)" if near else "") + "; nothing was changed")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise UsageError(f"--set {key}: the value holds a newline or a control character; nothing was changed")
        if re.search(r"\$(?:[A-Za-z_{]|\$)", value):
            # string.Template (fill_template.py's and trtdiag's fill) reads $name, ${name} and $$:
            # the next fill would change the value, so a second identical apply would change the file
            raise UsageError(f"--set {key}: the value holds '$' before a name, '{{' or '$', which the next fill would read as a placeholder; nothing was changed")
        ctx = places.get(key, [])
        in_string = [w for p, w in ctx if p.get("in_string")]
        bare = [(p, w) for p, w in ctx if not p.get("in_string")]
        if in_string and bare:
            raise UsageError(f"--set {key}: ${{{key}}} is inside a string in {in_string[0]} and a bare value in {bare[0][1]}; "
                             "fill those files one at a time")
        if bare:
            for p, w in bare:
                out[key] = _check_bare(key, value, p.get("field"), w)
        elif in_string:
            out[key] = quote_string(value)
    return out
