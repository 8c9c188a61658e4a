#!/usr/bin/env python3
"""Generate trtdiag/data/llmargs/<release>.json: the LlmArgs schema of a TensorRT-LLM release.

Reads the release's own ``tensorrt_llm/llmapi/llm_args.py`` (and, when given, ``commands/serve.py``
for the trtllm-serve options) as text and parses it with trtdiag.derive.llmargs_schema (Python's
ast; nothing is imported).  Every field keeps its place as ``REPO@COMMIT:PATH:LINE``.

    python3 tools/harvest_llmargs.py --release 1.2 --repo NVIDIA/TensorRT-LLM --commit <sha> \\
        --llm-args /path/to/TensorRT-LLM/tensorrt_llm/llmapi/llm_args.py \\
        [--serve /path/to/TensorRT-LLM/tensorrt_llm/commands/serve.py] [--out trtdiag/data/llmargs]

or from a git checkout / bare mirror at a tag:

    python3 tools/harvest_llmargs.py --release 1.2 --git-dir TensorRT-LLM.git --ref v1.2.0
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trtdiag.derive.llmargs_schema import flatten, parse_source  # noqa: E402
from trtdiag.derive.serve_launch import options_from_source  # noqa: E402

LLM_ARGS = "tensorrt_llm/llmapi/llm_args.py"
SERVE = "tensorrt_llm/commands/serve.py"


def serve_options(text: str) -> list[dict]:
    return options_from_source(text)


def git_show(git_dir: str, ref: str, path: str) -> str | None:
    r = subprocess.run(["git", "--git-dir", git_dir, "show", f"{ref}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def build(release: str, repo: str, commit: str, llm_args_text: str, serve_text: str | None, symbolic: bool = False) -> dict:
    """``symbolic``: the text is an excerpt of the file's declarations (not the file itself), so its
    line numbers are not the file's: each field is cited as ``REPO@COMMIT:PATH:Class.field``."""
    schema = parse_source(llm_args_text)
    where = f"{repo}@{commit}:{LLM_ARGS}"
    for name, m in schema["models"].items():
        m["source"] = f"{where}:{name}" if symbolic else f"{where}:{m['line']}"
        if symbolic:
            m.pop("line", None)
        for fname, f in m["fields"].items():
            owner = f.get("inherited_from") or name
            f["source"] = f"{where}:{owner}.{fname}" if symbolic else f"{where}:{f['line']}"
            if symbolic:
                f.pop("line", None)
    if symbolic and schema.get("merge"):
        schema["merge"].pop("line", None)
    out = {"release": release, "source": {"repo": repo, "commit": commit, "path": LLM_ARGS,
                                          "form": "declarations excerpt" if symbolic else "whole file"},
           "generated_by": "tools/harvest_llmargs.py", **schema, "paths": len(flatten(schema))}
    if serve_text:
        out["serve_options"] = [dict(o, source=f"{repo}@{commit}:{SERVE}:{o['line']}") for o in serve_options(serve_text)]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--release", required=True, help="table name: 1.0, 1.1, 1.2, main …")
    p.add_argument("--repo", default="NVIDIA/TensorRT-LLM")
    p.add_argument("--commit", help="the commit the files are from (recorded with every field)")
    p.add_argument("--llm-args", help="path of llm_args.py")
    p.add_argument("--serve", help="path of commands/serve.py")
    p.add_argument("--git-dir", help="a git directory to read both files from at --ref")
    p.add_argument("--ref", help="tag or commit for --git-dir")
    p.add_argument("--symbolic", action="store_true",
                   help="--llm-args is an excerpt of the declarations: cite Class.field instead of line numbers")
    p.add_argument("--out", default=os.path.join("trtdiag", "data", "llmargs"))
    p.add_argument("--serve-only", action="store_true",
                   help="harvest only the trtllm-serve options of --serve into trtdiag/data/serve_options/<release>.json")
    a = p.parse_args(argv)
    if a.serve_only:
        if not a.serve or not a.commit:
            p.error("--serve-only needs --serve and --commit")
        opts = serve_options(open(a.serve, encoding="utf-8").read())
        where = f"{a.repo}@{a.commit}:{SERVE}"
        data = {"release": a.release, "source": {"repo": a.repo, "commit": a.commit, "path": SERVE,
                                                "form": "declarations excerpt" if a.symbolic else "whole file"},
                "generated_by": "tools/harvest_llmargs.py --serve-only",
                "options": [dict({k: v for k, v in o.items() if not (a.symbolic and k == "line")},
                                 source=f"{where}:serve:{o['names'][0]}" if a.symbolic else f"{where}:{o['line']}") for o in opts]}
        out = a.out if a.out != os.path.join("trtdiag", "data", "llmargs") else os.path.join("trtdiag", "data", "serve_options")
        os.makedirs(out, exist_ok=True)
        dest = os.path.join(out, f"{a.release}.json")
        with open(dest, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True, default=str)
            f.write("\n")
        print(f"{dest}: {len(data['options'])} options")
        return 0
    if a.git_dir:
        if not a.ref:
            p.error("--git-dir needs --ref")
        llm_text = git_show(a.git_dir, a.ref, LLM_ARGS)
        serve_text = git_show(a.git_dir, a.ref, SERVE)
        commit = subprocess.run(["git", "--git-dir", a.git_dir, "rev-parse", a.ref], capture_output=True, text=True).stdout.strip()
        if llm_text is None:
            print(f"{a.ref}: no {LLM_ARGS} (this release has no LLM-API YAML)", file=sys.stderr)
            return 1
    else:
        if not a.llm_args or not a.commit:
            p.error("give --llm-args and --commit, or --git-dir and --ref")
        with open(a.llm_args, encoding="utf-8") as f:
            llm_text = f.read()
        serve_text = open(a.serve, encoding="utf-8").read() if a.serve else None
        commit = a.commit
    data = build(a.release, a.repo, commit, llm_text, serve_text, symbolic=a.symbolic)
    os.makedirs(a.out, exist_ok=True)
    dest = os.path.join(a.out, f"{a.release}.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True, default=str)
        f.write("\n")
    print(f"{dest}: {len(data['models'])} models, {data['paths']} paths, root {data['root']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
