"""trtdiag's verdict against the TensorRT 11.4.0.106 lean runtime's own answers, without a GPU.

tests/data/trt_runtime/lean-11.4.0.106_real-plans-v2.json holds what the real runtime said
(tools/plan_oracle.py on an H200, docs/validation.md) for every plan of
tests/data/engines/plans/MANIFEST.json and for one-field variants of one plan per release.  Here
each plan is rebuilt from its recorded excerpt, read, and given to
:func:`trtdiag.derive.plan_verdict.verdict` with the runtime 11.4.0.106: refuse/accept must agree,
and the message trtdiag says the runtime will print must be in what it printed.
"""

from __future__ import annotations

import pytest

from trtdiag.derive import plan_verdict as V
from trtdiag.parsers import plan

from tests.plan_excerpts import ANSWER_BY_SHA, ANSWERS, BY_ID, MANIFEST, oracle_tool, plan_bytes, rebuild

RUNTIME = {"release": "11.4.0.106", "kind": "nvinfer_lean"}

# variants whose bytes are no real plan of any kind: a weights blob passed off as a plugin library
# (the runtime tries to dlopen it); nothing a user can have
NOT_COMPARED = {"WGHT->PLGN": "the WGHT bytes relabelled as a plugin library are no library at all"}


def agrees(v: dict, answer: dict) -> bool:
    if (v["outcome"] == "loads") != answer["deserialized"]:
        return False
    said = v.get("printed") or v.get("message")
    return said is not None and said in answer["final"]


def test_answers_cover_every_plan():
    assert ANSWERS["runtime_version"] == "11.4.0.106"
    assert {e["sha256"] for e in MANIFEST} <= set(ANSWER_BY_SHA)


@pytest.mark.parametrize("ident", [e["id"] for e in MANIFEST])
def test_verdict_matches_the_runtime_on_every_real_plan(ident, tmp_path):
    e = BY_ID[ident]
    answer = ANSWER_BY_SHA[e["sha256"]]
    p = plan.read(rebuild(e, tmp_path))
    v = V.verdict(p, RUNTIME)
    assert agrees(v, answer), (v, answer["final"])
    assert v["confidence"] == "recorded"
    # the title says what will happen, with the release that built it where the plan records one
    t = V.title(v, p)
    assert t.startswith("TensorRT 11.4.0.106 will refuse")
    if p.get("release"):
        assert f"(built by {p['release']})" in t


def _variant_cases():
    tool = oracle_tool()
    cases = []
    for cid, answer in ANSWERS["variants"].items():
        if cid == "empty":
            cases.append((cid, b"", answer))
            continue
        ident, change = cid.split("|", 1)
        if change in NOT_COMPARED:
            continue
        data = plan_bytes(BY_ID[ident])
        made = tool.variants(ident, data)
        cases.append((cid, made[cid], answer))
    return cases


@pytest.mark.parametrize("cid,data,answer", _variant_cases(), ids=lambda x: x if isinstance(x, str) else "")
def test_verdict_matches_the_runtime_on_one_field_variants(cid, data, answer):
    eng = None
    p0 = plan.parse(data[: plan.HEAD], len(data))
    secs = [s for s in p0["sections"] if s["name"] == "ENGN"]
    if secs:
        eng = data[secs[0]["offset"]: secs[0]["offset"] + plan.ENGINE_PREFIX]
    p = plan.parse(data[: plan.HEAD], len(data), eng, data[-4:] if len(data) >= 36 else None)
    v = V.verdict(p, RUNTIME)
    assert agrees(v, answer), (cid, v, answer["final"])


def test_what_the_variants_established():
    a = ANSWERS["variants"]
    # 'rtrt' and 0 at 28..31 pass the platform check; 'qtrt' (built for Windows) does not
    assert all("Platform specific" not in a[k]["final"] for k in a if k.endswith(("tag28=rtrt", "tag28=0")))
    assert all("Platform specific" in a[k]["final"] for k in a if k.endswith("tag28=qtrt"))
    # the runtime reads its own serialization version (245) and the release from the engine section,
    # not from bytes 24..27
    assert all("Current Version: 245" in a[k]["final"] for k in a if k.startswith(("10.6", "10.15")) and k.endswith("|release24=11.4.0.106"))
    assert all("expecting library version 11.4.0.106 got \n." in a[k]["final"] for k in a
               if k.startswith(("10.6", "10.15")) and "engn_version=245" in k)
    # a LEAN section is how a version-compatible plan with its own lean runtime is marked
    assert all("getEngineHostCodeAllowed" in a[k]["final"] for k in a if k.endswith("WGHT->LEAN"))
    # plans without a WGHT section are refused as old whatever their serialization version
    assert all("old deserialization call" in a[k]["final"] for k in a if k.startswith(("8.6", "10.3")) and "engn_version" in k)


@pytest.mark.parametrize("runtime,plan_id,outcome,needle", [
    ("10.6.0.26", "10.6.0.26", "loads", None),
    ("10.11.0.33", "10.6.0.26", "refused-unless-version-compatible", "Current Version: 240, Serialized Engine Version: 239"),
    ("8.6.1.6", "10.6.0.26", "refused", "Current Version: 236, Serialized Engine Version: 239"),
    ("8.4.1.5", "8.2.1.8", "refused", "Current Version: 213, Serialized Engine Version: 205"),
    ("8.5.1.7", "8.0.1.6", "refused", "safeVersionRead == safeSerializationVersion"),
    ("10.6.0.26", "10.3.0.26", "refused-unless-version-compatible", "expecting library version 10.6.0.26 got 10.3.0.26"),
])
def test_verdict_for_other_runtimes_uses_their_family_wording(runtime, plan_id, outcome, needle):
    e = next(x for x in MANIFEST if x["id"].startswith(plan_id))
    data = plan_bytes(e)
    off = e.get("engine_offset")
    p = plan.parse(data[: plan.HEAD], len(data), data[off: off + 64] if off else None, data[-4:])
    v = V.verdict(p, {"release": runtime})
    assert v["outcome"] == outcome, v
    if needle:
        assert needle in v["message"]
    assert v["confidence"] != "recorded"


def test_unknown_runtime_serialization_version_is_not_invented():
    e = next(x for x in MANIFEST if x["id"].startswith("10.6.0.26"))
    data = plan_bytes(e)
    p = plan.parse(data[: plan.HEAD], len(data))
    v = V.verdict(p, {"release": "10.8.0.43"})  # no source gives 10.8's number
    assert v["message"] is None and "Serialized Engine Version: 239" in v["message_pattern"]


# ------------------------------------------------------------------ compute capability (ENG007)
DEVICE = __import__("json").loads((__import__("pathlib").Path(__file__).parent / "data" / "trt_runtime" / "lean-11.4.0.106_device-variants.json").read_text())
H200 = [(9, 0)]  # the GPU the device variants ran on (nvidia-smi: NVIDIA H200, 9.0)


@pytest.mark.parametrize("cid", sorted(k for k, v in DEVICE["variants"].items() if "incompatible device" in v["final"]))
def test_device_verdict_matches_the_runtime(cid):
    """Plans passed through the version checks reach the device check: the runtime's 'got compute'
    is the compute capability the reader decodes, and trtdiag's message is the runtime's."""
    tool = oracle_tool()
    ident = cid.split("|")[0]
    data = tool.device_variants(ident, plan_bytes(BY_ID[ident]))[cid]
    off = BY_ID[ident]["engine_offset"]
    p = plan.parse(data[: plan.HEAD], len(data), data[off: off + plan.ENGINE_PREFIX], data[-4:])
    d = V.device_verdict(p, H200)
    assert d["outcome"] == "refused-unless-hardware-compatible" and d["message"] in DEVICE["variants"][cid]["final"]


def test_device_verdict_on_real_plans():
    for e in MANIFEST:
        data = plan_bytes(e)
        off = e.get("engine_offset")
        p = plan.parse(data[: plan.HEAD], len(data), data[off: off + plan.ENGINE_PREFIX] if off else None, data[-4:])
        d = V.device_verdict(p, H200)
        if e["decoded"]["kind"] == "lfs-pointer":
            assert d is None
            continue
        cc = tuple(p["built_on"]["compute_capability"])
        assert d["outcome"] == ("refused-unless-hardware-compatible" if cc >= (8, 0) else "refused")
        assert f"expecting compute 9.0 got compute {cc[0]}.{cc[1]}, please rebuild." in d["message"]
        assert V.device_verdict(p, [cc])["outcome"] == "matches"


# ------------------------------------------------------------------ explain: the same names from the log side
@pytest.mark.parametrize("ident", [e["id"] for e in MANIFEST])
def test_log_line_names_what_the_verdict_named(ident, tmp_path):
    """What `explain` reads from the runtime's line is what `check` predicted for the plan."""
    e = BY_ID[ident]
    answer = ANSWER_BY_SHA[e["sha256"]]
    v = V.verdict(plan.read(rebuild(e, tmp_path)), RUNTIME)
    r = V.read_message(answer["final"])
    assert r["message_id"] == v["message_id"]
    if r["message_id"] == "version-tag-k":
        assert r["runtime_releases"] == ["11.4.0.106"] and e["decoded"]["release"] in r["plan_releases"]


def test_every_public_quote_in_the_table_is_read():
    import json as _j
    from importlib import resources

    table = _j.loads(resources.files("trtdiag.data").joinpath("trt_serialization_versions.json").read_text())
    quotes = [(row["serialization_version"], ev) for row in table["versions"] for ev in row["evidence"] if ev.get("quote")]
    assert len(quotes) >= 15
    for sv, ev in quotes:
        r = V.read_message(ev["quote"])
        assert r and r["message_id"].startswith(("version-tag", "safe-version")), ev
        assert sv in (r["runtime_sv"], r["plan_sv"]), ev


def test_explain_names_the_releases_behind_the_serialization_versions(tmp_path):
    """`explain` on the line the 11.4 runtime printed for the real 10.6.0.26 plan names both releases."""
    from tests.conftest import run_json

    e = next(x for x in MANIFEST if x["id"].startswith("10.6.0.26"))
    log = tmp_path / "server.log"
    log.write_text("[TRT] [E] " + ANSWER_BY_SHA[e["sha256"]]["final"].split("Severity.ERROR: ", 1)[1] + "\n")
    code, rep = run_json("explain", str(log))
    [f] = [x for x in rep["findings"] if x["id"] == "EXP:trt-engine-version-mismatch"]
    assert f["evidence"]["runtime_is"].startswith("TensorRT 11.4 ")
    assert "10.6" in f["evidence"]["plan_built_by"] and "239" in f["evidence"]["plan_built_by"]
