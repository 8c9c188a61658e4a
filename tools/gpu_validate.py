#!/usr/bin/env python3
"""Validate trtdiag on a machine with an NVIDIA GPU, end to end, in one run.

    python3 tools/gpu_validate.py --out DIR [--engines DIR]

What it does (each step prints PASS/FAIL with the numbers, and everything lands in DIR/validation.json):
1. `trtdiag collect` + `trtdiag check --json`: the GPU inventory trtdiag reads through NVML
   (name, memory, driver, compute capability, processes) against `nvidia-smi --query-gpu` and
   `torch.cuda.mem_get_info()`.
2. A child process holds a known amount of GPU memory (torch, 10 GiB); trtdiag must list that pid
   with about that size (plus the CUDA context), and the memory check must name it.
3. The memory model's "will it load": `trtdiag plan` for a configuration that fits this GPU and
   one that does not (exit 0 and 1).
4. The TensorRT lean runtime as an oracle (tools/trt_oracle.py): every fixture plan deserialized;
   what the runtime says is compared with what trtdiag's header parser reads from the same file.
5. The speed figures beside their references, in one interleaved run: benchmarks/bench_check.py
   (check vs `nvidia-smi -q` vs PyTorch's collect_env) and benchmarks/bench_exec.py (the hook).

Needs: python3 with torch (the GPU machine's), trtdiag's dependencies, and for step 4 the
tensorrt-lean bindings and libs on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GiB = 1 << 30
RESULTS: dict = {"steps": {}, "failures": []}


def trtdiag(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "trtdiag", *args], capture_output=True, text=True, env=env, timeout=timeout)


def record(step: str, ok: bool, **data) -> None:
    RESULTS["steps"].setdefault(step, []).append(dict(ok=ok, **data))
    if not ok:
        RESULTS["failures"].append(step + ": " + json.dumps(data, default=str)[:500])
    print(("PASS " if ok else "FAIL ") + step + " " + json.dumps(data, default=str)[:400], flush=True)


def nvidia_smi() -> list[dict]:
    out = subprocess.run(["nvidia-smi", "--query-gpu=index,name,memory.total,memory.used,driver_version,compute_cap,uuid",
                          "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
    gpus = []
    for line in out.strip().splitlines():
        i, name, total, used, drv, cc, uuid = [x.strip() for x in line.split(",")]
        gpus.append({"index": int(i), "name": name, "total_mib": int(total), "used_mib": int(used), "driver": drv, "cc": cc, "uuid": uuid})
    return gpus


def inventory() -> dict:
    p = trtdiag("collect")
    if p.returncode != 0:
        raise SystemExit("trtdiag collect failed: " + p.stderr)
    snap = json.loads(p.stdout)
    return snap["facts"].get("gpu.inventory") or {}


def step_inventory() -> None:
    # torch first: its own CUDA context (~0.5 GiB) is then in use when trtdiag reads NVML, so both
    # see the same free memory
    import torch

    free, total = torch.cuda.mem_get_info(0)
    smi = nvidia_smi()
    inv = inventory()
    RESULTS["nvidia_smi"] = smi
    RESULTS["gpu_inventory"] = inv
    RESULTS["torch_mem_get_info"] = [free, total]
    g = (inv.get("gpus") or [{}])[0]
    s = smi[0]
    record("gpu name", g.get("name") == s["name"], trtdiag=g.get("name"), nvidia_smi=s["name"])
    record("driver", inv.get("driver") == s["driver"], trtdiag=inv.get("driver"), nvidia_smi=s["driver"])
    record("compute capability", ".".join(map(str, g.get("cc", []))) == s["cc"], trtdiag=g.get("cc"), nvidia_smi=s["cc"])
    record("total memory (MiB)", g.get("total", 0) // (1 << 20) == s["total_mib"], trtdiag=g.get("total"), nvidia_smi_mib=s["total_mib"])
    # torch's total is NVML's total less the driver's reserve (docs/validation.md)
    record("torch total <= NVML total", total <= g.get("total", 0), torch_total=total, nvml_total=g.get("total"), reserve=g.get("total", 0) - total)
    record("free memory agrees with torch (within 64 MiB)", abs(g.get("free", 0) - free) <= 64 << 20, trtdiag_free=g.get("free"), torch_free=free)


def step_binding() -> None:
    """trtdiag's ctypes NVML binding (trtdiag/probes/nvml.py) against nvidia-ml-py's pynvml, the
    same calls on the same driver, while a process holds memory."""
    try:
        import pynvml
    except ImportError:
        record("binding vs pynvml", True, skipped="pynvml not installed")
        return
    sys.path.insert(0, REPO)
    from trtdiag.probes import gpu

    ours = gpu.read_nvml()
    pynvml.nvmlInit()
    try:
        theirs = {"driver": pynvml.nvmlSystemGetDriverVersion(), "cuda_driver": pynvml.nvmlSystemGetCudaDriverVersion(), "gpus": []}
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            m = pynvml.nvmlDeviceGetMemoryInfo(h)
            procs = sorted((int(p.pid), p.usedGpuMemory) for p in pynvml.nvmlDeviceGetComputeRunningProcesses(h))
            theirs["gpus"].append({"name": pynvml.nvmlDeviceGetName(h), "uuid": pynvml.nvmlDeviceGetUUID(h),
                                   "cc": list(pynvml.nvmlDeviceGetCudaComputeCapability(h)), "total": int(m.total), "procs": procs})
    finally:
        pynvml.nvmlShutdown()
    RESULTS["binding_vs_pynvml"] = {"trtdiag": ours, "pynvml": theirs}
    record("binding: driver and CUDA version = pynvml's", (ours.get("driver"), ours.get("cuda_driver")) == (theirs["driver"], theirs["cuda_driver"]))
    for g, t in zip(ours.get("gpus") or [], theirs["gpus"]):
        same = {k: g.get(k) for k in ("name", "uuid", "cc", "total")} == {k: t[k] for k in ("name", "uuid", "cc", "total")}
        record(f"binding: GPU {g['index']} name, uuid, cc, total = pynvml's", same)
        record(f"binding: GPU {g['index']} processes = pynvml's", sorted((p["pid"], p["used"]) for p in g["procs"]) == t["procs"],
               trtdiag=g["procs"], pynvml=t["procs"])
    record("binding: as many GPUs as pynvml", len(ours.get("gpus") or []) == len(theirs["gpus"]))


HOLD = """
import os, sys, time, torch
x = torch.empty(int(sys.argv[1]), dtype=torch.uint8, device="cuda")
torch.cuda.synchronize()
print(os.getpid(), flush=True)
time.sleep(120)
"""


def step_held_memory() -> None:
    size = 10 * GiB
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(size)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(holder.stdout.readline())
        time.sleep(1)
        inv = inventory()
        procs = [p for g in inv.get("gpus", []) for p in g.get("procs", [])]
        mine = [p for p in procs if p.get("pid") == pid]
        used = mine[0]["used"] if mine else 0
        record("held memory: pid listed", bool(mine), pid=pid, procs=procs)
        record("held memory: size = 10 GiB + context (<= 1 GiB)", size <= used <= size + GiB, used=used, held=size)
        p = trtdiag("check", "--json", "--only", "memory,gpu")
        rep = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
        named = [f for f in rep.get("findings", []) if str(pid) in json.dumps(f)]
        record("memory check names the holder", bool(named), findings=[(f["id"], f["title"]) for f in named])
        RESULTS["check_with_holder"] = rep
    finally:
        holder.kill()
        holder.wait()


def step_plan(out: str) -> None:
    """The live GPU through NVML as `plan`'s target: a 7B model fits; a 405B in fp16 (810 GB of
    weights) loads on no single GPU (a 70B did not load on an 80 GB H100, but does on a 141 GB H200:
    there it is the KV-cache warning, exit 0)."""
    llama7 = {"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
              "hidden_size": 4096, "intermediate_size": 11008, "vocab_size": 32000, "torch_dtype": "float16"}
    llama70 = dict(llama7, num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8, hidden_size=8192, intermediate_size=28672)
    llama405 = dict(llama7, num_hidden_layers=126, num_attention_heads=128, num_key_value_heads=8, hidden_size=16384,
                    intermediate_size=53248, vocab_size=128256)
    for name, cfg, want in (("llama-7b", llama7, 0), ("llama-70b", llama70, None), ("llama-405b", llama405, 1)):
        path = os.path.join(out, f"{name}-config.json")
        with open(path, "w") as fh:
            json.dump(cfg, fh)
        p = trtdiag("plan", "--model-config", path, "--max-batch-size", "8", "--max-input-len", "2048", "--max-output-len", "2048", "--json")
        rep = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
        RESULTS.setdefault("plan", {})[name] = rep
        if want is None:  # depends on the card: recorded, not judged
            RESULTS["plan"][name + " exit"] = p.returncode
            continue
        record(f"plan {name} fp16 bs8 2048+2048 on this GPU: exit {want}", p.returncode == want, rc=p.returncode,
               stderr=p.stderr[-300:], titles=[f.get("title") for f in rep.get("findings", [])][:4])


def step_oracle(engines: str, out: str) -> None:
    oracle_out = os.path.join(out, "oracle.json")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trt_oracle.py"), "--engines", engines, "-o", oracle_out], capture_output=True, text=True)
    if p.returncode != 0:
        record("oracle ran", False, stderr=p.stderr[-1500:])
        return
    oracle = json.load(open(oracle_out))
    RESULTS["oracle_runtime"] = oracle["runtime_version"]
    for name, r in oracle["engines"].items():
        path = os.path.join(engines, name)
        q = trtdiag("check", "--engine-dir", path, "--json", "--only", "engine")
        try:
            rep = json.loads(q.stdout)
        except ValueError:
            rep = {"exit": q.returncode, "stderr": q.stderr[-300:]}
        RESULTS.setdefault("parser_vs_runtime", {})[name] = {"runtime": r["final"], "deserialized": r["deserialized"], "trtdiag": rep}
        record(f"runtime refuses {name} and trtdiag reports an error", (not r["deserialized"]) and q.returncode in (1, 2), rc=q.returncode, runtime=r["final"][:160])


def step_walltime(out: str) -> None:
    """The speed figures of issue-level targets, each beside its reference in one interleaved run:
    benchmarks/bench_check.py (check vs nvidia-smi -q vs PyTorch's collect_env) and
    benchmarks/bench_exec.py (the hook vs the bare command)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    bj = os.path.join(out, "bench_check.json")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_check.py"), "-n", "7", "--profile", "--json", bj],
                       capture_output=True, text=True, env=env, timeout=400)
    print(p.stdout, flush=True)
    res = json.load(open(bj)) if os.path.exists(bj) else {}
    RESULTS["bench_check"] = res
    chk = (res.get("trtdiag check") or {}).get("median")
    record("trtdiag check median wall time (s)", chk is not None, median=chk,
           nvidia_smi=(res.get("nvidia-smi -q") or {}).get("median"), collect_env=(res.get("torch collect_env") or {}).get("median"),
           ratio_nvidia_smi=res.get("ratio_nvidia_smi"), speedup_collect_env=res.get("speedup_collect_env"))
    q = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_exec.py"), "-n", "11", "--json"],
                       capture_output=True, text=True, env=env, timeout=300)
    try:
        ex = json.loads(q.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        ex = {"stdout": q.stdout[-500:], "stderr": q.stderr[-500:]}
    RESULTS["bench_exec"] = ex
    record("trtdiag exec -- true overhead (s)", "overhead_median_s" in ex, **{k: ex.get(k) for k in ("overhead_median_s", "triton_overhead_median_s", "skip_median_s")})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--engines", help="folder of fixture plans for the runtime oracle")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    RESULTS["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for name, fn in (("inventory", step_inventory), ("binding", step_binding), ("held", step_held_memory), ("plan", lambda: step_plan(a.out)), ("walltime", lambda: step_walltime(a.out))):
        try:
            fn()
        except Exception as exc:  # keep going: record what broke
            record(name, False, exception=f"{type(exc).__name__}: {exc}")
    if a.engines:
        try:
            step_oracle(a.engines, a.out)
        except Exception as exc:
            record("oracle", False, exception=f"{type(exc).__name__}: {exc}")
    with open(os.path.join(a.out, "validation.json"), "w") as fh:
        json.dump(RESULTS, fh, indent=1, default=str)
    print(f"\n{len(RESULTS['failures'])} failure(s)")
    for f in RESULTS["failures"]:
        print("  " + f)
    return 1 if RESULTS["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
