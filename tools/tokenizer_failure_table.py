#!/usr/bin/env python3
"""The transformers-version table of tokenizer start-up failures, generated from the measured
ground truth (tests/data/tokenizers/ground_truth.json, made by tools/tokenizer_matrix.py):
for each cause, each transformers version (and Python version where the message differs), the
exact first line of the message the real model.py initialize() raised, with the tokenizer
directory and class written as {dir}/{class}, and the rows it was seen in.

    python tools/tokenizer_failure_table.py tests/data/tokenizers/ground_truth.json \
        --out trtdiag/data/transformers_tokenizer_failures.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trtdiag.derive import tokenizer_model_py as tm  # noqa: E402


def build(gt: dict) -> dict:
    causes: dict[str, dict] = {}
    facts = {k: v.get("facts") or {} for k, v in gt["axes"]["tokenizers"].items()}
    for r in gt["rows"]:
        if r.get("variant") != "original" or r.get("initialize") != "raised":
            continue
        exc = r["exception"]
        tf = facts.get(r["tokenizer"]) or {}
        cause = tm.cause_of_outcome(exc, bool(tf.get("custom")))
        cls = (tf.get("custom") or {}).get("class") or tf.get("tokenizer_class")
        msg = tm.message_template(exc["first_line"], "{dir}", cls)
        entry = causes.setdefault(cause, {"exception": exc["type"], "measured": []})
        key = (r["transformers"], r["python"])
        found = next((m for m in entry["measured"] if (m["transformers"], m["python_full"]) == key and m["message"] == msg), None)
        if found is None:
            found = {"transformers": r["transformers"], "python_full": r["python"], "python": None, "exception": exc["type"],
                     "message": msg, "seen": 0, "example": f"{r['model_py']} × {r['tokenizer']}"}
            entry["measured"].append(found)
        found["seen"] += 1
    # the Python version matters only where one transformers version gave two messages
    for entry in causes.values():
        by_tf: dict[str, set] = {}
        for m in entry["measured"]:
            by_tf.setdefault(m["transformers"], set()).add(m["message"])
        merged: dict[tuple, dict] = {}
        for m in entry["measured"]:
            if len(by_tf[m["transformers"]]) > 1:
                m["python"] = ".".join(m["python_full"].split(".")[:2])
            key = (m["transformers"], m["python"], m["message"])
            if key in merged:
                merged[key]["seen"] += m["seen"]
                merged[key]["pythons"] = sorted(set(merged[key]["pythons"]) | {m["python_full"]})
            else:
                m["pythons"] = [m.pop("python_full")]
                merged[key] = m
        for m in merged.values():
            m.pop("python_full", None)
        entry["measured"] = sorted(merged.values(), key=lambda m: (tm.version_tuple(m["transformers"]), m["python"] or ""))
    return {"schema": "trtdiag.transformers-tokenizer-failures/1", "generated_by": "tools/tokenizer_failure_table.py",
            "from": "tests/data/tokenizers/ground_truth.json (tools/tokenizer_matrix.py: the real model.py initialize() of "
                    "triton-inference-server/tensorrtllm_backend v0.5.0-v0.19.0 under each transformers version)",
            "interpreters": gt["axes"]["interpreters"], "causes": causes}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("ground_truth")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    out = build(json.load(open(a.ground_truth)))
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"{len(out['causes'])} causes -> {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
