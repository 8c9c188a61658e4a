"""Triton model repository checks (TRI0xx) and fixes on real v0.9.0 template trees in tmp_path."""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

import pytest

from tests.conftest import run_cli
from tests.triton_helpers import copy_templates, make_engine, make_tokenizer
from trtdiag.engine import run as engine_run
from trtdiag.parsers import pbtxt
from trtdiag.probes.triton import blocks_loading


def check(cli, *args):
    code, out, err = cli("check", "--only", "triton", "--json", *args)
    assert "Traceback" not in err, err
    return code, json.loads(out)["findings"]


def errors(findings, cid=None):
    return [f for f in findings if f["severity"] == "error" and (cid is None or f["id"] == cid)]


def needed_values(repo: Path, tok: Path, eng: Path | None = None) -> dict[str, str]:
    """--set values for every placeholder that blocks loading, discovered from the files (no fixed
    list: other releases' templates differ)."""
    vals = {}
    for cfg in repo.glob("*/config.pbtxt"):
        for p in pbtxt.parse_config(cfg.read_text())["placeholders"]:
            if not blocks_loading(p):
                continue
            if p["in_string"] and p.get("param") is None:  # a string field of the schema (backend: "${triton_backend}")
                vals[p["name"]] = "tensorrtllm" if "backend" in p["name"] else "x"
                continue
            if p.get("param") == "tokenizer_dir":
                vals[p["name"]] = str(tok)
            elif p.get("param") in ("gpt_model_path", "engine_dir") and eng is not None:
                vals[p["name"]] = str(eng)
            elif p.get("param") == "gpt_model_type":
                vals[p["name"]] = "inflight_fused_batching"
            elif p.get("param") == "tensorrt_llm_model_name":
                vals[p["name"]] = "tensorrt_llm"
            elif not p["in_string"]:
                vals[p["name"]] = {"decoupled": "false", "max_queue_delay_microseconds": "100"}.get(p["field"], "4")
    return vals


@pytest.fixture
def filled(tmp_path, cli):
    """A repository filled through `trtdiag fix --apply --set …` (engine values from --engine-dir)."""
    repo = copy_templates(tmp_path / "repo")
    eng = make_engine(tmp_path / "engine", max_batch_size=8)
    tok = make_tokenizer(tmp_path / "hf" / "tok,v1:final")  # ',' and ':' break fill_template.py; not here
    vals = needed_values(repo, tok)
    vals.pop("triton_max_batch_size", None)  # from the engine's config.json
    code, out, err = cli("fix", "--apply", "--model-repo", str(repo), "--engine-dir", str(eng), "--only", "TRI001",
                         "--set", ",".join(f"{k}={v}" for k, v in vals.items()))
    assert code == 0, out + err
    return repo, eng, tok


# ---------------------------------------------------------------- TRI001 / TRI002
def test_unfilled_copy_names_every_placeholder_with_file_and_line(tmp_path, cli):
    repo = copy_templates(tmp_path / "repo")
    code, findings = check(cli, "--model-repo", str(repo))
    assert code == 1
    reported = " ".join(" ".join(f["evidence"].get("placeholders", [])) for f in findings if f["id"] == "TRI001")
    for cfg in repo.glob("*/config.pbtxt"):
        for p in pbtxt.scan_placeholders(cfg.read_text()):
            assert f"{cfg.parent.name}/config.pbtxt:{p['line']}:{p['col']} ${{{p['name']}}}" in reported
    assert len(errors(findings, "TRI001")) == len(list(repo.glob("*/config.pbtxt")))


def test_fix_apply_set_fills_like_fill_template_and_check_passes(filled, cli, tmp_path):
    repo, eng, tok = filled
    original = copy_templates(tmp_path / "orig")
    for cfg in repo.glob("*/config.pbtxt"):
        text = cfg.read_text()
        assert pbtxt.parse_text(text)[1] is None, f"{cfg} does not parse with Triton's schema"
        # same bytes as fill_template.py's Template.safe_substitute with the values that were used
        orig = (original / cfg.parent.name / "config.pbtxt").read_text()
        assert text == Template(orig).safe_substitute({k: v for k, v in _used_values(orig, text).items()})
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    assert not errors(findings), errors(findings)
    assert code == 0
    tri = [f for f in findings if f["id"] == "TRI001"]
    assert all(f["severity"] == "info" for f in tri)  # optional parameters left to the backend's defaults
    params = pbtxt.parse_config((repo / "preprocessing" / "config.pbtxt").read_text())["parameters"]
    assert params["tokenizer_dir"] == str(tok)


def _used_values(orig: str, filled: str) -> dict[str, str]:
    """Recover name → value from a filled line (one placeholder per line in these templates)."""
    out = {}
    for o, f in zip(orig.splitlines(), filled.splitlines()):
        m = pbtxt.PLACEHOLDER_RE.search(o)
        if m and o != f:
            pre, post = o[: m.start()], o[m.end():]
            out[m.group(1)] = f[len(pre): len(f) - len(post) if post else None]
    return out


def test_second_apply_changes_nothing_and_undo_restores(tmp_path, cli):
    repo = copy_templates(tmp_path / "repo")
    before = (repo / "tensorrt_llm_bls" / "config.pbtxt").read_text()
    code, out, _ = cli("fix", "--apply", "--model-repo", str(repo), "--only", "TRI001", "--set", "decoupled_mode=false")
    assert code == 0 and "changed" in out
    code, out, _ = cli("fix", "--apply", "--model-repo", str(repo), "--only", "TRI001", "--set", "decoupled_mode=false")
    assert "changed " not in out
    code, out, _ = cli("fix", "--undo")
    assert (repo / "tensorrt_llm_bls" / "config.pbtxt").read_text() == before


def test_set_value_that_would_not_parse_is_refused(tmp_path, cli):
    repo = copy_templates(tmp_path / "repo")
    code, out, err = cli("fix", "--model-repo", str(repo), "--only", "TRI001", "--json", "--set", "decoupled_mode=maybe")
    # refused before planning: the value does not fit the bool field it fills (derive/set_values.py)
    assert code == 2 and "true or false" in err and out == ""
    assert all(pbtxt.scan_placeholders(c.read_text()) for c in repo.glob("*/config.pbtxt"))  # nothing written


def test_parse_error_reported_with_line(filled, cli):
    repo, eng, _ = filled
    cfg = repo / "postprocessing" / "config.pbtxt"
    lines = cfg.read_text().splitlines(keepends=True)
    n = next(i for i, l in enumerate(lines) if "data_type" in l)
    lines[n] = lines[n].replace("data_type", "datatype")
    cfg.write_text("".join(lines))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    e = errors(findings, "TRI002")
    assert code == 1 and len(e) == 1 and e[0]["evidence"]["line"] == n + 1
    assert f"config.pbtxt:{n + 1}:" in e[0]["message"]


# ---------------------------------------------------------------- TRI003 / TRI004
def _set_param(cfg: Path, key: str, value: str) -> None:
    text = cfg.read_text()
    new, n = re.subn(r'(key:\s*"' + re.escape(key) + r'"\s*value:\s*\{\s*string_value:\s*")[^"]*(")', lambda m: m.group(1) + value + m.group(2), text)
    assert n == 1
    cfg.write_text(new)


def test_engine_dir_missing_and_empty(filled, cli, tmp_path):
    repo, eng, _ = filled
    _set_param(repo / "tensorrt_llm" / "config.pbtxt", "gpt_model_path", str(tmp_path / "nope"))
    code, findings = check(cli, "--model-repo", str(repo))
    assert [f["title"] for f in errors(findings, "TRI003")] == [f"gpt_model_path {tmp_path / 'nope'} does not exist"]
    (tmp_path / "empty").mkdir()
    _set_param(repo / "tensorrt_llm" / "config.pbtxt", "gpt_model_path", str(tmp_path / "empty"))
    code, findings = check(cli, "--model-repo", str(repo))
    assert "no *.engine file" in errors(findings, "TRI003")[0]["title"]


def test_engine_dir_present_passes(filled, cli):
    repo, eng, _ = filled
    _set_param(repo / "tensorrt_llm" / "config.pbtxt", "gpt_model_path", str(eng))
    code, findings = check(cli, "--model-repo", str(repo))
    assert not errors(findings), errors(findings)
    assert any(f["id"] == "TRI003" and f["severity"] == "ok" for f in findings)


def test_tokenizer_dir_without_tokenizer_files(filled, cli, tmp_path):
    repo, eng, _ = filled
    (tmp_path / "weights_only").mkdir()
    (tmp_path / "weights_only" / "model.safetensors").write_bytes(b"x")
    _set_param(repo / "preprocessing" / "config.pbtxt", "tokenizer_dir", str(tmp_path / "weights_only"))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    e = errors(findings, "TRI004")
    assert len(e) == 1 and "preprocessing" in e[0]["title"] and "no tokenizer files" in e[0]["title"]


# ---------------------------------------------------------------- TRI005 max_batch_size
def test_max_batch_size_above_engine_one_error_and_aligning_fix(tmp_path, cli):
    repo = copy_templates(tmp_path / "repo")
    eng = make_engine(tmp_path / "engine", max_batch_size=8)
    tok = make_tokenizer(tmp_path / "tok")
    vals = needed_values(repo, tok, eng)
    vals["triton_max_batch_size"] = "64"
    cli("fix", "--apply", "--model-repo", str(repo), "--only", "TRI001", "--set", ",".join(f"{k}={v}" for k, v in vals.items()))
    code, findings = check(cli, "--model-repo", str(repo))
    e = errors(findings, "TRI005")
    assert code == 1 and len(e) == 1
    assert e[0]["evidence"]["max_batch_size"] == 64 and e[0]["evidence"]["engine max_batch_size"] == 8
    assert e[0]["fix"]["id"] == "align-max-batch-size"
    # a child process: the applier names journal entries by second and pid (two in-process applies
    # in one second would collide)
    p = run_cli("fix", "--apply", "--model-repo", str(repo), "--only", "TRI005")
    assert p.returncode == 0, p.stdout + p.stderr
    for cfg in repo.glob("*/config.pbtxt"):
        res = pbtxt.parse_config(cfg.read_text())
        assert res["parse_error"] is None and res["max_batch_size"] == 8
        assert all(x <= 8 for x in res["preferred_batch_size"] or [])
    code, findings = check(cli, "--model-repo", str(repo))
    assert not errors(findings), errors(findings)


# ---------------------------------------------------------------- TRI006 ensemble
def test_ensemble_step_naming_a_missing_model(filled, cli):
    repo, eng, _ = filled
    (repo / "postprocessing").rename(repo / "postprocess")
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    e = errors(findings, "TRI006")
    assert len(e) == 1 and "'postprocessing' is not in the repository" in e[0]["title"]


def test_ensemble_batch_size_above_a_step(filled, cli):
    repo, eng, _ = filled
    cfg = repo / "preprocessing" / "config.pbtxt"
    cfg.write_text(re.sub(r"(?m)^max_batch_size: \d+", "max_batch_size: 2", cfg.read_text()))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    e = errors(findings, "TRI006")
    assert len(e) == 1 and "contains model preprocessing which only allows maximum batch size to be 2" in e[0]["message"]


# ---------------------------------------------------------------- TRI007 decoupled
def test_bls_decoupled_but_tensorrt_llm_not(filled, cli):
    repo, eng, _ = filled
    cfg = repo / "tensorrt_llm_bls" / "config.pbtxt"
    cfg.write_text(cfg.read_text().replace("decoupled: false", "decoupled: true"))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    e = errors(findings, "TRI007")
    assert len(e) == 1 and "Streaming is only supported if model is deployed using decoupled mode." in e[0]["message"]


def test_decoupled_tensorrt_llm_says_clients_must_stream(filled, cli):
    repo, eng, _ = filled
    for m in ("tensorrt_llm", "tensorrt_llm_bls"):
        cfg = repo / m / "config.pbtxt"
        cfg.write_text(cfg.read_text().replace("decoupled: false", "decoupled: true"))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    [f] = [f for f in findings if f["id"] == "TRI007"]
    assert f["severity"] == "info" and "HTTP end point doesn't support models with decoupled transaction policy" in f["message"]


# ---------------------------------------------------------------- TRI008 inflight features
@pytest.mark.parametrize("missing,words", [({"paged": False}, "paged KV cache"), ({"packed": False}, "packed input"),
                                            ({"plugin": "disable"}, "GPT attention plugin")])
def test_inflight_batching_on_engine_without_feature(filled, cli, tmp_path, missing, words):
    repo, _, _ = filled
    eng = make_engine(tmp_path / "engine2", **missing)
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    e = errors(findings, "TRI008")
    assert len(e) == 1 and words in e[0]["title"]


def test_inflight_batching_on_full_engine_passes(filled, cli):
    repo, eng, _ = filled
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    assert any(f["id"] == "TRI008" and f["severity"] == "ok" for f in findings)


# ---------------------------------------------------------------- TRI009 / TRI010 / TRI011
def test_kv_cache_and_beam_parameters_against_engine(filled, cli):
    repo, eng, _ = filled
    cfg = repo / "tensorrt_llm" / "config.pbtxt"
    for k, v in {"max_tokens_in_paged_kv_cache": "512", "max_attention_window_size": "4096", "max_beam_width": "4",
                 "kv_cache_free_gpu_mem_fraction": "1.5"}.items():
        _set_param(cfg, k, v)
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    titles = " | ".join(f["title"] for f in findings if f["id"] == "TRI009")
    assert "512 tokens is smaller than one 2048-token sequence" in titles
    assert "max_attention_window_size 4096 exceeds the engine's max_seq_len 2048" in titles
    assert "max_beam_width 4 exceeds the engine's 1" in titles
    assert "kv_cache_free_gpu_mem_fraction '1.5'" in titles


def test_world_size_against_engine(filled, cli, tmp_path):
    repo, _, _ = filled
    eng = make_engine(tmp_path / "tp2", tp=2)
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng), "--world-size", "1")
    assert len(errors(findings, "TRI010")) == 1
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng), "--world-size", "2")
    assert not errors(findings, "TRI010")


def test_instance_count_zero_is_one_as_triton_normalises_it_and_huge_queue_delay(filled, cli):
    """Triton sets a count below 1 (absent or 0: proto3 cannot tell them apart) to 1 before it
    validates (core src/model_config_utils.cc:940); only a kind number that names no kind is refused."""
    repo, eng, _ = filled
    cfg = repo / "postprocessing" / "config.pbtxt"
    cfg.write_text(re.sub(r"count: \d+", "count: 0", cfg.read_text()))
    cfg = repo / "tensorrt_llm" / "config.pbtxt"
    cfg.write_text(re.sub(r"max_queue_delay_microseconds: \d+", "max_queue_delay_microseconds: 5000000", cfg.read_text()))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    tri = [f for f in findings if f["id"] == "TRI011"]
    assert not any(f["severity"] == "error" for f in tri), tri
    assert any(f["severity"] == "warning" and "5000000" in f["title"] for f in tri)
    cfg = repo / "preprocessing" / "config.pbtxt"
    cfg.write_text(re.sub(r"kind: KIND_CPU", "kind: 7", cfg.read_text()))
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    err = [f for f in findings if f["id"] == "TRI011" and f["severity"] == "error"]
    assert len(err) == 1 and "has unexpected kind KIND_AUTO" in err[0]["message"] and "preprocessing" in err[0]["title"]
    assert not any(f["id"] == "TRI011" and "could not" in f["title"] for f in findings)


# ---------------------------------------------------------------- input errors, engine from the repo
def test_missing_model_repo_is_one_line_exit_2(tmp_path):
    p = run_cli("check", "--model-repo", str(tmp_path / "missing"))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().count("\n") == 0 and "no such directory" in p.stderr


def test_engine_read_from_gpt_model_path_when_no_engine_dir(filled, cli):
    repo, eng, _ = filled
    _set_param(repo / "tensorrt_llm" / "config.pbtxt", "gpt_model_path", str(make_engine(eng.parent / "small", max_batch_size=2)))
    code, findings = check(cli, "--model-repo", str(repo))
    e = errors(findings, "TRI005")
    assert len(e) == 1 and e[0]["evidence"]["engine max_batch_size"] == 2


# ---------------------------------------------------------------- more TRI001 / TRI003 / TRI004 / TRI008 cases
def tri001(**options):
    """TRI001's findings for these options (``set`` is what `fix --set` passes; `check` has no --set)."""
    from trtdiag.core import catalogue as registry
    from trtdiag.core.facts import Facts

    return [f.to_dict() for f in engine_run.run_one(registry.load_all()["TRI001"], Facts(options))]


def test_set_key_that_fills_nothing_is_reported_with_a_suggestion(tmp_path):
    repo = copy_templates(tmp_path / "repo")
    [w] = [f for f in tri001(model_repo=str(repo), set={"tokenizer_dirr": "/x"}) if f["severity"] == "warning"]
    assert "did you mean tokenizer_dir?" in w["message"]


def test_set_batch_size_above_engine_is_flagged_in_the_plan(tmp_path):
    repo = copy_templates(tmp_path / "repo")
    eng = make_engine(tmp_path / "engine", max_batch_size=8)
    fs = tri001(model_repo=str(repo), engine_dir=str(eng), set={"triton_max_batch_size": "64"})
    f = next(f for f in fs if "ensemble" in f["title"])
    assert "above the engine's max_batch_size 8" in f["evidence"]["conflict"]
    assert "above the engine's max_batch_size 8" in f["fix"]["summary"]


def test_repository_found_at_conventional_place_in_cwd(tmp_path):
    copy_templates(tmp_path / "triton_model_repo")
    p = run_cli("check", "--only", "TRI001", "--json", cwd=str(tmp_path))
    assert p.returncode == 1, p.stderr
    assert any(f["id"] == "TRI001" for f in json.loads(p.stdout)["findings"])


def test_no_repository_means_no_triton_findings(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, findings = check(cli)
    if not any(Path(c).is_dir() for c in ("/tensorrtllm_backend/triton_model_repo", "/opt/tritonserver/models", "/models")):
        assert findings == [] and code == 0


def test_tokenizer_dir_hub_id_is_a_warning(filled, cli):
    repo, eng, _ = filled
    _set_param(repo / "preprocessing" / "config.pbtxt", "tokenizer_dir", "meta-llama/Llama-2-7b-hf")
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    [w] = [f for f in findings if f["id"] == "TRI004" and f["severity"] == "warning"]
    assert "Hugging Face Hub id" in w["title"]


def test_unknown_gpt_model_type(filled, cli):
    repo, eng, _ = filled
    _set_param(repo / "tensorrt_llm" / "config.pbtxt", "gpt_model_type", "inflight_fused")
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    assert len(errors(findings, "TRI008")) == 1 and "'inflight_fused'" in errors(findings, "TRI008")[0]["title"]


def test_engine_dir_option_differs_from_what_the_repo_serves(filled, cli, tmp_path):
    repo, eng, _ = filled
    other = make_engine(tmp_path / "other")
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(other))
    assert any(f["id"] == "TRI003" and f["severity"] == "warning" for f in findings)


def test_snapshot_gives_the_same_triton_findings(filled, cli, tmp_path):
    repo, eng, _ = filled
    _set_param(repo / "preprocessing" / "config.pbtxt", "tokenizer_dir", str(tmp_path / "gone"))
    snap = tmp_path / "snap.json"
    code, out, err = cli("collect", "--model-repo", str(repo), "--only", "triton", "-o", str(snap))
    live = [(f["id"], f["severity"], f["title"]) for f in check(cli, "--model-repo", str(repo))[1]]
    (repo / "preprocessing" / "config.pbtxt").unlink()  # the snapshot, not the files, is read now
    again = [(f["id"], f["severity"], f["title"]) for f in check(cli, "--from", str(snap))[1]]
    assert live == again and ("TRI004", "error", f"preprocessing: tokenizer_dir {tmp_path / 'gone'} does not exist") in again


# ---------------------------------------------------------------- TRI012 version folders
def test_copy_without_version_folders(tmp_path, cli):
    repo = copy_templates(tmp_path / "repo", versions=False)
    code, findings = check(cli, "--model-repo", str(repo), "--only", "TRI012")
    names = sorted(f["title"].split(":")[0] for f in errors(findings, "TRI012"))
    assert names == sorted(p.parent.name for p in repo.glob("*/config.pbtxt"))
    (repo / "preprocessing" / "1").mkdir()
    code, findings = check(cli, "--model-repo", str(repo), "--only", "TRI012")
    assert any(f["title"] == "preprocessing: no model.py in 1/" for f in errors(findings, "TRI012"))


def test_step_folder_without_config(filled, cli):
    repo, eng, _ = filled
    (repo / "postprocessing" / "config.pbtxt").unlink()
    code, findings = check(cli, "--model-repo", str(repo), "--engine-dir", str(eng))
    [e] = errors(findings, "TRI006")
    assert "holds no config.pbtxt" in e["message"]


def test_model_folder_given_instead_of_repository(tmp_path):
    repo = copy_templates(tmp_path / "repo")
    p = run_cli("check", "--model-repo", str(repo / "tensorrt_llm"))
    assert p.returncode == 2 and f"--model-repo {repo}" in p.stderr and "Traceback" not in p.stderr


def test_fill_and_align_in_one_apply_do_not_collide(tmp_path, cli):
    """tensorrt_llm gets both a fill (an optional placeholder given with --set) and an alignment:
    one apply must not plan two edits of the same file."""
    repo = copy_templates(tmp_path / "repo")
    eng = make_engine(tmp_path / "engine", max_batch_size=8)
    tok = make_tokenizer(tmp_path / "tok")
    vals = needed_values(repo, tok, eng)
    vals["triton_max_batch_size"] = "64"
    p = run_cli("fix", "--apply", "--model-repo", str(repo), "--only", "TRI001", "--set", ",".join(f"{k}={v}" for k, v in vals.items()))
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_cli("fix", "--apply", "--only", "triton", "--model-repo", str(repo), "--set", "max_tokens_in_paged_kv_cache=4096")
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_cli("fix", "--apply", "--only", "triton", "--model-repo", str(repo))
    assert p.returncode == 0, p.stdout + p.stderr
    for cfg in repo.glob("*/config.pbtxt"):
        assert pbtxt.parse_config(cfg.read_text())["max_batch_size"] == 8
    assert pbtxt.parse_config((repo / "tensorrt_llm" / "config.pbtxt").read_text())["parameters"]["max_tokens_in_paged_kv_cache"] == "4096"


def test_placeholder_in_a_schema_string_field_blocks_loading(tmp_path, cli):
    """Later templates write backend: "${triton_backend}" and data_type: ${logits_datatype}: both
    block loading although the first parses."""
    repo = copy_templates(tmp_path / "repo")
    cfg = repo / "tensorrt_llm" / "config.pbtxt"
    text = cfg.read_text().replace('backend: "tensorrtllm"', 'backend: "${triton_backend}"')
    text = text.replace("data_type: TYPE_FP32\n    dims: [ -1, -1, -1 ]", "data_type: ${logits_datatype}\n    dims: [ -1, -1, -1 ]")
    cfg.write_text(text)
    code, findings = check(cli, "--model-repo", str(repo), "--only", "TRI001,TRI002")
    [f] = [f for f in errors(findings, "TRI001") if f["title"].startswith("tensorrt_llm/")]
    assert "${triton_backend}" in f["message"] and "${logits_datatype}" in f["message"]
    assert not errors(findings, "TRI002")


def test_fix_preview_prints_an_apply_command_that_makes_the_same_plan(tmp_path):
    """`trtdiag fix --set tokenizer_dir=…` previews; the "Apply with:" line must carry --set (and
    quote a path with a space), so that running it as printed fills tokenizer_dir too."""
    import shlex

    from tests.conftest import run_cli
    from tests.triton_helpers import copy_templates, make_engine, make_tokenizer

    base = tmp_path / "my models"
    repo = copy_templates(base / "repo")
    eng = make_engine(base / "engine")
    tok = make_tokenizer(base / "hf tok")
    p = run_cli("fix", "--model-repo", str(repo), "--engine-dir", str(eng), "--only", "TRI001", "--set", f"tokenizer_dir={tok}")
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("Nothing was changed. Apply with: "))
    argv = shlex.split(line.split("Apply with: ", 1)[1])
    assert argv[:3] == ["trtdiag", "fix", "--apply"] and f"tokenizer_dir={tok}" in argv and "--only" in argv
    p = run_cli(*argv[1:], "--yes")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f'string_value: "{tok}"' in (repo / "preprocessing" / "config.pbtxt").read_text()


def test_model_repo_alone_checks_the_engine_it_serves(filled):
    """`check --model-repo` (and exec's tritonserver --model-repository) with no --engine-dir: the
    engine checks read the engine named by gpt_model_path.  Here a tp=2 build lacks rank1.engine."""
    from tests.conftest import run_json

    repo, eng, _ = filled
    code, rep = run_json("check", "--model-repo", str(repo), "--only", "ENG006")
    assert [f["severity"] for f in rep["findings"]] == ["ok"] and rep["context"]["engine_dir"] == str(eng)
    cfg = json.loads((eng / "config.json").read_text())
    cfg["pretrained_config"]["mapping"].update(world_size=2, tp_size=2)
    (eng / "config.json").write_text(json.dumps(cfg))
    code, rep = run_json("check", "--model-repo", str(repo), "--only", "ENG006")
    (f,) = rep["findings"]
    assert code == 1 and f["severity"] == "error" and "rank1.engine" in f["message"]
    # a gpt_model_path that is not here is TRI003's finding: no engine is guessed
    eng.rename(eng.with_name("moved"))
    code, rep = run_json("check", "--model-repo", str(repo), "--only", "ENG006")
    assert rep["findings"] == [] and "engine_dir" not in rep["context"]


def test_fix_with_nothing_to_fix_points_at_the_same_check(tmp_path):
    """A problem trtdiag cannot mend (a Git LFS pointer in place of the engine): the `check` it
    points at names the same target, and only options `check` takes."""
    import shlex
    import shutil

    from tests.conftest import PLANS, run_cli

    plan = PLANS / "lfs-pointer_model.plan"
    eng = tmp_path / "my engine"
    eng.mkdir()
    shutil.copy(plan, eng / "model.plan")
    p = run_cli("fix", "--engine-dir", str(eng / "model.plan"), "--only", "engine", "--kill")
    assert p.returncode == 1
    line = p.stdout.strip().split("see `", 1)[1].rstrip("`.")
    argv = shlex.split(line)
    assert argv == ["trtdiag", "check", "--engine-dir", str(eng / "model.plan"), "--only", "engine"]
    assert run_cli(*argv[1:]).returncode == 1


def test_world_size_mismatch_is_one_finding_with_the_mpi_checks(filled, cli, tmp_path):
    """MPI005 and TRI010 both compare the launch's world size with the engine's tp × pp: with both
    in the run, MPI005 reports it once."""
    repo, _, _ = filled
    eng = make_engine(tmp_path / "tp2", tp=2)
    code, out, err = cli("check", "--only", "TRI010,MPI005", "--json", "--model-repo", str(repo), "--engine-dir", str(eng), "--world-size", "1")
    bad = [f["id"] for f in json.loads(out)["findings"] if f["severity"] == "error"]
    assert bad == ["MPI005"], bad
