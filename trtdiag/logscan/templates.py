"""Log patterns derived from the message catalogue (knowledge_base/catalogue/*.toml).

Each catalogue message is a *template* as its source wrote it: printf (``%d``, ``%zu``, ``%.100s``,
``%r``), fmt / ``str.format`` (``{}``, ``{name}``), Python f-strings (``{expr!r}``).
:func:`template_pattern` turns one into a regular expression over a log line:

- literal text is matched as written, with every run of spaces matching 1–8 spaces or tabs;
- placeholders become typed captures with bounded lengths (integers ``-?\\d{1,20}``, hex, floats,
  strings of at most 240 characters that never run across the start of the literal after them),
  named from the catalogue's ``fields`` or the f-string's own name;
  a placeholder at the start is dropped (the search is not anchored), one at the end captures the
  rest of the line up to a bound;
- so a pattern is a sequence of literals and single bounded repeats: no nested quantifier, no
  unbounded repeat, linear in the line's length for each start position the prefilter lets through.

What logs do to text is undone on the candidate line before matching (:func:`normalize`):
terminal colour and other control sequences are removed, JSON string escapes (``doesn\\'t``,
``\\"``, ``\\n``) are unescaped; timestamps, level prefixes and ``::`` prefixes need nothing (the
search is not anchored and ``%s`` takes ``::cudaMallocAsync(…)`` as well as a name).  A message
wrapped over two lines is matched on the line and the next one joined by a space (explain.py).

The prefilter literal of a template is its longest literal piece without quotes or backslashes
(so that JSON escaping cannot hide it).  ``specificity`` is the number of literal characters: the
matcher ranks a more specific message above a less specific one on the same line.

Run-time code reads only the checked-in catalogue; tools/harvest_messages.py writes it.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STRING_MAX = 240  # characters a string placeholder may take
TAIL_MAX = 240  # characters a trailing placeholder captures

_PRINTF = r"%(?:\((?P<pname>\w+)\))?[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t|L|q)?(?P<conv>[diouxXeEfFgGcsSprRaA])"
_FMT = r"\{(?P<fexpr>[^{}]*)\}"
_TOKEN = re.compile(rf"(?P<pct>%%)|(?P<lb>\{{\{{)|(?P<rb>\}}\}})|(?P<printf>{_PRINTF})|(?P<fmt>{_FMT})")
_QUOTES = re.compile(r"""['"`\\]""")

_INT = r"-?\d{1,20}"
_HEX = r"(?:0[xX])?[0-9a-fA-F]{1,16}"
_FLOAT = r"-?(?:\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})(?:[eE][-+]?\d{1,3})?"


def _kind(conv: str | None) -> str:
    if conv is None:
        return "str"
    if conv in "diouc":
        return "int" if conv != "c" else "str"
    if conv in "xXp":
        return "hex"
    if conv in "eEfFgGaA":
        return "float"
    return "str"


def parse_template(template: str) -> list[tuple[str, str, str | None]]:
    """The template as pieces: ("lit", text, None) or ("ph", kind, name)."""
    out: list[tuple[str, str, str | None]] = []
    pos = 0
    lit: list[str] = []
    for m in _TOKEN.finditer(template):
        lit.append(template[pos : m.start()])
        pos = m.end()
        if m.group("pct"):
            lit.append("%")
            continue
        if m.group("lb"):
            lit.append("{")
            continue
        if m.group("rb"):
            lit.append("}")
            continue
        if lit and "".join(lit):
            out.append(("lit", "".join(lit), None))
        lit = []
        if m.group("printf"):
            out.append(("ph", _kind(m.group("conv")), m.group("pname")))
        else:
            expr = (m.group("fexpr") or "").split("!")[0].split(":")[0].strip()
            name = expr if re.fullmatch(r"[A-Za-z_]\w{0,40}", expr or "") else None
            out.append(("ph", "str", name))
    lit.append(template[pos:])
    if "".join(lit):
        out.append(("lit", "".join(lit), None))
    return out


def _lit_regex(text: str) -> str:
    parts = re.split(r"(\s+)", text)
    return "".join("[ \\t]{1,8}" if p and p.isspace() else re.escape(p) for p in parts)


def _group_name(name: str | None, used: set[str]) -> str | None:
    if not name or not re.fullmatch(r"[A-Za-z_]\w*", name) or name.startswith("_"):
        return None
    n, k = name, 2
    while n in used:
        n, k = f"{name}_{k}", k + 1
    used.add(n)
    return n


def template_pattern(template: str, fields: list[str] | None = None) -> dict[str, Any] | None:
    """{"regex", "literal", "specificity", "tail_group"} for one template, or None when it has no
    literal piece long enough to prefilter on (six characters)."""
    pieces = parse_template(template)
    while pieces and pieces[0][0] == "ph":  # leading placeholders: the search is not anchored
        pieces.pop(0)
        if fields:
            fields = fields[1:]
    # strip spaces at the ends of the literal text (log prefixes and line ends vary)
    if pieces and pieces[0][0] == "lit":
        pieces[0] = ("lit", pieces[0][1].lstrip(), None)
    if pieces and pieces[-1][0] == "lit":
        pieces[-1] = ("lit", pieces[-1][1].rstrip(), None)
    lits = [p[1] for p in pieces if p[0] == "lit"]
    cands = [c for t in lits for c in _QUOTES.split(t)]
    cands = [c.strip(" ") for c in cands]
    literal = max(cands, key=len, default="")
    if len(literal) < 6:
        return None
    used: set[str] = set()
    fi = 0
    rx: list[str] = []
    tail_group = None
    for i, (kind, val, name) in enumerate(pieces):
        if kind == "lit":
            rx.append(_lit_regex(val))
            continue
        fname = None
        if fields is not None and fi < len(fields):
            fname = fields[fi] or None
        elif name:
            fname = name
        fi += 1
        gname = _group_name(fname, used)
        last = i == len(pieces) - 1
        if val == "int":
            body = _INT
        elif val == "hex":
            body = _HEX
        elif val == "float":
            body = _FLOAT
        elif last:
            # at the end: a value up to the next space (a version, a name, an exception class)
            body = f"[^\\s,;]{{1,{TAIL_MAX}}}"
        else:
            # inside: any characters up to the literal that follows, never across its start (a
            # tempered token): the split of a line between placeholders is unique, so a pattern
            # cannot backtrack through combinations of placeholder lengths
            nxt = pieces[i + 1][1] if i + 1 < len(pieces) and pieces[i + 1][0] == "lit" else ""
            stop = _lit_regex(nxt.lstrip()[:6]) if nxt.strip() else ""
            if nxt[:1].isspace():
                stop = "[ \\t]" + (stop and f"{{1,8}}{stop}")
            body = f"(?:(?!{stop}).){{0,{STRING_MAX}}}" if stop else f"[^\\s]{{0,{STRING_MAX}}}"
        if last and val != "str":
            pass
        if gname:
            rx.append(f"(?P<{gname}>{body})")
            if last:
                tail_group = gname
        else:
            if last and val == "str":
                continue  # an unnamed trailing string adds nothing to the match
            rx.append(f"(?:{body})")
    return {
        "regex": "".join(rx),
        "literal": literal,
        "specificity": sum(len(t.strip()) for t in lits),
        "tail_group": tail_group,
    }


# ----------------------------------------------------------------------------------------------
# what logs do to text

_ANSI = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    rb"|\x1b\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, clipboard writes (52)
    rb"|\x1b[PX^_][^\x1b]{0,4096}(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    rb"|\x1b[@-Z\\-_]"  # other two-byte escapes
    rb"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    rb"|\\u001[bB]\[[0-?]*[ -/]*[@-~]"  # a colour code JSON-escaped
)
_JSON_ESC = re.compile(rb'\\(["\'\\/nrt])')
_JSON_MAP = {b'"': b'"', b"'": b"'", b"\\": b"\\", b"/": b"/", b"n": b" ", b"r": b" ", b"t": b" "}


def normalize(line: bytes) -> bytes:
    """A candidate log line as the program printed it: control sequences removed, JSON string
    escapes undone.  Lines without ESC or backslash are returned as they are (the common case)."""
    if b"\x1b" in line or b"\x9b" in line or b"\\u001" in line:
        line = _ANSI.sub(b"", line)
    if b"\\" in line:
        line = _JSON_ESC.sub(lambda m: _JSON_MAP[m.group(1)], line)
    return line


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Text safe to echo on a terminal: escape sequences removed, other control characters (and
    bidirectional overrides) shown as U+FFFD."""
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub(b"", text.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")
    return _CONTROL.sub("\ufffd", text)


# ----------------------------------------------------------------------------------------------
# the catalogue


def catalogue_dir() -> Path | None:
    from ..core.kb import kb_dir

    try:
        d = kb_dir() / "catalogue"
    except FileNotFoundError:
        return None
    return d if d.is_dir() else None


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple[dict[str, Any], ...]:
    """Every catalogue message, with its family (the file it comes from)."""
    d = catalogue_dir()
    if d is None:
        return ()
    out = []
    for path in sorted(d.glob("*.toml")):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        fam = data.get("family", path.stem)
        for m in data.get("messages", []):
            out.append(dict(m, family=fam))
    return tuple(out)


def catalogue_signatures(entry_ids: Iterable[str], messages: Iterable[dict] | None = None) -> list[dict[str, Any]]:
    """Signatures (the shape of knowledge-base ``[[signatures]]``, plus ``entry``, ``specificity``,
    ``tail_group`` and ``origin``) for the catalogue messages that name a known entry."""
    ids = set(entry_ids)
    out = []
    for m in catalogue() if messages is None else messages:
        if m.get("derive") is False or m.get("not_failure") or m.get("proposed_entry"):
            continue
        target = m.get("entry") or m.get("consequence_of")
        if target not in ids:
            continue
        pat = template_pattern(m["template"], m.get("fields"))
        if pat is None:
            continue
        consequence = "consequence_of" in m and "entry" not in m
        out.append({
            "entry": target,
            "regex": pat["regex"],
            "literal": pat["literal"],
            "fatal": False if consequence else bool(m.get("fatal", True)),
            "cascade": consequence,
            "specificity": pat["specificity"],
            "tail_group": pat["tail_group"],
            "origin": m.get("origin", ""),
        })
    return out
