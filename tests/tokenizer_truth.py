"""Scoring the static tokenizer analysis against the measured ground truth
(tests/data/tokenizers/ground_truth.json: the real model.py initialize() of every backend tag,
run by tools/tokenizer_matrix.py).  Used by tests/test_tokenizer_truth.py and printed by
``python tests/tokenizer_truth.py``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trtdiag.derive import tokenizer_model_py as tm  # noqa: E402

GT = ROOT / "tests" / "data" / "tokenizers" / "ground_truth.json"
STATEMENTS = ROOT / "trtdiag" / "data" / "model_py_statements.json"
TABLE = ROOT / "trtdiag" / "data" / "transformers_tokenizer_failures.json"


def load():
    return json.loads(GT.read_text()), json.loads(STATEMENTS.read_text()), json.loads(TABLE.read_text())


def observed(row: dict, tok: dict | None = None) -> dict:
    if row.get("initialize") == "raised":
        exc = row["exception"]
        return {"outcome": "raises", "cause": tm.cause_of_outcome(exc, bool((tok or {}).get("custom"))), "line": (exc.get("model_py_frame") or {}).get("line"),
                "exception": exc["type"], "message": exc["first_line"]}
    return {"outcome": "ok", "wrong_ids": sorted({w["attr"] for w in row.get("wrong_ids") or []})}


def score(gt: dict, st: dict, table: dict, variant: str = "original") -> dict:
    facts = {k: v["facts"] for k, v in gt["axes"]["tokenizers"].items()}
    files = st["files"]
    out = {"cases": 0, "failing": 0, "right": 0, "silent": 0, "wrong_cause": 0, "passing": 0, "false_error": 0,
           "passing_unknown": 0, "message_measured": 0, "message_exact": 0, "wrong_id_cases": 0, "wrong_id_named": 0,
           "wrong_id_false": 0, "details": []}
    for r in gt["rows"]:
        if r.get("variant") != variant or r.get("initialize") not in ("ok", "raised"):
            continue
        if r["blob"] not in files:
            continue
        prof = files[r["blob"]]["profile"]
        tok = dict(facts[r["tokenizer"]])
        pred = tm.predict(prof, tok, r["transformers"], r["python"], "auto", table)
        obs = observed(r, tok)
        out["cases"] += 1
        verdict = None
        if obs["outcome"] == "raises":
            out["failing"] += 1
            if pred["outcome"] == "raises" and pred["cause"] == obs["cause"] and pred.get("line") == obs["line"] \
                    and pred.get("exception") == obs["exception"]:
                out["right"] += 1
                verdict = "right"
                if pred.get("message"):
                    out["message_measured"] += 1
                    exp = pred["message"]
                    if exp == obs["message"]:
                        out["message_exact"] += 1
                    else:
                        verdict = "right (message differs)"
            elif pred["outcome"] == "raises":
                out["wrong_cause"] += 1
                verdict = "wrong cause"
            else:
                out["silent"] += 1
                verdict = "silent"
        else:
            out["passing"] += 1
            if pred["outcome"] == "raises":
                out["false_error"] += 1
                verdict = "false error"
            elif pred["outcome"] == "unknown":
                out["passing_unknown"] += 1
                verdict = "unknown"
            else:
                verdict = "right"
            got = sorted({w["attr"] for w in pred.get("wrong_ids") or []}) if pred["outcome"] == "ok" else []
            if obs["wrong_ids"]:
                out["wrong_id_cases"] += 1
                if got == obs["wrong_ids"]:
                    out["wrong_id_named"] += 1
                else:
                    verdict = "wrong ids not named"
            elif got:
                out["wrong_id_false"] += 1
                verdict = "wrong ids named falsely"
        if verdict != "right":
            out["details"].append({"env": r["env"], "tokenizer": r["tokenizer"], "model": r["model"], "tags": r["tags"][0],
                                   "verdict": verdict, "observed": obs, "predicted": {k: pred.get(k) for k in ("outcome", "cause", "line", "exception", "message", "wrong_ids")}})
    return out


if __name__ == "__main__":
    gt, st, table = load()
    s = score(gt, st, table)
    details = s.pop("details")
    print(json.dumps(s, indent=1))
    for d in details[: int(sys.argv[1]) if len(sys.argv) > 1 else 20]:
        print(json.dumps(d)[:400])
