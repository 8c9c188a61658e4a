"""The pre-launch hook's own cost: `trtdiag exec -- /bin/true` against `/bin/true` alone.

Each run is a cold process (a new interpreter, as in a container ENTRYPOINT).  Prints the median
and the spread of N runs of each, and the overhead (difference of the medians).

    PYTHONPATH=. python benchmarks/bench_exec.py [-n 21] [--python PATH] [-- EXTRA trtdiag OPTIONS]

Target: overhead <= 0.3 s median on a 2-core machine without a GPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{argv} exited {p.returncode}")
    return dt


def main() -> int:
    argv = sys.argv[1:]
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=21, help="runs of each (default 21)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("TRTDIAG_SKIP", None)
    true = "/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true"
    hook = [a.python, "-m", "trtdiag", "exec", *extra, "--", true]
    timed(hook, env)  # build the .pyc files once; every measured run is still a new process
    direct, wrapped, skipped = [], [], []
    for _ in range(a.n):
        direct.append(timed([true], env))
        wrapped.append(timed(hook, env))
        skipped.append(timed(hook, {**env, "TRTDIAG_SKIP": "1"}))
    res = {
        "runs": a.n,
        "direct_median_s": statistics.median(direct),
        "exec_median_s": statistics.median(wrapped),
        "exec_min_s": min(wrapped),
        "exec_max_s": max(wrapped),
        "skip_median_s": statistics.median(skipped),
    }
    res["overhead_median_s"] = res["exec_median_s"] - res["direct_median_s"]
    if a.json:
        import json

        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}))
    else:
        print(f"/bin/true directly        median {res['direct_median_s'] * 1000:7.1f} ms")
        print(f"trtdiag exec -- /bin/true median {res['exec_median_s'] * 1000:7.1f} ms  (min {res['exec_min_s'] * 1000:.1f}, max {res['exec_max_s'] * 1000:.1f})")
        print(f"TRTDIAG_SKIP=1            median {res['skip_median_s'] * 1000:7.1f} ms")
        print(f"overhead                  median {res['overhead_median_s'] * 1000:7.1f} ms  over {a.n} cold runs (target <= 300 ms)")
    return 0 if res["overhead_median_s"] <= 0.3 else 1


if __name__ == "__main__":
    sys.exit(main())
