#!/usr/bin/env python3
"""Ground truth for the tokenizer checks: the REAL preprocessing/postprocessing model.py of every
tensorrtllm_backend tag, run against real tokenizer directories under several transformers
versions, recorded into tests/data/tokenizers/ground_truth.json.

Axes (each with its provenance in the output):

* model.py: ``all_models/inflight_batcher_llm/{preprocessing,postprocessing}/1/model.py`` of every
  tag v0.5.0 … v0.19.0 of triton-inference-server/tensorrtllm_backend, read from a local bare
  clone (``--backend-git``); files that are identical between tags (same blob) run once and the
  row lists every tag that ships that blob.  The config.pbtxt of the same tag becomes
  ``args['model_config']`` (JSON, as the python backend passes it) with ``tokenizer_dir`` and
  ``tokenizer_type='auto'`` filled in.
* tokenizers: directories assembled from public git repositories holding copies of the Hugging
  Face model repositories (``--tokenizer-git NAME=GITDIR``; see TOKENIZERS below for which file
  comes from which repository and commit, checked by sha256).  Nothing fetched is kept in this
  repository: only the outcomes.
* interpreters: the venvs given with ``--venv LABEL=PYTHON`` (``transformers`` / Python versions
  are read from each).

Each case runs through :func:`trtdiag.probes.tokenizer_replay.replay` (the stand-in for
``triton_python_backend_utils`` documented there), with remote code allowed (the tokenizer classes
of these repositories were read first: they only read their vocabulary files).  Modules that some
model.py import at module level but never use for the tokenizer (``tensorrt``; ``torch`` where no
wheel exists for that Python) are replaced by empty stand-in modules when the venv lacks them; the
row says so.

``--after-fix``: also runs every case whose model.py trtdiag's ``tok-model-py`` fix would patch,
on the patched text, and records that outcome beside the original.

Usage (what produced the checked-in table):
    python tools/tokenizer_matrix.py --backend-git /path/tensorrtllm_backend.git \
        --tokenizer-git chatglm3=/path/chatglm3-copy.git --tokenizer-git glm-spm=/path/lowcode-llm-demo.git \
        --tokenizer-git qwen-oct=/path/Qwen-7B.git --tokenizer-git qwen-aug=/path/Qwen-7B-Chat.git \
        --venv tf4.31.0-py3.11=/tmp/tm/venv-tf4.31.0-py3.11/bin/python … --work /tmp/tm/work \
        --out tests/data/tokenizers/ground_truth.json
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trtdiag.probes import tokenizer_replay as rp  # noqa: E402

BACKEND = "triton-inference-server/tensorrtllm_backend"
MODELS = ("preprocessing", "postprocessing")
P = "all_models/inflight_batcher_llm"

# name -> files: (target name, git label, commit, path in that repo, expected sha256 or None), and
# the edits made on top (documented; None: the files as published)
TOKENIZERS = {
    "chatglm3-6b@2023-12": {
        "what": "THUDM/chatglm3-6b tokenizer as of 2023-12-07 (copy czk1997/chatglm3-copy@456aa87: "
                "'fix piece id out of range (#20)'); its tokenizer.model is a Git LFS pointer there "
                "(oid sha256 e7dc4c39…), so the bytes come from woai3c/lowcode-llm-demo@4277ece, whose "
                "tokenizer.model has exactly that sha256",
        "files": [
            ("tokenization_chatglm.py", "chatglm3", "456aa87", "tokenization_chatglm.py", None),
            ("tokenizer_config.json", "chatglm3", "456aa87", "tokenizer_config.json", None),
            ("config.json", "chatglm3", "456aa87", "config.json", None),
            ("configuration_chatglm.py", "chatglm3", "456aa87", "configuration_chatglm.py", None),
            ("tokenizer.model", "glm-spm", "4277ece", "tokenizer.model",
             "e7dc4c393423b76e4373e5157ddc34803a0189ba96b21ddbb40269d31468a6f2"),
        ],
        "edits": None,
    },
    "qwen-7b@2023-10": {
        "what": "Qwen/Qwen-7B tokenizer files as of 2023-10-11 (copy zhangningboo/Qwen-7B@c9bdb95 'format'): "
                "tiktoken QWenTokenizer, no eos/pad token in any file; Qwen-7B-Chat ships the same "
                "tokenization_qwen.py and qwen.tiktoken (its generation_config says chat_format chatml)",
        "files": [
            ("tokenization_qwen.py", "qwen-oct", "c9bdb95", "tokenization_qwen.py", None),
            ("tokenizer_config.json", "qwen-oct", "c9bdb95", "tokenizer_config.json", None),
            ("config.json", "qwen-oct", "c9bdb95", "config.json", None),
            ("configuration_qwen.py", "qwen-oct", "c9bdb95", "configuration_qwen.py", None),
            ("generation_config.json", "qwen-oct", "c9bdb95", "generation_config.json", None),
            ("qwen.tiktoken", "qwen-oct", "c9bdb95", "qwen.tiktoken", None),
        ],
        "edits": None,
    },
    "qwen-7b@2023-10+eos-pad": {
        "what": "qwen-7b@2023-10 as a fine-tune saves it: tokenizer_config.json gains eos_token and pad_token "
                "'<|endoftext|>' (the edit is trtdiag's, modelled on fine-tuning frameworks' output)",
        "files": "qwen-7b@2023-10",
        "edits": {"tokenizer_config.json": {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}},
    },
    "qwen-7b-chat@2023-08": {
        "what": "Qwen/Qwen-7B-Chat as first published, 2023-08-04 (copy undefdev/Qwen-7B-Chat@04df5dd)",
        "files": [
            ("tokenization_qwen.py", "qwen-aug", "04df5dd", "tokenization_qwen.py", None),
            ("tokenizer_config.json", "qwen-aug", "04df5dd", "tokenizer_config.json", None),
            ("config.json", "qwen-aug", "04df5dd", "config.json", None),
            ("configuration_qwen.py", "qwen-aug", "04df5dd", "configuration_qwen.py", None),
            ("generation_config.json", "qwen-aug", "04df5dd", "generation_config.json", None),
            ("qwen.tiktoken", "qwen-aug", "04df5dd", "qwen.tiktoken", None),
        ],
        "edits": None,
    },
}

# Frozen evaluation tokenizers: no rule of trtdiag/derive/tokenizer_model_py.py was written from
# them (the four above were used to write and tune it); scored apart.
FROZEN = {
    "chatglm2-6b": {
        "what": "THUDM/chatglm2-6b tokenizer class and config (copy bq-xiao/chatglm2-6b-model@944d831:model/); its "
                "tokenizer.model is absent there: the bytes are those of sha256 e7dc4c39… (woai3c/lowcode-llm-demo@4277ece), "
                "the ChatGLM2/3 sentencepiece model",
        "files": [
            ("tokenization_chatglm.py", "glm2", "944d831", "model/tokenization_chatglm.py", None),
            ("tokenizer_config.json", "glm2", "944d831", "model/tokenizer_config.json", None),
            ("config.json", "glm2", "944d831", "model/config.json", None),
            ("configuration_chatglm.py", "glm2", "944d831", "model/configuration_chatglm.py", None),
            ("tokenizer.model", "glm-spm", "4277ece", "tokenizer.model",
             "e7dc4c393423b76e4373e5157ddc34803a0189ba96b21ddbb40269d31468a6f2"),
        ],
        "edits": None,
    },
    "chatglm-6b-int4": {
        "what": "THUDM/chatglm-6b-int4 tokenizer (first ChatGLM: ice_text.model, <sop>/<eop>), copy woai3c/lowcode-llm-demo@4277ece",
        "files": [
            ("tokenization_chatglm.py", "glm-spm", "4277ece", "tokenization_chatglm.py", None),
            ("tokenizer_config.json", "glm-spm", "4277ece", "tokenizer_config.json", None),
            ("config.json", "glm-spm", "4277ece", "config.json", None),
            ("configuration_chatglm.py", "glm-spm", "4277ece", "configuration_chatglm.py", None),
            ("ice_text.model", "glm-spm", "4277ece", "ice_text.model", None),
        ],
        "edits": None,
    },
    "bpe-kit": {
        "what": "a byte-level BPE tokenizer trained here with the real tokenizers library and saved by "
                "PreTrainedTokenizerFast (tests/tokenizer_kit.py bpe_dir: eos '</s>', no pad token)",
        "build": "bpe", "edits": None,
    },
    "llama-sp-kit": {
        "what": "a sentencepiece model trained here with the real sentencepiece library, tokenizer_class LlamaTokenizer "
                "(tests/tokenizer_kit.py sentencepiece_dir(with_config=True))",
        "build": "sentencepiece", "edits": None,
    },
}

REPO_OF = {"chatglm3": "czk1997/chatglm3-copy", "glm-spm": "woai3c/lowcode-llm-demo",
           "qwen-oct": "zhangningboo/Qwen-7B", "qwen-aug": "undefdev/Qwen-7B-Chat", "glm2": "bq-xiao/chatglm2-6b-model"}


def git(gitdir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


def tags(gitdir: str) -> list[str]:
    out = git(gitdir, "tag").decode().split()
    sel = [t for t in out if re.fullmatch(r"v0\.(\d+)\.\d+", t) and 5 <= int(t.split(".")[1]) <= 19]
    return sorted(sel, key=lambda t: tuple(int(x) for x in t[1:].split(".")))


def build_tokenizers(gits: dict[str, str], root: str) -> dict[str, dict]:
    info = {}
    for name, spec in {**TOKENIZERS, **FROZEN}.items():
        d = os.path.join(root, name.replace("@", "_").replace("+", "_"))
        if spec.get("build"):
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
            import shutil
            from pathlib import Path

            import tokenizer_kit as kit

            shutil.rmtree(d, ignore_errors=True)
            (kit.bpe_dir(Path(d)) if spec["build"] == "bpe" else kit.sentencepiece_dir(Path(d), with_config=True))
            info[name] = {"dir": d, "what": spec["what"], "files": [{"file": f, "built_by": "tests/tokenizer_kit.py"} for f in sorted(os.listdir(d))],
                          "frozen": name in FROZEN}
            continue
        os.makedirs(d, exist_ok=True)
        files = spec["files"] if isinstance(spec["files"], list) else TOKENIZERS[spec["files"]]["files"]
        prov = []
        for target, label, commit, path, sha in files:
            data = git(gits[label], "show", f"{commit}:{path}")
            got = hashlib.sha256(data).hexdigest()
            if sha and got != sha:
                raise SystemExit(f"{name}: {path} from {label}@{commit} has sha256 {got}, expected {sha}")
            with open(os.path.join(d, target), "wb") as fh:
                fh.write(data)
            prov.append({"file": target, "from": f"{REPO_OF[label]}@{commit}:{path}", "sha256": got, "bytes": len(data)})
        for fname, upd in (spec.get("edits") or {}).items():
            p = os.path.join(d, fname)
            cfg = json.load(open(p))
            cfg.update(upd)
            json.dump(cfg, open(p, "w"), indent=2)
            prov.append({"file": fname, "edited": upd})
        info[name] = {"dir": d, "what": spec["what"], "files": prov, "frozen": name in FROZEN}
    return info


def build_models(gitdir: str, root: str) -> tuple[dict, dict]:
    """{blob: {"model", "tags", "model_py", "config"}} and {tag: {model: blob}}."""
    blobs: dict[str, dict] = {}
    by_tag: dict[str, dict] = {}
    for tag in tags(gitdir):
        by_tag[tag] = {}
        for m in MODELS:
            path = f"{P}/{m}/1/model.py"
            try:
                blob = git(gitdir, "rev-parse", f"{tag}:{path}").decode().strip()
            except subprocess.CalledProcessError:
                continue
            by_tag[tag][m] = blob
            if blob in blobs:
                blobs[blob]["tags"].append(tag)
                continue
            mdir = os.path.join(root, f"{m}-{tag}-{blob[:8]}", m)
            os.makedirs(os.path.join(mdir, "1"), exist_ok=True)
            with open(os.path.join(mdir, "1", "model.py"), "wb") as fh:
                fh.write(git(gitdir, "show", f"{tag}:{path}"))
            cfg = git(gitdir, "show", f"{tag}:{P}/{m}/config.pbtxt").decode()
            blobs[blob] = {"model": m, "tags": [tag], "model_py": os.path.join(mdir, "1", "model.py"), "config": cfg,
                           "source": f"{BACKEND}@{tag}:{path}"}
    return blobs, by_tag


def run_env(label: str, python: str, tok_name: str, tok_dir: str, blobs: dict, patched: dict | None = None) -> dict:
    cases = []
    for blob, b in blobs.items():
        params = {"tokenizer_dir": tok_dir, "tokenizer_type": "auto"}
        cases.append({"id": blob, "model_py": b["model_py"], "model_config": rp.model_config_json(b["config"], params),
                      "model_name": b["model"], "model_kind": b["model"], "execute": True})
        if patched and blob in patched:
            cases.append(dict(cases[-1], id=blob + "+fix", model_py=patched[blob]["path"], fix_needs=patched[blob]["needs"]))
    t0 = time.time()
    res = rp.replay(cases, python=python, allow_remote_code=True, timeout=900, stub_modules=rp.MATRIX_STUBS)
    res["wall_s"] = round(time.time() - t0, 1)
    print(f"{label} × {tok_name}: {len(cases)} cases in {res['wall_s']}s", file=sys.stderr, flush=True)
    return res


def slim(row: dict) -> dict:
    """A row without what the table need not keep (full messages, outputs, timings)."""
    row.pop("seconds", None)
    if row.get("exception"):
        e = row["exception"]
        row["exception"] = {k: e.get(k) for k in ("type", "first_line", "model_py_frame", "raised_in")}
    ex = row.get("execute")
    if ex:
        row["execute"] = {"ok": ex.get("ok")}
        if ex.get("exception"):
            row["execute"]["exception"] = {k: ex["exception"].get(k) for k in ("type", "first_line", "model_py_frame", "raised_in")}
        if ex.get("error"):
            row["execute"]["error"] = str(ex["error"])[:300]
    return row


def normalise(obj, d: str):
    """``obj`` with the temporary directory ``d`` written as ``{dir}``."""
    if isinstance(obj, str):
        return obj.replace(d, "{dir}")
    if isinstance(obj, list):
        return [normalise(x, d) for x in obj]
    if isinstance(obj, dict):
        return {k: normalise(v, d) for k, v in obj.items()}
    return obj


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend-git", required=True)
    ap.add_argument("--tokenizer-git", action="append", default=[], help="LABEL=GITDIR")
    ap.add_argument("--venv", action="append", default=[], help="LABEL=PYTHON")
    ap.add_argument("--work", default="/tmp/trtdiag-matrix")
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--after-fix", action="store_true", help="also run the model.py the tok-model-py fix writes")
    ap.add_argument("--only-tokenizer", action="append", default=[])
    ap.add_argument("--merge-into", help="an existing ground truth: replace its rows of the tokenizers run now, refresh every "
                                         "tokenizer's facts from the files, keep the rest")
    a = ap.parse_args(argv)
    gits = dict(x.split("=", 1) for x in a.tokenizer_git)
    venvs = dict(x.split("=", 1) for x in a.venv)
    toks = build_tokenizers(gits, os.path.join(a.work, "tokenizers"))
    if a.only_tokenizer:
        toks = {k: v for k, v in toks.items() if k in a.only_tokenizer}
    blobs, by_tag = build_models(a.backend_git, os.path.join(a.work, "models"))
    from trtdiag.probes.tokenizer_facts import tokenizer_facts

    for tname, t in toks.items():
        t["facts"] = tokenizer_facts(t["dir"])
    versions = {}
    for label, py in venvs.items():
        r = subprocess.run([py, "-c", "import sys, transformers; print(transformers.__version__, sys.version.split()[0])"],
                           capture_output=True, text=True)
        versions[label] = tuple(r.stdout.split()) if r.returncode == 0 else ("?", "?")
    patched: dict[tuple, dict] = {}
    if a.after_fix:
        from trtdiag.fixes.tokenizer_plan import plan

        for label in venvs:
            tfv, pyv = versions[label]
            for tname, t in toks.items():
                m = patched.setdefault((label, tname), {})
                for blob, b in blobs.items():
                    text = open(b["model_py"]).read()
                    pl = plan(text, t["facts"], "auto", tfv, pyv)
                    if pl["offer"] and pl["text"] != text:
                        p = os.path.join(os.path.dirname(b["model_py"]), f"model_fixed_{label}_{tname.replace('@', '_').replace('+', '_')}.py")
                        with open(p, "w") as fh:
                            fh.write(pl["text"])
                        m[blob] = {"path": p, "needs": pl["needs"]}
    jobs = {}
    results: dict[tuple, dict] = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for label, py in venvs.items():
            for tname, t in toks.items():
                jobs[ex.submit(run_env, label, py, tname, t["dir"], blobs, patched.get((label, tname)))] = (label, tname)
        for f in cf.as_completed(jobs):
            results[jobs[f]] = f.result()
    env_info = {}
    rows = []
    for (label, tname), res in sorted(results.items()):
        env_info[label] = {"python": res.get("python"), "transformers": res.get("transformers"), "interpreter": venvs[label],
                           "stand_in_modules": res.get("stand_in_modules") or []}
        if res.get("error"):
            rows.append({"env": label, "tokenizer": tname, "harness_error": res["error"]})
            continue
        gen = {}
        gp = os.path.join(toks[tname]["dir"], "generation_config.json")
        if os.path.exists(gp):
            gen = json.load(open(gp))
        for c in res["cases"]:
            blob = c["id"].split("+")[0]
            b = blobs[blob]
            row = {"env": label, "python": res.get("python"), "transformers": res.get("transformers"), "tokenizer": tname,
                   "model": b["model"], "tags": b["tags"], "model_py": b["source"], "blob": blob,
                   "variant": "after-fix" if c["id"].endswith("+fix") else "original"}
            row.update({k: v for k, v in c.items() if k not in ("id", "tokenizer")})
            if c["id"].endswith("+fix"):
                row["fix_needs"] = patched[(label, tname)][blob]["needs"]
            if "tokenizer" in c:
                row["tokenizer_facts"] = c["tokenizer"]
            if res.get("stand_in_modules"):
                row["stand_in_modules"] = res["stand_in_modules"]
            if c.get("initialize") == "ok":
                row["wrong_ids"] = rp.compare_ids(c, gen)
            rows.append(normalise(slim(row), toks[tname]["dir"]))
    out = {
        "schema": "trtdiag.tokenizer-ground-truth/1",
        "generated_by": "tools/tokenizer_matrix.py",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "axes": {
            "model_py": {"source": BACKEND, "path": f"{P}/{{preprocessing,postprocessing}}/1/model.py",
                         "tags": sorted(by_tag, key=lambda t: tuple(int(x) for x in t[1:].split("."))),
                         "blobs": {blob: {"model": b["model"], "tags": b["tags"]} for blob, b in blobs.items()},
                         "config": "the same tag's config.pbtxt as JSON; tokenizer_dir set, tokenizer_type='auto'"},
            "tokenizers": {k: {"what": v["what"], "files": v["files"], "frozen": v["frozen"], "facts": normalise(v["facts"], v["dir"])}
                           for k, v in toks.items()},
            "interpreters": env_info,
            "stand_ins": {"triton_python_backend_utils": "trtdiag.probes.tokenizer_replay.STANDIN (not Triton's module)",
                          "modules": "tensorrt always, torch where the venv has none: empty modules (import only)"},
        },
        "rows": rows,
    }
    if a.merge_into:
        old = json.load(open(a.merge_into))
        ran = set(toks)
        every = build_tokenizers(gits, os.path.join(a.work, "tokenizers"))
        for name, t in every.items():
            if name in old["axes"]["tokenizers"]:
                old["axes"]["tokenizers"][name]["facts"] = normalise(tokenizer_facts(t["dir"]), t["dir"])
        for name in ran:
            old["axes"]["tokenizers"][name] = out["axes"]["tokenizers"][name]
        old["rows"] = [r for r in old["rows"] if r["tokenizer"] not in ran] + rows
        old["generated_at"] = out["generated_at"]
        old.setdefault("merged", []).append({"tokenizers": sorted(ran), "at": out["generated_at"]})
        out = old
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=False)
        fh.write("\n")
    print(f"{len(rows)} rows -> {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
