"""Wall time of `trtdiag check` beside its references, in one interleaved run; and the plan header read.

    python benchmarks/bench_check.py [-n ROUNDS] [--profile] [--json OUT]

1. Interleaved rounds (each command once per round, in turn, so machine load hits all alike) of
   cold processes: `trtdiag check` (no arguments), `nvidia-smi -q` (where installed) and PyTorch's
   `python -m torch.utils.collect_env` (where torch is installed; at most 5 rounds, it takes
   seconds).  Prints median/min/max of each and the targets:
     - on a GPU machine: check median <= 2x `nvidia-smi -q`, and >= 20x faster than collect_env;
     - on the 2-core CI machine: check median <= 0.15 s.
   The first check of the run is not counted (it writes the .pyc files and the library-answer
   cache, as the first check on a machine does); `--cold-cache` counts checks with no cache.
2. plan_header.read() on a 1 MB and a 20 GB sparse plan, each in a fresh process: the 20 GB read
   within 2x of the 1 MB one (only the first bytes are read).
3. --profile: where one check's time goes (each probe, in the order they finished; probes started
   together in threads overlap).

If check is slow, `python -X importtime -m trtdiag check 2>imports.txt` shows the imports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HEADER_CODE = "import sys,time; from trtdiag.parsers import plan_header as p; t=time.perf_counter(); h=p.read(sys.argv[1]); print(time.perf_counter()-t)"

PROFILE_CODE = r"""
import io, contextlib, json, sys, time
t0 = time.perf_counter()
from trtdiag.probes import nvml
nvml.start_init()  # as the trtdiag program does first (app.main.entry)
from trtdiag.core import facts as F
orig = F.Facts._probe
done = []
def timed(self, name):
    t = time.perf_counter()
    try:
        return orig(self, name)
    finally:
        done.append((name, t - t0, time.perf_counter() - t))
F.Facts._probe = timed
from trtdiag.app.main import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["check"])
nvml.finish_early()
print(json.dumps({"total": time.perf_counter() - t0, "probes": done}))
"""


def env(cache_dir: str | None = None) -> dict:
    e = dict(os.environ)
    e.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed wheel: cached bytecode
    e["PYTHONPATH"] = str(REPO) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    if cache_dir:
        e["TRTDIAG_CACHE_DIR"] = cache_dir
    return e


def timed(argv: list[str], e: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


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


def has_torch() -> bool:
    return subprocess.run([sys.executable, "-c", "import torch.utils.collect_env"], capture_output=True).returncode == 0


def stats(xs: list[float]) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)} if xs else {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=9, help="interleaved rounds (default 9)")
    ap.add_argument("--profile", action="store_true", help="also show where one check's time goes")
    ap.add_argument("--cold-cache", action="store_true", help="every check without the library-answer cache")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON too")
    a = ap.parse_args()

    cache = tempfile.mkdtemp(prefix="trtdiag-bench-cache-")
    check = [sys.executable, "-m", "trtdiag", "check"]
    subprocess.run(check, env=env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # .pyc, cache
    smi = shutil.which("nvidia-smi")
    torch = has_torch()
    runs: dict[str, list[float]] = {"trtdiag check": [], "nvidia-smi -q": [], "torch collect_env": []}
    for r in range(a.n):
        c = tempfile.mkdtemp(prefix="trtdiag-bench-cold-") if a.cold_cache else cache
        runs["trtdiag check"].append(timed(check, env(c)))
        if smi:
            runs["nvidia-smi -q"].append(timed([smi, "-q"], env()))
        if torch and r < 5:
            runs["torch collect_env"].append(timed([sys.executable, "-m", "torch.utils.collect_env"], env()))
    res = {k: stats(v) for k, v in runs.items() if v}
    print(f"interleaved, {a.n} rounds, cold processes" + (" (no library-answer cache)" if a.cold_cache else ""))
    for k, s in res.items():
        print(f"  {k:20} median {s['median']:.3f} s  (min {s['min']:.3f}, max {s['max']:.3f}, n={s['n']})")
    chk = res["trtdiag check"]["median"]
    if "nvidia-smi -q" in res:
        ratio = chk / res["nvidia-smi -q"]["median"]
        print(f"  check / nvidia-smi -q = {ratio:.2f}x  (target <= 2x)  {'OK' if ratio <= 2 else 'SLOW'}")
        res["ratio_nvidia_smi"] = ratio
    if "torch collect_env" in res:
        speed = res["torch collect_env"]["median"] / chk
        print(f"  check is {speed:.1f}x faster than collect_env  (target >= 20x)  {'OK' if speed >= 20 else 'SLOW'}")
        res["speedup_collect_env"] = speed
    if not smi:
        print(f"  no GPU tools here: target on the 2-core machine is check median <= 0.150 s  {'OK' if chk <= 0.15 else 'SLOW'}")

    with tempfile.TemporaryDirectory() as d:
        small, big = Path(d) / "1MB.engine", Path(d) / "20GB.engine"
        make_sparse(small, 1 << 20)
        make_sparse(big, 20 << 30)
        hs, hb = time_header(small, a.n), time_header(big, a.n)
    ratio = statistics.median(hb) / statistics.median(hs)
    print(f"plan header read: 1 MB median {statistics.median(hs) * 1e6:.0f} us, 20 GB median {statistics.median(hb) * 1e6:.0f} us "
          f"({ratio:.2f}x; target <= 2x)  {'OK' if ratio <= 2 else 'SLOW'}")
    res["header_ratio"] = ratio

    if a.profile:
        p = subprocess.run([sys.executable, "-c", PROFILE_CODE], env=env(cache), capture_output=True, text=True)
        prof = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"one check, {prof['total']:.3f} s in all; probes (start after launch, duration):")
        for name, start, dur in sorted(prof["probes"], key=lambda x: x[1]):
            print(f"  {name:22} +{start * 1000:6.0f} ms  {dur * 1000:6.0f} ms")
        res["profile"] = prof
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
