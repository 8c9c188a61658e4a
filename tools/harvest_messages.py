#!/usr/bin/env python3
"""Harvest the messages a deployment can print from the programs that print them, and write the
reviewed ones to knowledge_base/catalogue/<family>.toml.

Works offline on local paths only: git directories (any ref: tags, release branches), plain source
trees, and binaries (shared libraries, or wheels holding them).

    python tools/harvest_messages.py --family tensorrtllm_backend \\
        --git triton-inference-server/tensorrtllm_backend=/path/to/repo.git@v0.5.0,v0.9.0,v0.19.0

    python tools/harvest_messages.py --family triton \\
        --git triton-inference-server/core=/path/core.git@r23.10,r24.05,r25.04 \\
        --git triton-inference-server/server=/path/server.git@v2.40.0,v2.58.0

    python tools/harvest_messages.py --family tensorrt --binary tensorrt-lean@11.4.0.106=/path/libnvinfer_lean.so.11

    python tools/harvest_messages.py --family tensorrt_llm --tree NVIDIA/TensorRT-LLM@v0.16.0=/path/TensorRT-LLM

    python tools/harvest_messages.py --family mpi --help-git open-mpi/ompi=/path/ompi.git@v4.1.6,v5.0.8

    python tools/harvest_messages.py --list-unreviewed --family …    # what no rule claims (for review)

How it works:

1. **Extract.**  C/C++ sources: every string literal of a statement, with literals joined by `+`
   or `<<` around one expression turned into a `{}` placeholder (printf `%d`/`%s` kept as they are);
   `TLLM_CHECK(cond)` becomes ``Assertion failed: cond`` and `TLLM_CHECK_WITH_INFO(cond, "fmt")`
   ``Assertion failed: fmt`` (what TensorRT-LLM's exception prints).  Python sources (through
   ``ast``): string constants and f-strings (``{expr}`` kept) of ``raise`` statements and of calls
   (logger, print, warnings, exceptions), and of assignments to a ``*_message`` / ``*_msg`` name.  Show-help
   files (Open MPI / PRRTE / PMIx ``help-*.txt``, ``--help-git``): each text line of a topic.  Binaries: runs
   of printable characters (like ``strings``).
2. **Review.**  Only messages that a rule in tools/catalogue_rules.toml claims are written: each
   rule is a regular expression over the harvested template and says which knowledge-base entry
   the message belongs to (``entry``), that it is the consequence of one (``consequence_of``), or
   that it is not a failure (``not_failure``, with the reason).  For binaries, whose messages are
   assembled at run time from fragments, a ``[[binary]]`` rule gives the assembled template; it is
   written only when every literal fragment of it is found in the library.
3. **Write.**  One ``[[messages]]`` table per template: ``template``, ``origin`` (the newest
   ``repo@ref:path:line`` or ``library@version``), ``first`` (the oldest ref where it was seen),
   ``seen`` (how many of the refs given hold it), and what the rule says.

The catalogue is data: trtdiag never runs this script; it reads the checked-in TOML
(trtdiag/logscan/templates.py).
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "tools" / "catalogue_rules.toml"
OUT = REPO / "knowledge_base" / "catalogue"

CPP_EXT = (".cc", ".cpp", ".h", ".hpp", ".cu", ".cuh", ".c")
PY_EXT = (".py",)
RS_EXT = (".rs",)  # Rust: string literals read as C-like literals (format!/anyhow!/context)
MIN_LEN = 12  # shorter strings are not messages worth a pattern


@dataclass
class Found:
    template: str
    origin: str  # repo@ref:path:line
    ref_index: int


@dataclass
class Message:
    template: str
    origins: list[tuple[int, str]] = field(default_factory=list)  # (ref index, origin)


# ---------------------------------------------------------------------------------------------
# C / C++

_CPP_TOKEN = re.compile(
    r'(?P<comment>//[^\n]*|/\*.*?\*/)'
    r'|(?P<string>(?:u8|L|u|U)?"(?:\\.|[^"\\\n])*")'
    r'|(?P<raw>R"\((?:.|\n)*?\)")'
    r"|(?P<char>'(?:\\.|[^'\\\n])')"
    r'|(?P<stop>[;{}])'
    r'|(?P<other>[^"\'/;{}R]+|.)',
    re.S,
)
_ESCAPES = {"n": " ", "t": " ", '"': '"', "'": "'", "\\": "\\", "0": ""}
_CHECK = re.compile(r"\b(?:TLLM_CHECK|PLUGIN_ASSERT|CHECK)\s*\(\s*$")
_CHECK_INFO = re.compile(r"\b(?:TLLM_CHECK_WITH_INFO|PLUGIN_CHECK_WITH_INFO|CHECK_WITH_INFO|TLLM_CHECK_DEBUG_WITH_INFO)\s*\(")
_JOIN = re.compile(r"^\s*\)?\s*(?:\+|<<)\s*(?P<expr>[^;]*?)\s*(?:\+|<<)\s*(?:std::string\s*\()?$", re.S)
_TRAIL = re.compile(r"^\s*(?:\+|<<)\s*[\w:.>()\[\]-]+")


def _unescape_c(lit: str) -> str:
    body = lit[lit.index('"') + 1 : -1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _balanced(s: str) -> bool:
    depth = 0
    for c in s:
        depth += c in "([{"
        depth -= c in ")]}"
        if depth < 0:
            return False
    return depth == 0 and "," not in s


def cpp_messages(text: str) -> list[tuple[int, str]]:
    """(line, template) for the messages of one C/C++ file."""
    out: list[tuple[int, str]] = []
    stmt: list[tuple[str, str, int]] = []  # (kind, text, offset)

    def flush():
        if stmt:
            out.extend(_statement_templates(stmt, text))
            stmt.clear()

    for m in _CPP_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "comment":
            continue
        if kind == "stop":
            flush()
            continue
        if kind in ("string", "raw"):
            stmt.append(("string", m.group(), m.start()))
        else:
            if stmt and stmt[-1][0] == "other":
                stmt[-1] = ("other", stmt[-1][1] + m.group(), stmt[-1][2])
            else:
                stmt.append(("other", m.group(), m.start()))
    flush()
    return out


def _statement_templates(stmt, text) -> list[tuple[int, str]]:
    res = []
    full = "".join(t for _, t, _ in stmt)
    start = stmt[0][2]
    # TLLM_CHECK(cond): the condition is the message
    for m in re.finditer(r"\b(TLLM_CHECK|PLUGIN_ASSERT)\s*\(", full):
        depth, i = 1, m.end()
        while i < len(full) and depth:
            depth += full[i] == "("
            depth -= full[i] == ")"
            i += 1
        cond = " ".join(full[m.end() : i - 1].split())
        if cond and '"' not in cond:
            res.append((text.count("\n", 0, start + m.start()) + 1, f"Assertion failed: {cond}"))
    i = 0
    while i < len(stmt):
        kind, tok, off = stmt[i]
        if kind != "string":
            i += 1
            continue
        before = stmt[i - 1][1] if i > 0 and stmt[i - 1][0] == "other" else ""
        parts = [_unescape_c(tok)]
        j = i + 1
        while j < len(stmt):
            if stmt[j][0] == "string":
                parts.append(_unescape_c(stmt[j][1]))
                j += 1
                continue
            between = stmt[j][1]
            if j + 1 < len(stmt) and stmt[j + 1][0] == "string":
                if not between.strip():
                    j += 1
                    continue
                mj = _JOIN.match(between)
                if mj and _balanced(mj.group("expr")):
                    parts.append("{}")
                    j += 1
                    continue
            if _TRAIL.match(between):
                parts.append("{}")
            break
        tmpl = "".join(parts)
        if re.search(r"(?:\+|<<)\s*$", before) and not tmpl.startswith("{}"):
            tmpl = "{}" + tmpl
        if _CHECK_INFO.search(before):
            tmpl = "Assertion failed: " + tmpl
        tmpl = " ".join(tmpl.split()) if "\n" in tmpl else tmpl.strip()
        if len(tmpl) >= MIN_LEN and re.search(r"[A-Za-z]{3}", tmpl):
            res.append((text.count("\n", 0, off) + 1, tmpl))
        i = j
    return res


# ---------------------------------------------------------------------------------------------
# Python


def _py_template(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                try:
                    parts.append("{" + ast.unparse(v.value) + "}")
                except Exception:  # pragma: no cover
                    parts.append("{}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _py_template(node.left), _py_template(node.right)
        if a is None and b is None:
            return None
        return (a if a is not None else "{}") + (b if b is not None else "{}")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _py_template(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _py_template(node.func.value)
    return None


_MSG_NAME = re.compile(r"(?:^|_|err)(?:msg|message|desc)$", re.I)


def py_messages(text: str) -> list[tuple[int, str]]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        args = []
        if isinstance(node, ast.Raise) and node.exc is not None:
            args = node.exc.args if isinstance(node.exc, ast.Call) else [node.exc]
        elif isinstance(node, ast.Call):
            args = list(node.args) + [k.value for k in node.keywords if k.arg in ("msg", "message")]
        elif isinstance(node, ast.Assert) and node.msg is not None:
            args = [node.msg]
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and _MSG_NAME.search(t.id) for t in node.targets):
            # spin_message = f"Building wheel for {name} (setup.py)": printed later; a list of lines
            # (mpi4py's errmsg = ["Cannot {} MPI programs. …", "Installing mpi4py requires …"]) gives each line
            args = list(node.value.elts) if isinstance(node.value, ast.List) else [node.value]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "pop"
                and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            # d.pop('key') without a default: what Python prints when the key is missing
            out.append((node.lineno, f"KeyError: '{node.args[0].value}'"))
        for a in args:
            t = _py_template(a)
            if t and len(t) >= MIN_LEN and re.search(r"[A-Za-z]{3}", t):
                out.append((getattr(a, "lineno", node.lineno), " ".join(t.split())))
    return out


# ---------------------------------------------------------------------------------------------
# binaries

_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{6,}")


def binary_strings(path: Path) -> set[str]:
    data: list[bytes] = []
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if ".so" in n:
                    data.append(z.read(n))
    else:
        data.append(path.read_bytes())
    out: set[str] = set()
    for d in data:
        out.update(m.group().decode("ascii") for m in _PRINTABLE.finditer(d))
    return out


def fragments(template: str) -> list[str]:
    """The literal pieces of a template, between its placeholders."""
    return [p for p in re.split(r"%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcspn]|\{[^{}]*\}", template) if p.strip()]


# ---------------------------------------------------------------------------------------------
# sources


def git_files(gitdir: str, ref: str, exts) -> list[tuple[str, str]]:
    ls = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "--name-only", ref], capture_output=True, text=True, check=True).stdout.split("\n")
    out = []
    for path in ls:
        if not path.endswith(exts) or "/test" in path or path.startswith(("test", "qa/", "docs/", "3rdparty/")):
            continue
        blob = subprocess.run(["git", "--git-dir", gitdir, "show", f"{ref}:{path}"], capture_output=True, check=True).stdout
        out.append((path, blob.decode("utf-8", "replace")))
    return out


def tree_files(root: str, exts) -> list[tuple[str, str]]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "3rdparty", "tests", "test", "docs", "examples")]
        for f in files:
            if f.endswith(exts):
                p = Path(dirpath, f)
                out.append((str(p.relative_to(root)), p.read_text("utf-8", "replace")))
    return out


EXCERPT = re.compile(r"^(?:#|//) excerpt\b")


# ---------------------------------------------------------------------------------------------
# show-help files (Open MPI, PRRTE, PMIx: help-*.txt, printed by orte_show_help / prte_show_help)

HELP_FILE = re.compile(r"(?:^|/)help-[\w.-]+\.txt$")


def help_messages(text: str) -> list[tuple[int, str]]:
    """(line, template) for each text line of a show-help file: one line of the printed message
    (the help system prints a topic's lines as they are, its %s / %d filled in).  Comment lines
    (``#``) and ``[topic]`` headers are skipped; short or letterless lines are not messages."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("#") or re.match(r"^\[[^\]]+\]\s*$", line):
            continue
        t = " ".join(line.split())
        if len(t) >= MIN_LEN and re.search(r"[A-Za-z]{3}", t):
            out.append((n, t))
    return out


def git_help_files(gitdir: str, ref: str) -> list[tuple[str, str]]:
    ls = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "--name-only", ref], capture_output=True, text=True, check=True).stdout.split("\n")
    out = []
    for path in ls:
        if HELP_FILE.search(path) and "/test" not in path:
            blob = subprocess.run(["git", "--git-dir", gitdir, "show", f"{ref}:{path}"], capture_output=True, check=True).stdout
            out.append((path, blob.decode("utf-8", "replace")))
    return out


def harvest_texts(files, label: str, ref_index: int) -> list[Found]:
    """A file whose first line is ``# excerpt …`` (``// excerpt …``) holds statements copied verbatim
    from a stored file that was read in pieces: its origin names the file, not a line."""
    found = []
    for path, text in files:
        msgs = py_messages(text) if path.endswith(PY_EXT) else help_messages(text) if HELP_FILE.search(path) else cpp_messages(text)
        excerpt = bool(EXCERPT.match(text))
        for line, t in msgs:
            found.append(Found(t, f"{label}:{path}" if excerpt else f"{label}:{path}:{line}", ref_index))
    return found


# ---------------------------------------------------------------------------------------------
# review rules and output


def load_rules(family: str) -> tuple[list[dict], list[dict]]:
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    rules = [r for r in data.get("rule", []) if r.get("family", family) == family]
    binaries = [b for b in data.get("binary", []) if b.get("family") == family]
    for r in rules:
        r["_rx"] = re.compile(r["match"])
    return rules, binaries


def verdict_keys(rule: dict) -> dict:
    return {k: rule[k] for k in VERDICT_KEYS if k in rule}


VERDICT_KEYS = ("entry", "proposed_entry", "consequence_of", "not_failure", "fatal", "derive", "fields", "note")


def toml_str(s: str) -> str:
    if "'" not in s and "\n" not in s:
        return "'" + s + "'"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return toml_str(str(v))


def write_catalogue(family: str, rows: list[dict], sources: list[str], out_dir: Path, comments: list[str] = ()) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{family}.toml"
    lines = [
        f"# Message catalogue: {family}.  Generated by tools/harvest_messages.py from:",
        *[f"#   {s}" for s in sources],
        "# and reviewed through tools/catalogue_rules.toml.  Do not edit by hand: change the rules and re-run.",
        *[f"# {c}" for c in comments],
        f'family = "{family}"',
        "",
    ]
    for r in sorted(rows, key=lambda r: (r.get("entry") or r.get("consequence_of") or "~", r["template"])):
        lines.append("[[messages]]")
        for k in ("template", "origin", "first", "seen") + VERDICT_KEYS:
            if k in r:
                lines.append(f"{k} = {toml_value(r[k])}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", required=True, help="catalogue file to write: knowledge_base/catalogue/FAMILY.toml")
    ap.add_argument("--git", action="append", default=[], metavar="NAME=GITDIR@REF,REF", help="a git directory and the refs to read")
    ap.add_argument("--help-git", action="append", default=[], metavar="NAME=GITDIR@REF,REF", help="the show-help files (help-*.txt) of a git directory at the refs")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME@REF=DIR", help="a source tree on disk")
    ap.add_argument("--binary", action="append", default=[], metavar="LIB@VERSION=FILE", help="a shared library or a wheel holding it")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--comment", action="append", default=[], help="a line for the catalogue's header (what the sources are)")
    ap.add_argument("--list-unreviewed", action="store_true", help="print the harvested messages no rule claims, and write nothing")
    args = ap.parse_args(argv)

    rules, binaries = load_rules(args.family)
    found: list[Found] = []
    sources: list[str] = []
    ref_index = 0
    for spec in args.git:
        name, _, rest = spec.partition("=")
        gitdir, _, refs = rest.rpartition("@")
        for ref in refs.split(","):
            found += harvest_texts(git_files(gitdir, ref, CPP_EXT + PY_EXT + RS_EXT), f"{name}@{ref}", ref_index)
            sources.append(f"{name}@{ref}")
            ref_index += 1
    for spec in args.help_git:
        name, _, rest = spec.partition("=")
        gitdir, _, refs = rest.rpartition("@")
        for ref in refs.split(","):
            found += harvest_texts(git_help_files(gitdir, ref), f"{name}@{ref}", ref_index)
            sources.append(f"{name}@{ref} (help files)")
            ref_index += 1
    for spec in args.tree:
        label, _, root = spec.partition("=")
        found += harvest_texts(tree_files(root, CPP_EXT + PY_EXT + RS_EXT), label, ref_index)
        sources.append(label)
        ref_index += 1

    messages: dict[str, Message] = {}
    for f in found:
        messages.setdefault(f.template, Message(f.template)).origins.append((f.ref_index, f.origin))

    rows: list[dict] = []
    unreviewed: list[str] = []
    for t, msg in messages.items():
        rule = next((r for r in rules if r["_rx"].search(t)), None)
        if rule is None:
            unreviewed.append(t)
            continue
        if rule.get("drop"):
            continue
        origins = sorted(msg.origins)
        refs = sorted({i for i, _ in origins})
        row = {"template": t, "origin": origins[-1][1], "first": origins[0][1].rsplit(":", 2)[0], "seen": len(refs)}
        row.update(verdict_keys(rule))
        rows.append(row)

    libs: list[tuple[str, str]] = []
    for spec in args.binary:
        label, _, file = spec.partition("=")
        libs.append((label, "\n".join(binary_strings(Path(file)))))
        sources.append(label)
    for b in binaries if libs else []:
        parts = b.get("parts") or fragments(b["template"])
        where = [label for label, blob in libs if any(p.strip() in blob for p in parts)]
        if parts and all(any(p.strip() in blob for _, blob in libs) for p in parts):
            row = {"template": b["template"], "origin": where[-1], "first": where[0], "seen": len(where)}
            row.update(verdict_keys(b))
            rows.append(row)
        elif args.list_unreviewed:
            print(f"binary rule not found: {b['template']!r}", file=sys.stderr)

    if args.list_unreviewed:
        for t in sorted(unreviewed):
            print(t)
        print(f"{len(unreviewed)} unreviewed, {len(rows)} claimed", file=sys.stderr)
        return 0
    path = write_catalogue(args.family, rows, sources, Path(args.out), args.comment)
    print(f"{path}: {len(rows)} messages ({len(messages)} harvested templates, {len(unreviewed)} not claimed by a rule)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
