"""explain never hangs and never grows with its input (issue 20, items 5 and 6): every signature —
the knowledge base's and the catalogue's — is timed on 1 MB adversarial lines; no pattern nests
unbounded repeats; long lines are matched within a window and their evidence says it was cut; and
memory stays flat on a 1 GiB log, a 1 GiB single line and a 2 GiB file of NULs (trtdiag and its
prefilter child measured together)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

import pytest

from trtdiag.logscan import matcher as ex
from trtdiag.core import kb
from trtdiag.logscan.matcher import required_literals

from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import re._constants as C
    import re._parser as P
else:  # pragma: no cover
    import sre_constants as C
    import sre_parse as P

MATCHER = ex.Matcher(kb.all_entries())
SIGS = MATCHER.signatures
MB = 1 << 20
LIMIT_S = 0.5


def _unbounded_nested(items, inside: bool = False) -> bool:
    for op, av in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            unbounded = hi == C.MAXREPEAT
            if unbounded and inside:
                return True
            if _unbounded_nested(list(sub), inside or unbounded):
                return True
        elif op is C.SUBPATTERN:
            if _unbounded_nested(list(av[-1]), inside):
                return True
        elif op is C.BRANCH:
            if any(_unbounded_nested(list(b), inside) for b in av[1]):
                return True
        elif op in (C.ASSERT, C.ASSERT_NOT):
            if _unbounded_nested(list(av[1]), inside):
                return True
    return False


@pytest.mark.parametrize("sig", SIGS, ids=[f"{s.entry_id}-{s.index}" for s in SIGS])
def test_no_signature_nests_unbounded_repeats(sig):
    assert not _unbounded_nested(list(P.parse(sig.regex.pattern.decode("utf-8", "replace")))), sig.regex.pattern


def adversarial(sig) -> dict[str, bytes]:
    lit = sig.literal
    runs = [r.encode() for r in required_literals(sig.regex.pattern.decode("utf-8", "replace"))] or [lit]
    pattern = sig.regex.pattern.decode("utf-8", "replace")
    # the literals in the order the pattern has them, the last one left out: a match that almost
    # completes at every start
    ordered = sorted(runs, key=lambda r: pattern.find(re.escape(r.decode())) if re.escape(r.decode()) in pattern else 0)
    almost = b" ".join(ordered[:-1]) + b" " if len(ordered) > 1 else lit + b" "
    fill = lambda unit: (unit * (MB // max(len(unit), 1) + 1))[:MB]  # noqa: E731
    return {
        "literal-repeated": fill(lit),
        "literal-then-junk": lit + fill(b"a"),
        "almost-match-repeated": fill(almost),
        "literal-spaces": lit + fill(b" "),
        "literal-quotes": lit + fill(b"'"),
        "digits": lit + b" " + fill(b"1"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGS, ids=[f"{s.entry_id}-{s.index}" for s in SIGS])
def test_every_signature_is_fast_on_a_1mb_adversarial_line(sig):
    """Through the matcher (its literal found, the window cut, normalisation, the regex): under
    half a second per 1 MB line.  The matcher holds only this signature's literal group: the
    search for the other literals is the same bytes.find for every signature."""
    worst, worst_case = 0.0, ""
    for name, line in adversarial(sig).items():
        m = MATCHER._fork()  # the same signatures, no hits: building a Matcher per line costs 0.2 s
        m.groups = [(lit, sigs) for lit, sigs in m.groups if lit == sig.literal]
        t0 = time.perf_counter()
        m.feed_line(line, 0, "adversarial", 1, line[:4096])
        dt = time.perf_counter() - t0
        if dt > worst:
            worst, worst_case = dt, name
    assert worst < LIMIT_S, f"{worst:.2f}s on {worst_case}: {sig.regex.pattern[:120]!r}"


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGS, ids=[f"{s.entry_id}-{s.index}" for s in SIGS])
def test_every_signature_is_linear_in_the_line_length(sig):
    """The regular expression alone, on its adversarial lines of 16 KiB and 128 KiB: eight times
    the text may take at most 24 times as long, best of five (a quadratic pattern takes 64 times;
    below 20 ms the machine's noise decides)."""
    global MB
    saved = MB
    try:
        times = {}
        for size in (16 << 10, 128 << 10):
            MB = size
            lines = adversarial(sig)
            best = {}
            for name, line in lines.items():
                runs = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    sig.regex.search(line)
                    runs.append(time.perf_counter() - t0)
                best[name] = min(runs)
            times[size] = best
    finally:
        MB = saved
    for name, t_big in times[128 << 10].items():
        t_small = max(times[16 << 10][name], 2e-4)
        assert t_big < 24 * t_small or t_big < 0.02, f"{name}: {t_small * 1e3:.2f} ms -> {t_big * 1e3:.2f} ms: {sig.regex.pattern[:120]!r}"


def test_a_long_line_is_matched_within_a_window_and_its_evidence_says_it_was_cut():
    line = b"x" * (3 * MB) + b" [TensorRT-LLM][ERROR] Assertion failed: mpiSize == tp * pp (/app/worldConfig.cpp:94) " + b"y" * MB
    m = ex.Matcher(kb.all_entries())
    t0 = time.perf_counter()
    m.scan(io.BytesIO(line + b"\n"), "log")
    assert time.perf_counter() - t0 < 5
    hit = m.hits["world-size-mismatch"]
    assert hit.cut and "[line cut:" in hit.lines[0][2] and len(hit.lines[0][2]) < 600


def _peak_rss_mb(argv: list[str]) -> tuple[int, float, str]:
    """Run argv in a wrapper and return (peak RSS in MB of it and all its descendants, seconds, stdout)."""
    code = (
        "import resource, subprocess, sys, time;"
        "t=time.time(); p=subprocess.run(sys.argv[1:], capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, round(time.time()-t, 2));"
        "import json; d=json.loads(p.stdout or b'{}'); sys.stdout.write(' '.join(f.get('kb') or f['severity'] for f in d.get('findings', [])))"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=REPO, timeout=900).stdout
    head, _, rest = out.partition("\n")
    mb, secs = head.split()
    return int(mb), float(secs), rest


def _explain(path) -> list[str]:
    return [sys.executable, "-m", "trtdiag", "explain", str(path), "--json"]


@pytest.fixture(scope="module")
def big_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("huge")


@pytest.mark.slow
def test_memory_is_flat_on_a_1gib_single_line_and_2gib_of_nuls(big_dir):
    line = big_dir / "one-line.log"
    with open(line, "wb") as fh:
        block = b"a" * (16 * MB)
        for _ in range(64):
            fh.write(block)
        fh.write(b" Killed\nKilled\n")
    nuls = big_dir / "nuls.bin"
    with open(nuls, "wb") as fh:
        fh.truncate(2 << 30)  # sparse: 2 GiB of NULs, no disk
    for path, expect in ((line, "build-oom-killed"), (nuls, None)):
        mb, secs, out = _peak_rss_mb(_explain(path))
        assert mb < 160, f"{path.name}: peak {mb} MB"
        assert (expect in out.split()) if expect else (out.strip() == "ok"), out[-500:]
    line.unlink()


@pytest.mark.slow
def test_memory_is_flat_on_a_1gib_log(big_dir):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_explain
    finally:
        sys.path.pop(0)
    log = big_dir / "big.log"
    bench_explain.make_log(log, 1 << 30)
    mb, secs, out = _peak_rss_mb(_explain(log))
    assert mb < 160, f"peak {mb} MB"
    for k in ("trt-engine-version-mismatch", "triton-port-in-use", "shm-too-small"):
        assert k in out
    log.unlink()
