"""The memory model (trtdiag/memory.py), the MEM0xx checks and the KV-cache fixes.

Model numbers come from the models' public Hugging Face config.json files (quoted in each test).
The GPU is a test double: recorded NVML inventories of a real H100 (tests/data/gpu/), or that
recording with its memory set to a 24 GiB card's, stated where used.  ``engine.info`` and
``triton.repo`` are set as facts (their probes belong to other areas), in the shapes of
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys

import pytest

from trtdiag.engine import run as engine_run
from trtdiag.derive import memory as mm
from trtdiag.core import catalogue as registry
from trtdiag.core.facts import Facts
from trtdiag.fixes import kv_cache as kvfix
from trtdiag.fixes.applier import Applier
from trtdiag.core.finding import Severity

from tests.conftest import DATA

GPU_DATA = DATA / "gpu"
TEMPLATE = DATA / "memory" / "tensorrt_llm_v0.9.0_config.pbtxt"
GiB = 1 << 30

# Qwen/Qwen-7B-Chat config.json (huggingface.co/Qwen/Qwen-7B-Chat): 32 layers, 32 heads, kv_channels
# 128, hidden 4096, intermediate_size 22016 (two 11008-wide matrices + c_proj), vocab 151936; 7.7 B parameters.
QWEN_7B = {"architectures": ["QWenLMHeadModel"], "model_type": "qwen", "hidden_size": 4096, "intermediate_size": 22016,
           "num_attention_heads": 32, "num_hidden_layers": 32, "vocab_size": 151936, "kv_channels": 128, "seq_length": 8192,
           "torch_dtype": "bfloat16", "tie_word_embeddings": False}
# meta-llama/Llama-2-7b-hf config.json: 6.74 B parameters.
LLAMA2_7B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 32, "vocab_size": 32000, "tie_word_embeddings": False}
# meta-llama/Llama-2-70b-hf config.json: grouped-query attention with 8 KV heads.
LLAMA2_70B = {"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
              "num_hidden_layers": 80, "num_key_value_heads": 8, "vocab_size": 32000}

CARD_24GIB = 24 * GiB - mm.DRIVER_RESERVE  # NVML free of an idle 24 GiB card (driver reserve measured on the H100)


def qwen():
    return mm.model_from_hf_config(QWEN_7B)


# ------------------------------------------------------------------ the model


def test_parameter_counts_match_the_published_sizes():
    assert round(qwen().param_count() / 1e9, 2) == 7.72  # "Qwen-7B … 7.7B parameters"
    assert round(mm.model_from_hf_config(LLAMA2_7B).param_count() / 1e9, 2) == 6.74  # Llama-2-7b: 6.74 B
    assert round(mm.model_from_hf_config(LLAMA2_70B).param_count() / 1e9, 1) == 69.0  # Llama-2-70b: 68.98 B
    # meta-llama/Meta-Llama-3-8B config.json: 8.03 B parameters
    llama3 = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
              "num_key_value_heads": 8, "vocab_size": 128256, "tie_word_embeddings": False}
    assert round(mm.model_from_hf_config(llama3).param_count() / 1e9, 2) == 8.03
    # mistralai/Mixtral-8x7B-v0.1 config.json: 8 experts; 46.7 B parameters
    mixtral = {"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
               "num_key_value_heads": 8, "vocab_size": 32000, "num_local_experts": 8, "num_experts_per_tok": 2}
    assert round(mm.model_from_hf_config(mixtral).param_count() / 1e9, 1) == 46.7


def test_kv_bytes_per_token_is_2_layers_kvheads_headsize_dtype():
    q = qwen()
    assert mm.kv_bytes_per_token(q, mm.BuildShape()) == 2 * 32 * 32 * 128 * 2 == 524_288
    assert mm.kv_bytes_per_token(q, mm.BuildShape(kv_dtype="fp8")) == 262_144
    assert mm.kv_bytes_per_token(q, mm.BuildShape(kv_dtype="int8", tp=2)) == 2 * 32 * 16 * 128
    l70 = mm.model_from_hf_config(LLAMA2_70B)
    assert mm.kv_bytes_per_token(l70, mm.BuildShape()) == 2 * 80 * 8 * 128 * 2
    assert mm.kv_bytes_per_token(l70, mm.BuildShape(tp=8)) == 2 * 80 * 1 * 128 * 2
    assert mm.kv_bytes_per_token(l70, mm.BuildShape(tp=16)) == 2 * 80 * 1 * 128 * 2  # KV heads replicated past tp = 8
    assert mm.kv_bytes_per_token(l70, mm.BuildShape(pp=4)) == 2 * 20 * 8 * 128 * 2


def test_weight_only_quantization_shrinks_the_linear_layers_only():
    q = qwen()
    fp16 = mm.weights_per_rank(q, mm.BuildShape())
    int4 = mm.weights_per_rank(q, mm.BuildShape(weight_only="int4"))
    emb = 151936 * 4096 * 2  # bytes of one of embedding / lm_head, which stay fp16
    assert fp16 == int(7_720_665_088 * 2)
    assert int4 == int((7_720_665_088 - 2 * 151936 * 4096) * 0.5 + 2 * emb)
    assert mm.params_from_weights(q, mm.BuildShape(weight_only="int4"), int4) == pytest.approx(q.param_count(), rel=1e-6)


class TestQwen7BOn24GiB:
    """The real case of issue 2: Qwen-7B-Chat fp16 on a 24 GB card loads at max_batch_size 2 and runs
    out of memory at 4 (2048 + 2048 tokens); rebuilt int4 weight-only with 1024 + 1024 it fits at 4."""

    def test_fp16_batch4_2048_2048_does_not_fit(self):
        e = mm.estimate(qwen(), mm.BuildShape(max_batch_size=4, max_input_len=2048, max_output_len=2048), CARD_24GIB)
        assert e["fits_load"] and not e["fits"]
        assert e["kv_sequences"] == 3  # 7.99 GiB after load × 0.9 / 0.5 MiB per token = 14,784 tokens
        assert e["kv_tokens_needed"] == 4 * 4096

    def test_fp16_batch2_fits(self):
        e = mm.estimate(qwen(), mm.BuildShape(max_batch_size=2, max_input_len=2048, max_output_len=2048), CARD_24GIB)
        assert e["fits"] and e["kv_sequences"] >= 2

    def test_int4_batch4_1024_1024_fits(self):
        e = mm.estimate(qwen(), mm.BuildShape(weight_only="int4", max_batch_size=4, max_input_len=1024, max_output_len=1024), CARD_24GIB)
        assert e["fits"] and e["kv_sequences"] >= 4

    def test_contiguous_kv_rule_agrees(self):
        """The V1 runtime allocates batch × seq tokens at load: 4 × 4096 × 0.5 MiB = 8 GiB do not fit, 4 GiB do."""
        b4 = mm.estimate(qwen(), mm.BuildShape(max_batch_size=4, max_input_len=2048, max_output_len=2048, paged_kv=False), CARD_24GIB)
        b2 = mm.estimate(qwen(), mm.BuildShape(max_batch_size=2, max_input_len=2048, max_output_len=2048, paged_kv=False), CARD_24GIB)
        assert not b4["fits_load"] and b4["deficit"] > 0 and b4["kv_bytes"] == 8 * GiB
        assert b2["fits_load"] and b2["fits"]

    def test_answers(self):
        b = mm.BuildShape(max_batch_size=4, max_input_len=2048, max_output_len=2048)
        ans = mm.answers(qwen(), b, CARD_24GIB, cc=[8, 9])
        assert ans["max_batch_size_at_built_lengths"] == 3
        lt = ans["lengths_at_built_batch"]
        assert lt["max_input_len"] == lt["max_output_len"] and 1024 <= lt["max_input_len"] < 2048
        rows = {r["precision"]: r for r in ans["precisions"]}
        assert not rows["float16"]["fits"]
        assert rows["int8 weight-only"]["fits"] and rows["int4 weight-only"]["fits"] and rows["float16 + fp8 KV"]["fits"]
        table = mm.table(ans, b)
        assert "int4 weight-only" in table and "float16 (built)" in table


def test_paged_kv_is_capped_by_max_tokens_in_whole_blocks():
    b = mm.BuildShape(max_batch_size=4, max_input_len=512, max_output_len=512, tokens_per_block=64)
    e = mm.estimate(qwen(), b, 80 * GiB, mm.Serving(max_tokens=5000))
    assert e["kv_capped_by"] == "max_tokens_in_paged_kv_cache"
    assert e["kv_blocks"] == 79 and e["kv_tokens"] == 79 * 64  # ceil(5000 / 64) blocks
    assert e["kv_sequences"] == 79 // 16 == 4


def test_kv_fraction_and_attention_window():
    b = mm.BuildShape(max_batch_size=8, max_input_len=2048, max_output_len=2048)
    half = mm.estimate(qwen(), b, CARD_24GIB, mm.Serving(kv_fraction=0.45))
    full = mm.estimate(qwen(), b, CARD_24GIB)
    assert full["kv_fraction"] == 0.9 and half["kv_tokens"] == pytest.approx(full["kv_tokens"] / 2, abs=64)
    win = mm.estimate(qwen(), b, CARD_24GIB, mm.Serving(max_attention_window=1024))
    assert win["kv_tokens_per_sequence"] == 1024 and win["kv_sequences"] == win["kv_blocks"] // 16


def test_hf_config_errors_are_input_errors():
    from trtdiag.core.errors import InputError

    with pytest.raises(InputError, match="num_hidden_layers"):
        mm.model_from_hf_config({"hidden_size": 4096})
    with pytest.raises(InputError):
        mm.model_from_hf_config([1, 2])


# ------------------------------------------------------------------ checks: shared set-up

QWEN_ENGINE = {  # engine.info["normalized"] of a trtllm-build 0.9.0 Qwen-7B-Chat fp16 engine
    "layout": "trtllm-build", "trtllm_version": "0.9.0", "architecture": "QWenForCausalLM", "dtype": "float16",
    "num_layers": 32, "num_heads": 32, "num_kv_heads": 32, "head_size": 128, "hidden_size": 4096, "vocab_size": 151936,
    "tp": 1, "pp": 1, "world_size": 1, "max_batch_size": 4, "max_input_len": 2048, "max_output_len": 2048, "max_seq_len": 4096,
    "max_num_tokens": None, "max_beam_width": 1, "paged_kv_cache": True, "remove_input_padding": True,
    "gpt_attention_plugin": True, "gemm_plugin": True, "tokens_per_block": 64, "quant_algo": None, "kv_cache_dtype": "float16",
}
QWEN_ENGINE_BYTES = 15_442_000_000  # ~ 7.72 B parameters × 2 bytes


def inventory(name: str = "h100-80gb_idle.json", total: int | None = None, live: bool = False) -> dict:
    """A recorded NVML inventory of a real H100 (test double); ``total`` turns it into a card of that
    size with the same driver reserve; ``live`` marks it as if NVML had been read here."""
    inv = json.loads((GPU_DATA / name).read_text())
    inv.pop("_source")
    inv["source"] = "nvml" if live else f"recorded:{name}"
    if total:
        g = inv["gpus"][0]
        used = g["used"]
        g.update(total=total, used=used, free=total - used)
    return inv


def facts_for(inv: dict, normalized: dict | None = None, engine_bytes: int = QWEN_ENGINE_BYTES, repo: dict | None = None) -> Facts:
    f = Facts({"engine_dir": "/engines/qwen"})
    f.set("gpu.inventory", inv)
    if normalized is not None:
        ranks = [{"rank": r, "path": f"/engines/qwen/rank{r}.engine", "size": engine_bytes} for r in range(normalized["world_size"])]
        f.set("engine.info", {"path": "/engines/qwen", "config_path": "/engines/qwen/config.json", "normalized": normalized, "ranks": ranks, "problems": []})
    else:
        f.set("engine.info", None)
    f.set("triton.repo", repo)
    return f


def run(f: Facts, only: str):
    return engine_run.run(registry.select([only]), f)[0]


def filled_config(tmp_path, **values) -> str:
    """The real v0.9.0 tensorrt_llm config.pbtxt template, filled like tools/fill_template.py does."""
    d = tmp_path / "repo" / "tensorrt_llm"
    d.mkdir(parents=True)
    text = string.Template(TEMPLATE.read_text()).safe_substitute({k: str(v) for k, v in values.items()})
    (d / "config.pbtxt").write_text(text)
    return str(d / "config.pbtxt")


def repo_fact(config_path: str, **params) -> dict:
    keys = ("kv_cache_free_gpu_mem_fraction", "max_tokens_in_paged_kv_cache", "max_attention_window_size", "batch_scheduler_policy")
    p = {k: (str(params[k]) if params.get(k) is not None else None) for k in keys}
    return {"root": str(config_path).rsplit("/tensorrt_llm/", 1)[0], "trtllm_model": "tensorrt_llm",
            "models": {"tensorrt_llm": {"path": str(config_path).rsplit("/", 1)[0], "config_path": str(config_path), "max_batch_size": 4, "parameters": p}}}


# ------------------------------------------------------------------ MEM001


def test_mem001_engine_larger_than_the_gpu_is_an_error_with_the_deficit():
    """Test double: the H100 recording resized to a 16 GiB card; the fp16 Qwen-7B engine (15.4 GB) cannot load."""
    out = run(facts_for(inventory(total=16 * GiB), QWEN_ENGINE), "MEM001")
    assert len(out) == 1 and out[0].severity == Severity.ERROR and out[0].kb == "gpu-out-of-memory"
    e = out[0].evidence["per_rank"][0]
    assert e["weights"] == QWEN_ENGINE_BYTES and e["weights_source"] == "engine file"
    short = (e["weights"] + e["activations"] + e["overhead"] - e["free_before_load"]) / GiB
    assert f"{short:.2f} GiB short" in out[0].title
    assert "int4 weight-only" in out[0].evidence["what fits"]
    assert out[0].fix and out[0].fix.id.startswith("rebuild-weight-only") and not out[0].fix.safe
    assert "--weight_only_precision" in out[0].fix.preview


def test_mem001_fits_on_an_idle_h100():
    """Test double: the recorded idle H100."""
    out = run(facts_for(inventory(), QWEN_ENGINE), "MEM001")
    assert [f.severity for f in out] == [Severity.OK]


def test_mem001_not_applicable_without_engine_or_gpu():
    assert run(facts_for(inventory(), None), "MEM001") == []
    f = facts_for({"nvml_error": "no driver", "gpus": []}, QWEN_ENGINE)
    assert run(f, "MEM001") == []


def test_mem001_checks_every_rank_on_its_own_gpu():
    """Test double: two recorded H100s, the second one mostly taken; a tp=2 engine's rank 1 does not fit."""
    inv = inventory()
    busy = dict(inv["gpus"][0], index=1, uuid="GPU-1", free=4 * GiB, used=inv["gpus"][0]["total"] - 4 * GiB)
    inv["gpus"].append(busy)
    n = dict(QWEN_ENGINE, tp=2, world_size=2)
    out = run(facts_for(inv, n, engine_bytes=QWEN_ENGINE_BYTES // 2), "MEM001")
    assert out[0].severity == Severity.ERROR and "GPU 1" in out[0].title
    assert [r["rank"] for r in out[0].evidence["per_rank"]] == [0, 1]


# ------------------------------------------------------------------ MEM002


def test_mem002_qwen_fp16_batch4_on_24gib_holds_3_of_4():
    """Test double: the H100 recording resized to 24 GiB; issue 2's Qwen-7B-Chat fp16 engine at batch 4."""
    out = run(facts_for(inventory(total=24 * GiB), QWEN_ENGINE), "MEM002")
    assert len(out) == 1 and out[0].severity == Severity.WARNING and out[0].kb == "kv-cache-insufficient"
    assert out[0].title == "KV cache holds 3 of 4 full-length sequences"
    assert "guaranteed_no_evict" in out[0].message and "at most 3" in out[0].message
    r = out[0].evidence["per_rank"][0]
    assert r["kv_bytes_per_token"] == 524_288 and r["kv_sequences"] == 3 and r["seq_len"] == 4096
    assert r["kv_tokens"] == r["kv_bytes"] // 524_288
    assert out[0].fix is not None and not out[0].fix.safe


def test_mem002_ok_at_batch_2():
    out = run(facts_for(inventory(total=24 * GiB), dict(QWEN_ENGINE, max_batch_size=2)), "MEM002")
    assert [f.severity for f in out] == [Severity.OK]


def test_mem002_fix_raises_a_low_fraction_in_config_pbtxt(tmp_path):
    """Test double GPU (24 GiB); real config.pbtxt template, filled with a low fraction."""
    cfg = filled_config(tmp_path, kv_cache_free_gpu_mem_fraction="0.3")
    f = facts_for(inventory(total=24 * GiB), dict(QWEN_ENGINE, max_batch_size=2), repo=repo_fact(cfg, kv_cache_free_gpu_mem_fraction="0.3"))
    out = run(f, "MEM002")
    assert out[0].severity == Severity.WARNING
    fix = out[0].fix
    assert fix.id == "kv-cache-fraction" and fix.safe
    assert fix.preview.count("\n-") == 1 and '-    string_value: "0.3"' in fix.preview and '+    string_value: "0.9"' in fix.preview
    assert "holds 3 sequences" in fix.summary


def test_mem002_cap_from_max_tokens_is_reported_and_fixed(tmp_path):
    cfg = filled_config(tmp_path, max_tokens_in_paged_kv_cache="8192")
    f = facts_for(inventory(), QWEN_ENGINE, repo=repo_fact(cfg, max_tokens_in_paged_kv_cache="8192"))
    out = run(f, "MEM002")
    assert out[0].severity == Severity.WARNING and "capped by max_tokens_in_paged_kv_cache = 8192" in out[0].message
    assert out[0].fix.id == "kv-cache-max-tokens" and '+    string_value: "16384"' in out[0].fix.preview


# ------------------------------------------------------------------ MEM003


def test_mem003_h100_recording_reports_the_torch_process():
    """Test double: the recorded H100 while a PyTorch process (pid 422) held a 10 GiB tensor."""
    out = run(facts_for(inventory("h100-80gb_torch-10GiB.json"), None), "MEM003")
    assert len(out) == 1 and out[0].severity == Severity.WARNING
    assert out[0].title == "PID 422 (unknown) holds 10.51 GiB on GPU 0"
    assert out[0].evidence["pid"] == 422 and "11,280,580,608 B" in out[0].evidence["used"]
    assert out[0].fix is None and "another machine" in out[0].message  # never kill a PID read from a recording


def test_mem003_kill_fix_needs_the_kill_flag_and_stops_a_real_process():
    """Test double inventory (marked live) naming a real child process of this test."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        inv = inventory("h100-80gb_torch-10GiB.json", live=True)
        inv["gpus"][0]["procs"] = [{"pid": proc.pid, "used": 71 * GiB, "name": "tritonserver", "local": True}]
        out = run(facts_for(inv, None), "MEM003")
        f = out[0]
        assert "earlier server is still running" in f.message
        assert f.fix.requires == "--kill" and not f.fix.safe and f.fix.changes[0].kind == "kill" and f.fix.changes[0].pid == proc.pid
        res = Applier(echo=lambda s: None).apply([f.fix])
        assert res.skipped == [f"stop-gpu-process: needs --kill"] and proc.poll() is None
        Applier(allow_kill=True, echo=lambda s: None).apply([f.fix])
        assert proc.wait(timeout=10) is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_mem003_ok_when_the_gpu_is_idle():
    out = run(facts_for(inventory(), None), "MEM003")
    assert [f.severity for f in out] == [Severity.OK]


# ------------------------------------------------------------------ MEM004


@pytest.mark.parametrize("value, words", [("1.0", "not below 1.0"), ("1.5", "not below 1.0"), ("0", "leaves no memory"), ("-0.2", "leaves no memory"), ("ninety", "not a number")])
def test_mem004_bad_fraction(tmp_path, value, words):
    cfg = filled_config(tmp_path, kv_cache_free_gpu_mem_fraction=value)
    out = run(facts_for(inventory(), QWEN_ENGINE, repo=repo_fact(cfg, kv_cache_free_gpu_mem_fraction=value)), "MEM004")
    assert len(out) == 1 and out[0].severity == Severity.ERROR and words in out[0].message and out[0].kb == "kv-cache-config-invalid"
    assert out[0].fix.id == "kv-cache-fraction" and f'-    string_value: "{value}"' in out[0].fix.preview


@pytest.mark.parametrize("value, words", [("2048", "less than one full sequence"), ("0", "no room"), ("4k", "not an integer")])
def test_mem004_bad_max_tokens(tmp_path, value, words):
    cfg = filled_config(tmp_path, max_tokens_in_paged_kv_cache=value)
    out = run(facts_for(inventory(), QWEN_ENGINE, repo=repo_fact(cfg, max_tokens_in_paged_kv_cache=value)), "MEM004")
    assert out[0].severity == Severity.ERROR and words in out[0].message
    assert out[0].fix and '+    string_value: "16384"' in out[0].fix.preview


def test_mem004_valid_and_unfilled_settings(tmp_path):
    cfg = filled_config(tmp_path, kv_cache_free_gpu_mem_fraction="0.85", max_tokens_in_paged_kv_cache="20000")
    out = run(facts_for(inventory(), QWEN_ENGINE, repo=repo_fact(cfg, kv_cache_free_gpu_mem_fraction="0.85", max_tokens_in_paged_kv_cache="20000")), "MEM004")
    assert [f.severity for f in out] == [Severity.OK]
    cfg2 = filled_config(tmp_path / "b")
    assert run(facts_for(inventory(), QWEN_ENGINE, repo=repo_fact(cfg2)), "MEM004") == []  # nothing set: defaults


def test_mem004_sliding_window_is_information(tmp_path):
    cfg = filled_config(tmp_path, max_attention_window_size="1024")
    out = run(facts_for(inventory(), QWEN_ENGINE, repo=repo_fact(cfg, max_attention_window_size="1024")), "MEM004")
    assert [f.severity for f in out] == [Severity.INFO, Severity.OK]


# ------------------------------------------------------------------ fixes


def test_parameter_fix_changes_only_the_value_and_applies_and_undoes(tmp_path):
    cfg = filled_config(tmp_path, kv_cache_free_gpu_mem_fraction="1.0")
    before = open(cfg).read()
    fix = kvfix.parameter_fix(Facts({}), "kv-cache-fraction", "set it", cfg, "kv_cache_free_gpu_mem_fraction", "0.9")
    after = fix.changes[0].after
    assert len(after) == len(before) and [a for a, b in zip(after.splitlines(), before.splitlines()) if a != b] == ['    string_value: "0.9"']
    assert kvfix.get_parameter(after, "kv_cache_free_gpu_mem_fraction") == "0.9"
    assert kvfix.get_parameter(after, "max_tokens_in_paged_kv_cache") == "${max_tokens_in_paged_kv_cache}"
    ap = Applier(roots=[tmp_path], echo=lambda s: None)
    ap.apply([fix])
    assert open(cfg).read() == after
    ap.apply([fix])  # idempotent
    assert open(cfg).read() == after
    ap.undo()
    assert open(cfg).read() == before


def test_parameter_fix_none_when_key_or_file_missing(tmp_path):
    assert kvfix.parameter_fix(Facts({}), "x", "x", str(tmp_path / "none.pbtxt"), "kv_cache_free_gpu_mem_fraction", "0.9") is None
    p = tmp_path / "c.pbtxt"
    p.write_text('name: "tensorrt_llm"\n')
    assert kvfix.parameter_fix(Facts({}), "x", "x", str(p), "kv_cache_free_gpu_mem_fraction", "0.9") is None


def test_rebuild_commands_follow_the_trtllm_release():
    old = kvfix.rebuild_argv(QWEN_ENGINE, max_batch_size=2)
    assert old[:1] == ["trtllm-build"] and "--max_output_len" in old and old[old.index("--max_batch_size") + 1] == "2"
    new = kvfix.rebuild_argv(dict(QWEN_ENGINE, trtllm_version="0.12.0"), max_batch_size=2)
    assert "--max_seq_len" in new and new[new.index("--max_seq_len") + 1] == "4096"
    fix = kvfix.rebuild_fix(QWEN_ENGINE, weight_only="int4")
    assert [c.argv[:2] for c in fix.changes] == [["python3", "convert_checkpoint.py"], ["trtllm-build", "--checkpoint_dir"]]
    assert "--use_weight_only --weight_only_precision int4" in fix.preview and not fix.safe


def test_check_from_snapshot_end_to_end():
    """`trtdiag check --from` a snapshot (tests/data/memory/, its _note says what it holds: a test-double
    24 GiB GPU derived from the H100 recording, with an old tritonserver holding 2.5 GiB)."""
    from tests.conftest import run_json

    code, rep = run_json("check", "--from", str(DATA / "memory" / "snapshot_qwen7b_fp16_24gib.json"), "--only", "gpu,memory")
    assert code == 0
    by = {}
    for f in rep["findings"]:
        by.setdefault(f["id"], []).append(f)
    assert by["MEM001"][0]["severity"] == "ok"
    m2 = by["MEM002"][0]
    assert m2["severity"] == "warning" and m2["title"] == "KV cache holds 2 of 4 full-length sequences"
    assert "without them it would hold 3 sequences" in m2["message"]
    assert m2["evidence"]["per_rank"][0]["kv_tokens"] == 9856
    m3 = by["MEM003"][0]
    assert m3["title"] == "PID 31337 (tritonserver) holds 2.51 GiB on GPU 0" and m3["fix"] is None


def test_smaller_batch_rebuild_uses_the_checkpoint_dir(tmp_path):
    """Test double: a 9 GiB card (the H100 recording resized) under an engine that is already int4
    weight-only: no weight-only rebuild is left, so the fix is a smaller max_batch_size built from
    --checkpoint-dir."""
    n = dict(QWEN_ENGINE, quant_algo="W4A16")  # already int4: no weight-only rebuild left to offer
    f = facts_for(inventory(total=9 * GiB), n, engine_bytes=5_700_000_000)
    f.options["checkpoint_dir"] = str(tmp_path / "ckpt")
    out = run(f, "MEM002")
    assert out[0].severity == Severity.WARNING
    fix = out[0].fix
    assert fix.id == "rebuild-smaller-batch" and not fix.safe
    ch = fix.changes[-1]
    assert ch.kind == "rebuild" and ch.target == "/engines/qwen" and ch.output == "/engines/qwen.rebuild"
    argv = ch.argv
    assert argv[argv.index("--checkpoint_dir") + 1] == str(tmp_path / "ckpt")
    assert argv[argv.index("--output_dir") + 1] == "/engines/qwen.rebuild"
    assert int(argv[argv.index("--max_batch_size") + 1]) < 4


def test_rebuild_fix_runs_through_the_applier_with_a_trtllm_build_stub(tmp_path, monkeypatch):
    """Test double: trtllm-build is a stub script on PATH that records its argv and writes an engine
    into --output_dir; the applier swaps the new directory in and keeps the old one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "trtllm-build"
    stub.write_text("#!/bin/sh\n"
                    f"echo \"$@\" > {tmp_path / 'argv.txt'}\n"
                    "while [ $# -gt 0 ]; do if [ \"$1\" = --output_dir ]; then out=$2; fi; shift; done\n"
                    "mkdir -p \"$out\" && printf new > \"$out/rank0.engine\"\n")
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:" + __import__("os").environ["PATH"])
    engine = tmp_path / "engine"
    engine.mkdir()
    (engine / "rank0.engine").write_text("old")
    fix = kvfix.rebuild_fix(QWEN_ENGINE, max_batch_size=2, checkpoint_dir=str(tmp_path / "ckpt"), engine_dir=str(engine))
    res = Applier(roots=[engine], echo=lambda s: None).apply([fix])
    assert not res.failed, res.failed
    assert (engine / "rank0.engine").read_text() == "new"
    assert "--max_batch_size 2" in (tmp_path / "argv.txt").read_text()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("engine.before-rebuild-")]
    assert len(kept) == 1 and (kept[0] / "rank0.engine").read_text() == "old"


# ------------------------------------------------------------------ properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(free_gib=st.floats(4, 160), batch=st.integers(1, 64), inp=st.integers(16, 8192), out=st.integers(16, 8192),
       wo=st.sampled_from([None, "int8", "int4"]), kv=st.sampled_from([None, "fp8"]), tp=st.sampled_from([1, 2, 4]),
       frac=st.sampled_from([None, 0.5, 0.95]), paged=st.booleans())
def test_answers_are_the_boundary(free_gib, batch, inp, out, wo, kv, tp, frac, paged):
    """The largest batch that fits does fit and one more does not; the KV cache never takes more than its share."""
    m = qwen()
    b = mm.BuildShape(weight_only=wo, kv_dtype=kv, max_batch_size=batch, max_input_len=inp, max_output_len=out, tp=tp, paged_kv=paged)
    free = int(free_gib * GiB)
    sv = mm.Serving(kv_fraction=frac)
    e = mm.estimate(m, b, free, sv)
    if paged and e["fits_load"]:
        share = (frac or 0.9) * e["free_after_load"]
        assert e["kv_bytes"] <= share + e["tokens_per_block"] * e["kv_bytes_per_token"]
    best = mm.max_batch_size(m, b, free, sv)
    if best:
        from dataclasses import replace

        assert mm.estimate(m, replace(b, max_batch_size=best), free, sv)["fits"]
        if best < 4096:
            assert not mm.estimate(m, replace(b, max_batch_size=best + 1), free, sv)["fits"]
        assert (best >= batch) == e["fits"]
    lt = mm.max_lengths(m, b, free, sv)
    if lt:
        assert lt[0] + lt[1] <= b.seq_len


def test_mem002_answers_are_structured_in_json():
    """Test double: the H100 recording resized to 24 GiB."""
    out = run(facts_for(inventory(total=24 * GiB), QWEN_ENGINE), "MEM002")
    ans = out[0].to_dict()["evidence"]["answers"]
    assert ans["max_batch_size_at_built_lengths"] == 3
    rows = {r["precision"]: r for r in ans["precisions"]}
    assert rows["float16"]["built"] and not rows["float16"]["fits"] and rows["int4 weight-only"]["fits"]
    json.dumps(ans)


def test_mem003_no_kill_fix_for_a_pid_not_proven_local():
    """Test double inventory (marked live) whose process is not proven to be this namespace's (local false)."""
    inv = inventory("h100-80gb_torch-10GiB.json", live=True)
    inv["gpus"][0]["procs"][0]["local"] = False
    out = run(facts_for(inv, None), "MEM003")
    assert out[0].fix is None and "host PIDs" in out[0].message


def test_holds_device_reads_the_real_fd_table(tmp_path):
    """A real child process holding a file open; /dev/nvidia* does not exist on CI, so the prefix is a temp file."""
    from trtdiag.probes.gpu import holds_device

    target = tmp_path / "dev-nvidia0"
    target.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", f"f = open({str(target)!r}); import time; time.sleep(60)"])
    try:
        import time

        for _ in range(100):
            if holds_device(proc.pid, str(target)):
                break
            time.sleep(0.05)
        assert holds_device(proc.pid, str(target))
        assert not holds_device(proc.pid, "/dev/nvidia")
        assert not holds_device(2**22 + 7)  # no such process
    finally:
        proc.kill()
        proc.wait()


_val = st.one_of(st.none(), st.integers(-5, 10**6), st.text(max_size=5), st.booleans(), st.floats(allow_nan=True))


@settings(max_examples=80, deadline=None)
@given(n=st.fixed_dictionaries({k: _val for k in ("num_layers", "num_heads", "num_kv_heads", "head_size", "hidden_size", "vocab_size",
                                                  "tp", "pp", "world_size", "max_batch_size", "max_input_len", "max_output_len",
                                                  "max_seq_len", "max_num_tokens", "max_beam_width", "tokens_per_block", "dtype",
                                                  "quant_algo", "kv_cache_dtype", "paged_kv_cache")}),
       params=st.fixed_dictionaries({k: st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["0.9", "1", "-1", "1e9", "${x}", "4096"]))
                                     for k in ("kv_cache_free_gpu_mem_fraction", "max_tokens_in_paged_kv_cache", "max_attention_window_size")}))
def test_memory_checks_never_crash_on_odd_facts(n, params):
    """Hostile engine.info / triton.repo values (as a broken config could give): findings, never a crash."""
    repo = {"root": "/r", "trtllm_model": "tensorrt_llm",
            "models": {"tensorrt_llm": {"path": "/r/tensorrt_llm", "config_path": "/nonexistent/config.pbtxt", "parameters": params}}}
    f = Facts({"engine_dir": "/e"})
    f.set("gpu.inventory", inventory())
    f.set("engine.info", {"path": "/e", "normalized": n, "ranks": [{"rank": 0, "path": "/e/rank0.engine", "size": 10**9}]})
    f.set("triton.repo", repo)
    for spec in registry.select(["memory"]):
        for finding in engine_run.run_one(spec, f, debug=True):
            assert "crashed" not in finding.title, finding.evidence.get("traceback")


def test_mem001_old_server_holding_the_gpu_is_the_fix_not_a_rebuild():
    """Test double: the H100 recording (marked live) with an old tritonserver holding 70 GiB of it."""
    inv = inventory(live=True)
    g = inv["gpus"][0]
    g["procs"] = [{"pid": 4242, "used": 70 * GiB, "name": "tritonserver", "local": True}]
    g["free"] -= 70 * GiB
    f = facts_for(inv, QWEN_ENGINE)
    m1 = run(f, "MEM001")[0]
    assert m1.severity == Severity.ERROR and "Without them the engine would load" in m1.message and m1.fix is None
    m3 = run(f, "MEM003")[0]
    assert m3.fix.id == "stop-gpu-process" and m3.fix.requires == "--kill"


# ------------------------------------------------------------------ one rank of `check --mpi`: its own GPU

X2 = GPU_DATA / "h100-80gb-x2_gpu1-torch-10GiB.json"


def _rank_facts(monkeypatch, gpu_index, engine_bytes, rank=None):
    """The real gpu.inventory probe reading the recorded 2-GPU machine (TRTDIAG_GPU_INVENTORY: a
    test double for NVML) with GPU 1 partly held by PID 422; a tp=1 Qwen-7B engine of ``engine_bytes``."""
    monkeypatch.setenv("TRTDIAG_GPU_INVENTORY", str(X2))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("NVIDIA_VISIBLE_DEVICES", raising=False)
    opts = {"engine_dir": "/engines/qwen"}
    if gpu_index is not None:
        opts["gpu_index"] = gpu_index
    f = Facts(opts)
    f.set("engine.info", {"path": "/engines/qwen", "config_path": "/engines/qwen/config.json", "normalized": QWEN_ENGINE,
                          "ranks": [{"rank": 0, "path": "/engines/qwen/rank0.engine", "size": engine_bytes}], "problems": []})
    f.set("triton.repo", None)
    if rank is not None:
        f.set("fleet.rank", {"launcher": "openmpi", "rank": rank, "local_rank": gpu_index, "size": 2})
    return f


def test_memory_checks_use_the_gpu_of_this_rank(monkeypatch):
    big = 70 * GiB  # fits GPU 0 (79.18 GiB free), not GPU 1 (68.66 GiB free: PID 422 holds 10.51 GiB)
    # local rank 1 → GPU 1: the engine does not fit there, and PID 422 is named
    f = _rank_facts(monkeypatch, 1, big, rank=1)
    (m1,) = run(f, "MEM001")
    assert m1.severity == Severity.ERROR and "GPU 1" in m1.title
    assert [(r["rank"], r["gpu"]) for r in m1.evidence["per_rank"]] == [(1, 1)]
    assert "PID 422" in m1.message and "rank 1 only" in m1.evidence["checked"]
    (m3,) = run(f, "MEM003")
    assert m3.severity == Severity.WARNING and m3.evidence["gpu"] == 1 and m3.evidence["pid"] == 422
    # local rank 0 → GPU 0: the engine fits, and GPU 1's process is another rank's business
    f = _rank_facts(monkeypatch, 0, big, rank=0)
    (m1,) = run(f, "MEM001")
    assert m1.severity == Severity.OK and "GPU 0" in m1.title
    (m3,) = run(f, "MEM003")
    assert m3.severity == Severity.OK and "GPU 0" in m3.title


def test_memory_checks_without_gpu_index_look_at_gpus_0_to_tp_pp(monkeypatch):
    f = _rank_facts(monkeypatch, None, 70 * GiB)
    (m1,) = run(f, "MEM001")  # tp=1: rank 0 on GPU 0
    assert m1.severity == Severity.OK and [r["gpu"] for r in m1.evidence["per_rank"]] == [0]
    assert [x.evidence["gpu"] for x in run(f, "MEM003")] == [1]  # every visible GPU, as before


def test_gpu_index_counts_within_cuda_visible_devices(monkeypatch):
    """CUDA_VISIBLE_DEVICES=1 leaves one GPU (NVML index 1, CUDA device 0): local rank 0 uses it."""
    f = _rank_facts(monkeypatch, 0, 70 * GiB, rank=0)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    (m1,) = run(f, "MEM001")
    assert m1.severity == Severity.ERROR and "PID 422" in m1.message
