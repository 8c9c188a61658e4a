"""`trtdiag explain` measured on the frozen evaluation set (tests/data/logs/frozen): real logs from
public threads that no knowledge-base entry was written from.  The numbers may not fall below the
floors in tests/data/logs/frozen/floors.json; the set itself must stay frozen (independent of the
tuning logs and of the threads the entries cite)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest

from .conftest import DATA, REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FROZEN = DATA / "logs" / "frozen"
MANIFEST = tomllib.loads((FROZEN / "MANIFEST.toml").read_text(encoding="utf-8"))["files"]
TUNING = tomllib.loads((DATA / "logs" / "MANIFEST.toml").read_text(encoding="utf-8"))["files"]
FLOORS = json.loads((FROZEN / "floors.json").read_text(encoding="utf-8"))
KB_FILES = sorted((REPO / "knowledge_base").glob("*.toml"))
KB = [tomllib.loads(p.read_text(encoding="utf-8")) for p in KB_FILES]
URL = re.compile(r"https?://[^\s\"',)]+")


def _eval_module():
    spec = importlib.util.spec_from_file_location("eval_explain", REPO / "benchmarks" / "eval_explain.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _norm(url: str) -> str:
    return url.split("#")[0].rstrip("/.")


def test_frozen_set_size_sources_and_expected_answers():
    logs = {p.name for p in FROZEN.glob("*.log")}
    assert logs == set(MANIFEST), "every frozen log needs a MANIFEST entry and vice versa"
    ids = {e["id"] for e in KB}
    failures = [n for n, s in MANIFEST.items() if s["expect"] != "normal"]
    normals = [n for n, s in MANIFEST.items() if s["expect"] == "normal"]
    assert len(failures) >= 80 and len(normals) >= 20
    for name, spec in MANIFEST.items():
        assert spec["source"].startswith("https://github.com/"), name
        assert spec.get("cause"), name
        assert 2023 <= spec["year"] <= 2026, name
        exp = spec["expect"]
        assert exp == "normal" or exp in ids or exp.startswith("no-entry:"), (name, exp)
    sources = [_norm(s["source"]) for s in MANIFEST.values()]
    assert len(sources) == len(set(sources)), "one log per thread"


def test_frozen_threads_are_cited_by_no_entry_and_absent_from_the_tuning_set():
    cited = set()
    for path in KB_FILES:  # references and any URL in the entry (comments included)
        cited |= {_norm(u) for u in URL.findall(path.read_text(encoding="utf-8"))}
    tuning = {_norm(s["source"]) for s in TUNING.values() if s["source"].startswith("https://")}
    for name, spec in MANIFEST.items():
        src = _norm(spec["source"])
        assert src not in cited, f"{name}: {src} is cited by a knowledge-base entry"
        assert src not in tuning, f"{name}: {src} is also a tuning log"


#: (failure logs, healthy logs) each later batch holds at least
BATCH_SIZES = {2: (40, 10), 3: (25, 8), 4: (38, 12), 5: (33, 10), 6: (40, 11), 7: (39, 12), 8: (40, 12)}


def test_every_table_has_a_valid_batch():
    """Batch 1 is the tables without `batch` (the first collection); later batches say so."""
    for name, spec in MANIFEST.items():
        if "batch" in spec:
            assert isinstance(spec["batch"], int) and spec["batch"] >= 2, (name, spec["batch"])
    for batch, (failures, healthy) in BATCH_SIZES.items():
        tables = [s for s in MANIFEST.values() if s.get("batch") == batch]
        assert len([s for s in tables if s["expect"] != "normal"]) >= failures, batch
        assert len([s for s in tables if s["expect"] == "normal"]) >= healthy, batch
    batches = {s.get("batch", 1) for s in MANIFEST.values()}
    assert batches == set(range(1, max(batches) + 1)), batches
    assert set(BATCH_SIZES) == batches - {1}


def _cited(batch: int) -> set[str]:
    """The threads knowledge_base/ (catalogue included) cites; from batch 4 on also trtdiag/data,
    whose tables name threads too."""
    roots = [(REPO / "knowledge_base", "*.toml")] + ([(REPO / "trtdiag" / "data", "*")] if batch >= 4 else [])
    cited = set()
    for root, pattern in roots:
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and path.suffix in (".toml", ".json", ".txt", ".md"):
                cited |= {_norm(u) for u in URL.findall(path.read_text(encoding="utf-8"))}
    return cited


@pytest.mark.parametrize("batch", sorted(BATCH_SIZES))
def test_a_later_batch_uses_threads_cited_nowhere_and_used_by_no_earlier_log(batch):
    """Each later batch was collected against the entries, the catalogue and the tuning set of its
    day: no knowledge-base file may cite its threads, and no log of an earlier batch (nor a tuning
    log) shares a thread with it."""
    cited = _cited(batch)
    tuning = {_norm(s["source"]) for s in TUNING.values() if s["source"].startswith("https://")}
    earlier = {_norm(s["source"]) for s in MANIFEST.values() if s.get("batch", 1) < batch}
    for name, spec in MANIFEST.items():
        if spec.get("batch") != batch:
            continue
        src = _norm(spec["source"])
        assert src not in cited, f"{name}: {src} is cited in knowledge_base/"
        assert src not in tuning, f"{name}: {src} is also a tuning log"
        assert src not in earlier, f"{name}: {src} is also a log of an earlier batch"


def test_an_entry_now_names_an_entry_for_a_proposed_one():
    """``entry_now`` (beside ``expect = "no-entry:…"``) names the entry added later for the proposed
    cause, with the reason (``entry_now_why``)."""
    ids = {p.stem for p in (REPO / "knowledge_base").glob("*.toml")}
    for name, spec in MANIFEST.items():
        if "entry_now" in spec:
            assert spec["expect"].startswith("no-entry:"), name
            assert spec["entry_now"] in ids, name
            assert spec.get("entry_now_why"), name


def test_no_signature_example_is_a_line_of_a_frozen_log():
    """Examples quote the tuning threads; a long (run-specific) example found verbatim in a frozen
    log means a signature was written from it."""
    frozen_lines = set()
    for p in FROZEN.glob("*.log"):
        frozen_lines |= {ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()}
    leaked = [(e["id"], ex) for e in KB for s in e.get("signatures", []) for ex in s.get("examples", [])
              if len(ex.strip()) >= 100 and ex.strip() in frozen_lines]
    assert leaked == []


@pytest.fixture(scope="module")
def measured():
    mod = _eval_module()
    cases, totals = mod.run("both", inprocess=True)
    return cases, totals


def test_explain_runs_cleanly_on_every_log(measured):
    cases, _ = measured
    assert [c["name"] for c in cases if c["error"]] == []


def test_per_batch_numbers_add_up_to_the_frozen_set(measured):
    cases, totals = measured
    batches = _eval_module().batch_totals(cases)
    assert set(batches) == {s.get("batch", 1) for s in MANIFEST.values()}
    for key in ("failures", "found", "right", "normals", "quiet"):
        assert sum(t[key] for t in batches.values()) == totals["frozen"][key], key


@pytest.mark.parametrize("which", ["frozen", "tuning"])
def test_numbers_do_not_fall_below_the_floors(measured, which):
    cases, totals = measured
    t, floor = totals[which], FLOORS[which]
    report = ", ".join(f"{k} {t[k]:.3f} (floor {floor[k]})" for k in ("recall", "right_cause", "quiet_on_normal"))
    print(f"\n{which}: {report}")
    wrong = [(c["name"], c["verdict"], c["got"][:2]) for c in cases if c["set"] == which and c["verdict"] not in ("right", "quiet")]
    for k in ("recall", "right_cause", "quiet_on_normal"):
        assert t[k] >= floor[k] - 1e-9, (which, k, t[k], floor[k], wrong)
