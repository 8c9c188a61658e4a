#!/usr/bin/env python3
"""Choose the prefilter keys of `trtdiag explain` and write trtdiag/data/prefilter_keys.json.

Every signature (knowledge base and catalogue) has a literal every matching line contains.  The
child that scans the log (rg / grep -F) gets *keys*: a smaller set of strings such that every
literal contains one, so that a line matching any signature holds a key.  Fewer keys make the
multi-pattern search much faster (ripgrep's SIMD search takes up to 64 patterns; past that it is
several times slower), and keys that healthy runs never print keep the candidate lines few.

Keys are chosen by a greedy set cover over the word n-grams (at least MIN_KEY characters) of the
literals, never one that occurs in the healthy logs of tests/data/logs (real healthy tritonserver,
TensorRT-LLM and trtllm-build output): the gram claiming the most literals first, longer on ties.

    python tools/prefilter_keys.py          # rewrite trtdiag/data/prefilter_keys.json
    python tools/prefilter_keys.py --check  # exit 1 if the file no longer covers every literal

The matcher works without the file (every literal is then its own key); a stale file only costs
speed: a literal no key covers is searched for itself.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "trtdiag" / "data" / "prefilter_keys.json"
MIN_KEY = 10


def literals() -> list[bytes]:
    from trtdiag.core import kb
    from trtdiag.logscan.matcher import Matcher

    return sorted(set(Matcher(kb.all_entries(), keys=False).literals), key=lambda b: (len(b), b))


def healthy_text() -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted((REPO / "tests" / "data" / "logs").glob("healthy_*.log")))


def grams(lit: bytes) -> set[bytes]:
    words = lit.split(b" ")
    out = {lit}
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            g = b" ".join(words[i:j]).strip()
            if len(g) >= MIN_KEY:
                out.add(g)
    return out


def choose(lits: list[bytes], healthy: bytes) -> list[bytes]:
    cand: dict[bytes, set[bytes]] = collections.defaultdict(set)
    for lit in lits:
        for g in grams(lit):
            cand[g].add(lit)
    usable = {g: ls for g, ls in cand.items() if g not in healthy or g in lits}
    uncovered = set(lits)
    keys: list[bytes] = []
    while uncovered:
        best = max(sorted(usable), key=lambda g: (len(usable[g] & uncovered), len(g)))
        if not usable[best] & uncovered:
            keys += sorted(uncovered)
            break
        keys.append(best)
        uncovered -= usable[best]
    return sorted(keys, key=lambda b: (len(b), b))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    lits = literals()
    if args.check:
        keys = [k.encode() for k in json.loads(OUT.read_text())["keys"]]
        missing = [l for l in lits if not any(k in l for k in keys)]
        for l in missing:
            print(f"not covered: {l.decode()!r}")
        return 1 if missing else 0
    keys = choose(lits, healthy_text())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "about": "prefilter keys of trtdiag explain; written by tools/prefilter_keys.py (do not edit)",
        "literals": len(lits),
        "keys": [k.decode() for k in keys],
    }, indent=1) + "\n")
    print(f"{OUT}: {len(keys)} keys for {len(lits)} literals")
    return 0


if __name__ == "__main__":
    sys.exit(main())
