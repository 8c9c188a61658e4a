#!/usr/bin/env python3
"""Which tokenizer classes each transformers release has (what ``tokenizer_class`` in
tokenizer_config.json may name without auto_map), read from each release itself: every venv
given is asked for ``transformers.models.auto.tokenization_auto.TOKENIZER_MAPPING_NAMES``' classes
and the ``*Tokenizer``/``*TokenizerFast`` names it exports.  Output:
trtdiag/data/transformers_tokenizer_classes.json ({version: [class names]}, with the interpreter).

    python tools/transformers_tokenizer_classes.py --venv /tmp/tm/venv-tf4.31.0-py3.11/bin/python … \
        --out trtdiag/data/transformers_tokenizer_classes.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, transformers
from transformers.models.auto import tokenization_auto as ta
names = set()
for v in ta.TOKENIZER_MAPPING_NAMES.values():
    for x in (v if isinstance(v, (tuple, list)) else (v,)):
        if isinstance(x, str):
            names.add(x)
names |= {n for n in dir(transformers) if n.endswith(("Tokenizer", "TokenizerFast")) or n == "TokenizersBackend"}
print(json.dumps({"version": transformers.__version__, "classes": sorted(names)}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", action="append", default=[])
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    out = {"schema": "trtdiag.transformers-tokenizer-classes/1", "generated_by": "tools/transformers_tokenizer_classes.py",
           "versions": {}}
    for py in a.venv:
        r = subprocess.run([py, "-c", CHILD], capture_output=True, text=True, env={"TRANSFORMERS_VERBOSITY": "error", "PATH": "/usr/bin:/bin"})
        if r.returncode != 0:
            print(f"{py}: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        out["versions"][d["version"]] = d["classes"]
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=0)
        fh.write("\n")
    print(f"{len(out['versions'])} versions -> {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
