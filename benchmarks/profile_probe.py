#!/usr/bin/env python3
"""Where one probe's time goes, run alone (no other thread competing for the interpreter).

    python benchmarks/profile_probe.py mpi.runtime mpi4py_search.prediction [--top 25]

Each probe is run twice in one process: the first run fills the library-answer caches (as the
first check on a machine does), the second is profiled with cProfile and its top functions by
own time are printed, with the wall time of both runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probes", nargs="+")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    os.environ.setdefault("TRTDIAG_CACHE_DIR", tempfile.mkdtemp(prefix="trtdiag-profile-cache-"))
    from trtdiag.core.facts import Facts
    from trtdiag.probes import elf_store

    for name in a.probes:
        t = time.perf_counter()
        Facts({}).get(name)
        first = time.perf_counter() - t
        elf_store.forget()  # the second run as a new process would: only the kept answers
        facts = Facts({})
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        facts.get(name)
        prof.disable()
        second = time.perf_counter() - t
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(a.top)
        print(f"== {name}: first run {first * 1000:.1f} ms, second (caches kept) {second * 1000:.1f} ms under cProfile")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
