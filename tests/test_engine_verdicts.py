"""The finding specs for ENG001 / ENG003 / ENG007 (trtdiag.derive.engine_verdicts) on real plans.

The engine facts are what the real probe (trtdiag.probes.engine) reads from each real plan rebuilt
from its excerpt; the runtime is TensorRT 11.4.0.106, whose answers for every plan are recorded.
"""

from __future__ import annotations

import pytest

from trtdiag.derive import engine_verdicts as EV
from trtdiag.probes import engine as probe

from tests.plan_excerpts import ANSWER_BY_SHA, BY_ID, MANIFEST, rebuild

TRT = {"version": "11.4.0.106", "kind": "nvinfer_lean", "path": "/x/libnvinfer_lean.so.11"}
H200 = [{"index": 0, "name": "NVIDIA H200", "cc": [9, 0]}]
PLANS = [e["id"] for e in MANIFEST if e["decoded"]["kind"] != "lfs-pointer"]


@pytest.mark.parametrize("ident", PLANS)
def test_eng001_says_what_the_runtime_will_do_in_its_words(ident, tmp_path):
    e = BY_ID[ident]
    info = probe.single_plan(str(rebuild(e, tmp_path)))
    [f] = EV.eng001(info, TRT)
    assert f["severity"] == "error" and f["rebuild_reason"]
    assert f["title"].startswith(f"TensorRT 11.4.0.106 will refuse this plan (built by {e['decoded']['release']}): ")
    said = f["message"].split("will say: \"", 1)[1].rsplit("\" (recorded", 1)[0]
    assert said in ANSWER_BY_SHA[e["sha256"]]["final"]
    assert f["evidence"]["confidence"] == "recorded"


@pytest.mark.parametrize("ident", PLANS)
def test_no_false_platform_error_on_any_real_plan(ident, tmp_path):
    info = probe.single_plan(str(rebuild(BY_ID[ident], tmp_path)))
    assert EV.eng003(info, TRT) == []
    assert not [p for p in info["problems"] if p["kind"] in ("foreign-platform", "truncated", "not-a-plan")]


def test_eng003_names_a_windows_plan(tmp_path):
    e = dict(BY_ID[next(i for i in PLANS if i.startswith("10.6"))])
    head = bytearray(bytes.fromhex(e["head_hex"]))
    head[28:32] = b"qtrt"
    e["head_hex"] = head.hex()
    info = probe.single_plan(str(rebuild(e, tmp_path)))
    [f] = EV.eng003(info, TRT)
    assert f["severity"] == "error" and "'qtrt'" in f["title"] and "Windows" in f["title"]
    assert "Platform specific tag mismatch detected" in f["message"]


@pytest.mark.parametrize("ident", PLANS)
def test_eng007_only_when_actionable(ident, tmp_path):
    e = BY_ID[ident]
    info = probe.single_plan(str(rebuild(e, tmp_path)))
    cc = e["decoded"]["built_on"]["compute_capability"]
    [f] = EV.eng007(info, H200)
    assert f["severity"] in ("error", "warning") and f"got compute {cc[0]}.{cc[1]}" in f["message"]
    [same] = EV.eng007(info, [{"index": 0, "name": "same", "cc": cc}])
    assert same["severity"] == "ok"
    assert EV.eng007(info, []) == []


def test_eng001_for_a_10_x_plan_in_front_of_an_11_x_runtime(tmp_path):
    e = BY_ID[next(i for i in PLANS if i.startswith("10.6"))]
    info = probe.single_plan(str(rebuild(e, tmp_path)))
    [f] = EV.eng001(info, TRT)
    assert f["title"] == ('TensorRT 11.4.0.106 will refuse this plan (built by 10.6.0.26): "Version tag does not match. '
                          'Note: Current Version: 245, Serialized Engine Version: 239"')
