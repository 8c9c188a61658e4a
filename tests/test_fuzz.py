"""Property-based fuzzing of every parser of untrusted input (trtdiag/fuzz_targets.py).

Random bytes and mutations of real files (../shared/fixtures, tests/data): each target must
return or raise trtdiag's own input error — anything else is a bug.  A short coverage-guided run
with atheris (tools/fuzz.py) is part of the suite too; run it longer by hand (README).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trtdiag.fuzz_targets import TARGETS, run_target, seeds

from .conftest import REPO, cli_env

NAMES = sorted(TARGETS)


@st.composite
def mutated(draw, name):
    base = bytearray(draw(st.sampled_from(seeds(name, str(REPO)))))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        if op == "flip" and base:
            i = draw(st.integers(0, len(base) - 1))
            base[i] = draw(st.integers(0, 255))
        elif op == "cut" and base:
            i = draw(st.integers(0, len(base)))
            base = base[:i]
        elif op == "insert":
            i = draw(st.integers(0, len(base)))
            base[i:i] = draw(st.binary(max_size=16))
        elif op == "dup" and base:
            i = draw(st.integers(0, len(base) - 1))
            base[i:i] = base[i : i + draw(st.integers(1, 64))]
    return bytes(base)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_parser_survives_random_and_mutated_input(name, data):
    blob = data.draw(st.one_of(st.binary(max_size=4096), mutated(name)))
    run_target(name, blob)


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
@pytest.mark.parametrize("name", NAMES)
def test_coverage_guided_fuzz_fixed_budget(name, tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "tools" / "fuzz.py"), name, "-runs=400", f"-artifact_prefix={tmp_path}/"],
                       capture_output=True, text=True, env=cli_env(), timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
