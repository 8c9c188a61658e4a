"""Property-based fuzzing of every parser of untrusted input (trtdiag/fuzz_targets.py).

Random bytes and mutations of real files (tests/data): each target must
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

from tests.fuzz_targets import TARGETS, run_target, seeds

from tests.conftest import REPO, cli_env

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


JSON_TARGETS = ["snapshot", "check_from", "gpu_inventory", "hf_config", "engine_config", "tokenizer_dir", "read_json"]
ODD_VALUES = [None, -1, 0, 1e308, "x", "", "${triton_max_batch_size}", "; touch /tmp/x", [], {}, True, 2**70, [1, 2], {"a": 1}]


def _json_paths(o, pre=()):
    yield pre
    if isinstance(o, dict):
        for k, v in o.items():
            yield from _json_paths(v, (*pre, k))
    elif isinstance(o, list):
        for i, v in enumerate(o[:4]):
            yield from _json_paths(v, (*pre, i))


@st.composite
def retyped(draw, name):
    """A real JSON file with one value replaced by one of another type or range (type confusion:
    the bugs random bytes rarely reach, because they stop at the JSON parser)."""
    import copy
    import json

    docs = []
    for s in seeds(name, str(REPO)):
        try:
            docs.append(json.loads(s))
        except ValueError:
            pass
    if not docs:
        return b"{}"
    doc = copy.deepcopy(draw(st.sampled_from(docs)))
    path = draw(st.sampled_from(list(_json_paths(doc))))
    value = draw(st.sampled_from(ODD_VALUES))
    if not path:
        return json.dumps(value).encode()
    cur = doc
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return json.dumps(doc).encode()


@pytest.mark.parametrize("name", JSON_TARGETS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_json_parser_survives_values_of_the_wrong_type(name, data):
    run_target(name, data.draw(retyped(name)))


def test_every_target_has_real_seeds():
    """A target fuzzed only from b"" finds little: each starts from real files or literal seeds."""
    empty = [n for n in NAMES if seeds(n, str(REPO)) == [b""]]
    assert empty == [], f"targets without seeds: {empty}"


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
@pytest.mark.parametrize("name", NAMES)
def test_coverage_guided_fuzz_fixed_budget(name, tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "tools" / "fuzz.py"), name, "-runs=400", f"-artifact_prefix={tmp_path}/"],
                       capture_output=True, text=True, env=cli_env(), timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
