#!/usr/bin/env python3
"""Harvest the CUDA error codes by number and by name, as every layer of the stack prints them, into the
catalogue family ``cuda_error_codes`` (knowledge_base/catalogue/cuda_error_codes.toml) and the table
tools/data/cuda_error_codes.json.

The enums are finite and have sources:

- ``cudaError_t`` (the runtime): each libcudart given with ``--cudart LABEL=libcudart.so.N`` is asked, in
  this process through ctypes, ``cudaGetErrorName`` and ``cudaGetErrorString`` for 0 … 1000 (a lookup in the
  library: no GPU and no driver needed); the header ``driver_types.h`` beside it (``--header``) gives the line
  of each name.
- ``CUresult`` (the driver API): the names and numbers of ``cuda.h`` (``--header``), and what a real driver's
  ``cuGetErrorName`` / ``cuGetErrorString`` say for them (``--driver-json``: the output of
  tools/cuda_driver_error_strings.py run on a machine with that driver).
- ``cublasStatus_t`` / ``cudnnStatus_t``: the names of cublas_api.h and cudnn_ops_infer.h / cudnn_graph.h.

How the layers print them comes from their own sources (``--source LABEL=FILE``, or ``--git
NAME=GITDIR@REF,REF:PATH``): each ``[[cuda_wrapper]]`` of tools/catalogue_rules.toml names the format its
source prints (``find``, which must be in the file) and the template it gives with the error's name, text or
number in place of ``{error}`` / ``{number}``.  Each ``[[cuda_code]]`` says what a code means (an
``entry``, or ``not_failure``); codes no rule claims give no message (generic codes: unknown error, invalid
value …).  A message is written once: a template another family already holds is left to it.

    python tools/harvest_cuda_errors.py --cudart nvidia-cuda-runtime-cu12@12.9.79=…/libcudart.so.12 \\
        --header nvidia-cuda-runtime-cu12@12.9.79:include/driver_types.h=…/driver_types.h … \\
        --driver-json tools/data/cuda_driver_errors-580.159.04.json --source LABEL=FILE …

tools/harvest_cuda_errors.sh names every input.  trtdiag never runs this script.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harvest_messages import OUT, REPO, RULES, binary_strings, toml_value, write_catalogue  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAMILY = "cuda_error_codes"
TABLE = REPO / "tools" / "data" / "cuda_error_codes.json"
ENUMS = {
    # api: (enum header regex of the members, name prefix)
    "runtime": re.compile(r"^\s*(cudaError\w+|cudaSuccess)\s*=\s*(\d+)", re.M),
    "driver": re.compile(r"^\s*(CUDA_(?:ERROR_\w+|SUCCESS))\s*=\s*(\d+)", re.M),
    "cublas": re.compile(r"^\s*(CUBLAS_STATUS_\w+)\s*=\s*(\d+)", re.M),
    "cudnn": re.compile(r"^\s*(CUDNN_STATUS_\w+)\s*=\s*(\d+)", re.M),
}


def cudart_lookup(path: str) -> dict[int, tuple[str, str]]:
    """{code: (cudaGetErrorName, cudaGetErrorString)} from the library itself."""
    lib = ctypes.CDLL(path)
    lib.cudaGetErrorName.restype = ctypes.c_char_p
    lib.cudaGetErrorString.restype = ctypes.c_char_p
    out = {}
    for code in range(0, 1001):
        name = lib.cudaGetErrorName(code).decode()
        if code and (not name.startswith("cudaError") or (name == "cudaErrorUnknown" and code != 999)):
            continue
        out[code] = (name, lib.cudaGetErrorString(code).decode())
    return out


def header_enum(text: str, api: str) -> dict[str, tuple[int, int]]:
    """{name: (number, line)} of the enum members the header defines."""
    out = {}
    for m in ENUMS[api].finditer(text):
        out.setdefault(m.group(1), (int(m.group(2)), text.count("\n", 0, m.start(1)) + 1))
    return out


def load_rules() -> tuple[list[dict], list[dict]]:
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    codes = [c for c in data.get("cuda_code", []) if c.get("family", FAMILY) == FAMILY]
    wrappers = [w for w in data.get("cuda_wrapper", []) if w.get("family", FAMILY) == FAMILY]
    return codes, wrappers


def other_templates() -> set[str]:
    out = set()
    for p in OUT.glob("*.toml"):
        if p.stem == FAMILY:
            continue
        out.update(m["template"] for m in tomllib.loads(p.read_text(encoding="utf-8")).get("messages", []))
    return out


def _escape(text: str) -> str:
    """An error text or name as literal template text (no placeholder of its own)."""
    return text.replace("%", "%%").replace("{", "{{").replace("}", "}}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cudart", action="append", default=[], metavar="LABEL=LIB", help="a libcudart to ask (oldest first)")
    ap.add_argument("--header", action="append", default=[], metavar="LABEL=FILE", help="driver_types.h, cuda.h, cublas_api.h, cudnn headers")
    ap.add_argument("--driver-json", action="append", default=[], metavar="FILE", help="tools/cuda_driver_error_strings.py output")
    ap.add_argument("--source", action="append", default=[], metavar="LABEL=FILE", help="a wrapper's source (text or a shared library)")
    ap.add_argument("--git", action="append", default=[], metavar="NAME=GITDIR@REF,REF:PATH", help="a wrapper's source in a git directory")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--table", default=str(TABLE))
    ap.add_argument("--comment", action="append", default=[])
    args = ap.parse_args(argv)

    # ---- the enums
    runtime: dict[int, dict] = {}  # code -> {name, text, seen: [labels]}
    for spec in args.cudart:
        label, _, path = spec.partition("=")
        for code, (name, text) in cudart_lookup(path).items():
            row = runtime.setdefault(code, {"name": name, "texts": {}, "seen": []})
            row["texts"].setdefault(text, []).append(label)
            row["seen"].append(label)
    headers: dict[str, list[tuple[str, dict]]] = {a: [] for a in ENUMS}
    for spec in args.header:
        label, _, path = spec.partition("=")
        text = Path(path).read_text("utf-8", "replace")
        for api in ENUMS:
            members = header_enum(text, api)
            if members:
                headers[api].append((label, members))
    driver_texts: dict[int, tuple[str, str, str]] = {}
    for f in args.driver_json:
        d = json.loads(Path(f).read_text())
        label = "libcuda@" + re.search(r"\b(\d{3}\.\d+(?:\.\d+)?)\b", d.get("driver", "")).group(1)
        for code, (name, text) in d["codes"].items():
            driver_texts[int(code)] = (name, text, label)

    def member(api: str, name: str):
        """(number, origin, first, seen) of a name in the headers of one API, or None."""
        hits = [(label, m[name]) for label, m in headers[api] if name in m]
        if not hits:
            return None
        label, (num, line) = hits[-1]
        return num, f"{label}:{line}", hits[0][0], len(hits)

    # ---- the wrappers' sources
    sources: dict[str, str] = {}
    for spec in args.source:
        label, _, path = spec.partition("=")
        p = Path(path)
        sources[label] = "\n".join(sorted(binary_strings(p))) if p.suffix != ".txt" and b"\0" in p.read_bytes()[:4096] else p.read_text("utf-8", "replace")
    for spec in args.git:
        name, _, rest = spec.partition("=")
        gitdir, _, refs_path = rest.rpartition("@")
        refs, _, path = refs_path.partition(":")
        for ref in refs.split(","):
            blob = subprocess.run(["git", "--git-dir", gitdir, "show", f"{ref}:{path}"], capture_output=True)
            if blob.returncode == 0:
                sources[f"{name}@{ref}:{path}"] = blob.stdout.decode("utf-8", "replace")

    codes, wrappers = load_rules()
    taken = other_templates()
    all_names = {api: {n for _, m in headers[api] for n in m} for api in ENUMS}
    all_names["runtime"] |= {r["name"] for r in runtime.values()}

    found_wrappers = []
    for w in wrappers:
        where = []
        for label in w["sources"]:
            text = sources.get(label)
            if text is None or w["find"] not in text:
                continue
            line = text.count("\n", 0, text.index(w["find"])) + 1
            # a verbatim excerpt of a stored file, or a library's strings: the origin names no line
            plain = text.startswith(("// excerpt", "# excerpt")) or ":" not in label.split("@", 1)[-1]
            where.append(label if plain else f"{label}:{line}")
        if where:
            found_wrappers.append((w, where))
        else:
            print(f"wrapper not found in its sources: {w['template']!r}", file=sys.stderr)

    rows: list[dict] = []
    table = {"runtime": {}, "driver": {}, "cublas": {}, "cudnn": {}}
    seen_templates: set[str] = set()

    def emit(template: str, origin: str, first: str, seen: int, verdict: dict, note: str | None, fields=None):
        if template in taken or template in seen_templates:
            return
        seen_templates.add(template)
        row = {"template": template, "origin": origin, "first": re.sub(r":\d+$", "", first), "seen": seen}
        row.update(verdict)
        if fields:
            row["fields"] = fields
        if note:
            row["note"] = note
        rows.append(row)

    for c in codes:
        api, name = c["api"], c["name"]
        verdict = {k: c[k] for k in ("entry", "not_failure", "consequence_of", "fatal") if k in c}
        mem = member(api, name)
        if mem is None:
            print(f"code not in the headers: {api} {name}", file=sys.stderr)
            continue
        num, h_origin, h_first, h_seen = mem
        note = c.get("note")
        # the text: the runtime's own (every version that has it) or the driver's
        texts: dict[str, list[str]] = {}
        if api == "runtime" and num in runtime and runtime[num]["name"] == name:
            texts = runtime[num]["texts"]
        elif api == "driver" and num in driver_texts and driver_texts[num][0] == name:
            texts = {driver_texts[num][1]: [driver_texts[num][2]]}
        key = str(num) if api in ("runtime", "driver") else name
        table[api][key] = {"number": num, "name": name, "texts": sorted(texts), "meaning": c.get("entry") or ("not a failure" if c.get("not_failure") else ""), "origin": h_origin}
        # the name alone, unless it is part of a longer name (cudaErrorInvalidDevice / …DeviceFunction)
        if not any(name in other and other != name for names in all_names.values() for other in names):
            emit(_escape(name), h_origin, h_first, h_seen, verdict, note)
        elif c.get("name_alone", True):
            print(f"name is part of a longer one, not matched alone: {name}", file=sys.stderr)
        for text, labels in texts.items():
            if c.get("text_alone"):
                emit(_escape(text), labels[-1], labels[0], len(labels), verdict, note)
        for w, where in found_wrappers:
            takes = w["takes"]
            if "codes" in w and name not in w["codes"]:
                continue
            if takes.split("_")[0] != {"runtime": "runtime", "driver": "driver"}.get(api, api):
                continue
            kind = takes.split("_", 1)[1]
            if kind == "number":
                values = [str(num)]
            elif kind == "name":
                values = [name]
            elif kind == "text" and not c.get("text_alone"):
                values = list(texts)
            else:
                continue
            for v in values:
                t = w["template"].replace("{error}", _escape(v)).replace("{number}", str(num))
                wv = {"entry": w["entry"]} if "entry" in w else verdict  # a wrapper that says more than the code
                emit(t, where[-1], where[0], len(where), wv, w.get("note"), w.get("fields"))

    # the whole runtime table, claimed or not (what each code is called and says, release by release)
    for code, r in sorted(runtime.items()):
        table["runtime"].setdefault(str(code), {"name": r["name"], "texts": sorted(r["texts"]), "meaning": ""})
        table["runtime"][str(code)]["seen"] = [r["seen"][0], r["seen"][-1]]
    for code, (name, text, label) in sorted(driver_texts.items()):
        table["driver"].setdefault(str(code), {"name": name, "texts": [text], "meaning": ""})
    for api in ("cublas", "cudnn"):
        for label, members in headers[api]:
            for name, (num, _) in members.items():
                table[api].setdefault(name, {"number": num, "meaning": ""})["number"] = num
        for c in codes:
            if c["api"] == api and c["name"] in table[api]:
                table[api][c["name"]]["meaning"] = c.get("entry") or "not a failure"

    srcs = [s.partition("=")[0] for s in args.cudart + args.header] + [f"driver strings: {Path(f).name}" for f in args.driver_json]
    srcs += sorted({w for _, where in found_wrappers for w in where})
    path = write_catalogue(FAMILY, rows, srcs, Path(args.out), args.comment)
    text = path.read_text(encoding="utf-8").replace("Generated by tools/harvest_messages.py", "Generated by tools/harvest_cuda_errors.py", 1)
    path.write_text(text, encoding="utf-8")
    Path(args.table).write_text(json.dumps({"sources": srcs, **table}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{path}: {len(rows)} messages; {args.table}: {sum(len(v) for v in table.values())} codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
