"""Replay of a model repository's own preprocessing/postprocessing ``1/model.py``.

With ``--load-tokenizer`` trtdiag runs the repository's real ``TritonPythonModel.initialize()``
(and, where cheap, one ``execute()`` of a short request) in a child process of the target
interpreter (``--python``), with a timeout, ``HF_HUB_OFFLINE=1``/``TRANSFORMERS_OFFLINE=1``, a
throw-away ``HF_MODULES_CACHE`` and no network, and reports what it raised or the ids it set
(``tokenizer_end_id``/``tokenizer_pad_id``/``pad_id``) beside the tokenizer's own eos/pad ids and
generation_config.json's.

**Stand-in.**  Triton's python backend gives model.py the module ``triton_python_backend_utils``
from inside tritonserver.  The child puts a *stand-in* of that module first on ``sys.path``
(:data:`STANDIN`): the few functions model.py calls at initialize (``get_input_config_by_name``,
``get_output_config_by_name``, ``triton_string_to_numpy``) and plain ``Tensor``/
``InferenceResponse``/``TritonError`` classes for execute.  It is not Triton; it is only enough
for model.py's tokenizer code to run as it does in the server.  ``args`` is the dict Triton
passes: ``model_config`` is the config.pbtxt as JSON (Triton's ModelConfig message, proto field
names), as the python backend hands it over.

**Remote code.**  The child never runs code from the tokenizer directory unless the caller says so
(``allow_remote_code``, i.e. ``--trust-remote-code``): transformers' dynamic-module loader is
replaced by one that stops the replay with a ``remote-code-blocked`` outcome, and imports of
``transformers_modules.*`` are refused.  model.py's own ``trust_remote_code=True`` therefore does
not open the door by itself.

Pure helpers (:func:`model_config_json`, :func:`compare_ids`) take plain data; :func:`replay` is
the only I/O (one child process per call; ``cases`` lets a harness run several model.py files of
one tokenizer in one child).
"""

from __future__ import annotations

import json
import os
import tempfile

STANDIN = r'''"""STAND-IN for Triton's triton_python_backend_utils, written by trtdiag for its replay of
model.py (not Triton's module): only what tensorrtllm_backend's preprocessing/postprocessing
model.py call, so that their tokenizer code runs as in the server."""
import json
import numpy as np

TRITON_STRING_TO_NUMPY = {
    "TYPE_BOOL": bool, "TYPE_UINT8": np.uint8, "TYPE_UINT16": np.uint16, "TYPE_UINT32": np.uint32,
    "TYPE_UINT64": np.uint64, "TYPE_INT8": np.int8, "TYPE_INT16": np.int16, "TYPE_INT32": np.int32,
    "TYPE_INT64": np.int64, "TYPE_FP16": np.float16, "TYPE_FP32": np.float32, "TYPE_FP64": np.float64,
    "TYPE_STRING": np.object_, "TYPE_BF16": np.float32,
}


def triton_string_to_numpy(triton_type_string):
    return TRITON_STRING_TO_NUMPY[triton_type_string]


def _by_name(model_config, key, name):
    for t in model_config.get(key, []) or []:
        if t.get("name") == name:
            return t
    return None


def get_input_config_by_name(model_config, name):
    return _by_name(model_config, "input", name)


def get_output_config_by_name(model_config, name):
    return _by_name(model_config, "output", name)


def using_decoupled_model_transaction_policy(model_config):
    return bool((model_config.get("model_transaction_policy") or {}).get("decoupled"))


class TritonError(Exception):
    def __init__(self, msg="", code=None):
        super().__init__(msg)
        self._msg = msg
    def message(self):
        return self._msg


class TritonModelException(Exception):
    pass


class Tensor:
    def __init__(self, name, data):
        self._name = name
        self._data = data
    def name(self):
        return self._name
    def as_numpy(self):
        return self._data
    def is_cpu(self):
        return True


class InferenceRequest:
    def __init__(self, inputs=None, **kwargs):
        self._inputs = {t.name(): t for t in inputs or []}
        self._kwargs = kwargs
    def inputs(self):
        return list(self._inputs.values())
    def requested_output_names(self):
        return []
    def is_cancelled(self):
        return False
    def get_response_sender(self):
        return None


class InferenceResponse:
    def __init__(self, output_tensors=None, error=None, **kwargs):
        self._outputs = list(output_tensors or [])
        self._error = error
    def output_tensors(self):
        return self._outputs
    def has_error(self):
        return self._error is not None
    def error(self):
        return self._error


def get_input_tensor_by_name(request, name):
    return request._inputs.get(name)


def get_output_tensor_by_name(response, name):
    for t in response.output_tensors():
        if t.name() == name:
            return t
    return None


class Logger:
    @staticmethod
    def log(msg, level=None): pass
    log_info = log_warn = log_error = log_verbose = log
'''

CHILD = r'''
import importlib.util, json, os, sys, time, traceback, types
spec = json.load(open(sys.argv[1]))
sys.path.insert(0, spec["standin_dir"])


def install_stubs():
    """Empty stand-in modules for what model.py imports at module level but the venv lacks
    (harness use only); installed after transformers is imported, so transformers still sees the
    module as absent."""
    import importlib.machinery
    for name, subs in (spec.get("stub_modules") or {}).items():
        try:
            __import__(name)  # the real module wins where it is installed
            continue
        except Exception:
            pass
        for part in [name] + list(subs):
            mod = types.ModuleType(part)
            mod.__spec__ = importlib.machinery.ModuleSpec(part, None)
            mod.__trtdiag_standin__ = True
            sys.modules[part] = mod
            if "." in part:
                setattr(sys.modules[part.rsplit(".", 1)[0]], part.rsplit(".", 1)[1], mod)
        for part, attrs in (spec.get("stub_attrs") or {}).items():
            if part in sys.modules and getattr(sys.modules[part], "__trtdiag_standin__", False):
                for a in attrs:
                    setattr(sys.modules[part], a, lambda *a, **k: None)
        out.setdefault("stand_in_modules", []).append(name)


class RemoteCodeBlocked(BaseException):
    pass


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "transformers_modules" or name.startswith("transformers_modules."):
            raise RemoteCodeBlocked(name)
        return None


out = {"python": sys.version.split()[0], "cases": []}
try:
    import transformers
    out["transformers"] = transformers.__version__
    if not spec.get("allow_remote_code"):
        sys.meta_path.insert(0, _Block())
        import transformers.dynamic_module_utils as dmu
        def _blocked(*a, **k):
            raise RemoteCodeBlocked(str(a[0]) if a else "remote code")
        dmu.get_class_in_module = _blocked
        dmu.get_class_from_dynamic_module = _blocked
        for modname in ("transformers.models.auto.tokenization_auto", "transformers.models.auto.configuration_auto",
                        "transformers.models.auto.auto_factory"):
            try:
                m = importlib.import_module(modname)
                if hasattr(m, "get_class_from_dynamic_module"):
                    m.get_class_from_dynamic_module = _blocked
            except Exception:
                pass
    install_stubs()
except Exception as e:
    out["error"] = "import transformers: %s: %s" % (type(e).__name__, e)
    print(json.dumps(out)); sys.exit(0)


def exc_info(e, model_py):
    tb = traceback.extract_tb(e.__traceback__)
    where = None
    for fr in tb:
        if os.path.abspath(fr.filename) == os.path.abspath(model_py):
            where = {"line": fr.lineno, "code": (fr.line or "").strip()}
    last = tb[-1] if tb else None
    msg = str(e)
    return {"type": type(e).__name__, "message": msg[:4000], "first_line": (msg.strip().splitlines() or [""])[0][:500],
            "model_py_frame": where,
            "raised_in": ({"file": os.path.basename(last.filename), "line": last.lineno, "function": last.name} if last else None)}


def tok_facts(tok):
    d = {"class": type(tok).__name__}
    for k in ("eos_token", "pad_token", "bos_token", "unk_token"):
        try:
            v = getattr(tok, k, None)
            d[k] = v if v is None or isinstance(v, str) else str(v)
        except BaseException as e:
            d[k + "_error"] = "%s: %s" % (type(e).__name__, e)
    for k in ("eos_token", "pad_token"):
        try:
            v = getattr(tok, k, None)
            if isinstance(v, str):
                i = tok.convert_tokens_to_ids(v)
                d[k + "_as_id"] = i if isinstance(i, int) else None
        except BaseException:
            pass
    for k in ("eos_token_id", "pad_token_id", "bos_token_id"):
        try:
            v = getattr(tok, k, None)
            d[k] = v if v is None or isinstance(v, int) else str(v)
        except BaseException as e:
            d[k + "_error"] = "%s: %s" % (type(e).__name__, e)
    return d


def run_case(case):
    r = {"id": case.get("id")}
    model_py = case["model_py"]
    mdir = os.path.dirname(model_py)
    sys.path.insert(0, mdir)
    t0 = time.time()
    try:
        modname = "trtdiag_replay_model_%d" % len(out["cases"])
        sp = importlib.util.spec_from_file_location(modname, model_py)
        mod = importlib.util.module_from_spec(sp)
        sp.loader.exec_module(mod)
        model = mod.TritonPythonModel()
        args = {"model_config": case["model_config"], "model_instance_kind": "CPU", "model_instance_name": case.get("model_name", "model") + "_0_0",
                "model_instance_device_id": "0", "model_repository": os.path.dirname(mdir), "model_version": "1",
                "model_name": case.get("model_name", "model")}
        model.initialize(args)
        r["initialize"] = "ok"
    except RemoteCodeBlocked as e:
        r["initialize"] = "remote-code-blocked"
        r["blocked"] = str(e)
        return r
    except BaseException as e:
        r["initialize"] = "raised"
        r["exception"] = exc_info(e, model_py)
        return r
    finally:
        r["seconds"] = round(time.time() - t0, 2)
        try:
            sys.path.remove(mdir)
        except ValueError:
            pass
    ids = {}
    for k in ("tokenizer_end_id", "tokenizer_pad_id", "pad_id", "end_id", "tokenizer_bos_id"):
        v = getattr(model, k, None)
        if isinstance(v, int) or (v is not None and type(v).__name__.startswith("int")):
            ids[k] = int(v)
    r["ids"] = ids
    tok = getattr(model, "tokenizer", None)
    if tok is not None:
        r["tokenizer"] = tok_facts(tok)
    if case.get("execute") and tok is not None:
        r["execute"] = run_execute(model, case)
    return r


def run_execute(model, case):
    import numpy as np
    pb = importlib.import_module("triton_python_backend_utils")
    kind = case.get("model_kind")
    try:
        cfg = json.loads(case["model_config"])
        ids = list(range(10, 18))  # ordinary ids of any vocabulary; the request itself runs no tokenizer code
        known = {"QUERY": np.array([[b"Hello world"]], dtype=object),
                 "BAD_WORDS_DICT": np.array([[b""]], dtype=object), "STOP_WORDS_DICT": np.array([[b""]], dtype=object),
                 "REQUEST_OUTPUT_LEN": np.array([[8]]), "TOKENS_BATCH": np.array([[ids]]),
                 "SEQUENCE_LENGTH": np.array([[len(ids)]]), "CUM_LOG_PROBS": np.zeros((1, 1)),
                 "OUTPUT_LOG_PROBS": np.zeros((1, 1, len(ids)))}
        if kind not in ("preprocessing", "postprocessing"):
            return {"skipped": "no short request known for this model"}
        inputs = []
        for t in cfg.get("input", []):
            if t.get("optional") and kind == "preprocessing":
                continue  # optional preprocessing inputs change what is asked (END_ID, PAD_ID, images)
            dt = pb.triton_string_to_numpy(t.get("data_type", "TYPE_INT32"))
            v = known.get(t["name"])
            if v is None:
                v = np.zeros((1, 1, 1) if kind == "postprocessing" else (1, 1), dtype=dt) if dt is not np.object_ else np.array([[b""]], dtype=object)
            inputs.append(pb.Tensor(t["name"], v if dt is np.object_ else v.astype(dt)))
        responses = model.execute([pb.InferenceRequest(inputs)])
        resp = responses[0] if responses else None
        if resp is not None and resp.has_error():
            err = resp.error()
            return {"ok": False, "error": getattr(err, "message", lambda: str(err))()}
        outs = {t.name(): (t.as_numpy().tolist() if hasattr(t.as_numpy(), "tolist") else str(t.as_numpy())) for t in (resp.output_tensors() if resp else [])}
        short = {k: (v if len(json.dumps(v, default=str)) < 400 else "...") for k, v in outs.items()}
        return {"ok": True, "outputs": json.loads(json.dumps(short, default=lambda o: o.decode("utf-8", "replace") if isinstance(o, bytes) else str(o)))}
    except RemoteCodeBlocked as e:
        return {"ok": None, "blocked": str(e)}
    except BaseException as e:
        return {"ok": False, "exception": exc_info(e, case["model_py"])}


import signal
for case in spec["cases"]:
    try:
        out["cases"].append(run_case(case))
        if hasattr(signal, "alarm"):
            signal.alarm(0)  # transformers' trust_remote_code prompt arms a 15 s alarm that would fire in the next case
    except BaseException as e:
        out["cases"].append({"id": case.get("id"), "initialize": "harness-error", "exception": {"type": type(e).__name__, "message": str(e)}})
print(json.dumps(out, default=str))
'''

# Modules the matrix harness (never the replay of a user's repository) may replace by empty stand-in
# modules when the venv has no real one: imported at module level by some model.py, unused by their
# tokenizer code.  name -> submodules created with it.
MATRIX_STUBS = {
    "tensorrt": [],
    "torch": ["torch.nn", "torch.nn.utils", "torch.nn.utils.rnn", "torch.utils", "torch.utils.dlpack"],
}
MATRIX_STUB_ATTRS = {"torch.nn.utils.rnn": ["pad_sequence"], "torch.utils.dlpack": ["from_dlpack"]}


# --------------------------------------------------------------------------- pure helpers
def model_config_json(pbtxt_text: str, parameters: dict[str, str] | None = None) -> str:
    """The config.pbtxt as the JSON string the python backend passes in ``args['model_config']``
    (Triton's ModelConfig message with proto field names); ``parameters`` overrides/sets
    ``parameters { key: … string_value: … }`` entries.  Placeholders outside strings get dummies
    of their field's type (as :func:`trtdiag.parsers.pbtxt.parse_config` does)."""
    from google.protobuf import json_format

    from ..parsers.pbtxt import parse_text, scan_placeholders, substitute_dummies

    msg, err = parse_text(substitute_dummies(pbtxt_text, scan_placeholders(pbtxt_text)))
    if msg is None:
        raise ValueError(f"config.pbtxt does not parse: {err}")
    for k, v in (parameters or {}).items():
        msg.parameters[k].string_value = v
    try:
        d = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    except TypeError:  # pragma: no cover - very old protobuf
        d = json_format.MessageToDict(msg)
    return json.dumps(d)


def _first_int(v):
    if isinstance(v, list):
        v = v[0] if v else None
    return v if isinstance(v, int) else None


def compare_ids(case: dict, generation_config: dict | None) -> list[dict]:
    """Ids model.py set that differ from the tokenizer's own eos/pad id (after model.py ran) and
    from generation_config.json's: ``[{"attr", "value", "expected", "source"}]``.

    ``tokenizer_end_id`` is compared with the eos id (generation_config.json's ``eos_token_id``
    where it has one, else the tokenizer's ``eos_token_id``); ``tokenizer_pad_id``/``pad_id``
    with the pad id (generation_config's ``pad_token_id``, else the tokenizer's, else the eos id,
    which model.py itself uses as pad when there is none)."""
    ids = case.get("ids") or {}
    tok = case.get("tokenizer") or {}
    gen = generation_config or {}
    eos = _first_int(gen.get("eos_token_id"))
    eos_src = "generation_config.json eos_token_id"
    if eos is None:
        eos, eos_src = _first_int(tok.get("eos_token_id")), f"{tok.get('class', 'tokenizer')}.eos_token_id"
    pad = _first_int(gen.get("pad_token_id"))
    pad_src = "generation_config.json pad_token_id"
    if pad is None:
        pad, pad_src = _first_int(tok.get("pad_token_id")), f"{tok.get('class', 'tokenizer')}.pad_token_id"
    if pad is None:
        pad, pad_src = eos, eos_src
    out = []
    for attr, want, src, token in (("tokenizer_end_id", eos, eos_src, "eos_token"), ("end_id", eos, eos_src, "eos_token"),
                                   ("tokenizer_pad_id", pad, pad_src, "pad_token"), ("pad_id", pad, pad_src, "pad_token")):
        if attr not in ids or want is None or ids[attr] == want:
            continue
        # the id of the token text the tokenizer itself names (convert_tokens_to_ids) is right too
        if tok.get(token + "_as_id") is not None and ids[attr] == tok[token + "_as_id"]:
            continue
        out.append({"attr": attr, "value": ids[attr], "expected": want, "source": src})
    return out


# --------------------------------------------------------------------------- the child
def child_env(tmp: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                "HF_MODULES_CACHE": os.path.join(tmp, "modules"), "HF_HOME": os.path.join(tmp, "hf"),
                "TOKENIZERS_PARALLELISM": "false", "TRANSFORMERS_VERBOSITY": "error",
                "no_proxy": "*", "NO_PROXY": "*", "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})
    return env


def replay(cases: list[dict], python: str | None = None, allow_remote_code: bool = False, timeout: float = 120.0,
           stub_modules: dict | None = None) -> dict:
    """Run each case's model.py initialize() (+ execute() when ``case['execute']``) in ONE child of
    ``python``.  A case: ``{"id", "model_py", "model_config" (JSON string), "model_name",
    "model_kind": "preprocessing"|"postprocessing", "execute": bool}``.  Returns the child's
    ``{"python", "transformers", "cases": [...]}`` or ``{"error": "…"}``."""
    from .. import proc

    with tempfile.TemporaryDirectory(prefix="trtdiag-replay-") as tmp:
        standin = os.path.join(tmp, "standin")
        os.makedirs(standin)
        with open(os.path.join(standin, "triton_python_backend_utils.py"), "w") as fh:
            fh.write(STANDIN)
        spec = {"standin_dir": standin, "cases": cases, "allow_remote_code": bool(allow_remote_code),
                "stub_modules": stub_modules or {}, "stub_attrs": MATRIX_STUB_ATTRS if stub_modules else {}}
        spec_path = os.path.join(tmp, "spec.json")
        with open(spec_path, "w") as fh:
            json.dump(spec, fh)
        data, res = proc.run_python_json(CHILD, python, timeout=timeout, env=child_env(tmp), args=[spec_path])
    if data is None:
        tail = (res.stderr or res.error or "").strip().splitlines()[-3:]
        return {"error": ("timed out after %gs" % timeout if res.timed_out else f"child exited {res.returncode}")
                + (": " + " | ".join(tail) if tail else "")}
    return data


# --------------------------------------------------------------------------- a repository's targets
def model_kind(model_py_text: str) -> str:
    """'postprocessing' for a model.py that decodes TOKENS_BATCH, else 'preprocessing'."""
    return "postprocessing" if "TOKENS_BATCH" in model_py_text else "preprocessing"


def execute_verdict(result: dict, tokenizer_class: str | None) -> dict | None:
    """What one replayed execute() says about the tokenizer: ``{"fails": True, "exception", "line"}``
    when it raised in tokenizer code or on the tokenizer object; ``{"fails": False}`` when it ran;
    None when it could not be judged (the stand-in request lacked something model.py wanted)."""
    ex = result.get("execute")
    if not ex or ex.get("skipped") or ex.get("blocked"):
        return None
    if ex.get("ok"):
        return {"fails": False}
    e = ex.get("exception") or {}
    where = (e.get("raised_in") or {}).get("file") or ""
    msg = e.get("first_line") or ""
    if "'TritonPythonModel' object has no attribute" in msg:
        return None  # a model.py without execute(): nothing to judge
    on_tokenizer = bool(tokenizer_class and tokenizer_class in msg) or where.startswith("tokeniz") or (
        bool(tokenizer_class) and where.lower().startswith("tokenization_"))
    if not on_tokenizer:
        return None
    return {"fails": True, "exception": f"{e.get('type')}: {msg}", "line": (e.get("model_py_frame") or {}).get("line"),
            "code": (e.get("model_py_frame") or {}).get("code")}


def replay_targets(targets: list[dict], python: str | None, trust_remote_code: bool, timeout: float = 120.0) -> list[dict | None]:
    """Replay each target of the ``tokenizer.static`` fact (``model_py``, ``config_path``,
    ``tokenizer_dir``, ``dir_source``) in its own child: the repository's real model.py
    initialize() and one short execute().  Returns, per target, None (nothing to replay) or
    ``{"python", "transformers", "initialize": "ok"|"raised"|"remote-code-blocked"|…, "cause",
    "exception", "ids", "tokenizer", "wrong_ids", "execute_verdict", "error"}``."""
    from ..derive.tokenizer_model_py import cause_of_outcome

    out: list[dict | None] = []
    for t in targets:
        mp, cfg = t.get("model_py"), t.get("config_path")
        if not mp or not cfg or not os.path.isfile(cfg):
            out.append(None)
            continue
        try:
            with open(mp, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            with open(cfg, encoding="utf-8", errors="replace") as fh:
                cfg_text = fh.read()
            params = {}
            if t.get("dir_source") == "option" and t.get("tokenizer_dir"):
                params["tokenizer_dir"] = os.path.abspath(t["tokenizer_dir"])
            mc = model_config_json(cfg_text, params)
        except (OSError, ValueError) as exc:
            out.append({"error": f"could not prepare the replay: {exc}"})
            continue
        kind = model_kind(text)
        res = replay([{"id": t.get("model"), "model_py": os.path.abspath(mp), "model_config": mc,
                       "model_name": t.get("model") or kind, "model_kind": kind, "execute": True}],
                     python=python, allow_remote_code=trust_remote_code, timeout=timeout)
        if res.get("error"):
            out.append({"error": res["error"]})
            continue
        case = (res.get("cases") or [{}])[0]
        r = {"python": res.get("python"), "transformers": res.get("transformers"), "model_kind": kind, **case}
        custom = bool(((t.get("dir") or {}).get("custom")))
        r["cause"] = cause_of_outcome(case.get("exception"), custom) if case.get("initialize") == "raised" else None
        gen = ((t.get("dir") or {}).get("generation_config")) or {}
        r["wrong_ids"] = compare_ids(case, gen) if case.get("initialize") == "ok" else []
        cls = (case.get("tokenizer") or {}).get("class") or (((t.get("dir") or {}).get("custom")) or {}).get("class")
        r["execute_verdict"] = execute_verdict(case, cls) if case.get("initialize") == "ok" else None
        out.append(r)
    return out
