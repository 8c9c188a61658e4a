#!/usr/bin/env python3
"""Harvest, from the real preprocessing/postprocessing/BLS model.py of every tensorrtllm_backend
tag v0.5.0 … v0.19.0, every statement that touches the tokenizer or sets an END_ID/PAD_ID-like id,
classified by :func:`trtdiag.derive.tokenizer_model_py.statements`, into
trtdiag/data/model_py_statements.json (cited excerpts ``repo@tag:path:line``; never whole files).

Files identical between tags (same git blob) are analysed once; each entry lists every tag that
ships it.  ``--extra 'SOURCE=PATH'`` adds a file that is not in the clone (TensorRT-LLM's
``triton_backend/`` copy, read as published at SOURCE = ``repo@commit:path``); ``--extra-note``
says what part of it was available.

    python tools/harvest_model_py.py --backend-git /path/tensorrtllm_backend.git \
        --extra 'NVIDIA/TensorRT-LLM@01259b15…:triton_backend/…/preprocessing/1/model.py=/tmp/pre.py' \
        --out trtdiag/data/model_py_statements.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trtdiag.derive import tokenizer_model_py as tm  # noqa: E402

BACKEND = "triton-inference-server/tensorrtllm_backend"
P = "all_models/inflight_batcher_llm"
FILES = (f"{P}/preprocessing/1/model.py", f"{P}/postprocessing/1/model.py", f"{P}/tensorrt_llm_bls/1/model.py",
         f"{P}/tensorrt_llm_bls/1/lib/triton_decoder.py", f"{P}/tensorrt_llm_bls/1/lib/decode.py")


def git(gitdir, *args) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


def tags(gitdir: str) -> list[str]:
    out = git(gitdir, "tag").decode().split()
    sel = [t for t in out if re.fullmatch(r"v0\.(\d+)\.\d+", t) and 5 <= int(t.split(".")[1]) <= 19]
    return sorted(sel, key=lambda t: tuple(int(x) for x in t[1:].split(".")))


def model_of(path: str) -> str:
    return path.split("/")[2] if path.startswith(P) else path.split("/")[-3]


def entry(source_text: str, cite: str) -> dict:
    st = tm.statements(source_text)
    for s in st:
        s["cite"] = f"{cite}:{s['line']}"
    prof = tm.profile(st)
    prof.pop("not_understood", None)
    return {"statements": st, "profile": prof,
            "not_understood": [f"{s['cite']}: {s['excerpt']}" for s in st if s["kind"] == tm.NOT_UNDERSTOOD]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend-git", required=True)
    ap.add_argument("--extra", action="append", default=[], help="SOURCE=PATH")
    ap.add_argument("--extra-note", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    files: dict[str, dict] = {}
    for tag in tags(a.backend_git):
        for path in FILES:
            try:
                blob = git(a.backend_git, "rev-parse", f"{tag}:{path}").decode().strip()
            except subprocess.CalledProcessError:
                continue
            if blob in files:
                files[blob]["tags"].append(tag)
                continue
            text = git(a.backend_git, "show", f"{tag}:{path}").decode("utf-8", "replace")
            files[blob] = {"model": model_of(path), "path": path, "repo": BACKEND, "tags": [tag],
                           **entry(text, f"{BACKEND}@{tag}:{path}")}
    for ex in a.extra:
        source, _, local = ex.rpartition("=")
        repo, _, rest = source.partition("@")
        commit, _, path = rest.partition(":")
        text = open(local, encoding="utf-8").read()
        files[f"{repo}@{commit[:12]}:{path}"] = {"model": model_of(path), "path": path, "repo": repo, "commit": commit, "tags": [],
                                                   "partial": a.extra_note or None, **entry(text, source)}
    n = sum(len(f["statements"]) for f in files.values())
    nu = sum(len(f["not_understood"]) for f in files.values())
    out = {"schema": "trtdiag.model-py-statements/1", "generated_by": "tools/harvest_model_py.py",
           "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "sources": {"repo": BACKEND, "tags": tags(a.backend_git), "paths": list(FILES),
                       "extra": [e.rpartition("=")[0] for e in a.extra], "extra_note": a.extra_note or None},
           "counts": {"files": len(files), "statements": n, "not_understood": nu},
           "files": files}
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"{len(files)} distinct files, {n} statements, {nu} not understood -> {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
