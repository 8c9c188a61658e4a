"""Fuzz targets: every parser of untrusted input, as a function of raw bytes.

Used by the property-based tests (tests/test_fuzz.py, hypothesis) and the coverage-guided fuzzer
(tools/fuzz.py, atheris).  A target must either return or raise trtdiag's own
:class:`~trtdiag.errors.TrtdiagError` (a clear input error); any other exception is a bug.

Seeds are real files: tests/data.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Callable

from trtdiag.engine import run as engine_run
from trtdiag.core.errors import TrtdiagError
from trtdiag.core.facts import Facts


def _tmpfile(data: bytes, suffix: str = "") -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="trtdiag-fuzz-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _with_file(data: bytes, fn: Callable[[str], object], suffix: str = "") -> None:
    path = _tmpfile(data, suffix)
    try:
        fn(path)
    finally:
        os.unlink(path)


def t_read_json(data: bytes) -> None:
    from trtdiag.fsutil import read_json

    _with_file(data, read_json, ".json")


def t_engine_config(data: bytes) -> None:
    """config.json of an engine directory: any JSON value must normalise or be refused cleanly."""
    from trtdiag.parsers.engine_config import normalize

    try:
        cfg = json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return
    if isinstance(cfg, dict):
        normalize(cfg)


def t_snapshot(data: bytes) -> None:
    from trtdiag.core.facts import Facts
    from trtdiag.core.snapshot import load_snapshot

    def go(path):
        Facts({}, snapshot=load_snapshot(path))

    _with_file(data, go, ".json")


def t_plan_header(data: bytes) -> None:
    """The engine plan header: from the first bytes only, with any claimed size."""
    from trtdiag.parsers import plan_header

    h = plan_header.parse(data[:64], len(data))
    plan_header.describe(h)
    _with_file(data, plan_header.read, ".plan")


def t_pbtxt(data: bytes) -> None:
    """config.pbtxt through Triton's own schema, placeholders and all."""
    from trtdiag.parsers import pbtxt

    text = data.decode("utf-8", "replace")
    pbtxt.parse_config(text)
    pbtxt.scan_placeholders(text)


def t_ldcache(data: bytes) -> None:
    from trtdiag.probes import ldcache

    ldcache.parse_cache(data)


def t_elf(data: bytes) -> None:
    from trtdiag.probes import elf

    def go(path):
        elf.read(path)
        elf.symbols(path, ["opal_", "hwloc_"])

    _with_file(data, go, ".so")


def t_launch(data: bytes) -> None:
    """A launch command line (exec's argv), split at NUL bytes."""
    from trtdiag.probes import launch

    argv = [a.decode("utf-8", "replace") for a in data.split(b"\0")]
    launch.options_from(launch.parse(argv))


def t_tokenizer_dir(data: bytes) -> None:
    """A tokenizer folder holding one fuzzed file under each of the names trtdiag reads."""
    import shutil

    from trtdiag.probes import tokenizer

    d = tempfile.mkdtemp(prefix="trtdiag-fuzz-tok-")
    try:
        for name in ("tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.json", "config.json"):
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(data)
        tokenizer.analyze_dir(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


_MATCHER = None


def _matcher():
    """The knowledge base's signatures, compiled once; each input gets a fork of that Matcher (the
    same signatures, no hits), since building one costs about half a second."""
    global _MATCHER
    if _MATCHER is None:
        from trtdiag.core import kb
        from trtdiag.logscan.matcher import Matcher

        _MATCHER = Matcher(list(kb.all_entries()))
    return _MATCHER._fork()


def t_explain(data: bytes) -> None:
    """A log through explain's matcher: the Python prefilter on the stream, every line straight
    into the regex stage, and (for a file) the grep prefilter as `trtdiag explain` runs it."""
    import io

    m = _matcher()
    m.scan(io.BytesIO(data), "<fuzz>", 0, len(data))  # no fd: the Python prefilter
    for i, line in enumerate(data.split(b"\n")[:200]):
        m.feed_line(line, 0, "<fuzz>", i + 1)
    for h in m.hits.values():
        h.to_dict()
    from trtdiag.logscan.matcher import rank

    rank(m.hits.values())


def t_explain_cli(data: bytes) -> None:
    """`trtdiag explain FILE` end to end in this process (grep prefilter, gzip, ranking, findings)."""
    from trtdiag.app.commands.explain import explain_logs

    os.environ["TRTDIAG_EXPLAIN_ENGINE"] = "grep"
    try:
        _with_file(data, lambda p: explain_logs([p]), ".log")
    finally:
        os.environ.pop("TRTDIAG_EXPLAIN_ENGINE", None)


def t_model_py(data: bytes) -> None:
    """A Triton preprocessing/postprocessing model.py: the AST analysis of the tokenizer area and
    the patch the model.py fix would plan from it (never executed)."""
    from trtdiag.fixes import model_py
    from trtdiag.probes import tokenizer

    def go(path):
        tokenizer.analyze_model_py(path)
        tokenizer.analyze_class_source(path, "Tok")
        model_py.plan(path, dict.fromkeys(model_py.SUMMARIES, "x"), "auto")

    _with_file(data, go, ".py")
    # plan() swallows what it cannot patch; the patcher itself may refuse only a file that does not parse
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        compile(text, "<fuzz>", "exec", dont_inherit=True, flags=0x400)  # ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    for needs in (set(model_py.SUMMARIES), {"guard_pad"}, {"gen_config_ids"}):
        model_py.patch_text(text, needs, "llama")


def t_gpu_inventory(data: bytes) -> None:
    """A recorded GPU inventory (TRTDIAG_GPU_INVENTORY): this probe's JSON or `nvidia-smi -q -x` XML."""
    from trtdiag.probes import gpu

    def go(path):
        inv = gpu.load_recorded(path)
        gpu.select_visible(inv["gpus"], "0,1,GPU-abc", None, container=False)

    _with_file(data, go, ".json")
    gpu.inventory_from_nvidia_smi_xml(data.decode("utf-8", "replace"), "<fuzz>")


def t_hf_config(data: bytes) -> None:
    """The Hugging Face config.json that `trtdiag plan --model-config` reads, and the estimate it feeds."""
    from trtdiag.derive import memory as mm
    from trtdiag.fsutil import read_json

    def go(path):
        cfg = read_json(path)
        model = mm.model_from_hf_config(cfg)
        build = mm.BuildShape(dtype="float16", max_batch_size=8, max_input_len=1024, max_output_len=1024)
        mm.estimate(model, build, 80 << 30, mm.Serving())

    _with_file(data, go, ".json")


def t_env_file(data: bytes) -> None:
    """The env file the fixes write (fixes/env_file.py): whatever is in it, an update keeps other
    lines, sets each name once and a second update changes nothing."""
    from trtdiag.fixes import env_file

    text = data.decode("utf-8", "replace")
    values = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "X": "$(touch /tmp/x); `id`"}
    once = env_file.updated_text(text, values)
    twice = env_file.updated_text(once, values)
    if once != twice:
        raise AssertionError("env file update is not idempotent")
    _with_file(data, lambda p: env_file.env_file_fix(Facts({}), "f", "f", p, values), ".env")


def t_triton_model(data: bytes) -> None:
    """A model folder of a Triton repository as the triton probe reads it (config.pbtxt plus
    the version folders and the paths its parameters name)."""
    import shutil

    from trtdiag.probes import triton

    d = tempfile.mkdtemp(prefix="trtdiag-fuzz-model-")
    try:
        with open(os.path.join(d, "config.pbtxt"), "wb") as fh:
            fh.write(data)
        os.mkdir(os.path.join(d, "1"))
        triton.read_model(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def t_check_from(data: bytes) -> None:
    """`trtdiag check --from SNAPSHOT`: every check over the facts of a (damaged) snapshot.  A check
    that trips over a fact of the wrong shape becomes a "Check crashed" finding (the registry's
    safety net); only an exception escaping the run is a bug here."""
    from trtdiag.core import catalogue as registry
    from trtdiag.core.facts import Facts
    from trtdiag.core.snapshot import load_snapshot

    def go(path):
        facts = Facts({}, snapshot=load_snapshot(path))
        engine_run.run(registry.select([], [], "check"), facts)

    _with_file(data, go, ".json")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "check_from": t_check_from,
    "explain": t_explain,
    "explain_cli": t_explain_cli,
    "model_py": t_model_py,
    "gpu_inventory": t_gpu_inventory,
    "hf_config": t_hf_config,
    "env_file": t_env_file,
    "triton_model": t_triton_model,
    "read_json": t_read_json,
    "engine_config": t_engine_config,
    "snapshot": t_snapshot,
    "plan_header": t_plan_header,
    "pbtxt": t_pbtxt,
    "ldcache": t_ldcache,
    "elf": t_elf,
    "launch": t_launch,
    "tokenizer_dir": t_tokenizer_dir,
}


def seeds(name: str, repo_root: str) -> list[bytes]:
    """Real files to start from (mutated by the fuzzers)."""
    import glob

    pats = SEEDS.get(name, [])
    out = []
    for pat in pats:
        for p in sorted(glob.glob(os.path.join(repo_root, pat), recursive=True)):
            if os.path.isfile(p) and os.path.getsize(p) <= 1 << 20:
                with open(p, "rb") as fh:
                    out.append(fh.read())
    out += LITERAL_SEEDS.get(name, [])
    return out or [b""]


SEEDS: dict[str, list[str]] = {
    "read_json": ["tests/data/gpu/*.json", "tests/data/trt_runtime/lean-11.4.0.106_real-plans.json"],
    "engine_config": ["tests/data/**/config.json"],
    "snapshot": ["tests/data/**/*snapshot*.json"],
    "check_from": ["tests/data/**/*snapshot*.json"],
    "plan_header": ["tests/data/engines/plans/*.plan", "tests/data/engines/plans/*.trt"],
    "pbtxt": ["tests/data/triton/templates_v0.9.0/*/config.pbtxt"],
    "ldcache": ["/etc/ld.so.cache"],
    "elf": ["/usr/lib/x86_64-linux-gnu/libhwloc.so.15*", "/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3/mca_*hwloc*.so"],
    "launch": [],  # see LITERAL_SEEDS
    "tokenizer_dir": ["tests/data/tokenizers/**/*.json"],
    "explain": ["tests/data/logs/*.log"],
    "explain_cli": ["tests/data/logs/backend-2*.log", "tests/data/logs/healthy_trt-runtime.log"],
    "model_py": ["tests/data/tokenizers/*.py"],
    "gpu_inventory": ["tests/data/gpu/*.json", "tests/data/gpu/*.xml"],
    "hf_config": ["tests/data/engines/**/config.json"],
    "env_file": [],  # see LITERAL_SEEDS
    "triton_model": ["tests/data/triton/templates_v0.9.0/*/config.pbtxt", "tests/data/memory/*.pbtxt"],
}


def run_target(name: str, data: bytes) -> None:
    try:
        TARGETS[name](data)
    except TrtdiagError:
        pass


LITERAL_SEEDS: dict[str, list[bytes]] = {
    "tokenizer_dir": [  # the shapes of real tokenizer_config.json files (Llama 2, ChatGLM3 with remote code, Qwen)
        b'{"add_bos_token": true, "add_eos_token": false, "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, '
        b'"normalized": false, "rstrip": false, "single_word": false}, "clean_up_tokenization_spaces": false, "eos_token": "</s>", '
        b'"legacy": false, "model_max_length": 1000000000000000019884624838656, "pad_token": null, "sp_model_kwargs": {}, '
        b'"tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>", "added_tokens_decoder": {"0": {"content": "<unk>", "special": true}}}',
        b'{"name_or_path": "THUDM/chatglm3-6b", "remove_space": false, "do_lower_case": false, "tokenizer_class": "ChatGLMTokenizer", '
        b'"auto_map": {"AutoTokenizer": ["tokenization_chatglm.ChatGLMTokenizer", null]}}',
        b'{"added_tokens_decoder": {}, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "tokenizer_class": "Qwen2Tokenizer", '
        b'"model_max_length": 32768, "errors": "replace", "split_special_tokens": false, "bos_token_id": 151643, "eos_token_id": [151645, 151643], '
        b'"pad_token_id": 151643, "version": "1.0", "truncation": null, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}',
    ],
    "env_file": [
        b"# written by trtdiag fix\nexport OMPI_ALLOW_RUN_AS_ROOT=1\nexport OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n",
        b"X='a b'\n  export   X=1 # comment\nNOT A LINE\n=\nexport\n",
    ],
    "hf_config": [
        b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 11008, "num_attention_heads": 32, '
        b'"num_hidden_layers": 32, "num_key_value_heads": 32, "vocab_size": 32000, "torch_dtype": "float16", "max_position_embeddings": 4096}',
    ],
    "launch": [
        b"tritonserver\0--model-repository=/models\0--http-port\08010\0--grpc-port=8011",
        b"mpirun\0--allow-run-as-root\0-n\02\0tritonserver\0--model-repository\0/models\0:\0-n\01\0tritonserver",
        b"python3\0scripts/launch_triton_server.py\0--world_size=2\0--model_repo=/models",
        b"trtllm-serve\0/engines/llama\0--port\08000",
    ],
}


# ============================================================================ the whole CLI
# Mutated real inputs through `main()` of every command, in this process (fast enough for CI):
# each case writes its inputs into a fresh folder, runs one command line, and records the exit
# code, the time, whether a traceback or "internal error" was printed.  A case must end in
# 0, 1 or 2 (or the launched command's code for exec), within CASE_LIMIT_S.
#
# Used by tests/test_attack_fuzz.py (the CI budget: FUZZ_BUDGET cases, 2,000 by default) and
# `python tools/fuzz.py --cli N` (longer runs by hand).

CASE_LIMIT_S = 30.0
ODD = [None, -1, 0, 10**12, 2**31, 2**64, 1e308, "x", "", "${triton_max_batch_size}", "; touch /tmp/x", [], {}, True,
       [1, 2], {"a": 1}, "\x1b]52;c;aGk=\x07", "/" * 300, "hf_" + "A1b2" * 10]


def _mutate_bytes(rng, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(("flip", "cut", "insert", "dup", "digits"))
        if op == "flip" and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == "cut" and b:
            b = b[: rng.randrange(len(b) + 1)]
        elif op == "insert":
            i = rng.randrange(len(b) + 1)
            b[i:i] = rng.choice([b"${x}", b"\0", b"{", b"[" * 50, b'"', b"\\", b"\n", b"9" * rng.choice((5, 40, 4400)), b"1e400", b"-1"])
        elif op == "dup" and b:
            i = rng.randrange(len(b))
            b[i:i] = b[i : i + rng.randint(1, 64)]
        elif op == "digits" and b:
            i = rng.randrange(len(b))
            b[i:i] = str(rng.choice((10**12, 2**31, -5, 0))).encode()
    return bytes(b)


def _json_paths_of(o, pre=()):
    yield pre
    if isinstance(o, dict):
        for k, v in list(o.items())[:40]:
            yield from _json_paths_of(v, (*pre, k))
    elif isinstance(o, list):
        for i, v in enumerate(o[:4]):
            yield from _json_paths_of(v, (*pre, i))


def _mutate_json(rng, data: bytes) -> bytes:
    try:
        doc = json.loads(data)
    except ValueError:
        return _mutate_bytes(rng, data)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _json_paths_of(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        cur = doc
        for k in path[:-1]:
            cur = cur[k]
        cur[path[-1]] = rng.choice(ODD)
    return json.dumps(doc).encode()


def mutate(rng, data: bytes, is_json: bool) -> bytes:
    if is_json and rng.random() < 0.6:
        return _mutate_json(rng, data)
    return _mutate_bytes(rng, data)


def _real(repo_root: str, rel: str) -> bytes:
    with open(os.path.join(repo_root, rel), "rb") as fh:
        return fh.read()


def _templates(repo_root: str) -> str | None:
    for base in (os.path.join(repo_root, "tests", "data", "triton"),):  # the v0.9.0 templates kept in the repository
        for name in ("templates_v0.9.0",):
            p = os.path.join(base, name)
            if os.path.isdir(p):
                return p
    return None


def _engine_dir(d: str, cfg: bytes) -> str:
    e = os.path.join(d, "engine")
    os.makedirs(e, exist_ok=True)
    with open(os.path.join(e, "config.json"), "wb") as fh:
        fh.write(cfg)
    for r in range(2):
        with open(os.path.join(e, f"rank{r}.engine"), "wb") as fh:
            fh.write(b"\0" * 64)
    return e


def _model_repo(d: str, repo_root: str, rng, mutated: bool) -> str:
    import shutil

    src = _templates(repo_root)
    dst = os.path.join(d, "repo")
    if src is None:
        os.makedirs(os.path.join(dst, "m", "1"))
        with open(os.path.join(dst, "m", "config.pbtxt"), "w") as fh:
            fh.write('name: "m"\nbackend: "python"\nmax_batch_size: ${triton_max_batch_size}\n')
        return dst
    shutil.copytree(src, dst)
    names = sorted(n for n in os.listdir(dst) if os.path.isfile(os.path.join(dst, n, "config.pbtxt")))
    for n in names:
        os.makedirs(os.path.join(dst, n, "1"), exist_ok=True)
    if mutated and names:
        p = os.path.join(dst, rng.choice(names), "config.pbtxt")
        with open(p, "rb") as fh:
            data = fh.read()
        with open(p, "wb") as fh:
            fh.write(mutate(rng, data, False))
    return dst


def cli_case(rng, repo_root: str, d: str) -> tuple[list[str], dict[str, str]]:
    """One command line over freshly mutated real inputs written under ``d``: (argv, env)."""
    import glob

    engines = sorted(glob.glob(os.path.join(repo_root, "tests/data/engines/*/config.json")))
    toks = sorted(glob.glob(os.path.join(repo_root, "tests/data/tokenizers/**/*.json"), recursive=True))
    logs = sorted(glob.glob(os.path.join(repo_root, "tests/data/logs/*.log")))
    snaps = sorted(glob.glob(os.path.join(repo_root, "tests/data/**/*snapshot*.json"), recursive=True))
    gpus = sorted(glob.glob(os.path.join(repo_root, "tests/data/gpu/*.json")))
    env = {"TRTDIAG_STATE_DIR": os.path.join(d, "state")}
    if gpus:
        env["TRTDIAG_GPU_INVENTORY"] = rng.choice(gpus)
    kind = rng.choice(("engine", "engine", "repo", "repo", "tokenizer", "snapshot", "explain", "plan", "gpu", "fix", "fix_apply", "exec", "collect", "set"))

    def write(name: str, data: bytes) -> str:
        p = os.path.join(d, name)
        with open(p, "wb") as fh:
            fh.write(data)
        return p

    if kind == "engine":
        e = _engine_dir(d, mutate(rng, _real(repo_root, os.path.relpath(rng.choice(engines), repo_root)), True))
        cmd = rng.choice((["check", "--engine-dir", e], ["report", "--engine-dir", e, "--json"], ["fix", "--engine-dir", e]))
        return cmd, env
    if kind in ("repo", "fix", "fix_apply", "set", "exec"):
        repo = _model_repo(d, repo_root, rng, mutated=kind != "set")
        if rng.random() < 0.5 and engines:
            e = _engine_dir(d, mutate(rng, _real(repo_root, os.path.relpath(rng.choice(engines), repo_root)), True))
            extra = ["--engine-dir", e]
        else:
            extra = []
        if kind == "repo":
            return ["check", "--model-repo", repo, *extra], env
        if kind == "fix":
            return ["fix", "--model-repo", repo, *extra, "--set", "tokenizer_dir=/hf/x"], env
        if kind == "fix_apply":
            # file edits only: a fuzzed --apply must never run the command fixes (pip, apt) on this machine
            return ["fix", "--apply", "--yes", "--only", "triton", "--model-repo", repo, *extra, "--set", "tokenizer_dir=/hf/x"], env
        if kind == "set":
            key = rng.choice(("tokenizer_dir", "triton_max_batch_size", "decoupled_mode", "nope", "max_beam_width", "x-y"))
            val = rng.choice(("/a b", '/a"b', "a\\b", "8", "8 } x: 1", "true", "yes", "${x}", "1e400", "9" * 30, "\n", "é"))
            return ["fix", "--apply", "--yes", "--only", "TRI001", "--model-repo", repo, "--set", f"{key}={val}"], env
        bindir = os.path.join(d, "bin")
        os.makedirs(bindir)
        server = write("bin/tritonserver", b"#!/bin/sh\nexit 0\n")
        os.chmod(server, 0o755)
        env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        return ["exec", "--timeout", "20", "--", "tritonserver", f"--model-repository={repo}"], env
    if kind == "tokenizer":
        t = os.path.join(d, "tok")
        os.makedirs(t)
        for src in rng.sample(toks, min(3, len(toks))):
            data = _real(repo_root, os.path.relpath(src, repo_root))
            with open(os.path.join(t, os.path.basename(src)), "wb") as fh:
                fh.write(mutate(rng, data, True) if rng.random() < 0.7 else data)
        return ["check", "--tokenizer-dir", t], env
    if kind == "snapshot" and snaps:
        s = write("snap.json", mutate(rng, _real(repo_root, os.path.relpath(rng.choice(snaps), repo_root)), True))
        return rng.choice((["check", "--from", s], ["report", "--from", s, "--redact"], ["fix", "--from", s], ["report", "--from", s, "--json"])), env
    if kind == "explain" and logs:
        data = _real(repo_root, os.path.relpath(rng.choice(logs), repo_root))[: 256 * 1024]
        return ["explain", write("x.log", mutate(rng, data, False))], env
    if kind == "plan" and engines:
        c = write("config.json", mutate(rng, _real(repo_root, os.path.relpath(rng.choice(engines), repo_root)), True))
        return ["plan", "--model-config", c, "--gpu-memory", rng.choice(("24GiB", "80GB", "1e400", "0", "-1", "7.5"))], env
    if kind == "gpu" and gpus:
        env["TRTDIAG_GPU_INVENTORY"] = write("gpu.json", mutate(rng, _real(repo_root, os.path.relpath(rng.choice(gpus), repo_root)), True))
        return ["check", "--only", "gpu,memory"], env
    if kind == "collect":
        return ["collect", "--redact", "-o", os.path.join(d, "out.json")], env
    return ["checks"], env


def run_cli_case(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """main(argv) in this process with ``env`` set; (exit code, seconds, traceback seen)."""
    import contextlib
    import io
    import time

    from trtdiag.app import main as app_main

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = app_main.main(list(argv))
            except SystemExit as exc:  # argparse
                rc = exc.code if isinstance(exc.code, int) else 2
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    text = out.getvalue() + err.getvalue()
    # trtdiag's own errors go to stderr; stdout may quote a log that holds a traceback (explain)
    e = err.getvalue()
    return {"argv": argv, "rc": rc, "seconds": time.perf_counter() - t0,
            "traceback": "Traceback (most recent call last)" in e or "trtdiag: internal error" in e or "trtdiag: error: internal" in e,
            "tail": text[-600:]}


def fuzz_cli(n: int, seed: int, repo_root: str) -> dict[str, Any]:
    """``n`` cases from ``seed``; a summary with the failing cases (the ones to turn into tests)."""
    import random
    import resource
    import shutil

    from trtdiag.app.commands import exec as exec_cmd

    exec_cmd.launch = lambda path, argv: 0  # test double for execv only: the fuzzer must not become tritonserver
    rng = random.Random(seed)
    bad: list[dict[str, Any]] = []
    slowest = 0.0
    rcs: dict[int, int] = {}
    for i in range(n):
        d = tempfile.mkdtemp(prefix="trtdiag-fuzz-cli-")
        try:
            argv, env = cli_case(rng, repo_root, d)
            res = run_cli_case(argv, env)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        rcs[res["rc"]] = rcs.get(res["rc"], 0) + 1
        slowest = max(slowest, res["seconds"])
        if res["rc"] not in (0, 1, 2) or res["traceback"] or res["seconds"] > CASE_LIMIT_S:
            bad.append(dict(res, case=i, seed=seed))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"cases": n, "seed": seed, "bad": bad, "slowest_s": slowest, "peak_rss": peak, "exit_codes": rcs}
