#!/usr/bin/env python3
"""Write trtdiag/data/trtexec_options.json: the command-line options each trtexec release accepts.

Read from NVIDIA/TensorRT's samples/common/sampleOptions.cpp at each tag (every option trtexec parses
goes through getAndDelOption / getAndDelOptionWithPosition / getAndDelRepeatedOption / checkEraseOption
with its "--name" literal), and what was removed or added between consecutive releases.

    python3 tools/trtexec_options.py GITDIR [TAG ...]
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

TAGS = ["v8.6.1", "v10.0.1", "v10.4.0", "v10.8.0", "v10.13.0", "v10.16", "v11.1"]
CALL = re.compile(r'\b(?:getAndDelOption\w*|getAndDelRepeatedOption\w*|checkEraseOption\w*|getOption\w*)\(\s*\w+\s*,\s*"(--[A-Za-z][\w-]*)"')
PATH = "samples/common/sampleOptions.cpp"


def options(gitdir: str, tag: str) -> dict[str, int]:
    text = subprocess.run(["git", "--git-dir", gitdir, "show", f"{tag}:{PATH}"], check=True,
                          capture_output=True, text=True).stdout
    found: dict[str, int] = {}
    for m in CALL.finditer(text):
        found.setdefault(m.group(1), text.count("\n", 0, m.start()) + 1)
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    gitdir, tags = argv[0], argv[1:] or TAGS
    per = {t: options(gitdir, t) for t in tags}
    out = {
        "source": f"NVIDIA/TensorRT {PATH} (the option literals its parser removes from the command line)",
        "releases": {t: {"origin": f"NVIDIA/TensorRT@{t}:{PATH}", "options": sorted(o)} for t, o in per.items()},
        "changes": [],
    }
    for a, b in zip(tags, tags[1:]):
        out["changes"].append({"from": a, "to": b,
                               "removed": sorted(set(per[a]) - set(per[b])),
                               "added": sorted(set(per[b]) - set(per[a]))})
    dest = Path(__file__).resolve().parent.parent / "trtdiag" / "data" / "trtexec_options.json"
    dest.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
    print(f"{dest}: {', '.join(f'{t} {len(o)}' for t, o in per.items())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
