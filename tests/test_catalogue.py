"""The message catalogue (knowledge_base/catalogue/*.toml, harvested by tools/harvest_messages.py):
every message says where it comes from and what it means; every knowledge-base entry that claims
a log signature has a message with its source; the patterns derived from the templates match what
the templates print, also after logs did their usual things to the text (prefixes, JSON escaping,
colour, wrapping); and the wordings issue 16 listed as misses are recognised as the right cause."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trtdiag.core import kb
from trtdiag.logscan.matcher import Matcher, rank
from trtdiag.logscan.templates import catalogue, catalogue_signatures, clean_text, normalize, parse_template, template_pattern

from tests.conftest import REPO, explain_text, shipped_matcher, assert_names_first

ENTRIES = {e["id"]: e for e in kb.all_entries()}
MESSAGES = list(catalogue())
VERDICTS = ("entry", "consequence_of", "not_failure", "proposed_entry")
ORIGIN = re.compile(r"^[\w.+-]+(?:/[\w.+-]+)?(?:@[\w.+:-]+)?(?::\S+)?")

# Entries with a log signature whose printing program is not among the sources this machine can
# read (each says why).  Shrink this list; never grow it without a reason.
NO_SOURCE_YET = {
    "trt-network-no-output": "printed by TensorRT's builder (libnvinfer, network validation) like trt-no-optimization-profile: no library or source here holds it; its examples are the users' lines",
    "trt-no-optimization-profile": "printed by TensorRT's builder (libnvinfer, network validation); no downloadable library holds the builder (see trt-build-no-implementation) and no NVIDIA/TensorRT source or document quotes the wording: its examples are the users' lines",
    "trt-build-no-implementation": "printed by TensorRT's builder (libnvinfer); no wheel here holds it: tensorrt-cu11/cu12/cu13-libs and tensorrt-libs are source stubs that install from NVIDIA's own index, tensorrt 10.0.0b6 is a metapackage, and the lean/dispatch runtimes have no builder",
}


def _llm(m):
    return m.get("entry") or m.get("consequence_of")


def test_the_catalogue_is_there_and_covers_the_source_families():
    fams = {m["family"] for m in MESSAGES}
    assert {"tensorrtllm_backend", "triton", "python_backend", "tensorrt", "tensorrt_llm", "cuda", "nccl", "mpi", "transformers", "uvicorn"} <= fams
    assert len(MESSAGES) >= 120


@pytest.mark.parametrize("msg", MESSAGES, ids=[f"{m['family']}:{m['template'][:40]}" for m in MESSAGES])
def test_every_message_has_a_source_and_says_what_it_means(msg):
    assert set(msg) <= {"template", "origin", "first", "seen", "family", *VERDICTS, "fatal", "derive", "fields", "note"}, msg
    assert isinstance(msg["template"], str) and len(msg["template"].strip()) >= 6
    assert ORIGIN.match(msg["origin"]), msg["origin"]
    said = [k for k in VERDICTS if msg.get(k)]
    assert len(said) == 1, f"exactly one of {VERDICTS}: {said}"
    if msg.get("entry") or msg.get("consequence_of"):
        assert _llm(msg) in ENTRIES, f"unknown entry {_llm(msg)!r}"
    if msg.get("proposed_entry"):
        assert msg["proposed_entry"] not in ENTRIES, "the entry exists now: say entry = …"
    if msg.get("not_failure"):
        assert len(msg["not_failure"]) >= 10, "say why it is not a failure"
    if "fields" in msg:
        assert isinstance(msg["fields"], list) and all(isinstance(f, str) for f in msg["fields"])


def test_every_entry_that_claims_a_log_signature_has_a_catalogue_message():
    covered = {_llm(m) for m in MESSAGES if _llm(m)}
    with_sigs = [i for i, e in ENTRIES.items() if e.get("signatures")]
    missing = sorted(set(with_sigs) - covered - set(NO_SOURCE_YET))
    assert not missing, f"entries with signatures but no catalogue message from a source: {missing}"
    stale = sorted(set(NO_SOURCE_YET) & covered)
    assert not stale, f"covered now, take them off NO_SOURCE_YET: {stale}"
    assert len(set(with_sigs) & covered) >= 0.9 * len(with_sigs)


# ---- patterns from templates ---------------------------------------------------------------------

SAMPLE = {"int": "42", "hex": "0x1f", "float": "8.9", "str": "x_y"}


def instance(template: str) -> str:
    """What the program prints for the template, with sample values."""
    out = []
    for kind, val, _ in parse_template(template):
        out.append(val if kind == "lit" else SAMPLE[val])
    return "".join(out)


DERIVED = [m for m in MESSAGES if m.get("derive") is not False and _llm(m) in ENTRIES]


@pytest.mark.parametrize("msg", DERIVED, ids=[f"{m['family']}:{m['template'][:40]}" for m in DERIVED])
def test_each_derived_pattern_matches_what_its_template_prints(msg):
    pat = template_pattern(msg["template"], msg.get("fields"))
    assert pat is not None, "no literal of six characters to prefilter on"
    line = "E1201 10:11:12.123456 1 some_file.cc:42] " + instance(msg["template"])
    assert re.search(pat["regex"].encode(), line.encode()), (pat["regex"], line)
    assert pat["literal"] in line and not re.search(r"['\"`\\]", pat["literal"])
    m = shipped_matcher()
    m.scan(io.BytesIO(line.encode() + b"\n"), "t")
    ranked = [h.entry_id for h in rank(m.hits.values())]
    assert _llm(msg) in ranked, ranked


def test_placeholders_become_typed_bounded_captures():
    pat = template_pattern("MPI size %d != TP size %d * PP size %d", ["mpi_size", "tp_size", "pp_size"])
    rx = re.compile(pat["regex"])
    m = rx.search("[TensorRT-LLM][ERROR] Assertion failed: MPI size 1 != TP size 2 * PP size 1 (/src/worldConfig.cpp:97)")
    assert m and m.group("mpi_size") == "1" and m.group("tp_size") == "2"
    assert not rx.search("MPI size one != TP size 2 * PP size 1")  # %d takes digits only
    pat = template_pattern("ensemble '{}' depends on '{}' which has no loaded version", ["ensemble", "model"])
    m = re.search(pat["regex"], "ensemble 'ensemble' depends on 'tensorrt_llm' which has no loaded version.")
    assert m.group("model") == "tensorrt_llm"
    pat = template_pattern("Expected {expected_batch_size} got {tensor.shape[0]}")
    assert "expected_batch_size" in re.compile(pat["regex"]).groupindex
    assert template_pattern("{}: {}") is None  # nothing to prefilter on
    assert "{0,240}" in template_pattern("a long literal %s then more")["regex"]


def test_normalize_undoes_json_escaping_and_colour():
    assert normalize(b'{"log": "HTTP end point doesn\\\'t support \\"x\\"\\n"}') == b'{"log": "HTTP end point doesn\'t support "x" "}'
    assert normalize(b"\x1b[31mE1201\x1b[0m failed") == b"E1201 failed"
    assert normalize(b"\\u001b[1;31mERROR\\u001b[0m x") == b"ERROR x"
    assert normalize(b"plain line") == b"plain line"


def test_clean_text_strips_terminal_control_sequences():
    evil = "ok \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J\x1b[Hgone \x1b]0;title\x1b\\ \x07bell \u202eevil"
    out = clean_text(evil)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "ZWNobyBwd25lZA" not in out and out.startswith("ok ")


# ---- the misses of issue 16 that came from wording (lines built from the sources' wording) -------

CASES = [
    # TensorRT-LLM's check(): func is the call as written, with its leading ::
    ("[TensorRT-LLM][ERROR] tensorrt_llm::common::TllmException: [TensorRT-LLM][ERROR] CUDA runtime error in ::cudaMallocAsync(ptr, n, mCudaStream->get()): out of memory (/src/tensorrt_llm/runtime/tllmBuffers.h:112)",
     "gpu-out-of-memory", {"call": "cudaMallocAsync"}),
    # TensorRT's own wording for another GPU
    ("[TRT] [E] 6: The engine plan file is generated on an incompatible device, expecting compute 8.0 got compute 8.9, please rebuild.",
     "engine-compute-capability-mismatch", {"expected": "8.0", "found": "8.9"}),
    # TensorRT 8's header check, without the Note part
    ("[TRT] [E] 1: [stdArchiveReader.cpp::StdArchiveReader::32] Error Code 1: Serialization (Serialization assertion magicTagRead == kMAGIC_TAG failed.Magic Tag assertion failed.) Serialization Error in verifyHeader: 0 (Version tag does not match)",
     "trt-engine-version-mismatch", {}),
    # JSON log shippers escape quotes
    ('{"log":"E0101 00:00:00.000 1 http_server.cc:3300] HTTP end point doesn\\\'t support models with decoupled transaction policy","stream":"stderr"}',
     "triton-decoupled-mismatch", {}),
    ("{'log': 'E0622 model_lifecycle.cc:626] failed to load \\'preprocessing\\' version 1: Internal: Unable to initialize shared memory key \\'/preprocessing_0_CPU_0\\' to requested size (67108864 bytes).\\n'}",
     "shm-too-small", {}),
    # the shared-memory message carries the OS reason: not a full disk
    ("E0622 21:02:46.541164 1 model_lifecycle.cc:626] failed to load 'preprocessing' version 1: Internal: Unable to initialize shared memory key '/preprocessing_0_CPU_0' to requested size (67108864 bytes). If you are running Triton inside docker, use '--shm-size' flag to control the shared memory region size. Each Python backend model instance requires at least 1 MB of shared memory. Error: No space left on device",
     "shm-too-small", {"requested_bytes": "67108864"}),
    # an assertion in the attention plugin that is a prompt longer than the engine allows
    ("[TensorRT-LLM][ERROR] Assertion failed: max_context_len <= mMaxContextLength (/src/tensorrt_llm/plugins/gptAttentionPlugin/gptAttentionPlugin.cpp:579)",
     "input-exceeds-max-input-len", {}),
    # newer wordings
    ("[TensorRT-LLM][ERROR] Assertion failed: MPI size 1 != TP size 2 * PP size 1 (/src/tensorrt_llm/runtime/worldConfig.cpp:97)",
     "world-size-mismatch", {"mpi_size": "1", "tp_size": "2"}),
    ("[TensorRT-LLM][ERROR] TrtGptModelInflightBatching requires GPT attention/Mamba Conv 1d plugin with packed input and paged KV cache.",
     "triton-inflight-needs-engine-features", {}),
    ("RuntimeError: CUDA error: CUDA-capable device(s) is/are busy or unavailable",
     "gpu-memory-held-by-other-process", {}),
    ("E1201 00:00:00.000 1 model_lifecycle.cc:626] failed to load 'tensorrt_llm' version 1: Internal: autofill failed for model 'tensorrt_llm': configuration specified max-batch 4 but TensorRT engine only supports max-batch 0",
     "triton-plan-max-batch-mismatch", {"config_max_batch_size": "4", "engine_max_batch_size": "0"}),
    ("ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
     "serve-port-in-use", {}),
    ("ValueError: Asking to pad but the tokenizer does not have a padding token. Please select a token to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via `tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.",
     "tokenizer-no-pad-token", {}),
]


@pytest.mark.parametrize("line,expect,fields", CASES, ids=[c[1] + f"-{i}" for i, c in enumerate(CASES)])
def test_wordings_issue_16_listed_are_the_right_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


def test_no_space_inside_the_shm_message_is_not_a_second_failure():
    line = CASES[5][0]
    assert [h.entry_id for h in explain_text(line + "\n")] == ["shm-too-small"]
    assert [h.entry_id for h in explain_text("OSError: [Errno 28] No space left on device: '/workspace/engines/rank0.engine'\n")] == ["disk-space-low"]


def test_a_plugin_assertion_is_a_version_mismatch_only_for_the_deserializer_check():
    ids = [h.entry_id for h in explain_text(CASES[6][0] + "\n")]
    assert "trtllm-version-mismatch" not in ids
    ok = explain_text("[TensorRT-LLM][ERROR] Assertion failed: d == a + length (/app/tensorrt_llm/cpp/tensorrt_llm/plugins/gptAttentionCommon/gptAttentionCommon.cpp:320)\n")
    assert ok[0].entry_id == "trtllm-version-mismatch"


def test_colour_and_wrapping_do_not_hide_a_message_and_evidence_is_clean():
    coloured = "\x1b[1;31m[TensorRT-LLM][ERROR] Assertion failed: mpiSize == tp * pp\x1b[0m (/app/worldConfig.cpp:94) \x1b]52;c;cm0gLXJmIH4=\x07\n"
    ranked = explain_text(coloured)
    assert ranked[0].entry_id == "world-size-mismatch"
    text = ranked[0].lines[0][2]
    assert "\x1b" not in text and "\x07" not in text and "cm0gLXJmIH4" not in text
    wrapped = ("E0622 21:02:46.541164 1 model_lifecycle.cc:626] failed to load 'preprocessing' version 1: Internal: Unable to initialize shared memory key '/preprocessing_0_CPU_0' to\n"
               "requested size (67108864 bytes). If you are running Triton inside docker, use '--shm-size' flag\n")
    ranked = explain_text(wrapped)
    assert ranked and ranked[0].entry_id == "shm-too-small" and ranked[0].first[2] == 1


def test_cascade_links_put_the_cause_first_whatever_the_order_of_lines():
    log = ("E1201 model_repository_manager.cc:1] ensemble 'ensemble' depends on 'tensorrt_llm' which has no loaded version\n"
           "error: creating server: Internal - failed to load all models\n"
           "[TensorRT-LLM][ERROR] Assertion failed: mpiSize == tp * pp (/app/worldConfig.cpp:94)\n")
    ranked = [h.entry_id for h in explain_text(log)]
    assert ranked[0] == "world-size-mismatch", ranked
    assert set(ranked[1:]) == {"triton-ensemble-dependency-unavailable", "triton-failed-to-load-all-models"}


def test_ranking_never_depends_on_entry_ids(monkeypatch):
    """The same log gives the same order when the entries are renamed (ids sort differently)."""
    import trtdiag.logscan.matcher as ex

    line = CASES[5][0] + "\n" + "Killed\n"
    a = [h.entry_id for h in explain_text(line)]
    renamed = []
    for e in kb.all_entries():
        e = dict(e)
        e["id"] = "zz-" + e["id"] if e["id"] == "shm-too-small" else "aa-" + e["id"]
        renamed.append(e)
    m = ex.Matcher(renamed, catalogue=False)
    m.scan(io.BytesIO(line.encode()), "log")
    b = [h.entry_id.split("-", 1)[1] for h in ex.rank(m.hits.values())]
    assert a[0] == b[0] == "shm-too-small"


def test_harvester_extracts_templates_from_c_and_python_sources(tmp_path):
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import harvest_messages as hm
    finally:
        sys.path.pop(0)
    cpp = '''
    TLLM_CHECK_WITH_INFO(mpiSize == tp * pp, "MPI size %d != TP size %d * PP size %d", mpiSize, tp, pp);
    TLLM_CHECK(max_context_len <= mMaxContextLength);
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL,
        (std::string("autofill failed for model '") + Name() +
         "': configuration specified max-batch " + std::to_string(MaxBatchSize()) +
         " but TensorRT engine only supports max-batch " + std::to_string(max_batch_size)).c_str());
    // "a comment string that is not a message"
    '''
    got = [t for _, t in hm.cpp_messages(cpp)]
    assert "Assertion failed: MPI size %d != TP size %d * PP size %d" in got
    assert "Assertion failed: max_context_len <= mMaxContextLength" in got
    assert "autofill failed for model '{}': configuration specified max-batch {} but TensorRT engine only supports max-batch {}" in got
    assert not any("comment string" in t for t in got)
    py = 'raise ValueError(f"Engine world size ({world_size}) != Runtime world size ({mpi_world_size()})")\nlogger.warning("Using %s, but it is not set yet." % key)\n'
    got = [t for _, t in hm.py_messages(py)]
    assert "Engine world size ({world_size}) != Runtime world size ({mpi_world_size()})" in got
    assert "Using %s, but it is not set yet." in got
    lib = tmp_path / "libx.so"
    lib.write_bytes(b"\x00\x01The engine plan file is generated on an incompatible device, expecting compute \x00 got compute \x00\xff")
    assert hm.fragments("expecting compute {} got compute {}") == ["expecting compute ", " got compute "]
    assert all(f.strip() in "\n".join(hm.binary_strings(lib)) for f in hm.fragments("The engine plan file is generated on an incompatible device, expecting compute {} got compute {}"))


def test_harvester_reproduces_the_checked_in_catalogue_offline_from_a_local_git_copy(tmp_path):
    """The script runs on local paths only: a tiny git repository with one message gives one
    reviewed catalogue row with its origin (repo@tag:path:line)."""
    if not subprocess.run(["git", "--version"], capture_output=True).returncode == 0:
        pytest.skip("no git")
    src = tmp_path / "src"
    (src / "inflight_batcher_llm" / "src").mkdir(parents=True)
    (src / "inflight_batcher_llm" / "src" / "model_state.cc").write_text(
        'void f() {\n  throw std::runtime_error("Streaming is only supported if model is deployed using decoupled mode.");\n}\n')
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"], ["tag", "v9.9.9"]):
        subprocess.run(["git", "-C", str(src), *cmd], check=True, env=env, capture_output=True)
    out = tmp_path / "cat"
    p = subprocess.run([sys.executable, str(REPO / "tools" / "harvest_messages.py"), "--family", "tensorrtllm_backend",
                        "--git", f"example/backend={src / '.git'}@v9.9.9", "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = (out / "tensorrtllm_backend.toml").read_text()
    assert "Streaming is only supported if model is deployed using decoupled mode." in text
    assert "example/backend@v9.9.9:inflight_batcher_llm/src/model_state.cc:2" in text
    assert 'entry = "triton-decoupled-mismatch"' in text or "entry = 'triton-decoupled-mismatch'" in text


def test_prefilter_keys_cover_every_literal():
    p = subprocess.run([sys.executable, str(REPO / "tools" / "prefilter_keys.py"), "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    m = Matcher(kb.all_entries())
    assert all(any(k in lit for k in m.keys) for lit in m.literals)
    assert len(m.keys) < len(m.literals)


def test_literal_index_tries_every_group_whose_literal_a_line_holds():
    """The 4-byte index in front of the per-line finds (Matcher._groups_in) may skip a literal only
    when the line lacks it: checked for every shipped literal, embedded in other text, at both ends
    of a line, beside another literal, and in a line too long for the index."""
    m = shipped_matcher()
    lits = [lit for lit, _ in m.groups]
    for i, lit in enumerate(lits):
        other = lits[(i * 7 + 3) % len(lits)]
        for line in (lit, b"[E] x: " + lit + b" (y)", other + b" " + lit, b"q" * 5000 + lit):
            assert i in m._groups_in(line), (lit, line[:80])
    assert list(m._groups_in(b"nothing to see here")) == sorted(m._groups_in(b"nothing to see here"))


def test_catalogue_signatures_skip_what_is_not_a_failure_or_has_no_entry():
    msgs = [
        {"template": "a message that is not a failure at all", "origin": "x@1", "not_failure": "printed by every start"},
        {"template": "a message whose entry does not exist yet", "origin": "x@1", "proposed_entry": "new-thing"},
        {"template": "a generic message kept for its source", "origin": "x@1", "entry": "gpu-out-of-memory", "derive": False},
        {"template": "a consequence of the out of memory failure %s", "origin": "x@1", "consequence_of": "gpu-out-of-memory"},
    ]
    sigs = catalogue_signatures(ENTRIES, msgs)
    assert len(sigs) == 1 and sigs[0]["cascade"] and not sigs[0]["fatal"] and sigs[0]["entry"] == "gpu-out-of-memory"
