#!/usr/bin/env python3
"""Which command-line options each TensorRT-LLM release's build scripts accept, from their sources.

Reads the argparse declarations (``add_argument('--name', …)``) of trtllm-build
(tensorrt_llm/commands/build.py) and of the legacy per-model build.py of 0.5–0.7, from git refs and
from verbatim excerpts of single stored files, and writes trtdiag/data/trtllm_build_options.json:
for each source its origin and option set, and for each pair of consecutive trtllm-build sources the
options removed and added (an option a release no longer has makes argparse stop with
"trtllm-build: error: unrecognized arguments: …").

    python tools/trtllm_build_options.py \\
        --git trtllm-build@v0.7.1=GITDIR@80bc07510ac4:tensorrt_llm/commands/build.py \\
        --git build.py@v0.5.0=GITDIR@ffd5af342a81:examples/llama/build.py \\
        --file trtllm-build@008b2b8d23af95e4e19fa6f354f9c5f6349b2bfc=EXCERPT_DIR/tensorrt_llm/commands/build.py

A label is PROGRAM@REF; the origin written is NVIDIA/TensorRT-LLM@REF:PATH.  Offline; trtdiag never
runs this script (the JSON is checked in).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "trtdiag" / "data" / "trtllm_build_options.json"

# an add_argument call's option strings: '--a', '--b', … at the start of the call
_CALL = re.compile(r"add_argument\(\s*((?:['\"]--?[\w-]+['\"]\s*,?\s*)+)")
_OPT = re.compile(r"['\"](--?[\w-]+)['\"]")
# an excerpt lists the option strings one per line (continuation lines of a call)
_PLUGINS = re.compile(r"cli_plugin_args\s*=\s*\[(.*?)\]", re.S)
_LINE = re.compile(r"^\s*['\"](--[\w-]+)['\"],\s*$")


# reviewed: an option removed whose replacement takes another value (build.py's help for --max_seq_len at
# 008b2b8: "Maximum total length of one request, including prompt and outputs")
MEANING_CHANGED = {
    "--max_output_len": "--max_seq_len (= max_input_len + max_output_len)",
    "--timing_cache": "--input_timing_cache / --output_timing_cache",
}


def options_of(text: str) -> list[str]:
    seen: list[str] = []
    for m in _CALL.finditer(text):
        for o in _OPT.findall(m.group(1)):
            if o not in seen:
                seen.append(o)
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--git", action="append", default=[], metavar="PROG@REF=GITDIR@COMMIT:PATH")
    ap.add_argument("--file", action="append", default=[], metavar="PROG@REF:PATH=FILE",
                    help="a verbatim excerpt; PATH is the file's path in the repository")
    ap.add_argument("--plugins", action="append", default=[], metavar="trtllm-build@REF:PATH=FILE",
                    help="a verbatim excerpt of tensorrt_llm/plugin/plugin.py's cli_plugin_args (each NAME is --NAME)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    sources = []
    for spec in args.git:
        label, where = spec.split("=", 1)
        gitdir, refpath = where.rsplit("@", 1)
        commit, path = refpath.split(":", 1)
        text = subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"],
                              capture_output=True, text=True, check=True).stdout
        prog, ref = label.split("@", 1)
        sources.append({"program": prog, "release": ref,
                        "origin": f"NVIDIA/TensorRT-LLM@{commit}:{path}", "options": options_of(text)})
    for spec in args.file:
        label, file = spec.split("=", 1)
        progref, path = label.split(":", 1)
        prog, ref = progref.split("@", 1)
        text = Path(file).read_text()
        sources.append({"program": prog, "release": ref, "origin": f"NVIDIA/TensorRT-LLM@{ref}:{path}",
                        "excerpt": True, "options": options_of(text)})
    for spec in args.plugins:
        label, file = spec.split("=", 1)
        progref, path = label.split(":", 1)
        prog, ref = progref.split("@", 1)
        text = Path(file).read_text()
        m = _PLUGINS.search(text)
        names = re.findall(r"['\"](\w+)['\"]", m.group(1)) if m else []
        sources.append({"program": prog, "part": "plugin options", "release": ref,
                        "origin": f"NVIDIA/TensorRT-LLM@{ref}:{path}", "excerpt": True,
                        "options": ["--" + n for n in names]})
    plugin_opts = {o for s in sources if s.get("part") for o in s["options"]}
    changes = []
    builds = [s for s in sources if s["program"] == "trtllm-build" and not s.get("part")]
    for a, b in zip(builds, builds[1:]):
        changes.append({"from": a["release"], "to": b["release"],
                        "removed": [o for o in a["options"] if o not in b["options"] and o not in plugin_opts],
                        "now_plugin_options": [o for o in a["options"] if o not in b["options"] and o in plugin_opts],
                        "added": [o for o in b["options"] if o not in a["options"]]})
    plugin_srcs = [s for s in sources if s.get("part")]
    plugin_changes = [{"from": a["release"], "to": b["release"],
                       "removed": [o for o in a["options"] if o not in b["options"]],
                       "added": [o for o in b["options"] if o not in a["options"]]}
                      for a, b in zip(plugin_srcs, plugin_srcs[1:])]
    # the replacement of a removed option: the same name without its use_/enable_ prefix where a later
    # source has it (a plugin or feature switch that became --NAME enable/disable or --NAME DTYPE), and the
    # one rename whose meaning changed, read from the later build.py's help text
    later = {o for s in sources if s["program"] == "trtllm-build" for o in s["options"]}
    renamed = {}
    for c in changes + plugin_changes:
        for o in c["removed"]:
            bare = re.sub(r"^--(?:use_|enable_)", "--", o)
            if bare != o and bare in later:
                renamed[o] = bare
    renamed.update(MEANING_CHANGED)
    data = {
        "comment": "Generated by tools/trtllm_build_options.py from the sources named in each origin; "
                   "excerpt sources list the options of build.py itself (the plugin options of later releases "
                   "come from tensorrt_llm/plugin's add_plugin_argument, not read).",
        "sources": sources,
        "trtllm_build_changes": changes,
        "trtllm_build_plugin_changes": plugin_changes,
        "renamed": renamed,
    }
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n")
    print(f"{args.out}: {len(sources)} sources, {sum(len(s['options']) for s in sources)} options")
    return 0


if __name__ == "__main__":
    sys.exit(main())
