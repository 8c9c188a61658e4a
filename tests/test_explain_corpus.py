"""Recall and precision of `trtdiag explain` over real logs from public threads
(tests/data/logs, sources in its MANIFEST.toml), and over the messages the real TensorRT 11.4 lean
runtime printed for real and crafted plan files (tests/data/trt_runtime)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tests.conftest import DATA, REPO, TRT_RUNTIME, run_cli, shipped_matcher
from trtdiag.core import kb
from trtdiag.logscan.matcher import Matcher, rank

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOGS = DATA / "logs"
MANIFEST = tomllib.loads((LOGS / "MANIFEST.toml").read_text(encoding="utf-8"))["files"]


def explain_file(path, engine: str | None = None, monkeypatch=None):
    if engine and monkeypatch:
        monkeypatch.setenv("TRTDIAG_EXPLAIN_ENGINE", engine)
    m = shipped_matcher()
    with open(path, "rb") as fh:
        m.scan(fh, path.name, 0, path.stat().st_size)
    return rank(m.hits.values())


def test_manifest_lists_every_log_with_a_public_source():
    files = {p.name for p in LOGS.glob("*.log")}
    assert files == set(MANIFEST), "every corpus log needs a MANIFEST entry and vice versa"
    ids = {e["id"] for e in kb.all_entries()}
    for name, spec in MANIFEST.items():
        assert spec["source"].startswith(("https://", "tests/data/")), name
        assert spec["expect"] == "" or spec["expect"] in ids, name
        assert set(spec.get("also", [])) <= ids, name
    assert sum(1 for s in MANIFEST.values() if s["expect"] == "") >= 3, "healthy logs must be part of the corpus"
    assert len({s["expect"] for s in MANIFEST.values() if s["expect"]}) >= 30


@pytest.mark.parametrize("engine", ["python", "grep"])
def test_recall_and_precision_over_the_corpus(engine, monkeypatch):
    """Recall: the expected entry is ranked first.  Precision: every reported entry is the expected
    one or one the manifest allows beside it (consequences, warnings also in the log); on healthy
    logs nothing at all is reported.  Both must be at least 95 %."""
    if engine == "grep":
        from trtdiag.logscan.matcher import _grep

        if not _grep():
            pytest.skip("no GNU grep here")
    tp = fp = fn = 0
    wrong = []
    for name, spec in MANIFEST.items():
        got = [h.entry_id for h in explain_file(LOGS / name, engine, monkeypatch)]
        allowed = {spec["expect"], *spec.get("also", [])} - {""}
        if spec["expect"]:
            if got and got[0] == spec["expect"]:
                tp += 1
            else:
                fn += 1
                wrong.append((name, "top", got[:1], spec["expect"]))
        extra = [g for g in got if g not in allowed]
        fp += len(extra)
        if extra:
            wrong.append((name, "extra", extra))
    recall = tp / (tp + fn)
    precision = tp / (tp + fp)
    print(f"\ncorpus ({engine}): {len(MANIFEST)} logs, recall {recall:.1%}, precision {precision:.1%}")
    assert recall >= 0.95 and precision >= 0.95, wrong


@pytest.mark.parametrize("name", [n for n, s in MANIFEST.items() if s.get("fields")])
def test_named_failures_carry_their_extracted_values(name):
    spec = MANIFEST[name]
    ranked = explain_file(LOGS / name)
    assert ranked and ranked[0].entry_id == spec["expect"]
    for key, value in spec["fields"].items():
        assert ranked[0].fields.get(key) == value, (key, ranked[0].fields)


def test_version_mismatch_evidence_in_the_json_report():
    code, out = run_json_explain(LOGS / "triton-server-317_trt-version.log")
    assert code == 1
    f = out["findings"][0]
    assert f["id"] == "EXP:trt-engine-version-mismatch" and f["kb"] == "trt-engine-version-mismatch"
    ev = f["evidence"]
    assert ev["expected"] == "5.1.2" and ev["found"] == "5.1.5"
    assert ev["first"].endswith("triton-server-317_trt-version.log:8")
    assert "expecting library version 5.1.2 got 5.1.5" in ev["lines"]
    assert out["context"]["root_cause"] == "trt-engine-version-mismatch"


def run_json_explain(*paths):
    p = run_cli("explain", *map(str, paths), "--json")
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, json.loads(p.stdout)


# ---- what the real TensorRT runtime said (tests/data/trt_runtime) ------------------------------

RUNTIME_EXPECT = {
    # real plan files (tests/data/engines/plans) fed to the lean 11.4.0.106 runtime, by file name
    "lfs-pointer_model.plan": "engine-lfs-pointer",
    "ptrt_jetson2021_ppo_model.trt": "engine-file-corrupt",
    "trt8.6.1.6_hackathon2023_model.plan": "trt-engine-version-mismatch",
}


def _runtime_cases():
    out = []
    real = json.loads((TRT_RUNTIME / "lean-11.4.0.106_real-plans.json").read_text())
    for path, rec in real["engines"].items():
        out.append((f"real:{path.rsplit('/', 1)[-1]}", rec["log"], RUNTIME_EXPECT[path.rsplit('/', 1)[-1]]))
    for fname in ("lean-11.4.0.106_crafted-headers_pass1.json", "lean-11.4.0.106_crafted-headers_pass2.json"):
        rec = json.loads((TRT_RUNTIME / fname).read_text())

        def walk(node, name):
            if isinstance(node, dict) and "log" in node and "ok" in node:
                if not node["ok"] and node["log"]:
                    out.append((f"{fname.split('_')[-1][:-5]}:{name}", node["log"], None))
            elif isinstance(node, dict):
                for k, v in node.items():
                    walk(v, f"{name}/{k}" if name else k)

        walk(rec, "")
    return out


def test_runtime_recordings_are_there():
    assert len(_runtime_cases()) >= 5


@pytest.mark.parametrize("case,log,expect", _runtime_cases(), ids=[c[0] for c in _runtime_cases()])
def test_real_tensorrt_runtime_messages_are_recognised(case, log, expect):
    """Every refusal of the real runtime is recognised; where the plan is known, as the right entry.
    Crafted headers: a wrong platform tag is a platform mismatch, an unknown magic tag or broken
    sizes a corrupt file, an older serialization version a version mismatch."""
    m = Matcher(kb.all_entries())
    m.scan(io.BytesIO("\n".join(log).encode() + b"\n"), case)
    ranked = [h.entry_id for h in rank(m.hits.values())]
    text = "\n".join(log)
    if expect is None:
        if "empty memory buffer" in text:
            pytest.skip("an empty buffer is the caller's mistake, not a log a user pastes")
        if "expectedPlatformTag" in text:
            expect = "engine-platform-mismatch"
        elif "old deserialization call" in text:
            expect = "trt-engine-version-mismatch"
        elif "(1936876918 !=" in text:
            expect = "engine-lfs-pointer"
        else:
            expect = "engine-file-corrupt"
    assert ranked and ranked[0] == expect, (ranked, log)
