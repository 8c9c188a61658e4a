#!/usr/bin/env python3
"""Coverage-guided fuzzing of one parser with atheris (libFuzzer).

    python tools/fuzz.py TARGET [libFuzzer options]     e.g. -runs=100000  or  -max_total_time=600
    python tools/fuzz.py --list

Targets are in tests/fuzz_targets.py; seeds are real fixture files.  A crash leaves the input
in the artifact prefix (libFuzzer's -artifact_prefix=DIR/).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> None:
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
