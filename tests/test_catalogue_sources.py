"""tools/harvest_messages.py on the forms the TensorRT-LLM harvest needs: excerpt files (statements
copied verbatim from a stored file read in pieces: the origin names the file, not a line) and
Python's KeyError for a ``dict.pop(key)`` without a default (PretrainedConfig.from_dict)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _hm():
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import harvest_messages as hm
    finally:
        sys.path.pop(0)
    return hm


def test_a_pop_without_default_is_the_keyerror_python_prints():
    hm = _hm()
    got = [t for _, t in hm.py_messages("def f(config):\n    architecture = config.pop('architecture')\n    x = config.pop('dtype', None)\n")]
    assert "KeyError: 'architecture'" in got and not any(t.startswith("KeyError: 'dtype'") for t in got)


def test_excerpt_files_give_origins_without_a_line(tmp_path):
    tree = tmp_path / "t"
    (tree / "cpp").mkdir(parents=True)
    (tree / "cpp" / "worldConfig.cpp").write_text(
        "// excerpt of x@1:cpp/worldConfig.cpp\n"
        'TLLM_CHECK_WITH_INFO(numDevices >= tp * pp,\n    "Number of GPUs per node %d must be at least as large as TP (%d) * PP (%d)", g, t, p);\n')
    (tree / "cpp" / "whole.cpp").write_text('void f() {\n  TLLM_CHECK_WITH_INFO(ok, "Error opening engine file: " + path);\n}\n')
    hm = _hm()
    found = {f.template: f.origin for f in hm.harvest_texts(hm.tree_files(str(tree), hm.CPP_EXT), "x@1", 0)}
    assert found["Assertion failed: Number of GPUs per node %d must be at least as large as TP (%d) * PP (%d)"] == "x@1:cpp/worldConfig.cpp"
    assert found["Assertion failed: Error opening engine file: {}"] == "x@1:cpp/whole.cpp:2"


def test_the_trtllm_and_kernel_catalogues_answer_the_failures_they_name():
    import io

    from trtdiag.core import kb
    from trtdiag.logscan.matcher import Matcher, rank

    cases = [
        ("[TensorRT-LLM][ERROR] Assertion failed: Number of GPUs per node 1 must be at least as large as TP (2) * PP (1) (/src/worldConfig.cpp:80)", "gpus-per-node-too-small", {"gpus_per_node": "1", "tp_size": "2"}),
        ("RuntimeError: Only 1 GPUs are available, but 2 are required.", "llmapi-not-enough-gpus", {"gpus": "1", "world_size": "2"}),
        ("[TensorRT-LLM][ERROR] Assertion failed: Error opening engine file: /engines/rank1.engine (/src/sessionUtils.cpp:42)", "engine-file-not-found", {}),
        ("[TensorRT-LLM][ERROR] Assertion failed: Unsupported architecture (/src/fmhaRunner.cpp:87)", "gpu-arch-unsupported", {}),
        ("AssertionError: Unsupported model architecture: Qwen9ForCausalLM", "trtllm-model-architecture-unsupported", {"architecture": "Qwen9ForCausalLM"}),
        ("ValueError: Unknown architecture for AutoModelForCausalLM: Exotic7ForCausalLM", "trtllm-model-architecture-unsupported", {"architecture": "Exotic7ForCausalLM"}),
        ("KeyError: 'architecture'", "trtllm-build-needs-converted-checkpoint", {}),
        ("[ 812.1] Memory cgroup out of memory: Kill process 4242 (tritonserver) score 998 or sacrifice child", "ctr-memory-limit", {"pid": "4242"}),
        ("ValueError: The sum of prompt length (9351.0), query length (0) should not exceed max_num_tokens (8192)", "prompt-exceeds-max-num-tokens", {"max_num_tokens": "8192"}),
        ("[TensorRT-LLM][ERROR] Prompt length (5000) exceeds maximum input length (4096). Set log level to info and check TRTGptModel logs for how maximum input length is set", "input-exceeds-max-input-len", {"prompt_len": "5000", "limit": "4096"}),
    ]
    for line, expect, fields in cases:
        m = Matcher(kb.all_entries())
        m.scan(io.BytesIO(line.encode() + b"\n"), "log")
        ranked = rank(m.hits.values())
        assert ranked and ranked[0].entry_id == expect, (line, [h.entry_id for h in ranked])
        for k, v in fields.items():
            assert ranked[0].fields.get(k) == v, (line, ranked[0].fields)


def test_healthy_sizing_lines_are_not_errors():
    import io

    from trtdiag.core import kb
    from trtdiag.logscan.matcher import Matcher, rank

    log = ("[TRT-LLM] [I] Peak memory during memory usage profiling (torch + non-torch): 91.46 GiB, available KV cache memory when calculating max tokens: 41.11 GiB, fraction is set 0.85, kv size is 35136\n"
           "[TRT-LLM] [I] Estimated max tokens in KV cache : 524288\n"
           "[TensorRT-LLM][INFO] MPI size: 2, rank: 0\n")
    m = Matcher(kb.all_entries())
    m.scan(io.BytesIO(log.encode()), "log")
    sev = {e["id"]: e["severity"] for e in kb.all_entries()}
    assert all(sev[h.entry_id] != "error" for h in rank(m.hits.values()))
