#!/usr/bin/env python3
"""Build trtdiag's TensorRT plan tables from their sources.

    python3 tools/build_trt_tables.py [--lean-lib PATH/libnvinfer_lean.so.11]

Writes
- trtdiag/data/trt_serialization_versions.json: serialization version -> the releases that write
  it, each with its evidence: the real plans of tests/data/engines/plans/MANIFEST.json (release
  and version both read from the plan), the recorded runtime answers of
  tests/data/trt_runtime/ (a runtime's own "Current Version: N"), and public issue threads (the
  runtime's message quoted with the release the thread states), listed below with their URL;
- trtdiag/data/trt_runtime_messages.json: what each runtime family prints for each refusal, the
  exact wording with its source; with --lean-lib each 11.4 template is also looked up in the
  library's own strings and its offset recorded.

Run-time code reads only these JSON files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = os.path.join(ROOT, "tests", "data", "engines", "plans", "MANIFEST.json")
ORACLE = os.path.join(ROOT, "tests", "data", "trt_runtime", "lean-11.4.0.106_real-plans-v2.json")
OUT = os.path.join(ROOT, "trtdiag", "data")

# (serialization version, side, release as the thread states it, url, the message quoted)
# side "runtime": the release of the runtime that printed "Current Version: N";
# side "plan": the release that built the plan the runtime called "Serialized Engine Version: N".
THREADS = [
    (96, "runtime", "7.2.3.4", "https://github.com/megvii-research/video_analyst/issues/188",
     "TensorRT 7.2.3.4: coreReadArchive.cpp (41) - Serialization Error in verifyHeader: 0 (Version tag does not match. Note: Current Version: 96, Serialized Engine Version: 89)"),
    (213, "runtime", "8.4.1", "https://github.com/NVIDIA/TensorRT/issues/2072",
     "TensorRT 8.4.1: Serialization assertion stdVersionRead == serializationVersion failed.Version tag does not match. Note: Current Version: 213, Serialized Engine Version: 205"),
    (213, "runtime", "8.4.1.5", "https://github.com/mingj2021/segment-anything-tensorrt/issues/2",
     "TensorRT 8.4.1.5: Version tag does not match. Note: Current Version: 213, Serialized Engine Version: 232"),
    (205, "plan", "8.2.1.8", "https://github.com/NVIDIA/TensorRT/issues/2041",
     "plan built by trtexec of TensorRT-8.2.1.8: Version tag does not match. Note: Current Version: 213, Serialized Engine Version: 205"),
    (232, "runtime", "8.5.1.7", "https://github.com/Ar-Ray-code/YOLOX-ROS/issues/40",
     "TensorRT-8.5.1.7: Version tag does not match. Note: (urent version: 232，Serialized Engine Version: 205)"),
    (232, "runtime", "8.5.1.7", "https://github.com/NVIDIA/TensorRT/issues/2544",
     "python tensorrt 8.5.1.7: Version tag does not match. Note: Current Version: 232, Serialized Engine Version: 237"),
    (236, "runtime", "8.6", "https://github.com/NVIDIA/TensorRT/issues/3898",
     "tensorrt 8.6 on base, 10.1.0 in the virtualenv: Version tag does not match. Note: Current Version: 236, Serialized Engine Version: 237"),
    (237, "plan", "10.1.0", "https://github.com/NVIDIA/TensorRT/issues/3898",
     "tensorrt 8.6 on base, 10.1.0 in the virtualenv: Version tag does not match. Note: Current Version: 236, Serialized Engine Version: 237"),
    (237, "plan", "10.0", "https://github.com/triton-inference-server/tensorrtllm_backend/issues/531",
     "engine built by TensorRT-LLM v0.10.0, served by tritonserver 24.03: Version tag does not match. Note: Current Version: 228, Serialized Engine Version: 237"),
    (226, "runtime", "9.1", "https://github.com/triton-inference-server/tensorrtllm_backend/issues/190",
     "tritonserver 23.10-trtllm-python-py3: Version tag does not match. Note: Current Version: 226, Serialized Engine Version: 228"),
    (228, "runtime", "9.2", "https://github.com/NVIDIA/ChatRTX/issues/14",
     "Version tag does not match. Note: Current Version: 228, Serialized Engine Version: 226"),
    (228, "runtime", "9.x (tritonserver 24.03-trtllm)", "https://github.com/triton-inference-server/tensorrtllm_backend/issues/531",
     "tritonserver 24.03 (TensorRT-LLM v0.10.0 release notes pair it with 24.03): Current Version: 228, Serialized Engine Version: 237"),
    (240, "runtime", "10.11.0.33", "https://github.com/ack00gar/FunGen-AI-Powered-Funscript-Generator/issues/36",
     "TensorRT 10.11.0.33: Version tag does not match. Note: Current Version: 240, Serialized Engine Version: 239"),
    (239, "plan", "10.x before 10.11", "https://github.com/ack00gar/FunGen-AI-Powered-Funscript-Generator/issues/36",
     "TensorRT 10.11.0.33: Version tag does not match. Note: Current Version: 240, Serialized Engine Version: 239"),
    (97, "plan", "newer than the runtime of version 96", "https://github.com/GeekAlexis/FastMOT/issues/127",
     "coreReadArchive.cpp (41) - Serialization Error in verifyHeader: 0 (Version tag does not match. Note: Current Version: 96, Serialized Engine Version: 97)"),
    (43, "plan", "older than 8.2 (read by jetson-inference r32.7.1)", "https://github.com/NVIDIA/TensorRT/issues/2105",
     "Serialization assertion safeVersionRead == safeSerializationVersion failed.Version tag does not match. Note: Current Version: 0, Serialized Engine Version: 43"),
]
# stated in the issue that asked for this table but found in no public thread: kept, marked unverified
UNVERIFIED = [
    (243, "runtime", "11.2", "issue 15 of this project (no public thread found)"),
    (244, "runtime", "11.3.0.99", "issue 15 of this project (no public thread found)"),
]

# message families: id, the runtimes that print it, the exact template ({} fields), its source
MESSAGES = [
    {"id": "empty-buffer", "runtimes": "11.4.0.106",
     "template": "Cannot deserialize with an empty memory buffer.",
     "when": "an empty file", "source": "recorded: tests/data/trt_runtime/lean-11.4.0.106_real-plans-v2.json (variant 'empty')"},
    {"id": "magic-mismatch", "runtimes": "8.6 and later (ftrt runtimes); recorded on 11.4.0.106",
     "template": "Serialization assertion header.magicTag == kEXPECTED_MAGIC_TAG failed.Trying to load an engine created with incompatible serialization version ({plan_magic} != 1953657958). Check that the engine was not created using safety runtime, same OS was used and version compatibility parameters were set accordingly and that it is a TRT engine file.",
     "when": "the file does not start 'ftrt': a 'ptrt' plan of TensorRT before 8.6 (1953657968), a Git LFS pointer (1936876918), anything else",
     "source": "recorded: lean-11.4.0.106_real-plans-v2.json (every ptrt plan and LFS pointer)"},
    {"id": "size-mismatch", "runtimes": "11.4.0.106",
     "template": "Serialization assertion plan.header.size == blobSize failed.",
     "when": "the header's size (offset 16) differs from the file's", "source": "recorded: variants 'first-half'"},
    {"id": "platform-mismatch", "runtimes": "11.4.0.106",
     "template": "Serialization assertion header.pad == expectedPlatformTag failed.Platform specific tag mismatch detected. TensorRT plan files are only supported on the target runtime platform they were created on.",
     "when": "bytes 28..31 are neither 0 nor 'rtrt' (on Linux x86-64)", "source": "recorded: variants 'tag28=qtrt'; accepted: 'tag28=0', 'tag28=rtrt'"},
    {"id": "no-engine", "runtimes": "11.4.0.106",
     "template": "No engine found in plan.",
     "when": "the section table has no ENGN entry", "source": "recorded: variants 'ENGN->LEAN'; the mutation study (byte 32, lean-11.4.0.106_h100_oracle.json)"},
    {"id": "lean-host-code", "runtimes": "11.4.0.106",
     "template": "Cannot deserialize engine with lean runtime since IRuntime::getEngineHostCodeAllowed() is false.",
     "when": "the plan has a LEAN section (a version-compatible plan carrying its own lean runtime) and the application did not call IRuntime::setEngineHostCodeAllowed(true)",
     "source": "recorded: variants 'WGHT->LEAN'; NVIDIA/TensorRT@v11.1:samples/common/sampleEngines.cpp:114-118 (trtexec opts in with "
               "setEngineHostCodeAllowed(true) when loading with --versionCompatible: 'Application needs to opt into allowing "
               "deserialization of engines with embedded lean runtime'); sampleOptions.cpp:2715 (--versionCompatible 'allows the engine "
               "to be used with newer versions of TensorRT on the same host OS, as well as TensorRT's dispatch and lean runtimes')"},
    {"id": "old-plan", "runtimes": "11.4.0.106",
     "template": "Failed due to an old deserialization call on a newer plan file. This might happen when the plan file was built from an older TensorRT version. You can use `trtexec --getPlanVersionOnly` to check the version of TensorRT that was used to create the plan file.",
     "when": "an ftrt plan without a WGHT section (TensorRT 8.6 plans, 10.3 plans), whatever its serialization version",
     "source": "recorded: every real 8.6.1.6 and 10.3.0.26 plan, and their 'engn_version=245' variants"},
    {"id": "version-tag-k", "runtimes": "9.x, 10.x, 11.x",
     "template": "Serialization assertion stdVersionRead == kSERIALIZATION_VERSION failed.Version tag does not match. Note: Current Version: {runtime_sv}, Serialized Engine Version: {plan_sv}",
     "when": "the engine section's serialization version differs from the runtime's",
     "source": "recorded on 11.4.0.106 (real 10.6.0.26 and 10.15.1.29 plans); tensorrtllm_backend#190 (9.1), ChatRTX#14 (9.2), FunGen#36 (10.11.0.33)"},
    {"id": "version-tag", "runtimes": "8.0 .. 8.6",
     "template": "Serialization assertion stdVersionRead == serializationVersion failed.Version tag does not match. Note: Current Version: {runtime_sv}, Serialized Engine Version: {plan_sv}",
     "when": "the serialization version differs", "source": "NVIDIA/TensorRT#2072 (8.4.1), NVIDIA/TensorRT#2544 (8.5.1.7), NVIDIA/TensorRT#3898 (8.6)"},
    {"id": "safe-version-tag", "runtimes": "8.2 .. 8.6",
     "template": "Serialization assertion safeVersionRead == safeSerializationVersion failed.Version tag does not match. Note: Current Version: 0, Serialized Engine Version: {plan_field4}",
     "when": "a plan of TensorRT 8.0 or older (non-zero field at offset 4)", "source": "NVIDIA/TensorRT#2195, NVIDIA/TensorRT#2105, Broad-sky/feature-detection-matching-algorithm#12"},
    {"id": "version-tag-legacy", "runtimes": "7.x",
     "template": "coreReadArchive.cpp (41) - Serialization Error in verifyHeader: 0 (Version tag does not match. Note: Current Version: {runtime_sv}, Serialized Engine Version: {plan_sv})",
     "when": "the serialization version differs", "source": "megvii-research/video_analyst#188 (7.2.3.4), GeekAlexis/FastMOT#127"},
    {"id": "device-cc", "runtimes": "8.x .. 11.x",
     "template": "The engine plan file is generated on an incompatible device, expecting compute {gpu_cc} got compute {plan_cc}, please rebuild.",
     "when": "the plan passed the version checks and was built on a GPU of another compute capability ('expecting' is the GPU here, 'got' the plan's)",
     "source": "recorded on 11.4.0.106 on an H200 (lean-11.4.0.106_device-variants.json: 'expecting compute 9.0 got compute 8.6' for a real "
               "10.15.1.29 plan passed through the version checks); NVIDIA/TensorRT-LLM issues 222 and 3031"},
    {"id": "hardware-compat", "runtimes": "11.4.0.106",
     "template": "The current device is not compatible with this hardware-compatible engine. Expected compute capability >=",
     "when": "a hardware-compatible plan (kAMPERE_PLUS …) on an older GPU; the rest of the text is not recorded",
     "source": "libnvinfer_lean.so.11@11.4.0.106 strings only"},
    {"id": "library-version", "runtimes": "8.x .. 11.x",
     "template": "The engine plan file is not compatible with this version of TensorRT, expecting library version {runtime_release} got {plan_release}, please rebuild.",
     "when": "same serialization version, another release ('expecting' is the runtime's, 'got' the plan's)",
     "source": "triton-inference-server/tensorrtllm_backend#194 (9.2.0.4 vs 9.2.0.5), triton-inference-server/triton_cli#59 (9.2.0.5 vs 9.3.0.1); "
               "recorded on 11.4.0.106 (variants 'engn_version=245'), where the plan's release is printed as four raw bytes, not digits, "
               "and the text stops at the first zero byte (10.6.0.26 prints as '\\n.\\x06.' and loses ', please rebuild.')",
     "printed_by_11_4": "The engine plan file is not compatible with this version of TensorRT, expecting library version {runtime_release} got {plan_release_raw_bytes_to_first_nul}[, please rebuild.]"},
]


def observed_from_plans() -> list[dict]:
    doc = json.load(open(MANIFEST))
    seen: dict[tuple, dict] = {}
    for e in doc["plans"]:
        d = e["decoded"]
        if d["release"] and d["serialization_version"] is not None:
            key = (d["serialization_version"], d["release"])
            container = "engine-section" if d["kind"] == "ftrt" else "ptrt"
            row = seen.setdefault(key, {"serialization_version": key[0], "side": "plan", "release": key[1], "container": container,
                                        "source": f"real plan {e['source']}", "how": "release and version read from the plan"})
            row.setdefault("also", []).append(e["id"])
    return list(seen.values())


def observed_from_oracle() -> list[dict]:
    doc = json.load(open(ORACLE))
    for v in doc["engines"].values():
        m = re.search(r"Current Version: (\d+)", v["final"])
        if m:
            return [{"serialization_version": int(m[1]), "side": "runtime", "release": doc["runtime_version"],
                     "source": "recorded: tests/data/trt_runtime/lean-11.4.0.106_real-plans-v2.json", "how": "the runtime's own 'Current Version'"}]
    return []


def lean_strings(path: str) -> dict[str, int]:
    data = open(path, "rb").read()
    found = {}
    for m in MESSAGES:
        if not m["runtimes"].startswith(("11.4", "8.6 and later", "9.x", "8.x")):
            continue
        probe = m["template"].split("{")[0]
        # the library stores some messages in pieces; look for the longest leading piece
        for cut in (len(probe), 80, 50, 30):
            i = data.find(probe[:cut].encode())
            if i >= 0:
                found[m["id"]] = i
                break
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lean-lib", help="libnvinfer_lean.so.11 of tensorrt-lean-cu12-libs 11.4.0.106 (its strings are checked)")
    a = ap.parse_args()
    rows: dict[int, dict] = {}
    evidence = observed_from_plans() + observed_from_oracle()
    evidence += [{"serialization_version": sv, "side": side, "release": rel, "source": url, "quote": q} for sv, side, rel, url, q in THREADS]
    evidence += [{"serialization_version": sv, "side": side, "release": rel, "source": src, "verified": False} for sv, side, rel, src in UNVERIFIED]
    for ev in evidence:
        sv = ev.pop("serialization_version")
        r = rows.setdefault(sv, {"serialization_version": sv, "releases": [], "evidence": []})
        r["evidence"].append(ev)
        if re.match(r"\d+\.\d+", ev["release"]) and ev["release"] not in r["releases"]:
            r["releases"].append(ev["release"])
        r["verified"] = r.get("verified", False) or ev.get("verified", True)
    for r in rows.values():
        r["releases"].sort(key=lambda v: [int(x) for x in re.findall(r"\d+", v)])
        fams = sorted({".".join(v.split(".")[:2]) for v in r["releases"]}, key=lambda v: [int(x) for x in v.split(".")])
        r["release_families"] = fams
    table = {
        "about": "TensorRT serialization versions ('Current Version: N, Serialized Engine Version: M') and the releases "
                 "that write them, each with its evidence. Generated by tools/build_trt_tables.py; not one number per "
                 "release family in general (9.2 and 9.3 share 228; 10.3..10.9 share 239), so a lookup gives a set.",
        "versions": [rows[k] for k in sorted(rows)],
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "trt_serialization_versions.json"), "w") as fh:
        json.dump(table, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    msgs = {"about": "What TensorRT runtimes print when they refuse a plan: exact templates with their sources. "
                     "Generated by tools/build_trt_tables.py.", "messages": [dict(m) for m in MESSAGES]}
    if a.lean_lib:
        offs = lean_strings(a.lean_lib)
        for m in msgs["messages"]:
            if m["id"] in offs:
                m["in_library"] = f"libnvinfer_lean.so.11@11.4.0.106 (tensorrt-lean-cu12-libs) offset {offs[m['id']]:#x}"
    with open(os.path.join(OUT, "trt_runtime_messages.json"), "w") as fh:
        json.dump(msgs, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"{len(table['versions'])} serialization versions, {len(msgs['messages'])} messages -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
