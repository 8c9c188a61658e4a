"""python.packages: the installed distributions of the target interpreter, without importing them.

For the interpreter trtdiag runs in, the ``*.dist-info`` / ``*.egg-info`` directory names on
``sys.path`` are listed (one ``listdir`` per path entry: a few ms, nothing imported).  With
``--python PATH`` the same listing runs in that interpreter as a child process (trtdiag.proc,
with a timeout), so a serving container's virtualenv can be inspected from outside it.

Names are normalised as PEP 503 says (lower case, runs of ``-_.`` become ``-``): ``tensorrt-llm``,
``tensorrt-cu12-libs``.
"""

from __future__ import annotations

import os
import re

from ..core.errors import InputError
from ..core.facts import probe

# Runs in the target interpreter (isolated, -I).  Prints one JSON line.  Standard library only.
LISTING = r'''
import json, os, re, sys
pk, loc = {}, {}
seen = set()
for d in sys.path:
    d = d or "."
    if d in seen or not os.path.isdir(d):
        continue
    seen.add(d)
    try:
        names = os.listdir(d)
    except OSError:
        continue
    for n in names:
        for suf in (".dist-info", ".egg-info"):
            if n.endswith(suf):
                base = n[: -len(suf)]
                name, _, ver = base.partition("-")
                ver = ver.split("-")[0] if ver else None
                key = re.sub(r"[-_.]+", "-", name).lower()
                if key not in pk:
                    pk[key] = ver
                    loc[key] = os.path.join(d, n)
print(json.dumps({"python": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3],
                  "sys_path": [p for p in sys.path if p], "packages": pk, "locations": loc}))
'''


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def listing_here() -> dict:
    """The same code the child runs, here; what it prints is caught by its own ``print`` (never by
    swapping sys.stdout, which other threads — the prefetched probes, the renderer — share)."""
    printed: list[str] = []
    ns: dict = {"print": lambda *a, **k: printed.append(" ".join(str(x) for x in a))}
    exec(compile(LISTING, "<python.packages>", "exec"), ns)
    import json

    return json.loads(printed[-1])


@probe("python.packages")
def python_packages(facts) -> dict:
    target = facts.opt("python")
    if not target:
        return listing_here()
    if not os.path.exists(target):
        raise InputError(f"--python {target}: no such file")
    if os.path.isdir(target):
        raise InputError(f"--python {target}: is a directory, expected a Python interpreter")
    from .. import proc

    data, res = proc.run_python_json(LISTING, python=target, timeout=20)
    if data is None:
        why = "timed out" if res.timed_out else (res.error or (res.stderr.strip().splitlines() or [f"exit {res.returncode}"])[-1])
        raise InputError(f"--python {target}: could not list its packages ({why})")
    return data


def site_dirs(facts) -> list[str]:
    """The target interpreter's sys.path directories (where pip put tensorrt_libs, tensorrt_llm)."""
    data = facts["python.packages"]
    return [p for p in data.get("sys_path", []) if os.path.isdir(p)]
