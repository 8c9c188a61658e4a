"""The pre-launch hook's own cost, in one interleaved run of cold processes (a new interpreter each,
as in a container ENTRYPOINT):

- `trtdiag exec -- true` against `true` alone: a command trtdiag knows no server in, so the hook
  reads the launch and gets out of the way (target: <= 0.15 s over `true`);
- `trtdiag exec -- tritonserver --model-repository R` with a stand-in `tritonserver` that exits
  at once: the hook runs every pre-launch rule a Triton launch gets (ports, GPUs, TensorRT, MPI,
  container), the real cost in front of a server start;
- TRTDIAG_SKIP=1: the hook's floor (the interpreter and the launch).

    PYTHONPATH=. python benchmarks/bench_exec.py [-n 21] [--python PATH] [-- EXTRA trtdiag OPTIONS]
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
    import tempfile

    true = "/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true"
    tmp = tempfile.mkdtemp(prefix="trtdiag-bench-exec-")
    stand_in = os.path.join(tmp, "tritonserver")  # a stand-in server: exits 0 at once
    os.symlink(true, stand_in)
    os.makedirs(os.path.join(tmp, "models", "m", "1"))
    with open(os.path.join(tmp, "models", "m", "config.pbtxt"), "w") as fh:  # one small valid model
        fh.write('name: "m"\nbackend: "python"\nmax_batch_size: 8\n')
    env["TRTDIAG_CACHE_DIR"] = os.path.join(tmp, "cache")
    hook = [a.python, "-m", "trtdiag", "exec", *extra, "--", true]
    triton = [a.python, "-m", "trtdiag", "exec", "--fail-on", "never", *extra, "--", stand_in, "--model-repository", os.path.join(tmp, "models")]
    timed(hook, env)  # build the .pyc files once; every measured run is still a new process
    timed(triton, env)
    direct, wrapped, skipped, served = [], [], [], []
    for _ in range(a.n):
        direct.append(timed([true], env))
        wrapped.append(timed(hook, env))
        served.append(timed(triton, env))
        skipped.append(timed(hook, {**env, "TRTDIAG_SKIP": "1"}))
    res = {
        "runs": a.n,
        "direct_median_s": statistics.median(direct),
        "exec_median_s": statistics.median(wrapped),
        "exec_min_s": min(wrapped),
        "exec_max_s": max(wrapped),
        "triton_launch_median_s": statistics.median(served),
        "skip_median_s": statistics.median(skipped),
    }
    res["overhead_median_s"] = res["exec_median_s"] - res["direct_median_s"]
    res["triton_overhead_median_s"] = res["triton_launch_median_s"] - res["direct_median_s"]
    if a.json:
        import json

        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}))
    else:
        print(f"/bin/true directly        median {res['direct_median_s'] * 1000:7.1f} ms")
        print(f"trtdiag exec -- /bin/true median {res['exec_median_s'] * 1000:7.1f} ms  (min {res['exec_min_s'] * 1000:.1f}, max {res['exec_max_s'] * 1000:.1f})")
        print(f"TRTDIAG_SKIP=1            median {res['skip_median_s'] * 1000:7.1f} ms")
        print(f"exec -- tritonserver …    median {res['triton_launch_median_s'] * 1000:7.1f} ms  (every rule a Triton launch gets)")
        print(f"overhead over true        median {res['overhead_median_s'] * 1000:7.1f} ms  over {a.n} cold runs (target <= 150 ms)"
              f"  {'OK' if res['overhead_median_s'] <= 0.15 else 'SLOW'}")
        print(f"overhead, Triton launch   median {res['triton_overhead_median_s'] * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
