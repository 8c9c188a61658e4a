"""The plan-header parser against a real TensorRT runtime's answers, without a GPU.

tests/data/trt_runtime/lean-11.4.0.106_h100_oracle.json holds what the TensorRT lean runtime
11.4.0.106 said on an H100 (tools/trt_oracle.py, docs/validation.md) when it deserialized the
fixture plans and 7,713 single-field mutations of the real TensorRT 8.6.1.6 plan.  Each mutation is
rebuilt here from its case id and parsed; the parser's verdict must agree with the runtime's:

- the runtime's magic-tag assertion       → the parser does not see an 'ftrt' plan;
- its platform-tag assertion              → the parser reads a platform tag other than 0;
- its size assertion (header.size ≠ blob) → the parser says truncated;
- anything the runtime checks later (the section table, the footer, the old-plan refusal)
                                           → the parser reads a whole 'ftrt' header for Linux x86-64.

It also pins what the runtime showed about bytes 24..27: writing 11.4.0.106 (or 10.0.1.6) there
does not change the 11.4 runtime's answer for an 8.6 plan, so those bytes are not what the 11.4
runtime checks; the parser trusts them only for 8.6 plans.
"""

from __future__ import annotations

import json
import re
import struct

import pytest

from trtdiag.parsers import plan_header

from tests.conftest import DATA

ORACLE = json.loads((DATA / "trt_runtime" / "lean-11.4.0.106_h100_oracle.json").read_text())
PLANS = DATA / "engines" / "plans"  # copied from shared/fixtures/engines (SOURCES.json)
BASE = (PLANS / "trt8.6.1.6_hackathon2023_model.plan").read_bytes()


def mutate(case: str) -> bytes:
    d = bytearray(BASE)
    if m := re.fullmatch(r"byte(\d+)=(\d+)", case):
        d[int(m[1])] = int(m[2])
    elif m := re.fullmatch(r"ver(\d+)\.(\d+)\.(\d+)\.(\d+)@(\d+)", case):
        off = int(m[5])
        d[off:off + 4] = bytes(int(m[i]) for i in range(1, 5))
    elif m := re.fullmatch(r"u32=(\d+)@(\d+)", case):
        off = int(m[2])
        d[off:off + 4] = struct.pack("<I", int(m[1]))
    else:  # pragma: no cover
        raise ValueError(case)
    return bytes(d)


def category(message: str) -> str:
    if "magicTag" in message:
        return "magic"
    if "expectedPlatformTag" in message:
        return "platform"
    if "plan.header.size == blobSize" in message:
        return "size"
    return "later"


def test_oracle_covers_the_header():
    assert ORACLE["runtime_version"] == "11.4.0.106"
    cases = sum(len(v) for v in ORACLE["mutation_groups"].values())
    assert cases > 7000


@pytest.mark.parametrize("message", list(ORACLE["mutation_groups"]), ids=lambda m: category(m) + ":" + m[-60:])
def test_parser_agrees_with_the_runtime(message):
    cat = category(message)
    for case in ORACLE["mutation_groups"][message]:
        data = mutate(case)
        h = plan_header.parse(data[: plan_header.HEAD], len(data))
        if cat == "magic":
            assert h["kind"] != "plan", case
        elif cat == "platform":
            assert h["kind"] == "plan" and h["platform_tag"] != 0, case
        elif cat == "size":
            assert h["kind"] == "plan" and h["truncated"], case
        else:
            assert h["kind"] == "plan" and not h["truncated"] and h["platform_tag"] == 0, (case, h)


def test_version_bytes_are_not_what_the_11_4_runtime_checks():
    old = "Failed due to an old deserialization call on a newer plan file"
    group = next(v for k, v in ORACLE["mutation_groups"].items() if old in k)
    for case in ("ver11.4.0.106@24", "ver10.0.1.6@24", "byte24=0", "byte27=255"):
        assert case in group
    # the runtime checks the engine section's own copy of the release (its first four u8 fields;
    # lean-11.4.0.106_real-plans-v2.json, variants 'engn_version=245'): where the header's bytes
    # 24..27 disagree with it, the engine section's is the release reported
    h = plan_header.parse(mutate("ver11.4.0.106@24")[: plan_header.HEAD], len(BASE))
    assert h["version"] == "8.6.1.6" and h["candidate_version"] == "11.4.0.106"
    assert plan_header.parse(BASE[: plan_header.HEAD], len(BASE))["version"] == "8.6.1.6"


@pytest.mark.parametrize("name", sorted(ORACLE["engines"]))
def test_fixture_plans_runtime_refusal_matches_parser(name):
    r = ORACLE["engines"][name]
    h = plan_header.read(PLANS / name)
    assert not r["deserialized"]
    if category(r["final"]) == "magic":
        assert h["kind"] in ("ptrt", "lfs-pointer", "not-a-plan")
        m = re.search(r"incompatible serialization version \((\d+) != (\d+)\)", r["final"])
        assert int(m[1]) == h["serialization_tag"] and int(m[2]) == plan_header.magic_number(b"ftrt")
    else:
        assert h["kind"] == "plan" and h["version"] == "8.6.1.6"
