#!/usr/bin/env python3
"""Record real TensorRT plans committed in public repositories as cited facts, not as files.

For every ``*.plan`` / ``*.engine`` / ``*.trt`` blob in the history of each git directory given
(bare mirrors of public GitHub repositories), writes one MANIFEST entry: the source
(``owner/name@commit:path``), size, sha256, the first 256 bytes and the engine section's first
256 bytes and the last 4 bytes as hex (a short excerpt of facts), and what trtdiag's reader
(:mod:`trtdiag.parsers.plan`) decodes from them.  The plans themselves are not committed: tests
rebuild a plan-shaped byte string from the excerpt (tests/test_plan_reader.py).

    python3 tools/harvest_plans.py --out tests/data/engines/plans/MANIFEST.json \\
        [--copy-to DIR] [--shared tests/data/engines/plans] GITDIR...

``--copy-to`` also writes each whole plan to DIR (for the GPU oracle run; never into the
repository).  Plans from the project's shared fixtures (``--shared``) are listed with the source
their own MANIFEST gives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from trtdiag.parsers import plan  # noqa: E402

SUFFIX = re.compile(r"\.(plan|engine|trt)$", re.I)


def git(gitdir: str, *args: str, binary: bool = False):
    p = subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True)
    if p.returncode != 0:
        return None
    return p.stdout if binary else p.stdout.decode()


def repo_name(gitdir: str) -> str:
    # /work/.mirror/owner+name/repo
    base = os.path.basename(os.path.dirname(os.path.abspath(gitdir)))
    return base.replace("+", "/", 1)


def excerpt(data: bytes) -> dict:
    head = data[:256]
    rec = {"head_hex": head.hex(), "engine_prefix_hex": None, "engine_offset": None, "footer_hex": data[-plan.FOOTER:].hex() if len(data) >= 32 + plan.FOOTER else None}
    if head[:4] == plan.MAGIC_FTRT and len(head) >= 32:
        secs, _ = plan.sections_of(head)
        eng = next((s for s in secs if s["name"] == "ENGN"), None)
        if eng and eng["offset"] < len(data):
            rec["engine_offset"] = eng["offset"]
            rec["engine_prefix_hex"] = data[eng["offset"]: eng["offset"] + plan.ENGINE_PREFIX].hex()
    return rec


DECODED_KEYS = ("kind", "layout", "release", "engine_release", "serialization_version", "archive", "sections", "weights_section", "built_on",
                "lean_runtime_embedded", "platform_tag", "platform_tag_text", "platform", "size_field", "size_matches",
                "footer_ok", "confidence", "problems")


def decode(data: bytes) -> dict:
    ex = excerpt(data)
    engine = bytes.fromhex(ex["engine_prefix_hex"]) if ex["engine_prefix_hex"] else None
    footer = bytes.fromhex(ex["footer_hex"]) if ex["footer_hex"] else None
    p = plan.parse(data[:256], len(data), engine, footer)
    return {k: p[k] for k in DECODED_KEYS}


def harvest_repo(gitdir: str) -> list[dict]:
    name = repo_name(gitdir)
    commits = (git(gitdir, "rev-list", "--all", "--reverse") or "").split()
    seen: dict[str, dict] = {}
    for c in commits:
        for line in (git(gitdir, "ls-tree", "-r", "-l", c) or "").splitlines():
            meta, _, path = line.partition("\t")
            parts = meta.split()
            if len(parts) < 4 or parts[1] != "blob" or not SUFFIX.search(path):
                continue
            blob = parts[2]
            if blob in seen:
                continue
            data = git(gitdir, "cat-file", "blob", blob, binary=True)
            if data is None:  # not in the snapshot (files of 4 MiB and more are left out)
                continue
            seen[blob] = {"source": f"{name}@{c}:{path}", "repo": name, "commit": c, "path": path, "blob": blob, "data": data}
    return list(seen.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gitdirs", nargs="*")
    ap.add_argument("--out", required=True)
    ap.add_argument("--copy-to")
    ap.add_argument("--shared", help="folder of whole plans kept in the repository, with a SOURCES.json beside them")
    a = ap.parse_args()
    entries = []
    found = []
    for g in a.gitdirs:
        found.extend(harvest_repo(g))
    if a.shared:
        src = json.load(open(os.path.join(a.shared, "SOURCES.json")))
        for fname, s in sorted(src.items()):
            data = open(os.path.join(a.shared, fname), "rb").read()
            found.append({"source": s["source"], "repo": s["repo"], "commit": s["commit"], "path": s["path"], "blob": None,
                          "data": data, "kept_as": f"tests/data/engines/plans/{fname}"})
    by_sha: dict[str, dict] = {}
    for f in found:
        sha = hashlib.sha256(f["data"]).hexdigest()
        if sha in by_sha:
            by_sha[sha].setdefault("also_at", []).append(f["source"])
            continue
        d = decode(f["data"])
        rel = d["release"] or (f"sv{d['serialization_version']}" if d["serialization_version"] is not None else d["kind"])
        ident = f"{rel}_{f['repo'].split('/')[0]}_{sha[:8]}"
        e = {"id": ident, "source": f["source"], "repo": f["repo"], "commit": f["commit"], "path": f["path"],
             "size": len(f["data"]), "sha256": sha, **excerpt(f["data"]), "decoded": d}
        if f.get("kept_as"):
            e["kept_as"] = f["kept_as"]
        by_sha[sha] = e
        entries.append(e)
        if a.copy_to:
            os.makedirs(a.copy_to, exist_ok=True)
            with open(os.path.join(a.copy_to, ident), "wb") as fh:
                fh.write(f["data"])
    entries.sort(key=lambda e: e["id"])
    doc = {
        "about": "Real TensorRT plans from public repositories: source, size, sha256, a short excerpt of their bytes "
                 "(first 256, the engine section's first 256, the last 4) and what trtdiag.parsers.plan decodes. "
                 "Written by tools/harvest_plans.py; the plans themselves are not kept, except those listed with kept_as.",
        "plans": entries,
    }
    with open(a.out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"{len(entries)} plans -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
