#!/usr/bin/env python3
"""How well `trtdiag explain` names the cause of real failures, on logs it was never tuned on.

    python benchmarks/eval_explain.py                  # frozen set and tuning set, per log and in total
    python benchmarks/eval_explain.py --set frozen     # only the frozen evaluation set
    python benchmarks/eval_explain.py --quiet          # totals only
    python benchmarks/eval_explain.py --json out.json  # also write every number and per-log result

The frozen set is printed in total and per batch (batch 1: the MANIFEST tables without `batch`,
the first collection; batch 2: `batch = 2`, collected 2026-12-01; batch 3: `batch = 3`, collected
2026-12-01 after the issue-16 catalogue work); --json has both.

Every log is given to the real CLI, one child process per log, exactly as a user runs it:
`python -m trtdiag explain --json FILE`.  Nothing of trtdiag is imported here, so the numbers hold
whatever the package layout.

Two sets:

- **frozen** — tests/data/logs/frozen/ (MANIFEST.toml there): real logs from public threads that no
  knowledge-base entry cites and no signature was written from; the expected answer was decided
  from each thread's resolution before trtdiag was run on it.  `expect = "no-entry:ID"` means no
  entry existed when the log was collected: if an entry ID exists now it is the expected one, else
  the entry its table names in `entry_now` (an entry added later for the same cause, decided from
  the cause texts before trtdiag was run on that batch), otherwise the log counts as a miss of
  right cause (and is listed as such).
- **tuning** — tests/data/logs/ (its MANIFEST.toml): the logs entries were written from.

Numbers (over failure logs, i.e. expect ≠ normal):

- recall: the log gets at least one finding that names an entry (any severity);
- right cause: the first finding's entry is the expected one;
- quiet on normal (over healthy logs): no finding of severity error.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
LOGS = REPO / "tests" / "data" / "logs"
FROZEN = LOGS / "frozen"
KB_DIR = REPO / "knowledge_base"
NORMAL = "normal"


def kb_ids(kb_dir: Path = KB_DIR) -> set[str]:
    return {p.stem for p in kb_dir.glob("*.toml")}


def load_cases(which: str) -> list[dict]:
    """[{set, name, path, expect, raw_expect, source, cause[, batch]}], expect = kb id | "normal" | None
    (no entry); frozen cases carry their collection batch (1 where the MANIFEST table has none)."""
    ids = kb_ids()
    cases = []
    if which in ("frozen", "both"):
        man = tomllib.loads((FROZEN / "MANIFEST.toml").read_text(encoding="utf-8"))["files"]
        for name, spec in man.items():
            raw = spec["expect"]
            exp = raw
            if raw.startswith("no-entry:"):  # the proposed entry, or the one added for its cause (entry_now)
                proposed = raw.split(":", 1)[1]
                exp = proposed if proposed in ids else spec.get("entry_now") if spec.get("entry_now") in ids else None
            cases.append(dict(set="frozen", name=name, path=FROZEN / name, expect=exp, raw_expect=raw,
                              source=spec.get("source", ""), cause=spec.get("cause", ""),
                              batch=int(spec.get("batch", 1))))
    if which in ("tuning", "both"):
        man = tomllib.loads((LOGS / "MANIFEST.toml").read_text(encoding="utf-8"))["files"]
        for name, spec in man.items():
            exp = spec["expect"] or NORMAL
            cases.append(dict(set="tuning", name=name, path=LOGS / name, expect=exp, raw_expect=spec["expect"] or NORMAL,
                              source=spec.get("source", ""), cause=""))
    return cases


def _cli_main():
    """trtdiag's CLI entry point, wherever the package layout keeps it (trtdiag.cli or trtdiag.app.main)."""
    import importlib

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    pkg = importlib.import_module("trtdiag")
    here = Path(pkg.__file__).resolve().parent
    if here != REPO / "trtdiag":
        raise ImportError(f"trtdiag imported from {here}, not from this checkout ({REPO})")
    # only modules of this checkout: an editable install of another checkout could resolve a
    # submodule this one does not have
    for mod, rel in (("trtdiag.app.main", "app/main.py"), ("trtdiag.cli", "cli.py")):
        if (here / rel).is_file():
            return importlib.import_module(mod).main
    raise ImportError("no trtdiag CLI entry point (trtdiag/app/main.py or trtdiag/cli.py)")


def explain(path: Path, timeout: float = 120, inprocess: bool = False) -> dict:
    """Run the CLI on one log; returns {code, findings: [{kb, severity, id}], error}.

    By default a child process per log (`python -m trtdiag explain --json FILE`); with inprocess=True
    the same CLI main() is called in this process with its output captured (the test uses this: the
    same code path, without a Python start-up per log)."""
    if inprocess:
        import contextlib
        import io

        buf, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
                code = _cli_main()(["explain", "--json", str(path)])
        except SystemExit as e:  # a CLI that exits instead of returning
            code = e.code if isinstance(e.code, int) else 2
        stdout, stderr, returncode = buf.getvalue(), err.getvalue(), code
    else:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.pop("FORCE_COLOR", None)
        p = subprocess.run([sys.executable, "-m", "trtdiag", "explain", "--json", str(path)],
                           capture_output=True, text=True, env=env, cwd=str(REPO), timeout=timeout)
        stdout, stderr, returncode = p.stdout, p.stderr, p.returncode
    out: dict = {"code": returncode, "findings": [], "error": ""}
    if "Traceback" in stderr or returncode not in (0, 1):
        out["error"] = (stderr.strip().splitlines() or [f"exit {returncode}"])[-1]
        return out
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError as e:
        out["error"] = f"no JSON report: {e}"
        return out
    for f in report.get("findings", []):
        kb = f.get("kb")
        if kb:  # the "No known failure" ok finding has no entry
            out["findings"].append({"kb": kb, "severity": f.get("severity"), "id": f.get("id")})
    return out


def _verdicts(cases: list[dict], results: dict[str, dict]) -> None:
    """Sets verdict, got and error on every case from its CLI result."""
    for c in cases:
        r = results[c["set"] + "/" + c["name"]]
        got = [f["kb"] for f in r["findings"]]
        if c["expect"] == NORMAL:
            quiet = not any(f["severity"] == "error" for f in r["findings"])
            c["verdict"] = "quiet" if quiet else "FALSE ERROR"
        else:
            right = bool(got) and got[0] == c["expect"]
            c["verdict"] = "right" if right else ("wrong cause" if got else "MISSED")
        c["got"] = got
        c["error"] = r["error"]


def _tally(cases: list[dict]) -> dict:
    """The numbers of a group of cases that have their verdicts."""
    t = {"failures": 0, "found": 0, "right": 0, "normals": 0, "quiet": 0, "no_entry": 0, "errors": 0}
    for c in cases:
        if c.get("error"):
            t["errors"] += 1
        if c["expect"] == NORMAL:
            t["normals"] += 1
            t["quiet"] += c["verdict"] == "quiet"
        else:
            t["failures"] += 1
            t["no_entry"] += c["expect"] is None
            t["found"] += c["verdict"] != "MISSED"
            t["right"] += c["verdict"] == "right"
    t["recall"] = t["found"] / t["failures"] if t["failures"] else 1.0
    t["right_cause"] = t["right"] / t["failures"] if t["failures"] else 1.0
    t["quiet_on_normal"] = t["quiet"] / t["normals"] if t["normals"] else 1.0
    with_entry = t["failures"] - t["no_entry"]
    t["right_cause_with_entry"] = t["right"] / with_entry if with_entry else 1.0
    return t


def score(cases: list[dict], results: dict[str, dict]) -> dict:
    """Totals per set: {set: {failures, recall, right_cause, normals, quiet, ...}}."""
    _verdicts(cases, results)
    sets = list(dict.fromkeys(c["set"] for c in cases))
    return {name: _tally([c for c in cases if c["set"] == name]) for name in sets}


def batch_totals(cases: list[dict]) -> dict[int, dict]:
    """Totals of the frozen set per collection batch, {1: {...}, 2: {...}} (cases already scored)."""
    frozen = [c for c in cases if c["set"] == "frozen"]
    return {b: _tally([c for c in frozen if c["batch"] == b]) for b in sorted({c["batch"] for c in frozen})}


def run(which: str = "both", workers: int | None = None, inprocess: bool = False) -> tuple[list[dict], dict]:
    cases = load_cases(which)
    results: dict[str, dict] = {}
    if inprocess:
        for c in cases:
            results[c["set"] + "/" + c["name"]] = explain(c["path"], inprocess=True)
    else:
        workers = workers or min(8, (os.cpu_count() or 2) * 2)
        with cf.ThreadPoolExecutor(workers) as pool:
            futs = {pool.submit(explain, c["path"]): c["set"] + "/" + c["name"] for c in cases}
            for fut in cf.as_completed(futs):
                results[futs[fut]] = fut.result()
    return cases, score(cases, results)


def _line(label: str, t: dict) -> str:
    return (f"{label}: {t['failures']} failure logs, {t['normals']} normal logs"
            f" | recall {t['recall']:.1%} ({t['found']}/{t['failures']})"
            f" | right cause {t['right_cause']:.1%} ({t['right']}/{t['failures']})"
            f" | quiet on normal {t['quiet_on_normal']:.1%} ({t['quiet']}/{t['normals']})"
            + (f" | {t['no_entry']} expect an entry that does not exist"
               f" (right cause {t['right_cause_with_entry']:.1%} of the others)" if t["no_entry"] else "")
            + (f" | {t['errors']} CLI errors" if t["errors"] else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=["frozen", "tuning", "both"], default="both")
    ap.add_argument("--quiet", action="store_true", help="totals only")
    ap.add_argument("--json", metavar="FILE", help="write every result and total to FILE")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--inprocess", action="store_true", help="call the CLI's main() here instead of one child process per log")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    cases, totals = run(args.set, args.workers, args.inprocess)
    for set_name in ("frozen", "tuning"):
        sel = [c for c in cases if c["set"] == set_name]
        if not sel:
            continue
        if not args.quiet:
            print(f"\n== {set_name} set: {len(sel)} logs ==")
            for c in sorted(sel, key=lambda c: (c["verdict"] in ("right", "quiet"), c["name"])):
                exp = c["raw_expect"] if c["expect"] is None else c["expect"]
                got = ", ".join(c["got"][:3]) or "-"
                err = f"  [{c['error']}]" if c["error"] else ""
                tag = f"b{c['batch']} " if set_name == "frozen" else ""
                print(f"  {c['verdict']:<12} {tag}{c['name']:<48} expect {exp:<40} got {got}{err}")
    print()
    batches = batch_totals(cases)
    for set_name, t in totals.items():
        print(_line(f"{set_name:>6}", t))
        if set_name == "frozen":
            for b, bt in batches.items():
                print(_line(f"        batch {b}", bt))
    print(f"({time.monotonic() - t0:.1f}s)")
    if args.json:
        data = {"totals": totals,
                "frozen_batches": {f"batch {b}": t for b, t in batches.items()},
                "logs": [{k: (str(v) if isinstance(v, Path) else v) for k, v in c.items()} for c in cases]}
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
