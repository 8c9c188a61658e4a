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
    """The knowledge base's signatures, compiled once (a fresh Matcher per input reuses them)."""
    global _MATCHER
    if _MATCHER is None:
        from trtdiag.core import kb

        _MATCHER = list(kb.all_entries())
    from trtdiag.logscan.matcher import Matcher

    return Matcher(_MATCHER)


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
