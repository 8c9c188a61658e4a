"""The fuzz and attack budget of CI (issue 20): FUZZ_BUDGET (default 2,000) command lines over
mutated real inputs — engine config.json files, model repositories from the real v0.9.0
templates, tokenizer files, snapshots, logs, GPU inventories, --set values — across check, fix
(preview and --apply), report, collect, explain, plan and exec, run through `main()` in two
worker processes (in-process calls: a few minutes on CI's two cores, not 2,000 interpreter
starts).  Every case must exit 0, 1 or 2 without a traceback or "internal error", within 30 s,
and neither worker may grow past 1 GiB.  exec's launch (execv) is the one test double: the
worker must not become the launched command.

A failing case is printed with its seed and index: rerun it with
`python tools/fuzz.py --cli N --seed SEED` (the same cases in the same order) and turn it into a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO, cli_env

BUDGET = int(os.environ.get("FUZZ_BUDGET", "2000"))
WORKERS = 2
GiB = 1 << 30

CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway case fails here instead of taking the machine
from tests import fuzz_targets as F
print(json.dumps(F.fuzz_cli(int(sys.argv[2]), int(sys.argv[3]), sys.argv[1])))
"""


def test_fuzz_budget_over_every_command_no_traceback_no_exit_3_no_slow_or_huge_run(tmp_path):
    per = -(-BUDGET // WORKERS)
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(per), str(1000 + w)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=cli_env({"TRTDIAG_STATE_DIR": str(tmp_path / f"state{w}")}), cwd=str(tmp_path))
             for w in range(WORKERS)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=1800)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    cases = sum(r["cases"] for r in results)
    bad = [b for r in results for b in r["bad"]]
    assert cases >= BUDGET
    assert not bad, "\n".join(f"seed {b['seed']} case {b['case']}: {b['argv']} -> {b['rc']} in {b['seconds']:.1f}s\n{b['tail']}" for b in bad[:10])
    assert max(r["slowest_s"] for r in results) < 30
    assert max(r["peak_rss"] for r in results) < GiB
    print(json.dumps([{k: v for k, v in r.items() if k != "bad"} for r in results]))
