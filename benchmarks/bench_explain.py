#!/usr/bin/env python3
"""Throughput of `trtdiag explain` on a large log, beside `grep -E` with the same signatures.

    python benchmarks/bench_explain.py                 # 1 GiB log (default)
    python benchmarks/bench_explain.py --size-mb 256   # smaller
    python benchmarks/bench_explain.py --python        # also time the pure-Python prefilter

The log is generated in a temporary directory: real lines of healthy tritonserver / TensorRT-LLM /
trtllm-build runs (tests/data/logs/healthy_*.log) with varying timestamps, pids and numbers, and five
real failure lines spread through it.  Both tools read the same file; the page cache is warmed first
so that both measure matching, not the disk.  grep gets every knowledge-base regex translated to
POSIX ERE (named groups dropped, \\d → [0-9], lookaheads removed — a superset of the matches), in a
-f file, and runs with LC_ALL=C, as trtdiag's own prefilter does.

Targets (issue 5): ≥ 200 MB/s, and within 3× of grep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FAILURES = [
    "[05/02/2022-15:17:45] [TRT] [E] 6: The engine plan file is not compatible with this version of TensorRT, expecting library version 9.2.0.5 got 9.3.0.1, please rebuild.",
    "E0118 08:31:52.149680 840 main.cc:257] failed to start HTTP service: Unavailable - Socket '0.0.0.0:8000' already in use",
    "AttributeError: can't set attribute 'pad_token'",
    "Killed",
    "E0622 21:02:46.541164 1 model_repository_manager.cc:1215] failed to load 'preprocessing' version 1: Internal: Unable to initialize shared memory key '/preprocessing_0_CPU_0' to requested size (67108864 bytes).",
]


def healthy_lines() -> list[str]:
    lines: list[str] = []
    for p in sorted((REPO / "tests" / "data" / "logs").glob("healthy_*.log")):
        lines += [ln for ln in p.read_text().splitlines() if ln.strip()]
    return lines


def vary(line: str, rnd: random.Random) -> str:
    """The same line with other numbers: timestamps, pids, sizes change from line to line."""
    return re.sub(r"\d+", lambda m: str(rnd.randrange(10 ** len(m.group())) if len(m.group()) < 9 else rnd.randrange(10**8)), line)


def make_log(path: Path, size: int, seed: int = 5) -> int:
    rnd = random.Random(seed)
    base = healthy_lines()
    pool = [vary(rnd.choice(base), rnd) for _ in range(40000)]
    blocks = []
    for _ in range(8):
        rnd.shuffle(pool)
        blocks.append(("\n".join(pool) + "\n").encode())
    written = 0
    failure_at = {int(size * (i + 1) / (len(FAILURES) + 1)): f for i, f in enumerate(FAILURES)}
    marks = sorted(failure_at)
    with open(path, "wb") as fh:
        i = 0
        while written < size:
            b = blocks[i % len(blocks)]
            i += 1
            fh.write(b)
            written += len(b)
            while marks and written >= marks[0]:
                line = (failure_at[marks.pop(0)] + "\n").encode()
                fh.write(line)
                written += len(line)
    return written


OUTSIDE = {"d": "[0-9]", "s": "[[:space:]]", "S": "[^[:space:]]", "w": "[[:alnum:]_]", "'": "'", "`": "`"}
INSIDE = {"d": "0-9", "s": "[:space:]", "w": "[:alnum:]_", "]": "]", "[": "[", "\\": "\\\\"}


def to_ere(regex: str) -> str:
    """A Python regex as POSIX ERE for grep -E: named and non-capturing groups become plain groups,
    lookaheads are dropped (a superset of the matches), lazy quantifiers become greedy, and the
    escapes \\d \\s \\S \\w are spelled out — inside a bracket expression too."""
    s = re.sub(r"\(\?P<\w+>", "(", regex)
    s = s.replace("(?:", "(")
    s = re.sub(r"\(\?[!=](?:[^()]|\([^()]*\))*\)", "", s)
    out, i, in_class = [], 0, False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            table = INSIDE if in_class else OUTSIDE
            out.append(table.get(n, "\\" + n) if not in_class else table.get(n, n))
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if s[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        else:
            out.append(c)
        i += 1
    ere = "".join(out)
    return ere.replace("+?", "+").replace("*?", "*").replace("??", "?")


def grep_patterns(workdir: Path) -> tuple[Path, int]:
    from trtdiag.core import kb

    grep = shutil.which("grep")
    pats = []
    for e in kb.all_entries():
        for sig in e.get("signatures") or []:
            ere = to_ere(sig["regex"])
            ok = subprocess.run([grep, "-E", "-e", ere, "/dev/null"], capture_output=True).returncode in (0, 1)
            pats.append(ere if ok else re.escape(sig.get("literal") or ""))
    f = workdir / "signatures.ere"
    f.write_text("\n".join(pats) + "\n")
    return f, len(pats)


def timed(argv: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, env=env)
    return time.perf_counter() - t0, p


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="log size in MiB (default 1024)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each tool; the best is reported")
    ap.add_argument("--python", action="store_true", help="also time the pure-Python prefilter")
    ap.add_argument("--keep", metavar="DIR", help="write the log into DIR and keep it")
    args = ap.parse_args()

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="trtdiag-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        log = workdir / "big.log"
        t0 = time.perf_counter()
        size = make_log(log, args.size_mb << 20)
        print(f"log: {size / 1e6:.0f} MB, {len(FAILURES)} failure lines, generated in {time.perf_counter() - t0:.1f}s")
        sigfile, npat = grep_patterns(workdir)
        with open(log, "rb") as fh:  # warm the page cache for both tools
            while fh.read(16 << 20):
                pass

        env = dict(os.environ, PYTHONPATH=str(REPO), LC_ALL="C")
        env.pop("TRTDIAG_EXPLAIN_ENGINE", None)
        cmd = [sys.executable, "-m", "trtdiag", "explain", str(log), "--json"]
        best = None
        for _ in range(args.repeat):
            dt, p = timed(cmd, env)
            best = dt if best is None else min(best, dt)
        assert p.returncode == 1, p.stderr.decode()
        rep = json.loads(p.stdout)
        found = [f["kb"] for f in rep["findings"]]
        grep_cmd = [shutil.which("grep"), "-E", "-n", "-f", str(sigfile), str(log)]
        gbest = None
        for _ in range(args.repeat):
            gdt, g = timed(grep_cmd, env)
            gbest = gdt if gbest is None else min(gbest, gdt)
        glines = len(g.stdout.splitlines())

        mbs = size / 1e6 / best
        gmbs = size / 1e6 / gbest
        print(f"trtdiag explain: {best:6.2f}s  {mbs:7.0f} MB/s  (prefilter {rep['context']['prefilter']}, {rep['context']['candidate_lines']} candidate lines, found: {', '.join(found)})")
        print(f"grep -E -f ({npat} patterns): {gbest:6.2f}s  {gmbs:7.0f} MB/s  ({glines} matching lines)")
        print(f"ratio: trtdiag takes {best / gbest:.2f}x grep's time   targets: >= 200 MB/s {'OK' if mbs >= 200 else 'MISSED'}, <= 3x grep {'OK' if best <= 3 * gbest else 'MISSED'}")
        if args.python:
            penv = dict(env, TRTDIAG_EXPLAIN_ENGINE="python")
            dt, p = timed(cmd, penv)
            print(f"trtdiag explain, pure-Python prefilter: {dt:6.2f}s  {size / 1e6 / dt:7.0f} MB/s")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
