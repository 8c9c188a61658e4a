#!/usr/bin/env python3
"""Coverage-guided fuzzing of one parser with atheris (libFuzzer).

    python tools/fuzz.py TARGET [libFuzzer options]     e.g. -runs=100000  or  -max_total_time=600
    python tools/fuzz.py --list
    python tools/fuzz.py --cli N [--seed S]             N mutated command lines through main() (no atheris needed)

Targets are in tests/fuzz_targets.py; seeds are real fixture files.  A crash leaves the input
in the artifact prefix (libFuzzer's -artifact_prefix=DIR/).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def cli(argv: list[str]) -> None:
    import json

    from tests import fuzz_targets

    n = int(argv[argv.index("--cli") + 1])
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    res = fuzz_targets.fuzz_cli(n, seed, ROOT)
    for b in res["bad"]:
        print(f"case {b['case']} (seed {b['seed']}): {b['argv']} -> exit {b['rc']} in {b['seconds']:.1f}s\n{b['tail']}\n")
    print(json.dumps({k: v for k, v in res.items() if k != "bad"}))
    sys.exit(1 if res["bad"] else 0)


def main() -> None:
    if "--cli" in sys.argv:
        return cli(sys.argv)
    import atheris

    with atheris.instrument_imports():
        from tests import fuzz_targets
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help", "--list"):
        print("targets:", " ".join(sorted(fuzz_targets.TARGETS)))
        return
    name = sys.argv.pop(1)
    if name not in fuzz_targets.TARGETS:
        sys.exit(f"unknown target {name!r}; targets: {' '.join(sorted(fuzz_targets.TARGETS))}")
    import tempfile

    corpus = tempfile.mkdtemp(prefix=f"trtdiag-fuzz-{name}-")
    for i, seed in enumerate(fuzz_targets.seeds(name, ROOT)):
        with open(os.path.join(corpus, f"seed{i}"), "wb") as fh:
            fh.write(seed)

    def one(data: bytes) -> None:
        fuzz_targets.run_target(name, data)

    atheris.Setup(sys.argv + [corpus], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
