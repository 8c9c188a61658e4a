"""The LlmArgs schema of a TensorRT-LLM release, read from the text of its ``llm_args.py`` with
:mod:`ast` (never imported).

TensorRT-LLM's LLM API (``tensorrt_llm/llmapi/llm_args.py``) declares its options as pydantic
models: ``class KvCacheConfig(StrictBaseModel, …)`` with annotated fields
``free_gpu_memory_fraction: Optional[float] = Field(default=0.9, ge=…, description=…)``.
``StrictBaseModel`` sets ``extra = "forbid"`` (``class Config: extra = "forbid"`` in 0.2x/1.0,
``model_config = ConfigDict(extra="forbid")`` later), so an unknown key anywhere is a
validation error.  The YAML of ``trtllm-serve --config`` / ``--extra_llm_api_options`` and of
Triton's llmapi ``model.yaml`` are ``TorchLlmArgs`` (``LlmArgs = TorchLlmArgs``).

:func:`parse_source` turns the file's text into plain data::

    {"root": "TorchLlmArgs",
     "models": {"KvCacheConfig": {"line": 1021, "bases": ["StrictBaseModel", …], "extra": "forbid",
                                   "fields": {"free_gpu_memory_fraction": {
                                       "line": 1040, "annotation": "Optional[float]", "default": 0.9,
                                       "bounds": {"ge": 0.0, "le": 1.0}, "aliases": [], "status": None,
                                       "models": [], "types": ["float", "None"]}}}}}

and :func:`flatten` gives every dotted path (``kv_cache_config.free_gpu_memory_fraction``) with
its field.  Only what the source says literally is recorded: a default computed by a call is
``{"expr": "…"}``; a bound given as an expression is left out.
"""

from __future__ import annotations

import ast
from typing import Any

# Base classes that forbid unknown keys (defined in llm_args.py or llmapi/utils.py).
STRICT_BASES = {"StrictBaseModel"}
# pydantic constrained types → (python type, bound)
_CONSTRAINED = {
    "PositiveInt": ("int", {"gt": 0}), "NonNegativeInt": ("int", {"ge": 0}), "StrictInt": ("int", {}),
    "PositiveFloat": ("float", {"gt": 0}), "NonNegativeFloat": ("float", {"ge": 0}),
    "NegativeInt": ("int", {"lt": 0}), "StrictBool": ("bool", {}), "StrictStr": ("str", {}), "StrictFloat": ("float", {}),
}
_SCALARS = {"int", "float", "bool", "str", "bytes", "None", "NoneType", "Path", "dict", "list", "tuple", "set", "object", "Any"}
_BOUND_KEYS = ("ge", "gt", "le", "lt", "min_length", "max_length")
ROOT_CANDIDATES = ("TorchLlmArgs", "LlmArgs", "BaseLlmArgs")


def _src(node: ast.AST | None) -> str | None:
    if node is None:
        return None
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - ast.unparse handles every expression node
        return None


def _literal(node: ast.AST | None) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else None
    except Exception:
        return _NOT_LITERAL


_NOT_LITERAL = object()


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return None


def _type_parts(node: ast.AST | None, names: set[str], type_aliases: dict[str, ast.AST] | None = None
                ) -> tuple[list[str], list[str], list[Any] | None, dict]:
    """(scalar type names, model class names, Literal choices or None, implied bounds) of an annotation.
    ``type_aliases``: module-level ``X: TypeAlias = Annotated[Union[A, B], …]`` (walked in place of X)."""
    type_aliases = type_aliases or {}
    seen_alias: set[str] = set()
    types: list[str] = []
    models: list[str] = []
    literals: list[Any] | None = None
    bounds: dict = {}
    if node is None:
        return types, models, literals, bounds

    def walk(n: ast.AST) -> None:
        nonlocal literals
        if isinstance(n, ast.Constant) and n.value is None:
            types.append("None")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):  # a forward reference "KvCacheConfig"
            try:
                walk(ast.parse(n.value, mode="eval").body)
            except SyntaxError:
                types.append("Any")
        elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr):  # X | None
            walk(n.left)
            walk(n.right)
        elif isinstance(n, ast.Subscript):
            head = _name(n.value)
            sl = n.slice
            args = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
            if head in ("Optional",):
                types.append("None")
                for a in args:
                    walk(a)
            elif head in ("Union",):
                for a in args:
                    walk(a)
            elif head == "Literal":
                vals = [_literal(a) for a in args]
                literals = (literals or []) + [v for v in vals if v is not _NOT_LITERAL]
                types.extend(sorted({type(v).__name__ for v in vals if v is not _NOT_LITERAL and v is not None}))
            elif head == "Annotated":
                if args:
                    walk(args[0])
            elif head in ("List", "list", "Sequence", "Tuple", "tuple", "Set", "set"):
                types.append("list")
            elif head in ("Dict", "dict", "Mapping"):
                types.append("dict")
            elif head == "Type":
                types.append("Any")
            else:
                types.append("Any")
        else:
            nm = _name(n)
            if nm is None:
                types.append("Any")
            elif isinstance(n, ast.Name) and nm in type_aliases and nm not in seen_alias:
                seen_alias.add(nm)
                walk(type_aliases[nm])
            elif nm in _CONSTRAINED:
                t, b = _CONSTRAINED[nm]
                types.append(t)
                bounds.update(b)
            elif nm in names:
                models.append(nm)
            elif nm in _SCALARS:
                types.append({"NoneType": "None", "Path": "str"}.get(nm, nm))
            else:
                types.append("Any")  # an enum, a class from another module, a type alias: not checked here

    walk(node)
    return sorted(set(types)), sorted(set(models)), literals, bounds


def _field_call(value: ast.AST | None) -> ast.Call | None:
    if isinstance(value, ast.Call) and _name(value.func) in ("Field", "PydanticField"):
        return value
    return None


def _class_extra(cls: ast.ClassDef) -> str | None:
    """``extra`` set in the class body itself: ``class Config: extra = "forbid"`` or
    ``model_config = ConfigDict(extra="forbid", …)``."""
    for st in cls.body:
        if isinstance(st, ast.ClassDef) and st.name == "Config":
            for s in st.body:
                if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "extra" for t in s.targets):
                    v = _literal(s.value)
                    return v if isinstance(v, str) else None
        if isinstance(st, (ast.Assign, ast.AnnAssign)):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets) and isinstance(st.value, ast.Call):
                for kw in st.value.keywords:
                    if kw.arg == "extra":
                        v = _literal(kw.value)
                        return v if isinstance(v, str) else None
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets) and isinstance(st.value, ast.Dict):
                for k, v in zip(st.value.keys, st.value.values):  # model_config = {"extra": "forbid", …}
                    if isinstance(k, ast.Constant) and k.value == "extra":
                        lv = _literal(v)
                        return lv if isinstance(lv, str) else None
    return None


def parse_source(text: str, filename: str = "llm_args.py") -> dict[str, Any]:
    """The schema in ``text`` (see the module docstring).  Raises SyntaxError for text that is not Python."""
    tree = ast.parse(text, filename=filename)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    names = {c.name for c in classes}
    aliases: dict[str, str] = {}
    for st in tree.body:  # LlmArgs = TorchLlmArgs; CudaGraphConfig = DecodeCudaGraphConfig
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name) and isinstance(st.value, ast.Name):
            if st.value.id in names:
                aliases[st.targets[0].id] = st.value.id
    type_aliases: dict[str, ast.AST] = {}
    for st in tree.body:
        if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and _name(st.annotation) == "TypeAlias" and st.value is not None:
            type_aliases[st.target.id] = st.value
        elif (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
              and isinstance(st.value, ast.Subscript) and _name(st.value.value) in ("Annotated", "Union", "Optional")):
            type_aliases[st.targets[0].id] = st.value
    known = names | set(aliases)
    models: dict[str, Any] = {}
    for cls in classes:
        bases = [b for b in (_name(x) for x in cls.bases) if b]
        fields: dict[str, Any] = {}
        classvars: list[str] = []
        for st in cls.body:
            if not isinstance(st, ast.AnnAssign) or not isinstance(st.target, ast.Name):
                continue
            fname = st.target.id
            ann = st.annotation
            if _name(ann) == "ClassVar" and not fname.startswith("_"):
                classvars.append(fname)  # e.g. decoding_type of the 0.2x speculative configs
            if fname.startswith("_") or fname == "model_config" or _name(ann) == "ClassVar":
                continue
            if isinstance(st.value, ast.Call) and _name(st.value.func) == "PrivateAttr":
                continue
            types, mods, literals, bounds = _type_parts(ann, known, type_aliases)
            mods = [aliases.get(m, m) for m in mods]
            entry: dict[str, Any] = {"line": st.lineno, "annotation": _src(ann), "types": types, "models": mods,
                                     "bounds": dict(bounds), "aliases": [], "status": None, "required": False}
            if literals is not None:
                entry["choices"] = literals
            call = _field_call(st.value)
            if call is not None:
                default_node = call.args[0] if call.args else None
                kws = {k.arg: k.value for k in call.keywords if k.arg}
                if "default" in kws:
                    default_node = kws["default"]
                if default_node is not None:
                    d = _literal(default_node)
                    if d is Ellipsis:
                        entry["required"] = True
                    else:
                        entry["default"] = d if d is not _NOT_LITERAL else {"expr": _src(default_node)}
                elif "default_factory" in kws:
                    entry["default"] = {"factory": _src(kws["default_factory"])}
                else:
                    entry["required"] = True
                for b in _BOUND_KEYS:
                    if b in kws:
                        v = _literal(kws[b])
                        if isinstance(v, (int, float)) and not isinstance(v, bool):
                            entry["bounds"][b] = v
                for a in ("alias", "validation_alias", "serialization_alias"):
                    if a in kws:
                        v = _literal(kws[a])
                        if isinstance(v, str):
                            entry["aliases"].append(v)
                        elif isinstance(kws[a], ast.Call) and _name(kws[a].func) == "AliasChoices":
                            entry["aliases"].extend(x for x in (_literal(e) for e in kws[a].args) if isinstance(x, str))
                if "status" in kws:
                    s = _literal(kws["status"])
                    entry["status"] = s if isinstance(s, str) else None
                if "choices" in kws:
                    ch = _literal(kws["choices"])
                    if isinstance(ch, (list, tuple)):
                        entry["choices"] = list(ch)
            elif st.value is None:
                entry["required"] = True
            else:
                d = _literal(st.value)
                entry["default"] = d if d is not _NOT_LITERAL else {"expr": _src(st.value)}
            entry["aliases"] = sorted(set(entry["aliases"]) - {fname})
            fields[fname] = entry
        models[cls.name] = {"line": cls.lineno, "bases": bases, "extra_own": _class_extra(cls), "fields": fields, "classvars": classvars}
    # resolve inheritance (bases defined in the file), extra, and the root
    resolved: dict[str, Any] = {}

    def resolve(name: str, seen: tuple = ()) -> dict[str, Any]:
        if name in resolved:
            return resolved[name]
        m = models[name]
        fields: dict[str, Any] = {}
        extra = None
        classvars = list(m["classvars"])
        for b in m["bases"]:
            b = aliases.get(b, b)
            if b in models and b not in seen:
                rb = resolve(b, seen + (name,))
                fields.update({k: dict(v, inherited_from=v.get("inherited_from") or b) for k, v in rb["fields"].items()})
                classvars += [c for c in rb.get("classvars", []) if c not in classvars]
                if rb["extra"] != "ignore" or rb["extra_declared"]:
                    extra = extra or rb["extra"]
            elif b in STRICT_BASES:
                extra = extra or "forbid"
        fields.update(m["fields"])
        extra = m["extra_own"] or extra
        pydantic = extra is not None or any(b in ("BaseModel", "StrictBaseModel") for b in m["bases"]) or any(
            resolve(aliases.get(b, b), seen + (name,))["pydantic"] for b in m["bases"] if aliases.get(b, b) in models and b not in seen)
        out = {"line": m["line"], "bases": m["bases"], "extra": extra or ("ignore" if pydantic else None), "pydantic": pydantic,
               "extra_declared": extra is not None, "fields": fields, "classvars": classvars}
        resolved[name] = out
        return out

    for n in models:
        resolve(n)
    merge = merge_semantics(tree)
    # The YAML of trtllm-serve's default (pytorch) backend and of the llmapi model is TorchLlmArgs;
    # before 1.0 `LlmArgs` was TrtLlmArgs (the TensorRT backend's).
    roots = {k: v for k, v in (("pytorch", "TorchLlmArgs"), ("tensorrt", "TrtLlmArgs")) if v in resolved}
    root = roots.get("pytorch") or (aliases.get("LlmArgs") if aliases.get("LlmArgs") in resolved else next((c for c in ROOT_CANDIDATES if c in resolved), None))
    return {"root": root, "roots": roots, "aliases": aliases, "merge": merge,
            "models": {n: {k: v for k, v in m.items() if k not in ("pydantic", "extra_declared") and (k != "classvars" or v)}
                       for n, m in resolved.items() if m["pydantic"]}}


def merge_semantics(tree: ast.Module) -> dict[str, Any] | None:
    """How ``update_llm_args_with_extra_dict`` merges the YAML into the CLI's llm_args, when the
    module defines it (llm_args.py on the 2026 main; llm_utils.py before):
    ``kv_cache_deep_merge`` (``base_kv_config | yaml kv_cache_config``: the YAML no longer replaces
    the CLI's kv_cache_config whole) and ``explicit_cli_wins`` (an ``explicit_cli_keys`` parameter:
    flags typed on the command line override the YAML)."""
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "update_llm_args_with_extra_dict":
            params = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
            names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
            return {"line": fn.lineno, "kv_cache_deep_merge": "base_kv_config" in names,
                    "explicit_cli_wins": "explicit_cli_keys" in params}
    return None


def flatten(schema: dict[str, Any], root: str | None = None, max_depth: int = 6) -> dict[str, dict[str, Any]]:
    """Every dotted path under ``root`` (default: the schema's root) → its field entry, plus
    ``"model"`` (the class that declares it) and ``"extra"`` (that class's extra policy)."""
    models = schema.get("models") or {}
    out: dict[str, dict[str, Any]] = {}

    def walk(model: str, prefix: str, depth: int, stack: tuple) -> None:
        m = models.get(model)
        if not m or depth > max_depth:
            return
        for fname, f in m["fields"].items():
            path = prefix + fname
            entry = dict(f, model=model, extra=m.get("extra"))
            prev = out.get(path)
            if prev is not None and prev.get("model") != model:
                # the same key in two alternatives of a union (speculative_config's decoding_type …):
                # accept what either accepts
                entry["types"] = sorted(set(prev.get("types") or []) | set(entry.get("types") or []))
                entry["models"] = sorted(set(prev.get("models") or []) | set(entry.get("models") or []))
                if "choices" in prev or "choices" in entry:
                    if "choices" in prev and "choices" in entry:
                        entry["choices"] = list(prev["choices"]) + [c for c in entry["choices"] if c not in prev["choices"]]
                    else:
                        entry.pop("choices", None)
                if prev.get("bounds") != entry.get("bounds"):
                    entry["bounds"] = {}
                entry["model"] = prev["model"] + "|" + model
            out[path] = entry
            for sub in f.get("models") or []:
                if sub not in stack:
                    walk(sub, path + ".", depth + 1, stack + (sub,))

    r = root or schema.get("root")
    if r:
        walk(r, "", 0, (r,))
    return out
