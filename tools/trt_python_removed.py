#!/usr/bin/env python3
"""What the tensorrt Python module of one TensorRT release defines and a later release no longer does, read from
NVIDIA/TensorRT's pybind11 sources (python/src/**/*.cpp) at the tags given: module names (py::class_ / py::enum_
(m, "Name"), m.def / m.attr), enum members (.value("NAME")) and class members (.def / .def_property … ("name") between
one py::class_ and the next).  It prints the knowledge-base signatures of trt-python-api-removed (CPython 3.11's
AttributeError wordings) for review; the entry holds what it printed.

    python tools/trt_python_removed.py --git /path/TensorRT.git --old v8.6.1 --new v10.3.0,v10.13.0
    python tools/trt_python_removed.py --git /path/TensorRT.git --old v10.16 --new v11.0,v11.1

A name counts as removed only when none of the --new tags defines it (where it exists under the same name elsewhere,
e.g. a member moved to a base class, pybind11 would still find it, so it is not removed)."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile

CLASS = re.compile(r'py::class_<[^;]*?>\s*\(\s*m\s*,\s*"(\w+)"', re.S)
ENUM = re.compile(r'py::enum_<[^>]+>\s*\(\s*m\s*,\s*"(\w+)"(.*?);', re.S)
MEMBER = re.compile(r'\.def(?:_property|_property_readonly|_readwrite|_readonly|_static)?\(\s*"(\w+)"')


def sources(git: str, tag: str) -> list[str]:
    blob = subprocess.run(["git", f"--git-dir={git}", "archive", tag, "python/src"], check=True, capture_output=True).stdout
    out = []
    with tarfile.open(fileobj=io.BytesIO(blob)) as tf:
        for m in tf.getmembers():
            if m.isfile() and m.name.endswith(".cpp"):
                out.append(tf.extractfile(m).read().decode("utf-8", "replace"))
    return out


def defined(texts: list[str]) -> tuple[set[str], dict[str, set[str]], dict[str, set[str]]]:
    names: set[str] = set()
    enums: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for s in texts:
        names.update(re.findall(r'm\.def\(\s*"(\w+)"', s))
        names.update(re.findall(r'm\.attr\(\s*"(\w+)"\)', s))
        for m in ENUM.finditer(s):
            names.add(m.group(1))
            enums.setdefault(m.group(1), set()).update(re.findall(r'\.value\(\s*"(\w+)"', m.group(2)))
        starts = [(m.start(), m.group(1)) for m in CLASS.finditer(s)]
        for i, (pos, name) in enumerate(starts):
            names.add(name)
            end = starts[i + 1][0] if i + 1 < len(starts) else len(s)
            members.setdefault(name, set()).update(MEMBER.findall(s[pos:end]))
    return names, enums, members


def removed(git: str, old: str, new: list[str]):
    o = defined(sources(git, old))
    ns = [defined(sources(git, t)) for t in new]
    gone_names = sorted(n for n in o[0] if all(n not in x[0] for x in ns))
    gone_enum = {k: sorted(v for v in vals if all(v not in x[1].get(k, ()) for x in ns))
                 for k, vals in o[1].items() if any(k in x[1] for x in ns)}
    gone_mem = {k: sorted(v for v in vals if not v.startswith("__") and all(v not in x[2].get(k, ()) for x in ns))
                for k, vals in o[2].items() if any(k in x[2] for x in ns)}
    return gone_names, {k: v for k, v in gone_enum.items() if v}, {k: v for k, v in gone_mem.items() if v}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git", required=True)
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True, help="comma-separated tags")
    a = ap.parse_args()
    names, enums, members = removed(a.git, a.old, a.new.split(","))
    cls = r"tensorrt(?:_bindings)?\\.tensorrt\\."
    print(f"# NVIDIA/TensorRT@{a.old} defines, @{a.new.replace(',', ' / @')} do not")
    for k, vals in sorted(enums.items()):
        print("[[signatures]]")
        print(f"regex = \"type object '(?P<cls>{cls}{k})' has no attribute '(?P<attr>(?:{'|'.join(vals)}))'\"")
        print(f'literal = ".tensorrt.{k}\' has no attribute "')
        print("fatal = true\n")
    for k, vals in sorted(members.items()):
        print("[[signatures]]")
        print(f"regex = \"'(?P<cls>{cls}{k})' object has no attribute '(?P<attr>(?:{'|'.join(vals)}))'\"")
        print(f'literal = ".tensorrt.{k}\' object has no attribute "')
        print("fatal = true\n")
    if names:
        print("[[signatures]]")
        print(f"regex = \"module '(?P<cls>tensorrt(?:_bindings)?(?:\\\\.tensorrt)?)' has no attribute '(?P<attr>(?:{'|'.join(names)}))'\"")
        print("literal = \"module 'tensorrt\"")
        print("fatal = true")
    return 0


if __name__ == "__main__":
    sys.exit(main())
