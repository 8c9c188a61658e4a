#!/usr/bin/env python3
"""A real TensorRT runtime as an oracle for trtdiag's plan-header parser (needs an NVIDIA GPU).

Runs the TensorRT lean runtime (the `tensorrt_lean` bindings of the tensorrt-lean-cuNN wheels) on:

1. every plan in a folder (the real fixtures), recording what the runtime says;
2. byte mutations of one real plan (``--mutate PLAN``): each case changes one field and records
   the runtime's final message, so the place of each check in the plan can be read off the
   messages (which offsets lead to "Version tag does not match … Serialized Engine Version: N",
   which to the size or footer assertions, …).

Each case runs in a worker process; a case that crashes the runtime is recorded as such and the
worker is restarted, so one bad plan cannot end the study.  Output: one JSON document.

    python3 tools/trt_oracle.py --engines DIR [--mutate PLAN] -o results.json
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import time

WORKER = r"""
import json, sys
try:
    import tensorrt_lean_bindings as trt  # the tensorrt-lean-cuNN-bindings wheel
except ImportError:
    try:
        import tensorrt_lean as trt  # the tensorrt-lean metapackage
    except ImportError:
        import tensorrt as trt

class Log(trt.ILogger):
    def __init__(self):
        trt.ILogger.__init__(self)
        self.lines = []
    def log(self, severity, msg):
        self.lines.append(f"{severity}: {msg}")

log = Log()
runtime = trt.Runtime(log)
print(json.dumps({"ready": trt.__version__}), flush=True)
for line in sys.stdin:
    case = json.loads(line)
    data = bytes.fromhex(case["hex"]) if "hex" in case else open(case["path"], "rb").read()
    log.lines = []
    try:
        engine = runtime.deserialize_cuda_engine(data)
        ok = engine is not None
        extra = {}
        if ok:
            extra = {"num_io_tensors": engine.num_io_tensors}
            del engine
    except Exception as exc:
        ok, extra = False, {"exception": f"{type(exc).__name__}: {exc}"}
    print(json.dumps({"id": case["id"], "ok": ok, "log": log.lines, **extra}), flush=True)
"""


class Oracle:
    def __init__(self):
        self.proc = None
        self.version = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first:
            raise SystemExit("the TensorRT runtime did not start: " + self.proc.stderr.read()[-2000:])
        self.version = json.loads(first)["ready"]

    def ask(self, case: dict) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps(case) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            rc = self.proc.wait()
            self.proc = None
            return {"id": case["id"], "ok": False, "crashed": rc, "log": []}
        return json.loads(line)


def last_message(res: dict) -> str:
    errs = [l for l in res.get("log", []) if "ERROR" in l.upper()]
    msg = (errs or res.get("log") or [res.get("exception", "")])[-1] if (errs or res.get("log")) else res.get("exception", "")
    if res.get("crashed") is not None:
        return f"worker crashed ({res['crashed']})"
    return msg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", help="folder of plans to deserialize")
    ap.add_argument("--mutate", help="a real plan whose bytes to mutate one field at a time")
    ap.add_argument("--span", type=int, default=512, help="how many leading bytes of --mutate to mutate (default 512)")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    oracle = Oracle()
    oracle.start()
    out = {"runtime_version": oracle.version, "date": time.strftime("%Y-%m-%d"), "engines": {}, "mutations": {}}
    if a.engines:
        for name in sorted(os.listdir(a.engines)):
            p = os.path.join(a.engines, name)
            if not os.path.isfile(p) or name.endswith(".md"):
                continue
            res = oracle.ask({"id": name, "path": p})
            with open(p, "rb") as fh:
                head = fh.read(64)
            out["engines"][name] = {"size": os.path.getsize(p), "head": head.hex(), "deserialized": res["ok"], "log": res.get("log", []), "final": last_message(res)}
    if a.mutate:
        base = open(a.mutate, "rb").read()
        cases = {}
        # version-like fields: write a release as 4 bytes major.minor.patch.build at each offset
        for off in range(0, min(64, len(base) - 4), 4):
            for tag, ver in (("11.4.0.106", bytes([11, 4, 0, 106])), ("10.0.1.6", bytes([10, 0, 1, 6])), ("8.6.1.6", bytes([8, 6, 1, 6]))):
                d = bytearray(base)
                d[off:off + 4] = ver
                cases[f"ver{tag}@{off}"] = bytes(d)
            d = bytearray(base)
            d[off:off + 4] = struct.pack("<I", 110400)
            cases[f"u32=110400@{off}"] = bytes(d)
        # one byte at a time
        for off in range(min(a.span, len(base))):
            for val in {base[off] ^ 0x01, 0x00, 0xFF} - {base[off]}:
                d = bytearray(base)
                d[off] = val
                cases[f"byte{off}={val}"] = bytes(d)
        t0 = time.time()
        for cid, data in cases.items():
            res = oracle.ask({"id": cid, "hex": data.hex()})
            out["mutations"][cid] = {"ok": res["ok"], "final": last_message(res)}
        out["mutation_seconds"] = round(time.time() - t0, 1)
        groups: dict[str, list[str]] = {}
        for cid, r in out["mutations"].items():
            groups.setdefault(r["final"], []).append(cid)
        out["mutation_groups"] = {k: v for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))}
    text = json.dumps(out, indent=1)
    if a.output == "-":
        print(text)
    else:
        with open(a.output, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
