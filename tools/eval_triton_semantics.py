#!/usr/bin/env python3
"""Run trtdiag's Triton functions over real inputs and record the outcomes as data.

Three evaluations, each written to tests/data/triton/eval_<name>.json (outcomes only: no fetched
file is copied; each case names its source as ``repo@commit:path``):

qa      Triton's own model-configuration cases (server qa/L0_model_config): the ensemble cases
        (autofill_noplatform/ensemble/*, each with the error tritonserver must log, and
        autofill_noplatform_success/ensemble/*, which must load) and the noautofill_platform cases
        that the functions claim to cover.  Verdict per case: Triton's expected message(s) and the
        errors trtdiag's functions give.
corpus  Real config.pbtxt files from public repositories (fetched clones): parse, the instance
        groups after Triton's normalisation (count defaults), what the old TRI011 rule said
        (count < 1 refused), validate_model_config, and validate_ensemble for ensembles whose
        steps lie beside them.
fill    Every tag's templates filled by that tag's real tools/fill_template.py run in a subprocess
        (from a temporary checkout of the two files it needs) against
        trtdiag.derive.triton_semantics.fill_like_fill_template, byte for byte; and against the
        plain safe_substitute trtdiag used before.

Usage:
  python3 tools/eval_triton_semantics.py qa --server-git DIR
  python3 tools/eval_triton_semantics.py corpus --git REPO=DIR [--git REPO=DIR …]
  python3 tools/eval_triton_semantics.py fill --backend-git DIR
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trtdiag.derive import backend_table as bt  # noqa: E402
from trtdiag.derive import triton_semantics as sem  # noqa: E402
from trtdiag.parsers import pbtxt  # noqa: E402

OUT = ROOT / "tests" / "data" / "triton"


def git(gd: str, *a: str, binary: bool = False):
    p = subprocess.run(["git", "--git-dir", gd, *a], capture_output=True, check=True)
    return p.stdout if binary else p.stdout.decode("utf-8", "replace")


def parse_bytes(data: bytes) -> dict:
    text, notes = pbtxt.decode_config(data)
    m = pbtxt.parse_config(text)
    m["non_utf8"] = notes
    return m


def write(name: str, data: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    p = OUT / f"eval_{name}.json"
    p.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {p.relative_to(ROOT)}", file=sys.stderr)


# ---------------------------------------------------------------- qa
PLATFORM_BACKEND = {"tensorrt_plan": "tensorrt", "onnxruntime_onnx": "onnxruntime", "pytorch_libtorch": "pytorch",
                    "tensorflow_graphdef": "tensorflow", "tensorflow_savedmodel": "tensorflow"}
# messages the functions produce (prefixes); a noautofill case expecting another message is outside their scope
COVERED = ("instance group", "'max_batch_size' must be non-negative", "dynamic batching preferred size",
           "model configuration must specify 'name'", "default priority level", "priority queue policy",
           "Only one priority level", "Queue policy can not have DELAY", "model input", "model output")


def bre_to_re(ex: str) -> re.Pattern:
    """The expected text as test.sh greps it (a basic regular expression)."""
    ex = ex.strip()
    out, i = [], 0
    while i < len(ex):
        c = ex[i]
        if c == "\\" and i + 1 < len(ex):
            out.append(re.escape(ex[i + 1]))
            i += 2
            continue
        out.append("." if c == "." else (".*" if c == "*" and out and out[-1] == "." else re.escape(c)))
        i += 1
    return re.compile("".join(out))


def qa(server_git: str) -> dict:
    commit = git(server_git, "rev-parse", "HEAD").strip()
    base = "qa/L0_model_config"
    files = git(server_git, "ls-tree", "-r", "--name-only", "HEAD", base).split()
    testsh = git(server_git, "show", f"HEAD:{base}/test.sh")
    made = set(re.findall(r"((?:autofill_noplatform(?:_success)?|noautofill_platform)/[\w./-]+?)/(\d+)\b", testsh))
    cases = []

    def versions_of(model_path: str) -> list[str]:
        rel = model_path[len(base) + 1:]
        return sorted({v for p, v in made if p == rel})

    def load_repo(case_dir: str) -> tuple[dict, list[str], bool]:
        """models of a case (folder → parsed), expected messages, single-model case?"""
        single = f"{case_dir}/config.pbtxt" in files
        expected = [git(server_git, "show", f"HEAD:{f}") for f in files if f.startswith(case_dir + "/") and re.search(r"/expected[^/]*$", f)
                    and f.count("/") == case_dir.count("/") + (1 if single else 1)]
        models = {}
        cfgs = [f"{case_dir}/config.pbtxt"] if single else [f for f in files if f.startswith(case_dir + "/") and f.endswith("/config.pbtxt") and f.count("/") == case_dir.count("/") + 2]
        for f in cfgs:
            mdir = f.rsplit("/", 1)[0]
            m = parse_bytes(git(server_git, "show", f"HEAD:{f}", binary=True))
            m["versions"] = versions_of(mdir)
            models[mdir.rsplit("/", 1)[1]] = m
        return models, expected, single

    def verdict(models: dict, platform: str | None = None) -> list[str]:
        errs = []
        for name, m in models.items():
            if m.get("parse_error"):
                errs.append(f"parse error: {m['parse_error']}")
                continue
            if platform:
                m = dict(m, platform=platform, backend=m.get("backend") or PLATFORM_BACKEND.get(platform))
            if m.get("has_ensemble_scheduling") or m.get("platform") == "ensemble":
                r = sem.validate_ensemble(m, models)
                errs.extend(r["errors"])
            else:
                errs.extend(sem.validate_model_config(m, gpus=1))
                if platform:  # noautofill: the IO is validated as written (no auto-complete)
                    errs.extend(sem.validate_io(m))
        return errs

    dirs = sorted({"/".join(f.split("/")[:5]) for f in files
                   if f.startswith((f"{base}/autofill_noplatform/ensemble/", f"{base}/autofill_noplatform_success/ensemble/"))
                   and f.count("/") >= 5})
    for d in dirs:
        models, expected, _ = load_repo(d)
        success = "/autofill_noplatform_success/" in d
        errs = verdict(models)
        pats = [bre_to_re(e) for e in expected]
        if success:
            ok = not errs
            outcome = "loads, as Triton" if ok else "false error"
        else:
            hit = [e for e in errs if any(p.search(e) for p in pats)]
            ok = bool(hit)
            outcome = "same error as Triton" if ok else ("another error" if errs else "missed")
        cases.append({"case": d[len(base) + 1:], "source": f"triton-inference-server/server@{commit[:9]}:{d}",
                      "triton": "loads" if success else {"fails": [e.strip() for e in expected]},
                      "trtdiag": errs, "agrees": ok, "outcome": outcome})
    trials = re.search(r"TRIALS=\"([^\"]+)\"", testsh)
    trial = (trials.group(1).split() if trials else ["tensorrt_plan"])[0]
    for d in sorted({"/".join(f.split("/")[:4]) for f in files if f.startswith(f"{base}/noautofill_platform/") and f.count("/") >= 4}):
        models, expected, _ = load_repo(d)
        if not expected or not models:
            continue
        in_scope = any(e.strip().startswith(COVERED) for e in expected if not e.strip().startswith("ensemble scheduling must be set"))
        errs = verdict(models, platform=trial)
        pats = [bre_to_re(e) for e in expected]
        hit = [e for e in errs if any(p.search(e) for p in pats)]
        outcome = "same error as Triton" if hit else ("another error" if errs else "missed")
        cases.append({"case": d[len(base) + 1:], "source": f"triton-inference-server/server@{commit[:9]}:{d}",
                      "platform": trial, "in_scope": in_scope,
                      "triton": {"fails": [e.strip() for e in expected]}, "trtdiag": errs, "agrees": bool(hit), "outcome": outcome})
    ens = [c for c in cases if c["case"].startswith("autofill_noplatform/ensemble/")]
    succ = [c for c in cases if c["case"].startswith("autofill_noplatform_success/")]
    noauto = [c for c in cases if c["case"].startswith("noautofill_platform/")]
    summary = {
        "negative_ensemble_cases": len(ens), "negative_ensemble_error_found": sum(1 for c in ens if c["trtdiag"]),
        "negative_ensemble_same_message": sum(1 for c in ens if c["agrees"]),
        "success_ensemble_cases": len(succ), "success_ensemble_no_error": sum(1 for c in succ if c["agrees"]),
        "noautofill_in_scope": sum(1 for c in noauto if c["in_scope"]),
        "noautofill_in_scope_same_message": sum(1 for c in noauto if c["in_scope"] and c["agrees"]),
        "noautofill_out_of_scope": sum(1 for c in noauto if not c["in_scope"]),
        "noautofill_out_of_scope_false_error": sum(1 for c in noauto if not c["in_scope"] and c["trtdiag"] and not c["agrees"]),
    }
    return {"generated_by": "tools/eval_triton_semantics.py qa", "source": f"triton-inference-server/server@{commit}", "summary": summary, "cases": cases}


# ---------------------------------------------------------------- corpus
def old_tri011(m: dict) -> bool:
    """What TRI011 reported before: an instance_group whose summed count is below 1 is refused."""
    cnt = sum(g["count"] for g in m.get("instance_groups") or []) if m.get("instance_groups") else None
    return cnt is not None and bool(m.get("instance_kinds")) and cnt < 1


def old_reader_crash(m: dict) -> bool:
    return any(isinstance(k, int) for k in m.get("instance_kinds") or [])


def corpus(gits: list[str], exclude: list[str]) -> dict:
    rows = []
    repos: list[dict] = []
    for spec in gits:
        repo, _, gd = spec.partition("=")
        commit = git(gd, "rev-parse", "HEAD").strip()
        files = [f for f in git(gd, "ls-tree", "-r", "--name-only", "HEAD").split() if f.endswith("config.pbtxt") and f.rsplit("/", 1)[-1] == "config.pbtxt"]
        files = [f for f in files if not any(f"{repo}:{f}".startswith(x) for x in exclude)
                 and not (f.count("/") >= 1 and f.split("/")[-2].isdigit())]  # inside a version folder: Triton does not read it
        tree = git(gd, "ls-tree", "-r", "-t", "--name-only", "HEAD").split()
        parsed = {}
        for f in files:
            data = git(gd, "show", f"HEAD:{f}", binary=True)
            mdir = f.rsplit("/", 1)[0] if "/" in f else ""
            vdirs = sorted({t[len(mdir) + 1:].split("/")[0] for t in tree if mdir and t.startswith(mdir + "/") and t[len(mdir) + 1:].split("/")[0].isdigit()})
            vfiles = sorted({t.split("/")[-1] for t in tree if vdirs and t.startswith(f"{mdir}/{vdirs[0]}/") and t.count("/") == f.count("/") + 1}) if vdirs else None
            m = parse_bytes(data)
            parsed[f] = sem.autocomplete_backend_fields(m, mdir.rsplit("/", 1)[-1] if mdir else None, vfiles)
        groups: dict[str, dict] = {}
        for f, m in parsed.items():
            parts = f.split("/")
            if len(parts) >= 2:
                groups.setdefault("/".join(parts[:-2]), {})[parts[-2]] = m
        for f, m in parsed.items():
            row = {"source": f"{repo}@{commit[:9]}:{f}", "bytes": None, "parse_error": m.get("parse_error"),
                   "placeholders": len(m.get("placeholders") or []), "non_utf8": m.get("non_utf8") or []}
            if not m.get("parse_error"):
                ig = sem.normalize_instance_groups(m)
                row["instance_groups"] = [{"kind": g["kind"], "count": g["count"], "count_from": g["count_from"]} for g in ig["groups"]]
                row["old_tri011_error"] = old_tri011(m)
                row["old_reader_crash"] = old_reader_crash(m)
                errs = sem.validate_model_config(m) if not m.get("placeholders") else []
                if m.get("has_ensemble_scheduling") and not m.get("placeholders"):
                    parts = f.split("/")
                    beside = groups.get("/".join(parts[:-2]), {})
                    absent = [st["model_name"] for st in m.get("ensemble_steps") or [] if st["model_name"] not in beside]
                    if absent:  # test scripts and tutorials assemble repositories: steps kept elsewhere are not judged
                        row["steps_not_beside"] = absent
                        errs = [e for e in errs if "contains models" not in e]
                    else:
                        r = sem.validate_ensemble(m, beside)
                        errs = r["errors"]
                        row["ensemble_decoupled"] = r.get("decoupled")
                row["errors"] = errs
            rows.append(row)
        # tensorrtllm_backend model repositories among them: the whole judgement
        for gdir, ms in groups.items():
            if not any((m.get("backend") == "tensorrtllm" or "gpt_model_path" in (m.get("parameters") or {})) for m in ms.values()):
                continue
            from trtdiag.derive.triton_judge import judge_repository

            j = judge_repository(ms)
            repos.append({"source": f"{repo}@{commit[:9]}:{gdir}", "models": sorted(ms), "release_detected": j["release"]["summary"],
                          "per_model_tags": {k: v["tags"] for k, v in j["models"].items()},
                          "errors": _errors(j), "blocking": {k: v["blocking"] for k, v in j["models"].items() if v["blocking"]},
                          "bls_target": {k: [v["target"], v["target_from"]] for k, v in j["bls"].items()}})
    parsed_ok = [r for r in rows if not r["parse_error"]]
    summary = {
        "files": len(rows), "repositories": len(gits), "parse_errors": len(rows) - len(parsed_ok),
        "with_placeholders": sum(1 for r in rows if r["placeholders"]),
        "instance_group_without_count": sum(1 for r in parsed_ok if any(g["count_from"] == "default" for g in r["instance_groups"])),
        "old_tri011_false_error": sum(1 for r in parsed_ok if r["old_tri011_error"]),
        "new_instance_group_error": sum(1 for r in parsed_ok if any(e.startswith("instance group") for e in r["errors"])),
        "old_reader_crash_kind_by_number": sum(1 for r in parsed_ok if r["old_reader_crash"]),
        "files_with_any_error": sum(1 for r in parsed_ok if r["errors"]),
        "ensembles_judged": sum(1 for r in parsed_ok if "ensemble_decoupled" in r),
        "ensembles_with_steps_elsewhere": sum(1 for r in parsed_ok if r.get("steps_not_beside")),
        "non_utf8_files": sum(1 for r in rows if r["non_utf8"]),
        "tensorrtllm_repositories": len(repos),
        "tensorrtllm_repositories_with_error": sum(1 for r in repos if r["errors"]),
    }
    return {"generated_by": "tools/eval_triton_semantics.py corpus",
            "note": "Triton's verdict on these files is not recorded by their repositories; each is taken to load as published. "
                    "Every error listed is a candidate false error to review.", "summary": summary, "files": rows,
            "tensorrtllm_repositories": repos}


# ---------------------------------------------------------------- fill
def sample_value(row: dict) -> str:
    f, t = row.get("field"), (row.get("type") or "")
    if not row["in_string"]:
        return {"decoupled": "false", "data_type": "TYPE_FP32", "max_queue_delay_microseconds": "100"}.get(f, "4")
    if row.get("field") == "backend":
        return "tensorrtllm"
    if t == "model name":  # the models of the same flow; an optional one (draft, encoders) left empty
        return {"tensorrt_llm_model_name": "tensorrt_llm", "context_model_name": "tensorrt_llm",
                "generation_model_name": "tensorrt_llm"}.get(row["placeholder"], "")
    if "bool" in t:
        return "true"
    if t in ("int", "int32"):
        return "8"
    if t == "float":
        return "0.5"
    if t.startswith("enum("):
        return t[5:-1].split("|")[0]
    return "/models/" + row["placeholder"]


def fill(backend_git: str) -> dict:
    cases = []
    for tag in bt.releases():
        rel = bt.release(tag)
        with tempfile.TemporaryDirectory() as td:
            script = Path(td) / "fill_template.py"
            script.write_bytes(git(backend_git, "show", f"{tag}:tools/fill_template.py", binary=True))
            for key, m in rel["models"].items():
                original = git(backend_git, "show", f"{tag}:{m['file']}", binary=True)
                names = {}
                for r in m["placeholders"]:
                    names.setdefault(r["placeholder"], sample_value(r))
                inserted = set(sem.inserted_defaults(tag))
                for variant in ("all", "without_inserted", "none", "crlf", "escaped_colon"):
                    vals = dict(names)
                    if variant == "without_inserted":  # what the README flows pass: the script's own defaults fill the rest
                        vals = {k: v for k, v in names.items() if k not in inserted}
                    elif variant == "none":
                        vals = {}
                    data = original.replace(b"\n", b"\r\n") if variant == "crlf" else original
                    if not vals:  # fill_template.py needs at least one key:value; give one that fills nothing
                        if bt.fill_template_info(tag).get("asserts_key_in_file"):
                            continue
                        vals = {"unused_key": "x"}
                    arg = ",".join(f"{k}:{v}" for k, v in vals.items())
                    if variant == "escaped_colon":
                        # a value holding ':' (a URL).  v0.16+ split() runs twice (on ',' then on ':') and each pass
                        # drops one backslash, so ':' needs two; before v0.16 any ':' in a value is a ValueError
                        k0 = next(iter(vals))
                        arg = arg.replace(f"{k0}:{vals[k0]}", k0 + ":http" + "\\\\" + "://host/x", 1)
                    target = Path(td) / "config.pbtxt"
                    target.write_bytes(data)
                    p = subprocess.run([sys.executable, str(script), "-i", str(target), arg], capture_output=True, text=True)
                    real = target.read_bytes() if p.returncode == 0 else None
                    try:
                        parsed = sem.parse_substitutions(arg, tag)
                        mine, err = sem.fill_like_fill_template(data.decode("utf-8"), parsed, tag)
                    except ValueError as exc:
                        parsed, mine, err = None, None, f"ValueError: {exc}"
                    mine_b = mine.encode("utf-8") if mine is not None else None
                    old = pbtxt.fill(data.decode("utf-8"), parsed if parsed is not None else vals).encode("utf-8")
                    cases.append({"tag": tag, "file": m["file"], "source": f"triton-inference-server/tensorrtllm_backend@{tag}:{m['file']}",
                                  "variant": variant, "values": len(vals), "real_rc": p.returncode,
                                  "real_error": (p.stderr.strip().splitlines() or [""])[-1] if p.returncode else None,
                                  "trtdiag_error": err, "identical": (real == mine_b) if real is not None else (mine_b is None),
                                  "old_identical": (real == old) if real is not None else False})
    n = len(cases)
    summary = {"cases": n, "tags": len(bt.releases()), "identical": sum(1 for c in cases if c["identical"]),
               "old_identical": sum(1 for c in cases if c["old_identical"]),
               "old_differs": sum(1 for c in cases if not c["old_identical"] and c["real_rc"] == 0),
               "readme_flow_files": sum(1 for c in cases if c["variant"] == "without_inserted"),
               "readme_flow_old_differs": sum(1 for c in cases if c["variant"] == "without_inserted" and not c["old_identical"]),
               "real_script_failed": sum(1 for c in cases if c["real_rc"] != 0),
               "escaped_colon_ok_tags": sorted({c["tag"] for c in cases if c["variant"] == "escaped_colon" and c["real_rc"] == 0}, key=bt.tag_key),
               "real_script_failed_trtdiag_too": sum(1 for c in cases if c["real_rc"] != 0 and c["trtdiag_error"])}
    return {"generated_by": "tools/eval_triton_semantics.py fill", "python": sys.version.split()[0], "summary": summary, "cases": cases}


# ---------------------------------------------------------------- flows
README_FLOWS = {"v0.13.0": "README.md", "v0.19.0": "README.md"}


def _materialise(backend_git: str, tag: str, flow: str, root: Path) -> list[str]:
    names = []
    for f in git(backend_git, "ls-tree", "-r", "--name-only", tag, f"all_models/{flow}").split():
        if not f.endswith("/config.pbtxt"):
            continue
        model = f.split("/")[2]
        (root / model / "1").mkdir(parents=True, exist_ok=True)
        (root / model / "config.pbtxt").write_bytes(git(backend_git, "show", f"{tag}:{f}", binary=True))
        if b'backend: "python"' in (root / model / "config.pbtxt").read_bytes():
            (root / model / "1" / "model.py").write_text("# stands for the model.py of the release\n")
        names.append(model)
    return names


def _judge(root: Path) -> dict:
    from trtdiag.derive.triton_judge import judge_repository
    from trtdiag.probes.triton import read_model

    models = {d.name: read_model(str(d)) for d in sorted(root.iterdir()) if (d / "config.pbtxt").is_file()}
    return judge_repository(models)


def _errors(j: dict) -> list[str]:
    """The error-level conclusions of a judgement (what a rule would report as an error)."""
    out = []
    for name, m in j["models"].items():
        out += [f"{name}: blocking ${{{b}}}" for b in m["blocking"]]
        out += [f"{name}: {e}" for e in m["config_errors"]]
    for name, e in j["ensembles"].items():
        out += [f"{name}: {x}" for x in e["errors"]]
    for name, b in j["bls"].items():
        out += [f"{name}: {c['message']}" for c in b["coherence"] if c["severity"] == "error"]
        if b.get("missing_target"):
            out.append(f"{name}: calls missing model {b['missing_target']}")
    return out


def _readme_commands(backend_git: str, tag: str) -> list[tuple[str, str]]:
    text = git(backend_git, "show", f"{tag}:{README_FLOWS[tag]}")
    at = text.index("FILL_TEMPLATE_SCRIPT=")
    block = text[text.rfind("```", 0, at) + 3:]
    block = block[: block.index("```")]
    env = dict(re.findall(r"^([A-Z_]+)=(\S+)$", block, re.M))
    cmds = []
    for line in block.splitlines():
        m = re.match(r"python3 \$\{FILL_TEMPLATE_SCRIPT\} -i \$\{MODEL_FOLDER\}/(\w+)/config\.pbtxt (\S+)$", line.strip())
        if m:
            args = re.sub(r"\$\{(\w+)\}", lambda mm: env.get(mm.group(1), mm.group(0)), m.group(2))
            cmds.append((m.group(1), args))
    return cmds


def flows(backend_git: str) -> dict:
    cases = []
    for tag in bt.releases():
        for flow in ("inflight_batcher_llm",):
            with tempfile.TemporaryDirectory() as td:
                root = Path(td) / "repo"
                names = _materialise(backend_git, tag, flow, root)
                j = _judge(root)
                rel = bt.release(tag)
                for name in names:
                    want = sorted({r["placeholder"] for r in bt.rows(tag, f"{flow}/{name}") if r["required"]})
                    got = j["models"][name]["blocking"]
                    cases.append({"tag": tag, "flow": flow, "model": name, "state": "unfilled",
                                  "source": f"triton-inference-server/tensorrtllm_backend@{tag}:all_models/{flow}/{name}/config.pbtxt",
                                  "release_detected": j["release"]["summary"], "table_blocking": want, "blocking": got, "agrees": want == got})
                # every placeholder filled by the tag's own fill_template.py
                script = Path(td) / "fill_template.py"
                script.write_bytes(git(backend_git, "show", f"{tag}:tools/fill_template.py", binary=True))
                for name in names:
                    vals = {}
                    for r in bt.rows(tag, f"{flow}/{name}"):
                        vals.setdefault(r["placeholder"], sample_value(r))
                    if vals:
                        arg = ",".join(f"{k}:{v}" for k, v in vals.items())
                        subprocess.run([sys.executable, str(script), "-i", str(root / name / "config.pbtxt"), arg], check=True, capture_output=True)
                j = _judge(root)
                errs = _errors(j)
                cases.append({"tag": tag, "flow": flow, "state": "filled (every placeholder, the tag's fill_template.py)",
                              "release_detected": j["release"]["summary"], "errors": errs, "agrees": not errs,
                              "ensemble_decoupled": {k: v.get("decoupled") for k, v in j["ensembles"].items()}})
            if tag in README_FLOWS:
                with tempfile.TemporaryDirectory() as td:
                    root = Path(td) / "repo"
                    _materialise(backend_git, tag, flow, root)
                    script = Path(td) / "fill_template.py"
                    script.write_bytes(git(backend_git, "show", f"{tag}:tools/fill_template.py", binary=True))
                    cmds = _readme_commands(backend_git, tag)
                    for model, arg in cmds:
                        subprocess.run([sys.executable, str(script), "-i", str(root / model / "config.pbtxt"), arg], check=True, capture_output=True)
                    j = _judge(root)
                    errs = _errors(j)
                    left = {n: [p["name"] for p in m["placeholders"]] for n, m in j["models"].items() if m["placeholders"]}
                    cases.append({"tag": tag, "flow": flow, "state": f"README flow ({README_FLOWS[tag]}, {len(cmds)} fill commands)",
                                  "source": f"triton-inference-server/tensorrtllm_backend@{tag}:{README_FLOWS[tag]}",
                                  "release_detected": j["release"]["summary"], "left_unfilled": left, "errors": errs, "agrees": not errs,
                                  "bls_target": {k: [v["target"], v["target_from"]] for k, v in j["bls"].items()}})
    summary = {"cases": len(cases), "agree": sum(1 for c in cases if c["agrees"]),
               "unfilled_models": sum(1 for c in cases if c["state"] == "unfilled"),
               "unfilled_blocking_equal_table": sum(1 for c in cases if c["state"] == "unfilled" and c["agrees"]),
               "filled_repositories_without_error": sum(1 for c in cases if c["state"].startswith("filled") and c["agrees"]),
               "filled_repositories": sum(1 for c in cases if c["state"].startswith("filled")),
               "readme_flows_without_error": sum(1 for c in cases if c["state"].startswith("README") and c["agrees"])}
    return {"generated_by": "tools/eval_triton_semantics.py flows", "summary": summary, "cases": cases}


# ---------------------------------------------------------------- cli: the same inputs through `trtdiag check`
CLI_ROOT = ROOT  # --trtdiag-root: another checkout (the code before a change) to run the same inputs through


def _check(root: Path, extra: list[str] | None = None) -> list[dict]:
    p = subprocess.run([sys.executable, "-m", "trtdiag", "check", "--only", "triton", "--json", "--model-repo", str(root), *(extra or [])],
                       capture_output=True, text=True, cwd=str(CLI_ROOT), env=dict(os.environ, PYTHONPATH=str(CLI_ROOT)))
    try:
        return json.loads(p.stdout)["findings"]
    except (ValueError, KeyError):
        return [{"id": "CLI", "severity": "error", "title": (p.stderr.strip().splitlines() or ["no output"])[-1]}]


def _errs(findings: list[dict]) -> list[str]:
    return [f"{f['id']}: {f['title']}" for f in findings if f["severity"] == "error"]


def _finding_errs(errs: list[str]) -> list[str]:
    return [e for e in errs if not e.startswith("CLI:")]


def _stand_ins(td: Path) -> tuple[Path, Path]:
    """An engine folder and a tokenizer folder for filled flows to point at (what TRI003/TRI004 look for)."""
    eng, tok = td / "engine", td / "tokenizer"
    eng.mkdir()
    (eng / "config.json").write_text(json.dumps({"version": "0.9.0", "pretrained_config": {"architecture": "LlamaForCausalLM", "dtype": "float16",
                                                 "mapping": {"world_size": 1, "tp_size": 1, "pp_size": 1}},
                                                 "build_config": {"max_batch_size": 256, "max_input_len": 1024, "max_seq_len": 2048, "max_beam_width": 1,
                                                                  "plugin_config": {"gpt_attention_plugin": "float16", "paged_kv_cache": True, "remove_input_padding": True}}}))
    (eng / "rank0.engine").write_bytes(b"\0" * 64)
    tok.mkdir()
    (tok / "tokenizer.json").write_text("{}")
    (tok / "tokenizer_config.json").write_text("{}")
    return eng, tok


def cli(server_git: str, backend_git: str, gits: list[str]) -> dict:
    cases = []
    # (1) Triton's ensemble qa cases as repositories on disk
    base = "qa/L0_model_config"
    files = git(server_git, "ls-tree", "-r", "--name-only", "HEAD", base).split()
    testsh = git(server_git, "show", f"HEAD:{base}/test.sh")
    made = set(re.findall(r"((?:autofill_noplatform(?:_success)?)/[\w./-]+?)/(\d+)\b", testsh))
    dirs = sorted({"/".join(f.split("/")[:5]) for f in files if f.startswith((f"{base}/autofill_noplatform/ensemble/", f"{base}/autofill_noplatform_success/ensemble/")) and f.count("/") >= 5})
    for d in dirs:
        with tempfile.TemporaryDirectory() as td:
            root = Path(td) / "models"
            if f"{d}/config.pbtxt" in files:  # a single-model case: the directory is the model
                mdir = root / d.rsplit("/", 1)[1]
                mdir.mkdir(parents=True)
                (mdir / "config.pbtxt").write_bytes(git(server_git, "show", f"HEAD:{d}/config.pbtxt", binary=True))
                (mdir / "1").mkdir()
            for f in files:
                if f.startswith(d + "/") and f.endswith("/config.pbtxt") and f.count("/") == d.count("/") + 2:
                    mdir = root / f.split("/")[-2]
                    mdir.mkdir(parents=True)
                    (mdir / "config.pbtxt").write_bytes(git(server_git, "show", f"HEAD:{f}", binary=True))
                    for p, v in made:
                        if p == f"{d[len(base) + 1:]}/{mdir.name}":
                            (mdir / v).mkdir(exist_ok=True)
            fs = _check(root)
            success = "/autofill_noplatform_success/" in d
            errs = _errs(fs)
            cases.append({"input": "qa", "case": d[len(base) + 1:], "triton": "loads" if success else "fails",
                          "trtdiag_errors": errs, "agrees": (not errs) if success else bool(_finding_errs(errs))})
    # (2) flows: unfilled, filled by each tag's fill_template.py, the README flows
    for tag in bt.releases():
        with tempfile.TemporaryDirectory() as td:
            td = Path(td)
            eng, tok = _stand_ins(td)
            root = td / "repo"
            names = _materialise(backend_git, tag, "inflight_batcher_llm", root)
            script = td / "fill_template.py"
            script.write_bytes(git(backend_git, "show", f"{tag}:tools/fill_template.py", binary=True))
            for name in names:
                vals = {}
                for r in bt.rows(tag, f"inflight_batcher_llm/{name}"):
                    v = sample_value(r)
                    if r.get("param") in ("gpt_model_path",) or r["placeholder"] == "engine_dir":
                        v = str(eng)
                    elif r.get("param") == "tokenizer_dir":
                        v = str(tok)
                    elif r.get("field") in ("max_batch_size", "preferred_batch_size"):
                        v = "8"
                    elif r["placeholder"] == "max_beam_width":
                        v = "1"  # the stand-in engine's
                    elif r.get("param") in ("encoder_model_path", "visual_model_path", "multimodal_model_path", "lora_prefetch_dir",
                                            "xgrammar_tokenizer_info_path", "gpu_device_ids", "participant_ids", "medusa_choices", "eagle_choices",
                                            "guided_decoding_backend", "decoding_mode", "max_attention_window_size"):
                        continue  # optional features left to the backend's defaults
                    vals.setdefault(r["placeholder"], v)
                if vals:
                    subprocess.run([sys.executable, str(script), "-i", str(root / name / "config.pbtxt"), ",".join(f"{k}:{v}" for k, v in vals.items())],
                                   check=True, capture_output=True)
            fs = _check(root)
            errs = _errs(fs)
            cases.append({"input": "filled", "tag": tag, "trtdiag_errors": errs, "agrees": not errs})
        if tag in README_FLOWS:
            with tempfile.TemporaryDirectory() as td:
                td = Path(td)
                eng, tok = _stand_ins(td)
                root = td / "repo"
                _materialise(backend_git, tag, "inflight_batcher_llm", root)
                script = td / "fill_template.py"
                script.write_bytes(git(backend_git, "show", f"{tag}:tools/fill_template.py", binary=True))
                for model, arg in _readme_commands(backend_git, tag):
                    arg = re.sub(r"engine_dir:[^,]+", f"engine_dir:{eng}", re.sub(r"tokenizer_dir:[^,]+", f"tokenizer_dir:{tok}", arg))
                    arg = re.sub(r"triton_max_batch_size:\d+", "triton_max_batch_size:8", arg)
                    subprocess.run([sys.executable, str(script), "-i", str(root / model / "config.pbtxt"), arg], check=True, capture_output=True)
                errs = _errs(_check(root))
                cases.append({"input": "readme", "tag": tag, "trtdiag_errors": errs, "agrees": not errs})
    # (3) the corpus: TRI011-style errors per real file
    tri011 = 0
    files_seen = 0
    for spec in gits:
        repo, _, gd = spec.partition("=")
        fl = [f for f in git(gd, "ls-tree", "-r", "--name-only", "HEAD").split() if f.rsplit("/", 1)[-1] == "config.pbtxt" and "/" in f
              and not f.startswith("qa/L0_model_config/") and not f.split("/")[-2].isdigit()]
        groups: dict[str, list[str]] = {}
        for f in fl:
            groups.setdefault(f.rsplit("/", 2)[0] if f.count("/") >= 2 else ".", []).append(f)
        for g, members in groups.items():
            with tempfile.TemporaryDirectory() as td:
                root = Path(td) / "repo"
                for f in members:
                    mdir = root / f.split("/")[-2]
                    mdir.mkdir(parents=True, exist_ok=True)
                    (mdir / "config.pbtxt").write_bytes(git(gd, "show", f"HEAD:{f}", binary=True))
                    (mdir / "1").mkdir(exist_ok=True)
                fs = _check(root, ["--only", "TRI011"])
                n = sum(1 for f in fs if f["id"] == "TRI011" and f["severity"] == "error")
                files_seen += len(members)
                tri011 += n
                if n:
                    cases.append({"input": "corpus", "source": f"{repo}:{g}", "tri011_errors": [f["title"] for f in fs if f["id"] == "TRI011" and f["severity"] == "error"],
                                  "agrees": False})
    summary = {
        "qa_negative": sum(1 for c in cases if c["input"] == "qa" and c["triton"] == "fails"),
        "qa_negative_with_error": sum(1 for c in cases if c["input"] == "qa" and c["triton"] == "fails" and c["agrees"]),
        "qa_loading": sum(1 for c in cases if c["input"] == "qa" and c["triton"] == "loads"),
        "qa_loading_without_error": sum(1 for c in cases if c["input"] == "qa" and c["triton"] == "loads" and c["agrees"]),
        "filled_tags_without_error": sum(1 for c in cases if c["input"] == "filled" and c["agrees"]),
        "filled_tags": sum(1 for c in cases if c["input"] == "filled"),
        "readme_flows_without_error": sum(1 for c in cases if c["input"] == "readme" and c["agrees"]),
        "corpus_files": files_seen, "corpus_tri011_errors": tri011,
    }
    return {"generated_by": "tools/eval_triton_semantics.py cli", "summary": summary, "cases": cases}


# ---------------------------------------------------------------- fixcli: `trtdiag fix --apply --set` vs fill_template.py
def fixcli(backend_git: str) -> dict:
    """For every tag: the flow's templates filled (a) by the tag's fill_template.py, one call per file
    with that file's keys, and (b) by ``trtdiag fix --apply --set`` with the same values; the files
    compared byte for byte.  Two value sets: every placeholder (the defaults fill_template.py inserts
    given explicitly too) and the README way (without them: each tool inserts its own)."""
    import shutil

    cases = []
    for tag in bt.releases():
        inserted = set(sem.inserted_defaults(tag))
        for variant in ("all", "without_inserted"):
            with tempfile.TemporaryDirectory() as td:
                td = Path(td)
                a, b = td / "a", td / "b"
                names = _materialise(backend_git, tag, "inflight_batcher_llm", a)
                shutil.copytree(a, b)
                script = td / "fill_template.py"
                script.write_bytes(git(backend_git, "show", f"{tag}:tools/fill_template.py", binary=True))
                allvals: dict[str, str] = {}
                for name in names:
                    vals = {}
                    for r in bt.rows(tag, f"inflight_batcher_llm/{name}"):
                        if variant == "without_inserted" and r["placeholder"] in inserted:
                            continue
                        vals.setdefault(r["placeholder"], allvals.setdefault(r["placeholder"], sample_value(r)))
                    if vals:
                        subprocess.run([sys.executable, str(script), "-i", str(a / name / "config.pbtxt"), ",".join(f"{k}:{v}" for k, v in vals.items())],
                                       check=True, capture_output=True)
                sets = ",".join(f"{k}={v}" for k, v in allvals.items())
                p = subprocess.run([sys.executable, "-m", "trtdiag", "fix", "--apply", "--model-repo", str(b), "--only", "TRI001", "--set", sets],
                                   capture_output=True, text=True, cwd=str(CLI_ROOT), env=dict(os.environ, PYTHONPATH=str(CLI_ROOT), HOME=str(td)))
                for name in names:
                    same = (a / name / "config.pbtxt").read_bytes() == (b / name / "config.pbtxt").read_bytes()
                    cases.append({"tag": tag, "variant": variant, "model": name, "fix_rc": p.returncode,
                                  "source": f"triton-inference-server/tensorrtllm_backend@{tag}:all_models/inflight_batcher_llm/{name}/config.pbtxt",
                                  "identical": same, "fix_error": p.stderr.strip().splitlines()[-1] if p.returncode and p.stderr.strip() else None})
    summary = {"files": len(cases), "identical": sum(1 for c in cases if c["identical"]), "tags": len({c["tag"] for c in cases}),
               "readme_way_identical": sum(1 for c in cases if c["variant"] == "without_inserted" and c["identical"]),
               "readme_way_files": sum(1 for c in cases if c["variant"] == "without_inserted")}
    return {"generated_by": "tools/eval_triton_semantics.py fixcli", "summary": summary, "cases": cases}


def main() -> int:
    global CLI_ROOT
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("qa")
    a.add_argument("--server-git", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--git", action="append", required=True, help="owner/name=GIT_DIR")
    c.add_argument("--exclude", action="append", default=[], help="owner/name:path-prefix to leave out")
    f = sub.add_parser("fill")
    f.add_argument("--backend-git", required=True)
    fl = sub.add_parser("flows")
    fl.add_argument("--backend-git", required=True)
    fx = sub.add_parser("fixcli")
    fx.add_argument("--backend-git", required=True)
    fx.add_argument("--name", default="fixcli")
    fx.add_argument("--trtdiag-root", default=None)
    cl = sub.add_parser("cli")
    cl.add_argument("--server-git", required=True)
    cl.add_argument("--backend-git", required=True)
    cl.add_argument("--git", action="append", default=[], help="owner/name=GIT_DIR (corpus)")
    cl.add_argument("--name", default="cli", help="eval_<name>.json (cli_before / cli)")
    cl.add_argument("--trtdiag-root", default=None, help="run this checkout's trtdiag (default: this one)")
    cl.add_argument("--trtdiag-root-label", default=None, help="what --trtdiag-root is (recorded), e.g. 'main@8ed06d2'")
    args = ap.parse_args()
    if args.cmd == "qa":
        data = qa(args.server_git)
    elif args.cmd == "corpus":
        data = corpus(args.git, args.exclude)
    elif args.cmd == "flows":
        data = flows(args.backend_git)
    elif args.cmd == "fixcli":
        if args.trtdiag_root:
            CLI_ROOT = Path(args.trtdiag_root).resolve()
        data = fixcli(args.backend_git)
        print(json.dumps(data["summary"], indent=1), file=sys.stderr)
        write(args.name, data)
        return 0
    elif args.cmd == "cli":
        if args.trtdiag_root:
            CLI_ROOT = Path(args.trtdiag_root).resolve()
        data = cli(args.server_git, args.backend_git, args.git)
        data["trtdiag"] = args.trtdiag_root_label if getattr(args, "trtdiag_root_label", None) else ("this checkout" if not args.trtdiag_root else "another checkout")
        print(json.dumps(data["summary"], indent=1), file=sys.stderr)
        write(args.name, data)
        return 0
    else:
        data = fill(args.backend_git)
    print(json.dumps(data["summary"], indent=1), file=sys.stderr)
    write(args.cmd, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
