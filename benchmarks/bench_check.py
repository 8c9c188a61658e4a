"""Cold wall time of `trtdiag check` and of the plan header read.

    python benchmarks/bench_check.py [-n RUNS]

1. `python -m trtdiag check` with no arguments, each run a fresh process (no GPU needed: on a
   machine without one the GPU probes answer fast); median of N.  Target: ≤ 0.3 s.
2. plan_header.read() on a 1 MB and a 20 GB sparse engine file (os.truncate, no disk used), each
   in a fresh process (cold page cache for the interpreter's view: nothing cached between runs);
   median of N.  Target: 20 GB within 2x of 1 MB (only the first bytes are read).

If check is slower than the target, run `python -X importtime -m trtdiag check 2>imports.txt`
and look at the largest cumulative entries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HEADER_CODE = "import sys,time; from trtdiag.parsers import plan_header as p; t=time.perf_counter(); h=p.read(sys.argv[1]); print(time.perf_counter()-t)"


def env(bytecode: bool = True) -> dict:
    """The child's environment.  bytecode=True lets Python cache .pyc files (as an installed wheel
    has them); PYTHONDONTWRITEBYTECODE=1 would make every run compile every module again."""
    e = dict(os.environ)
    if bytecode:
        e.pop("PYTHONDONTWRITEBYTECODE", None)
    else:  # no cached bytecode to read, none written
        e["PYTHONDONTWRITEBYTECODE"] = "1"
        e["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="trtdiag-nopyc-")
    e["PYTHONPATH"] = str(REPO) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.setdefault("CUDA_VISIBLE_DEVICES", "")
    return e


def time_check(n: int, bytecode: bool = True) -> list[float]:
    out = []
    if bytecode:  # one run to write the .pyc files, not counted
        subprocess.run([sys.executable, "-m", "trtdiag", "check"], env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(n):
        e = env(bytecode)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "trtdiag", "check"], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
        if "PYTHONPYCACHEPREFIX" in e and not bytecode:
            os.rmdir(e["PYTHONPYCACHEPREFIX"])
    return out


def make_sparse(path: Path, size: int) -> None:
    head = b"ftrt" + b"\0" * 4 + struct.pack("<QQ", 1, size) + bytes([8, 6, 1, 6]) + b"\0" * 4
    with open(path, "wb") as fh:
        fh.write(head)
    os.truncate(path, size)


def time_header(path: Path, n: int) -> list[float]:
    out = []
    for _ in range(n):
        p = subprocess.run([sys.executable, "-c", HEADER_CODE, str(path)], env=env(), capture_output=True, text=True, check=True)
        out.append(float(p.stdout.strip()))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=15, help="runs per measurement (default 15)")
    a = ap.parse_args()
    check = time_check(a.n)
    nobc = time_check(a.n, bytecode=False)
    with tempfile.TemporaryDirectory() as d:
        small, big = Path(d) / "1MB.engine", Path(d) / "20GB.engine"
        make_sparse(small, 1 << 20)
        make_sparse(big, 20 << 30)
        hs, hb = time_header(small, a.n), time_header(big, a.n)
    med = statistics.median
    print(f"trtdiag check (no arguments), cold, median of {a.n}: {med(check):.3f} s  (min {min(check):.3f}, max {max(check):.3f}; target <= 0.300 s)"
          f"  {'OK' if med(check) <= 0.3 else 'SLOW'}")
    print(f"  same without .pyc files (PYTHONDONTWRITEBYTECODE=1: every module compiled each run): median {med(nobc):.3f} s")
    print(f"plan header read, 1 MB plan:  median {med(hs) * 1e6:.0f} us")
    ratio = med(hb) / med(hs)
    print(f"plan header read, 20 GB plan: median {med(hb) * 1e6:.0f} us  ({ratio:.2f}x the 1 MB read; target <= 2x)  {'OK' if ratio <= 2 else 'SLOW'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
