#!/usr/bin/env python3
"""Time `trtdiag explain` on a large log beside `grep -E -f` and `rg -f` with the same signatures,
in one run, with each one's peak memory.

    python benchmarks/bench_explain.py                 # 1 GiB log (default)
    python benchmarks/bench_explain.py --size-mb 256   # smaller
    python benchmarks/bench_explain.py --python        # also time the pure-Python prefilter
    python benchmarks/bench_explain.py --hostile       # also a 1 GiB single line and 2 GiB of NULs

The log is generated in a temporary directory: real lines of healthy tritonserver / TensorRT-LLM /
trtllm-build runs (tests/data/logs/healthy_*.log) with varying timestamps, pids and numbers, and five
real failure lines spread through it.  All tools read the same file; the page cache is warmed first
so that they measure matching, not the disk.  "The same signatures" are every pattern trtdiag
matches with (the knowledge base's and the catalogue's, as trtdiag.logscan.matcher.Matcher compiles them):
for grep translated to POSIX ERE (named groups dropped, \\d → [0-9], lookaheads removed — a
superset of the matches), for ripgrep with named groups and lookarounds dropped; both with
LC_ALL=C, -a and line numbers.  Runs are interleaved (trtdiag, grep, rg, trtdiag, …); the best of
--repeat is reported.  Peak memory is the child's maximum resident set, trtdiag's own children
(its prefilter) included, read through GNU time where installed.

Targets (issues 16, 22): trtdiag within 1.5× of rg with the same signatures, memory flat.
"""

from __future__ import annotations

import argparse
import functools
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


@functools.lru_cache(maxsize=1)
def matcher():
    """trtdiag's Matcher as shipped, built once for the signatures and the literal keys."""
    from trtdiag.core import kb
    from trtdiag.logscan.matcher import Matcher

    return Matcher(kb.all_entries())


def signatures() -> list[tuple[str, bytes]]:
    return [(s.regex.pattern.decode("utf-8"), s.literal) for s in matcher().signatures]


def to_rg(regex: str) -> str:
    """A Python regex for ripgrep's engine: named groups become plain groups (names repeat across
    patterns), lookarounds are dropped, escapes of characters Rust does not escape are undone."""
    s = re.sub(r"\(\?P<\w+>", "(", regex)
    s = re.sub(r"\(\?[!=](?:[^()]|\([^()]*\))*\)", "", s)
    return re.sub(r"\\([ '\"`<>!@#%&=~,;:/_])", r"\1", s)


def grep_patterns(workdir: Path) -> tuple[Path, int]:
    grep = shutil.which("grep")
    pats = []
    for regex, literal in signatures():
        ere = to_ere(regex)
        ok = subprocess.run([grep, "-E", "-e", ere, "/dev/null"], capture_output=True).returncode in (0, 1)
        pats.append(ere if ok else re.escape(literal.decode()))
    f = workdir / "signatures.ere"
    f.write_text("\n".join(pats) + "\n")
    return f, len(pats)


def rg_patterns(workdir: Path) -> tuple[Path, int]:
    rg = shutil.which("rg")
    pats = []
    for regex, literal in signatures():
        p = to_rg(regex)
        ok = subprocess.run([rg, "--no-config", "-e", p, "/dev/null"], capture_output=True).returncode in (0, 1)
        pats.append(p if ok else re.escape(literal.decode()).replace("\\ ", " "))
    f = workdir / "signatures.rg"
    f.write_text("\n".join(pats) + "\n")
    return f, len(pats)


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(argv: list[str], env: dict | None = None) -> tuple[float, int, bytes, int]:
    """(seconds, peak RSS in MiB of the command and everything it waited for, stdout, exit code).

    The peak is read through GNU time where it is installed (the resident set of the command and of
    each process it starts, the largest): wait4's figure for a child of this process, which holds
    every signature, read higher in one run (108 MiB where GNU time read 21), so it is kept only as
    the fallback."""
    rss_file = None
    if GNU_TIME:
        fd, rss_file = tempfile.mkstemp(prefix="trtdiag-bench-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-q", "-f", "%M", "-o", rss_file, *argv]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read() if p.stdout else b""
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    mib = ru.ru_maxrss // 1024
    if rss_file:
        try:
            mib = int(Path(rss_file).read_text().split()[-1]) // 1024
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(rss_file)
    return dt, mib, out, p.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="log size in MiB (default 1024)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each tool; the best is reported")
    ap.add_argument("--python", action="store_true", help="also time the pure-Python prefilter")
    ap.add_argument("--hostile", action="store_true", help="also a 1 GiB single line and a 2 GiB file of NULs")
    ap.add_argument("--keep", metavar="DIR", help="write the log into DIR and keep it")
    ap.add_argument("--reference-mb", type=int, metavar="N",
                    help="time grep and rg with the full signatures on the log's first N MiB only and scale their "
                         "time to the whole log (their time is linear in its size; with several hundred "
                         "alternatives they need minutes per 100 MB); trtdiag always reads the whole log")
    ap.add_argument("--no-grep", action="store_true",
                    help="leave out grep -E (with several hundred alternatives its DFA takes minutes on 1 GiB)")
    args = ap.parse_args()

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="trtdiag-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        log = workdir / "big.log"
        t0 = time.perf_counter()
        size = make_log(log, args.size_mb << 20)
        print(f"log: {size / 1e6:.0f} MB, {len(FAILURES)} failure lines, generated in {time.perf_counter() - t0:.1f}s")
        with open(log, "rb") as fh:  # warm the page cache for every tool
            while fh.read(16 << 20):
                pass

        ref_log, scale = log, 1.0
        if args.reference_mb and (args.reference_mb << 20) < size:
            ref_log = workdir / "head.log"
            with open(log, "rb") as src, open(ref_log, "wb") as dst:
                dst.write(src.read(args.reference_mb << 20))
                dst.write(src.readline())  # to the end of the line
            scale = size / ref_log.stat().st_size
            print(f"references (grep -E, rg) timed on the first {ref_log.stat().st_size / 1e6:.0f} MB, their time scaled by {scale:.2f}")
        env = dict(os.environ, PYTHONPATH=str(REPO), LC_ALL="C")
        env.pop("TRTDIAG_EXPLAIN_ENGINE", None)
        tools: dict[str, list[str]] = {"trtdiag explain": [sys.executable, "-m", "trtdiag", "explain", str(log), "--json"]}
        grep, rg = shutil.which("grep"), shutil.which("rg")
        if grep and not args.no_grep:
            gfile, gn = grep_patterns(workdir)
            tools[f"grep -E -f ({gn} patterns)"] = [grep, "-E", "-a", "-n", "-f", str(gfile), str(ref_log)]
        if rg:
            rfile, rn = rg_patterns(workdir)
            # several hundred alternatives compile past rg's default 100 MB regex limit ("Compiled regex
            # exceeds size limit"): raise it, so that rg runs the same signatures instead of stopping
            tools[f"rg -f ({rn} patterns)"] = [rg, "--no-config", "--regex-size-limit", "4G", "--dfa-size-limit", "4G",
                                               "-a", "-n", "-f", str(rfile), str(ref_log)]
            # the floor under any prefilter: rg finding only trtdiag's literal keys (no regex), whole log
            kfile = workdir / "keys.txt"
            keys = matcher().keys
            kfile.write_bytes(b"\n".join(keys) + b"\n")
            nkeys = len(keys)
            tools[f"rg -F -f ({nkeys} literal keys)"] = [rg, "--no-config", "-F", "-a", "-n", "-f", str(kfile), str(log)]
        best: dict[str, tuple[float, int]] = {}
        outs: dict[str, bytes] = {}
        for _ in range(args.repeat):
            for name, argv in tools.items():
                dt, mib, out, rc = timed(argv, env)
                if ref_log is not log and str(ref_log) in argv:
                    dt *= scale
                if rc not in (0, 1):  # 1 = no match (grep, rg); anything else is a failed run, not a time
                    raise SystemExit(f"{name} failed (exit {rc}): {' '.join(argv[:6])} …")
                if name not in best or dt < best[name][0]:
                    best[name] = (dt, max(mib, best.get(name, (0, 0))[1]))
                else:
                    best[name] = (best[name][0], max(mib, best[name][1]))
                outs[name] = out
        rep = json.loads(outs["trtdiag explain"])
        found = [f["kb"] for f in rep["findings"]]
        for name, (dt, mib) in best.items():
            extra = ""
            if name == "trtdiag explain":
                extra = f"  (prefilter {rep['context']['prefilter']}, {rep['context']['candidate_lines']} candidate lines, found: {', '.join(found)})"
            else:
                scaled = " in the part timed" if ref_log is not log and str(ref_log) in tools[name] else ""
                extra = f"  ({len(outs[name].splitlines())} matching lines{scaled})"
            print(f"{name:32} {dt:7.2f}s {size / 1e6 / dt:7.0f} MB/s  peak {mib:5d} MiB{extra}")
        t = best["trtdiag explain"][0]
        for name, (dt, _) in best.items():
            if name.startswith("rg -F"):
                print(f"ratio: trtdiag takes {t / dt:.2f}x the time of rg finding its literal keys alone (the floor)")
            elif name.startswith("rg"):
                print(f"ratio: trtdiag takes {t / dt:.2f}x rg's time with the same signatures   target <= 1.5x: {'OK' if t <= 1.5 * dt else 'MISSED'}")
            elif name.startswith("grep"):
                print(f"ratio: trtdiag takes {t / dt:.2f}x grep -E's time with the same signatures")
        if args.python:
            penv = dict(env, TRTDIAG_EXPLAIN_ENGINE="python")
            dt, mib, _, _ = timed(tools["trtdiag explain"], penv)
            print(f"{'trtdiag, pure-Python prefilter':32} {dt:7.2f}s {size / 1e6 / dt:7.0f} MB/s  peak {mib:5d} MiB")
        if args.hostile:
            log.unlink()
            line = workdir / "one-line.log"
            with open(line, "wb") as fh:
                for _ in range(64):
                    fh.write(b"a" * (16 << 20))
                fh.write(b"\nKilled\n")
            nuls = workdir / "nuls.bin"
            with open(nuls, "wb") as fh:
                fh.truncate(2 << 30)
            for p, what in ((line, "1 GiB single line"), (nuls, "2 GiB of NULs")):
                dt, mib, out, _ = timed([sys.executable, "-m", "trtdiag", "explain", str(p), "--json"], env)
                pre = json.loads(out)["context"]["prefilter"] if out else "?"
                print(f"{'trtdiag, ' + what:32} {dt:7.2f}s  peak {mib:5d} MiB  (prefilter {pre})")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
