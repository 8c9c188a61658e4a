"""`trtdiag plan`, run as a real child process.

Models come from their public Hugging Face config.json (values quoted in tests/test_memory.py);
the GPU is given as --gpu-memory / --gpu, or is a recorded H100 inventory (a test double, through
TRTDIAG_GPU_INVENTORY).  Engine directories are real files: a trtllm-build config.json and a
rank0.engine of the size a Qwen-7B fp16 engine has (sparse).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA, run_cli, run_json
from tests.test_memory import QWEN_7B, QWEN_ENGINE_BYTES

GIB = 1 << 30


@pytest.fixture
def qwen_config(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(QWEN_7B))
    return str(p)


def verdict(rep):
    return next(f for f in rep["findings"] if f["id"] == "PLAN001")


def answers(rep):
    return next(f for f in rep["findings"] if f["id"] == "PLAN002")["evidence"]


class TestQwen7BOn24GiB:
    """Issue 2's real case (Qwen-7B-Chat, 24 GB card): fp16 at batch 4 with 2048 + 2048 tokens loads but
    its paged KV cache holds 3 of 4 full-length sequences (the same warning as MEM002 in check), fp16
    at batch 2 fits, int4 weight-only at batch 4 with 1024 + 1024 fits."""

    def test_fp16_batch4_loads_but_holds_3_of_4(self, qwen_config):
        code, rep = run_json("plan", "--model-config", qwen_config, "--gpu-memory", "24GiB", "--dtype", "float16",
                             "--max-batch-size", "4", "--max-input-len", "2048", "--max-output-len", "2048")
        assert code == 0
        v = verdict(rep)
        assert v["severity"] == "warning" and "holds 3 of 4 full-length sequences" in v["title"]
        ev = answers(rep)
        r = ev["per_rank"][0]
        for k in ("weights", "activations", "overhead", "kv_bytes_per_token", "kv_tokens", "kv_sequences", "free_before_load", "free_after_load"):
            assert isinstance(r[k], (int, float)), k
        assert r["kv_bytes_per_token"] == 524_288 and r["kv_sequences"] == 3
        assert r["free_after_load"] == r["free_before_load"] - r["weights"] - r["activations"] - r["overhead"]
        assert ev["answers"]["max_batch_size_at_built_lengths"] == 3
        assert ev["model"]["param_count"] == 7_720_665_088
        assert ev["target"]["total"] == 24 * GIB

    def test_fp16_batch2_fits(self, qwen_config):
        code, rep = run_json("plan", "--model-config", qwen_config, "--gpu-memory", "24GiB", "--dtype", "float16",
                             "--max-batch-size", "2", "--max-input-len", "2048", "--max-output-len", "2048")
        assert code == 0 and verdict(rep)["severity"] == "ok"

    def test_int4_batch4_short_lengths_fit(self, qwen_config):
        code, rep = run_json("plan", "--model-config", qwen_config, "--gpu-memory", "24GiB", "--weight-only", "int4",
                             "--max-batch-size", "4", "--max-input-len", "1024", "--max-output-len", "1024")
        assert code == 0 and verdict(rep)["title"].startswith("Fits: int4 weight-only")

    def test_terminal_view_shows_the_table(self, qwen_config):
        r = run_cli("plan", "--model-config", qwen_config, "--gpu-memory", "24GiB", "--dtype", "float16",
                    "--max-batch-size", "4", "--max-input-len", "2048", "--max-output-len", "2048")
        assert r.returncode == 0 and "Traceback" not in r.stderr
        out = r.stdout
        assert "! Loads, but the KV cache holds 3 of 4" in out and "what fits:" in out
        assert "int4 weight-only" in out and "float16 + fp8 KV" in out and "max_input_len" in out
        assert "23.53 GiB free − weights 14.38" in out


def test_params_override_and_known_gpu(qwen_config):
    code, rep = run_json("plan", "--model-config", qwen_config, "--params", "7.7B", "--gpu", "l4", "--weight-only", "int8",
                         "--max-batch-size", "4", "--max-input-len", "1024", "--max-output-len", "1024")
    ev = answers(rep)
    assert ev["model"]["param_count"] == 7_700_000_000
    assert ev["target"]["gpu"] == "L4" and ev["target"]["total"] == 23034 * (1 << 20)
    assert code == 0


def test_tensor_parallel_splits_the_weights(qwen_config):
    _, one = run_json("plan", "--model-config", qwen_config, "--gpu", "A100-40GB", "--dtype", "float16")
    _, two = run_json("plan", "--model-config", qwen_config, "--gpu", "A100-40GB", "--dtype", "float16", "--tp", "2")
    w1, w2 = answers(one)["per_rank"][0]["weights"], answers(two)["per_rank"][0]["weights"]
    emb = 151936 * 4096 * 2
    assert w2 == pytest.approx((w1 - 2 * emb) / 2 + emb + emb / 2, rel=1e-6)  # embedding whole per rank, lm_head split
    assert answers(two)["per_rank"][0]["kv_bytes_per_token"] == 524_288 // 2


def test_engine_dir(tmp_path):
    """A real engine directory: trtllm-build 0.9.0 config.json and a sparse rank0.engine of 15.4 GB
    (an 'ftrt' plan header as TensorRT 8.6 writes it, the rest sparse)."""
    from tests.test_plan_header import crafted

    cfg = {"version": "0.9.0",
           "pretrained_config": {"architecture": "QWenForCausalLM", "dtype": "float16", "num_hidden_layers": 32, "num_attention_heads": 32,
                                 "num_key_value_heads": 32, "hidden_size": 4096, "vocab_size": 151936, "head_size": 128,
                                 "mapping": {"world_size": 1, "tp_size": 1, "pp_size": 1}, "quantization": {"quant_algo": None}},
           "build_config": {"max_batch_size": 4, "max_input_len": 2048, "max_output_len": 2048, "max_beam_width": 1,
                            "plugin_config": {"paged_kv_cache": True, "remove_input_padding": True, "tokens_per_block": 64, "gpt_attention_plugin": "float16"}}}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with open(tmp_path / "rank0.engine", "wb") as fh:
        fh.write(crafted(size=64, size_field=QWEN_ENGINE_BYTES))
        fh.truncate(QWEN_ENGINE_BYTES)
    code, rep = run_json("plan", "--engine-dir", str(tmp_path), "--gpu-memory", "24GiB")
    assert code == 0 and verdict(rep)["severity"] == "warning"  # loads; holds 3 of 4 (MEM002's verdict)
    r = answers(rep)["per_rank"][0]
    assert r["weights"] == QWEN_ENGINE_BYTES and r["weights_source"] == "engine file" and r["kv_sequences"] == 3
    code, rep = run_json("plan", "--engine-dir", str(tmp_path), "--gpu-memory", "24GiB", "--max-batch-size", "2")
    assert code == 0 and answers(rep)["per_rank"][0]["weights"] == QWEN_ENGINE_BYTES
    code, rep = run_json("plan", "--engine-dir", str(tmp_path), "--gpu-memory", "24GiB", "--weight-only", "int4")
    assert code == 0 and answers(rep)["per_rank"][0]["weights_source"].startswith("estimated")


def test_live_gpu_from_a_recorded_inventory(qwen_config):
    """Test double: the recorded H100 (a 10 GiB PyTorch process holding memory) as this machine's GPU."""
    inv = DATA / "gpu" / "h100-80gb_torch-10GiB.json"
    code, rep = run_json("plan", "--model-config", qwen_config, "--max-batch-size", "64", env={"TRTDIAG_GPU_INVENTORY": str(inv)})
    ev = answers(rep)
    assert ev["target"]["free_before_load"] == 73_727_672_320 and "H100" in ev["target"]["gpu"]
    assert code in (0, 1)


@pytest.mark.parametrize("args, words", [
    (["--gpu-memory", "24GiB"], "give --model-config"),
    (["--model-config", "X", "--engine-dir", "Y", "--gpu-memory", "24GiB"], "one of them"),
    (["--model-config", "{cfg}", "--gpu", "Z80"], "unknown GPU"),
    (["--model-config", "{cfg}", "--gpu-memory", "lots"], "not a memory size"),
    (["--model-config", "{cfg}", "--gpu-memory", "24GiB", "--kv-cache-free-gpu-mem-fraction", "1"], "below 1"),
    (["--model-config", "{cfg}", "--gpu-memory", "24GiB", "--max-batch-size", "0"], "at least 1"),
    (["--model-config", "{bad}", "--gpu-memory", "24GiB"], "not valid JSON"),
    (["--model-config", "{empty}", "--gpu-memory", "24GiB"], "num_hidden_layers"),
    (["--engine-dir", "{nodir}", "--gpu-memory", "24GiB"], "no such"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, qwen_config, args, words):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    args = [a.format(cfg=qwen_config, bad=bad, empty=empty, nodir=tmp_path / "none") for a in args]
    r = run_cli("plan", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and words in r.stderr


def test_serving_options_and_contiguous_kv(qwen_config):
    base = ["plan", "--model-config", qwen_config, "--gpu-memory", "24GiB", "--dtype", "float16", "--max-batch-size", "2",
            "--max-input-len", "2048", "--max-output-len", "2048"]
    _, rep = run_json(*base)
    full = answers(rep)["per_rank"][0]
    _, rep = run_json(*base, "--kv-cache-free-gpu-mem-fraction", "0.45")
    half = answers(rep)["per_rank"][0]
    assert half["kv_fraction"] == 0.45 and abs(half["kv_tokens"] - full["kv_tokens"] / 2) <= 64
    code, rep = run_json(*base, "--max-tokens-in-paged-kv-cache", "4096")
    capped = answers(rep)["per_rank"][0]
    assert code == 0 and verdict(rep)["severity"] == "warning" and capped["kv_tokens"] == 4096 and capped["kv_capped_by"] == "max_tokens_in_paged_kv_cache"
    code, rep = run_json(*base[:-4], "--max-batch-size", "4", "--max-input-len", "2048", "--max-output-len", "2048", "--contiguous-kv")
    c = answers(rep)["per_rank"][0]
    assert code == 1 and c["rule"] == "contiguous" and c["kv_bytes"] == 8 * GIB and verdict(rep)["title"].startswith("Does not load")


def test_pipeline_parallel_splits_layers(qwen_config):
    _, one = run_json("plan", "--model-config", qwen_config, "--gpu", "L4", "--dtype", "float16")
    _, two = run_json("plan", "--model-config", qwen_config, "--gpu", "L4", "--dtype", "float16", "--pp", "2")
    r1, r2 = answers(one)["per_rank"][0], answers(two)["per_rank"][0]
    assert r2["kv_bytes_per_token"] == r1["kv_bytes_per_token"] // 2 and r2["ranks"] == 2
    assert r2["weights"] < r1["weights"] / 2 + 151936 * 4096 * 2


def test_a_plan_is_never_made_from_files_that_are_not_engines(tmp_path):
    """Issue 21: rank files that are Git LFS pointers gave "Fits" with 0.00 GiB of weights; now it is
    an input error naming the file and what it is (check calls the same folder an ENG004 error)."""
    cfg = {"version": "0.9.0",
           "pretrained_config": {"architecture": "LlamaForCausalLM", "dtype": "float16", "num_hidden_layers": 32, "num_attention_heads": 32,
                                 "num_key_value_heads": 32, "hidden_size": 4096, "vocab_size": 32000, "head_size": 128,
                                 "mapping": {"world_size": 2, "tp_size": 2, "pp_size": 1}},
           "build_config": {"max_batch_size": 8, "max_input_len": 2048, "max_output_len": 512, "plugin_config": {"paged_kv_cache": True}}}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    for r in (0, 1):
        (tmp_path / f"rank{r}.engine").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 6738415616\n")
    p = run_cli("plan", "--engine-dir", str(tmp_path), "--gpu", "A10G")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "Fits" not in p.stdout
    assert "rank0.engine is a Git LFS pointer" in p.stderr and "git lfs pull" in p.stderr


def test_a_single_plan_file_says_which_config_json_is_missing(tmp_path):
    plan = tmp_path / "model.plan"
    plan.write_bytes(b"ftrt" + b"\0" * 60)
    p = run_cli("plan", "--engine-dir", str(plan), "--gpu", "A10G")
    assert p.returncode == 2 and str(tmp_path / "config.json") in p.stderr
