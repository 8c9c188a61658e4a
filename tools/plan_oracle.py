#!/usr/bin/env python3
"""Every real plan, and a few one-field variants of them, through a real TensorRT runtime (GPU machine).

    python3 tools/plan_oracle.py --engines DIR [--variants] -o answers.json

DIR holds the plans tools/harvest_plans.py wrote with ``--copy-to`` (file names are the
MANIFEST ids).  For each plan the runtime's whole log and whether it deserialized are recorded,
with the plan's sha256 so CI can match the answer to tests/data/engines/plans/MANIFEST.json.

``--variants`` adds cases that each change one field of a real plan, to learn what the runtime
reads there (the platform tag at 28, the serialization version in the ENGN section, the release
at 24..27, the WGHT and LEAN section tags).  Each is named ``<plan id>|<change>``.
Uses tools/trt_oracle.py's worker (one case at a time, a crash restarts it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from trt_oracle import Oracle, last_message  # noqa: E402

RTRT, QTRT = b"rtrt", b"qtrt"


def sections(data: bytes) -> list[tuple[int, bytes, int, int]]:
    (n,) = struct.unpack_from("<Q", data, 8)
    out = []
    for i in range(min(n, 8)):
        at = 32 + 24 * i
        raw, _pad, off, size = struct.unpack_from("<4sIQQ", data, at)
        out.append((at, raw[::-1], off, size))
    return out


def put(data: bytes, off: int, b: bytes) -> bytes:
    d = bytearray(data)
    d[off:off + len(b)] = b
    return bytes(d)


def variants(name: str, data: bytes) -> dict[str, bytes]:
    if data[:4] != b"ftrt":
        return {}
    out = {
        "tag28=rtrt": put(data, 28, RTRT),
        "tag28=qtrt": put(data, 28, QTRT),
        "tag28=0": put(data, 28, b"\0\0\0\0"),
        "release24=11.4.0.106": put(data, 24, bytes([11, 4, 0, 106])),
        "first-half": data[: len(data) // 2],
    }
    secs = sections(data)
    eng = next((s for s in secs if s[1] == b"ENGN"), None)
    if eng and data[eng[2]:eng[2] + 4] == b"ptrt":
        o = eng[2]
        (f4,) = struct.unpack_from("<I", data, o + 4)
        vo = o + 4 if f4 else o + 8
        out["engn_version=245"] = put(data, vo, struct.pack("<I", 245))
        out["engn_version=245,release24=11.4.0.106"] = put(out["engn_version=245"], 24, bytes([11, 4, 0, 106]))
        out["engn_version=244"] = put(data, vo, struct.pack("<I", 244))
    for at, tag, _off, _size in secs:
        if tag == b"WGHT":
            out["WGHT->LEAN"] = put(data, at, b"LEAN"[::-1])
            out["WGHT->PLGN"] = put(data, at, b"PLGN"[::-1])
    if len(secs) == 1:
        out["ENGN->LEAN"] = put(data, secs[0][0], b"LEAN"[::-1])
    return {f"{name}|{k}": v for k, v in out.items()}


def device_variants(name: str, data: bytes) -> dict[str, bytes]:
    """Variants that pass the version checks (the engine section's serialization version and
    release set to the runtime's own, 245 and 11.4.0.106), so the runtime's next check, the
    device's compute capability, answers; and the same with the compute capability fields the
    reader decodes set to 8.0 and to 9.0, to see that they are what the runtime compares."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from trtdiag.parsers import plan as P

    if data[:4] != b"ftrt":
        return {}
    eng = next((s for s in sections(data) if s[1] == b"ENGN"), None)
    if not eng:
        return {}
    o = eng[2]
    blob = data[o:o + 512]
    (f4,) = struct.unpack_from("<I", blob, 4)
    base = put(data, o + (4 if f4 else 8), struct.pack("<I", 245))
    i = blob.find(P.U8_FIELD_TAGS[0], 12, 48)
    if i < 0:
        return {}
    offs: list[int] = []
    fields = P.archive_fields(blob, i, 60, offs)
    for k, rel in enumerate((11, 4, 0, 106)):
        base = put(base, o + offs[k], bytes([rel]))
    out = {"pass-version-checks": base}
    dev = P.device_of(fields)
    if dev:
        mj, mn = dev["compute_capability"]
        # where the decoded major/minor sit: the first (u32 mj, u32 mn) pair after the release fields
        at = next(j for j in range(4, len(fields) - 1) if fields[j] == ("u32", mj) and fields[j + 1] == ("u32", mn))
        for cc in ((8, 0), (9, 0)):
            d = put(base, o + offs[at], struct.pack("<I", cc[0]))
            out[f"pass-version-checks,cc={cc[0]}.{cc[1]}"] = put(d, o + offs[at + 1], struct.pack("<I", cc[1]))
    return {f"{name}|{k}": v for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", required=True)
    ap.add_argument("--variants", action="store_true")
    ap.add_argument("--variant-of", action="append", default=[], help="plan ids to make variants of (default: one per release)")
    ap.add_argument("--device-variants", action="store_true", help="only the compute-capability variants of the WGHT plans")
    ap.add_argument("--skip-plans", action="store_true", help="do not deserialize the plans themselves again")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    oracle = Oracle()
    oracle.start()
    out = {"runtime_version": oracle.version, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "tool": "tools/plan_oracle.py", "engines": {}, "variants": {}}
    t0 = time.time()
    names = sorted(n for n in os.listdir(a.engines) if os.path.isfile(os.path.join(a.engines, n)))
    for n in ([] if a.skip_plans else names):
        p = os.path.join(a.engines, n)
        data = open(p, "rb").read()
        res = oracle.ask({"id": n, "path": p})
        out["engines"][n] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "deserialized": res["ok"],
                             "log": res.get("log", []), "final": last_message(res),
                             **({"num_io_tensors": res["num_io_tensors"]} if "num_io_tensors" in res else {}),
                             **({"crashed": res["crashed"]} if res.get("crashed") is not None else {})}
        print(n, res["ok"], last_message(res)[:160], flush=True)
    if a.variants:
        pick = a.variant_of
        if not pick:
            by_rel: dict[str, str] = {}
            for n in names:
                by_rel.setdefault(n.split("_")[0], n)
            pick = [v for k, v in by_rel.items() if k[:1].isdigit() and "." in k]
        res = oracle.ask({"id": "empty", "hex": ""})
        out["variants"]["empty"] = {"deserialized": res["ok"], "final": last_message(res), "log": res.get("log", [])[-4:]}
        for n in pick:
            data = open(os.path.join(a.engines, n), "rb").read()
            for cid, d in variants(n, data).items():
                res = oracle.ask({"id": cid, "hex": d.hex()})
                out["variants"][cid] = {"deserialized": res["ok"], "final": last_message(res), "log": res.get("log", [])[-4:]}
                print(cid, res["ok"], last_message(res)[:200], flush=True)
    if a.device_variants:
        for n in names:
            data = open(os.path.join(a.engines, n), "rb").read()
            for cid, d in device_variants(n, data).items():
                res = oracle.ask({"id": cid, "hex": d.hex()})
                out["variants"][cid] = {"deserialized": res["ok"], "final": last_message(res), "log": res.get("log", [])[-6:],
                                        **({"num_io_tensors": res["num_io_tensors"]} if "num_io_tensors" in res else {})}
                print(cid, res["ok"], last_message(res)[:300], flush=True)
    out["seconds"] = round(time.time() - t0, 1)
    with open(a.output, "w") as fh:
        json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
