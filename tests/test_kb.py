"""Every knowledge_base/*.toml entry is valid: the schema of trtdiag/kb.py, regexes that compile,
prefilter literals that the regex really requires, quoted examples that match, public references."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from trtdiag.core import kb
from trtdiag.logscan.matcher import rank, required_literals
from trtdiag.core.catalogue import AREAS
from tests.conftest import shipped_matcher

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KB_DIR = kb.kb_dir()
FILES = sorted(KB_DIR.glob("*.toml"))
ENTRIES = [(p, tomllib.loads(p.read_text(encoding="utf-8"))) for p in FILES]
IDS = [p.stem for p in FILES]

SHARED_IDS = """
trt-engine-version-mismatch trtllm-version-mismatch engine-platform-mismatch engine-lfs-pointer
engine-file-corrupt engine-compute-capability-mismatch engine-rank-files-missing gpu-no-driver
cuda-driver-too-old gpu-out-of-memory kv-cache-insufficient gpu-memory-held-by-other-process
kv-cache-config-invalid mpi-hwloc-symbol-conflict mpi4py-build-failed mpirun-as-root world-size-mismatch
build-oom-killed disk-space-low tokenizer-pad-token-readonly tokenizer-remote-code-required
tokenizer-missing-eos-pad tokenizer-type-mismatch tokenizer-dir-missing triton-port-in-use
triton-config-placeholder triton-config-parse-error triton-max-batch-size-exceeds-engine
triton-decoupled-mismatch triton-inflight-needs-engine-features triton-engine-dir-missing shm-too-small
ulimit-memlock container-version-mismatch
""".split()

CHECK_PREFIXES = ("TRT", "ENG", "GPU", "MEM", "MPI", "BLD", "CTR", "TRI", "PRT", "TOK", "FLT", "LLA")
URL = re.compile(r"^https://[\w.-]+\.\w+/\S+$")


def test_every_shared_id_has_an_entry_and_at_least_30_more_exist():
    missing = [i for i in SHARED_IDS if i not in IDS]
    assert not missing, f"shared knowledge-base ids without an entry: {missing}"
    assert len(set(IDS) - set(SHARED_IDS)) >= 30


def test_loader_functions_still_work():
    assert len(kb.all_entries()) == len(FILES)
    e = kb.get("trt-engine-version-mismatch")
    assert e and e["id"] == "trt-engine-version-mismatch"
    assert kb.get("no-such-entry") is None
    assert isinstance(kb.fix_text(e), list) and kb.fix_text({"fix": "one step"}) == ["one step"]


@pytest.mark.parametrize("path,entry", ENTRIES, ids=IDS)
def test_entry_schema(path: Path, entry: dict):
    for key in ("id", "title", "severity", "area", "cause", "fix", "references"):
        assert key in entry, f"{path.name}: missing '{key}'"
    assert entry["id"] == path.stem, "id must equal the file name"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry["id"])
    assert entry["severity"] in ("error", "warning", "info")
    assert entry["area"] in AREAS
    assert isinstance(entry["title"], str) and 10 <= len(entry["title"]) <= 120
    assert isinstance(entry["cause"], str) and len(entry["cause"].strip()) >= 40
    steps = kb.fix_text(entry)
    assert steps and all(isinstance(s, str) and len(s) > 10 for s in steps)
    assert entry.get("autofix", "") in ("", "rebuild", "edit", "command", "kill", "env", "system")
    for c in entry.get("checks", []):
        assert re.fullmatch(r"[A-Z]{3}\d{3}", c) and c.startswith(CHECK_PREFIXES), c
    refs = entry["references"]
    assert refs and all(URL.match(r) for r in refs), refs
    assert len(set(refs)) == len(refs)
    unknown = set(entry) - {"id", "title", "severity", "area", "checks", "cause", "fix", "autofix", "references", "signatures", "no_log_signature", "consequence_of", "no_rule", "confirm"}
    assert not unknown, f"unknown keys {unknown} (document new keys in trtdiag/kb.py)"
    links = entry.get("consequence_of", [])
    assert isinstance(links, list) and all(x == "*" or x in IDS for x in links), links
    assert entry["id"] not in links


@pytest.mark.parametrize("path,entry", ENTRIES, ids=IDS)
def test_signatures_compile_and_their_literal_is_required(path: Path, entry: dict):
    for i, sig in enumerate(entry.get("signatures", [])):
        assert set(sig) <= {"regex", "literal", "fatal", "cascade", "examples"}, sig.keys()
        assert not (sig.get("cascade") and sig.get("fatal", True)), "a cascade signature is not fatal"
        rx = re.compile(sig["regex"])  # compiles as str …
        re.compile(sig["regex"].encode())  # … and as bytes (the matcher runs on bytes)
        assert not rx.flags & re.IGNORECASE, "the prefilter is case-sensitive"
        runs = required_literals(sig["regex"])
        literal = sig.get("literal") or (runs[0] if runs else None)
        assert literal, f"signature {i}: no literal and none can be derived"
        assert len(literal) >= 6, f"signature {i}: literal {literal!r} too short to prefilter"
        assert any(literal in r for r in runs), f"signature {i}: {literal!r} is not required by the regex (required: {runs})"
        assert isinstance(sig.get("fatal", True), bool)
        for ex in sig.get("examples", []):
            assert "\n" not in ex
            assert rx.search(ex), f"signature {i} does not match its example {ex!r}"
            assert literal in ex


def test_most_entries_have_signatures_with_quoted_examples():
    with_sigs = [e for _, e in ENTRIES if e.get("signatures")]
    # an entry without a log signature says why (found only by a check, e.g. across ranks)
    unexplained = [e["id"] for _, e in ENTRIES if not e.get("signatures") and not e.get("no_log_signature")]
    assert unexplained == []
    assert len(with_sigs) >= 0.9 * len(ENTRIES)
    with_examples = [e for e in with_sigs if any(s.get("examples") for s in e["signatures"])]
    assert len(with_examples) >= 0.85 * len(with_sigs)


def test_ids_unique():
    assert len(IDS) == len(set(IDS))
    assert len({e["id"] for _, e in ENTRIES}) == len(ENTRIES)


def _examples():
    for path, entry in ENTRIES:
        for sig in entry.get("signatures", []):
            for ex in sig.get("examples", []):
                yield entry["id"], bool(sig.get("fatal", True)), ex


@pytest.mark.parametrize("entry_id,fatal,line", list(_examples()))
def test_each_quoted_example_is_recognised_as_its_own_entry(entry_id, fatal, line):
    """The whole matcher (prefilter + regex) on the quoted line: a fatal example must make its own
    entry the top finding; a non-fatal one must at least be among the findings."""
    import io

    m = shipped_matcher()
    m.scan(io.BytesIO(line.encode() + b"\n"), "example")
    ranked = [h.entry_id for h in rank(m.hits.values())]
    if fatal:
        assert ranked and ranked[0] == entry_id, ranked
    else:
        assert entry_id in ranked, ranked


@pytest.mark.parametrize(
    "regex,required",
    [
        (r"expecting library version (?P<v>[\d.]+) got", ["expecting library version ", " got"]),
        (r"(?:foo|bar) baz+", [" ba", "z"]),
        (r"abc(?:def)?ghi", ["abc", "ghi"]),
        (r"x(?P<g>yz)w", ["yz", "x", "w"]),
        (r"(?i)case", []),
        (r"^(?!.*/dev/shm).*No space left", ["No space left"]),
    ],
)
def test_required_literals(regex, required):
    assert sorted(required_literals(regex)) == sorted(required)


def test_kb_checks_are_generated_from_the_rules_and_every_entry_without_one_says_why():
    """`checks` in each entry is what the rule files point at (tools/gen_kb_links.py writes it);
    an entry no rule points at carries a no_rule reason."""
    import subprocess
    import sys

    p = subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "tools" / "gen_kb_links.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
