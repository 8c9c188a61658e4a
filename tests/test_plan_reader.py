"""trtdiag.parsers.plan on every real plan of tests/data/engines/plans/MANIFEST.json.

Each plan is rebuilt from its recorded excerpt (tests/plan_excerpts.py) and read through the real
file path; what the reader says must be what the bytes and the sources say.  The three plans
kept whole (tests/data/engines/plans, see SOURCES.json) are also read as they are.
"""

from __future__ import annotations

import os
import time

import pytest

from trtdiag.parsers import plan

from tests.plan_excerpts import MANIFEST, PLANS, rebuild

IDS = [e["id"] for e in MANIFEST]

# what each real plan is, as its bytes and the public sources say (release, serialization version)
EXPECTED = {
    "10.15.1.29": ("ftrt", 240, ["ENGN", "WGHT"], "rtrt"),
    "10.6.0.26": ("ftrt", 239, ["ENGN", "WGHT"], "rtrt"),
    "10.3.0.26": ("ftrt", 239, ["ENGN"], "rtrt"),
    "8.6.1.6": ("ftrt", 236, ["ENGN"], None),
    "8.5.1.7": ("ptrt", 232, [], None),
    "8.2.1.9": ("ptrt", 205, [], None),
    "8.2.1.8": ("ptrt", 205, [], None),
    "8.0.1.6": ("ptrt", 43, [], None),
    "7.1.3.4": ("ptrt", 97, [], None),
    "7.1.3.0": ("ptrt", 97, [], None),
}


def test_manifest_covers_every_layout():
    kinds = {e["decoded"]["kind"] for e in MANIFEST}
    assert kinds == {"ftrt", "ptrt", "lfs-pointer"}
    releases = {e["decoded"]["release"] for e in MANIFEST if e["decoded"]["release"]}
    assert {r.split(".")[0] for r in releases} == {"7", "8", "10"}
    assert len(MANIFEST) >= 20
    for e in MANIFEST:  # every entry names its source as owner/name@commit:path
        assert "@" in e["source"] and ":" in e["source"] and len(e["sha256"]) == 64


@pytest.mark.parametrize("ident", IDS)
def test_every_real_plan_reads_as_its_bytes_and_sources_say(ident, tmp_path):
    e = next(x for x in MANIFEST if x["id"] == ident)
    p = plan.read(rebuild(e, tmp_path))
    # the reader on the rebuilt file says what the harvest recorded from the whole file
    for k in ("kind", "release", "serialization_version", "platform_tag", "size_matches", "footer_ok", "weights_section"):
        assert p[k] == e["decoded"][k], k
    assert [s["name"] for s in p["sections"]] == [s["name"] for s in e["decoded"]["sections"]]
    if p["kind"] == "lfs-pointer":
        assert p["release"] is None and "git lfs pull" in p["problems"][0]
        return
    kind, sv, sections, tag = EXPECTED[p["release"]]
    assert (p["kind"], p["serialization_version"], [s["name"] for s in p["sections"]], p["platform_tag_text"]) == (kind, sv, sections, tag)
    # no false platform or corruption problem on any real plan
    assert p["problems"] == []
    if kind == "ftrt":
        assert p["size_matches"] and p["footer_ok"] and p["confidence"]["release"] == "established"
        assert p["engine_release"] == p["release"]  # the copy the runtime checks agrees with bytes 24..27


def test_wght_is_a_section_of_the_same_file():
    """WGHT holds the weights apart from the engine section, inside the plan (not a separate file)."""
    e = next(x for x in MANIFEST if x["id"].startswith("10.6.0.26"))
    w = next(s for s in e["decoded"]["sections"] if s["name"] == "WGHT")
    assert w["offset"] + w["size"] <= e["size"] and e["size"] - (w["offset"] + w["size"]) < 64


@pytest.mark.parametrize("name", ["trt8.6.1.6_hackathon2023_model.plan", "ptrt_jetson2021_ppo_model.trt", "lfs-pointer_model.plan"])
def test_kept_plans_read_whole(name):
    p = plan.read(PLANS / name)
    assert {"trt8": "8.6.1.6", "ptrt": "7.1.3.0", "lfs-": None}[name[:4]] == p["release"]


def test_rtrt_tag_is_no_platform_mismatch():
    e = next(x for x in MANIFEST if x["id"].startswith("10.6.0.26"))
    p = plan.parse(bytes.fromhex(e["head_hex"]), e["size"])
    assert p["platform_tag_text"] == "rtrt" and "platform it was built on" in p["platform"]
    assert not any("platform" in x for x in p["problems"])


def test_unknown_platform_tag_is_a_problem():
    e = next(x for x in MANIFEST if x["id"].startswith("10.6.0.26"))
    head = bytearray(bytes.fromhex(e["head_hex"]))
    head[28:32] = b"qtrt"
    p = plan.parse(bytes(head), e["size"])
    assert "Windows" in p["platform"]
    head[28:32] = b"\x07\0\0\0"
    p = plan.parse(bytes(head), e["size"])
    assert any("platform tag 7" in x for x in p["problems"])


@pytest.mark.parametrize("data", [b"", b"ftrt", b"ptrt\0\0", b"\0" * 300, b"ftrt" + b"\xff" * 300, b"ptrt" + b"\xff" * 60])
def test_odd_bytes_never_crash(data):
    p = plan.parse(data[: plan.HEAD], len(data), data[:64], data[-4:])
    assert isinstance(plan.describe(p), str)


def test_reads_are_bounded_on_a_20gb_sparse_plan(tmp_path):
    e = next(x for x in MANIFEST if x["id"].startswith("10.15.1.29"))
    big = dict(e, size=20 << 30, id="big")
    small = dict(e, id="small")
    pb, ps = rebuild(big, tmp_path), rebuild(small, tmp_path)

    def best(p):
        t = []
        for _ in range(10):
            t0 = time.perf_counter()
            plan.read(p)
            t.append(time.perf_counter() - t0)
        return min(t)

    r = plan.read(pb)
    assert r["size"] == 20 << 30 and r["size_matches"] is False  # its header says 150,548 bytes
    assert best(pb) < 2 * best(ps) + 0.001
    assert os.stat(pb).st_blocks * 512 < 1 << 20  # sparse: nothing was written in between


# the GPU each plan was built on, as the device structure after the release fields says; each is
# the GPU its repository is about (a Jetson Nano at 921.6 MHz with a 64-bit bus and 256 KiB L2 for
# the 5.3 ones, a Jetson Xavier for 7.2, RTX 30xx/40xx desktops for 8.6/8.9, a T4 for 10.3)
BUILT_ON = {"10.15.1.29": (8, 6), "10.6.0.26": (7, 5), "10.3.0.26": (7, 5), "8.6.1.6_mn12you": (8, 6), "8.6.1.6_ybwerneck": (8, 9),
            "8.6.1.6_smile2game": (8, 9), "8.5.1.7": (7, 5), "8.2.1": (5, 3), "8.0.1.6": (5, 3), "7.1.3.0": (7, 2), "7.1.3.4": (7, 5)}


@pytest.mark.parametrize("ident", [i for i in IDS if not i.startswith("lfs")])
def test_compute_capability_the_plan_was_built_for(ident, tmp_path):
    e = next(x for x in MANIFEST if x["id"] == ident)
    p = plan.read(rebuild(e, tmp_path))
    want = next(v for k, v in BUILT_ON.items() if ident.startswith(k))
    assert tuple(p["built_on"]["compute_capability"]) == want
    assert p["confidence"]["compute_capability"] == ("established" if ident.startswith("10.15") else "inferred")
    if want == (5, 3):
        assert p["built_on"]["sm_clock_khz"] == 921600 and p["built_on"]["l2_bytes"] == 256 << 10


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    @settings(max_examples=400, deadline=None)
    @given(st.sampled_from([b"ftrt", b"ptrt", b"vers", b""]), st.binary(max_size=600), st.binary(max_size=256),
           st.binary(max_size=4), st.integers(min_value=0, max_value=1 << 40))
    def test_reader_and_verdict_never_crash(magic, rest, engine, footer, size):
        head = (magic + rest)[: plan.HEAD]
        p = plan.parse(head, size, engine or None, footer or None)
        assert p["kind"] in ("ftrt", "ptrt", "lfs-pointer", "empty", "not-a-plan", "truncated")
        assert isinstance(plan.describe(p), str)
        from trtdiag.derive import plan_verdict as V

        for rel in ("11.4.0.106", "10.6.0.26", "8.6.1.6", "8.4.1.5", "7.2.3.4"):
            v = V.verdict(p, {"release": rel})
            assert v["outcome"] in ("loads", "refused", "refused-by-default", "refused-unless-version-compatible", "unknown")
            assert isinstance(V.title(v, p), str)
        V.device_verdict(p, [(9, 0)])
