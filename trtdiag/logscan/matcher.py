"""Recognise known failures in logs: the matcher behind ``trtdiag explain``.

Logs are often gigabytes of verbose TensorRT output with the one line that matters somewhere in
the middle.  The matcher therefore works in three stages and constant memory:

Signatures come from two places: the knowledge base's hand-written ``[[signatures]]`` and the
message catalogue (knowledge_base/catalogue/*.toml: every message the stack's sources print, with
the entry it belongs to), whose templates trtdiag/logscan/templates.py turns into patterns.

1. **Prefilter.**  Every signature has a ``literal``: a substring that every line its regex
   matches must contain (given in the entry, or derived from the regex by
   :func:`required_literals`; never one holding a quote, which JSON escaping would hide).  Only
   lines holding one of these literals go further.  The scan for them runs over binary chunks of
   the file, never over decoded lines: through ripgrep when it is installed (``rg -F``, one child
   process per log), else GNU ``grep -F`` (split over the CPUs for large files), both reading the
   log's file descriptor; or, for small logs, pipes without either and gzip-compressed logs, in
   Python with ``bytes.find`` per literal per 4 MiB chunk.  The child's address space is limited
   (``CHILD_MEMORY``): a line too long for it (a 1 GiB line, a file of NULs) makes it fail, and the
   log is scanned again by the Python prefilter, whose memory does not depend on line length.
2. **Confirm.**  A candidate line is matched only within ``MATCH_WINDOW`` bytes around each
   literal it holds (the evidence says when a line was cut), after :func:`normalize` removed
   terminal escapes and JSON string escaping; only the signatures whose literal it holds run their
   regular expression (on bytes).  Every pattern is a sequence of literals and bounded repeats
   (tests/test_explain_linear.py times each on a 1 MB adversarial line).  A message wrapped onto
   the next line is matched on both lines joined.  When two entries match the same text, the one
   whose match lies inside the other's and is less specific is dropped (``No space left on
   device`` inside Python backend's shared-memory message is not a full disk).
3. **Aggregate.**  Each knowledge-base entry is reported once: how many lines matched, the first
   and last place (``file:line``), the values pulled out of the first match (named groups:
   ``expected``, ``found`` …) and the first few evidence lines.

:func:`rank` orders the results so that the root cause comes first: an entry that the knowledge
base names as a consequence of another entry seen (``consequence_of``) comes after it; then an
entry matched by a fatal signature beats one matched only by non-fatal (cascade or warning)
signatures; among equals the earlier first occurrence wins, and on the same line the more
specific match.  Entry ids never decide.

Set ``TRTDIAG_EXPLAIN_ENGINE=python`` (or ``grep``, ``rg``) to force one prefilter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable

from .templates import clean_text, normalize

CHUNK = 4 << 20  # bytes read at a time
MAX_LINE = 1 << 20  # a "line" longer than this is cut (binary garbage in a log)
MATCH_WINDOW = 8192  # bytes of a long line around a literal that the regexes see
CHILD_MEMORY = 64 << 20  # address space of the prefilter child (rg / grep): a few MB are used
PIECE = 64 << 10  # longest line the child is given when trtdiag feeds it (_scan_pumped)
GREP_MIN_SIZE = 4 << 20  # smaller logs are scanned in Python: no child process for a 2 kB log
PARALLEL_MIN_SIZE = 32 << 20  # bytes per grep when a large file is split over several CPUs
EVIDENCE_LINES = 3  # lines kept per finding
EVIDENCE_WIDTH = 400  # characters kept per evidence line

if sys.version_info >= (3, 11):
    import re._constants as _sre_c  # type: ignore[import-not-found]
    import re._parser as _sre_parse  # type: ignore[import-not-found]
else:  # pragma: no cover
    import sre_constants as _sre_c
    import sre_parse as _sre_parse


# --------------------------------------------------------------------------------------------
# literals a regex requires


def required_literals(regex: str) -> list[str]:
    """The literal strings that every match of ``regex`` contains, longest first.

    Walks the parsed expression: runs of plain characters at the top level, and inside groups and
    repeats that must occur at least once, are required; anything under an alternation, an
    optional repeat or a character class is not.  A case-insensitive regex requires no literal
    (the prefilter is case-sensitive) and yields ``[]``.
    """
    parsed = _sre_parse.parse(regex)
    if parsed.state.flags & _sre_c.SRE_FLAG_IGNORECASE:
        return []
    runs: list[str] = []
    _walk(list(parsed), runs)
    return sorted({r for r in runs if r}, key=lambda r: (-len(r.encode()), r))


def _walk(items: list, runs: list[str]) -> None:
    cur: list[str] = []
    for op, av in items:
        if op is _sre_c.LITERAL:
            cur.append(chr(av))
            continue
        runs.append("".join(cur))
        cur = []
        if op is _sre_c.SUBPATTERN:
            flags_on = av[1] if len(av) > 1 else 0
            if not (flags_on & _sre_c.SRE_FLAG_IGNORECASE):
                _walk(list(av[-1]), runs)
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, getattr(_sre_c, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av
            if lo >= 1:
                _walk(list(sub), runs)
        elif op is getattr(_sre_c, "ATOMIC_GROUP", None):
            _walk(list(av), runs)
        # BRANCH, IN, ANY, AT, GROUPREF, ASSERT…: nothing required (or zero-width)
    runs.append("".join(cur))


def _core_end(sig, m) -> int:
    """Where a match's own text ends: before a trailing capture (the nested message a wrapper
    such as "failed to load 'x' version 1: %s" carries is not part of the wrapper)."""
    if sig.tail_group:
        try:
            s = m.start(sig.tail_group)
            if s != -1:
                return s
        except (IndexError, error_type):
            pass
    return m.end()


error_type = re.error


def _innermost_dropped(found: list, follows: dict | None = None) -> list:
    """The same text cannot be two failures.  Among the matches of one line, drop
    - a match inside a more specific match of another entry (``No space left on device`` inside
      the Python backend's shared-memory message);
    - a consequence's match (a cascade signature) inside a root cause's match;
    - but where the inner entry is a declared cause of the outer one (``consequence_of``), the
      outer one: the line is the cause's (``unable to find backend library for backend
      '${triton_backend}'`` is an unfilled placeholder, not a missing backend).
    Everything else is kept, in order."""
    if len(found) < 2:
        return found
    follows = follows or {}
    drop: set[int] = set()
    for k, (sig, m, text, end) in enumerate(found):
        for j, (s2, m2, t2, e2) in enumerate(found):
            if j == k or s2.entry_id == sig.entry_id or t2 != text:
                continue
            # the inner match is where its literal is (a regex may start with ^.* or end with .*)
            a = text.find(sig.literal, m.start(), m.end())
            a, b = (a, a + len(sig.literal)) if a != -1 else (m.start(), m.end())
            inside_core = m2.start() <= a and b <= max(e2, m2.start())
            inside = m2.start() <= a and b <= m2.end()
            if not inside:
                continue
            if sig.entry_id in follows.get(s2.entry_id, ()):
                drop.add(j)  # the outer message is the inner cause's consequence
            elif inside_core and s2.specificity > sig.specificity and (s2.fatal or not sig.fatal):
                drop.add(k)
            elif sig.cascade and s2.fatal and not s2.cascade:
                drop.add(k)
    return [f for i, f in enumerate(found) if i not in drop]


# --------------------------------------------------------------------------------------------
# compiled signatures


@dataclass
class Signature:
    entry_id: str
    index: int
    regex: re.Pattern
    literal: bytes
    fatal: bool
    cascade: bool = False  # a consequence of another failure (only with fatal=False)
    specificity: int = 0  # literal characters the pattern requires
    tail_group: str | None = None  # a trailing capture, not part of the message's own text
    origin: str = ""  # where the message comes from (catalogue signatures)


@dataclass
class Hit:
    """One knowledge-base entry seen in the logs."""

    entry_id: str
    count: int = 0
    fatal: bool = False
    cascade_only: bool = True  # every matching line was a cascade signature's
    first: tuple[int, str, int] = (0, "", 0)  # (source index, source name, line)
    first_fatal: tuple[int, str, int] | None = None
    last: tuple[int, str, int] = (0, "", 0)
    fields: dict[str, str] = field(default_factory=dict)
    lines: list[tuple[str, int, str]] = field(default_factory=list)
    specificity: int = 0  # of the most specific match
    follows: tuple[str, ...] = ()  # entries this one is a consequence of ("*": any fatal one)
    cut: bool = False  # an evidence line was cut

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry_id,
            "count": self.count,
            "fatal": self.fatal,
            "cascade_only": self.cascade_only,
            "first": f"{self.first[1]}:{self.first[2]}",
            "last": f"{self.last[1]}:{self.last[2]}",
            "fields": self.fields,
            "lines": [{"source": s, "line": n, "text": t} for s, n, t in self.lines],
        }


_QUOTE_RE = re.compile(r"""['"`\\]""")


# Triton's tables (the model-status table: "| model | version | status |", common/src/table_printer.cc)
# cut a cell longer than its column's share at that width, mid-word, and print the rest on rows whose
# other cells are empty: "| m | 1 | UNAVAILABLE: … No such f |" then "|   |   | ile or directory |".
_TABLE_CONT = re.compile(rb"^\|(?:[ ]+\|)+ (.*?)[ ]*\|$")


def _join_next(text: bytes, next_line: bytes) -> bytes:
    """A candidate line and the next one, as one text: a table row and its continuation row joined
    as the cell's text was before the table cut it; other lines joined with a space."""
    nxt = normalize(next_line[:MATCH_WINDOW].strip())
    if text.endswith(b" |"):
        m = _TABLE_CONT.match(nxt)
        if m is not None:
            return text[:-2] + m.group(1)
    return text + b" " + nxt


def _prefilter_literal(literal: str | None, regex: str) -> str | None:
    """The literal to search for: the given one (or the longest the regex requires), but never
    one holding a quote or backslash, which JSON-escaped logs print as \\' or \\\"."""
    runs = required_literals(regex)
    lit = literal or (runs[0] if runs else None)
    if lit and _QUOTE_RE.search(lit):
        pieces = [p.strip(" ") for r in ([lit] + runs) for p in _QUOTE_RE.split(r)]
        best = max(pieces, key=len, default="")
        lit = best if len(best) >= 6 else lit
    return lit


class Matcher:
    """All signatures of a set of knowledge-base entries (their own and the catalogue's), grouped
    by prefilter literal."""

    def __init__(self, entries: Iterable[dict[str, Any]], catalogue: bool = True, keys: bool = True):
        entries = list(entries)
        self.signatures: list[Signature] = []
        self.follows: dict[str, tuple[str, ...]] = {}
        by_literal: dict[bytes, list[Signature]] = {}
        sigs: list[tuple[str, int, dict]] = []
        for entry in entries:
            self.follows[entry["id"]] = tuple(entry.get("consequence_of") or ())
            for i, sig in enumerate(entry.get("signatures") or []):
                sigs.append((entry["id"], i, sig))
        if catalogue:
            from .templates import catalogue_signatures

            for j, sig in enumerate(catalogue_signatures(self.follows)):
                sigs.append((sig["entry"], 1000 + j, sig))
        for entry_id, i, sig in sigs:
            literal = _prefilter_literal(sig.get("literal"), sig["regex"])
            if not literal:
                raise ValueError(f"{entry_id}: signature {i} needs a 'literal' (its regex requires none)")
            # spaces at the ends of a literal cost the multi-pattern search much (they are the
            # commonest byte) and add no selectivity: search for the literal without them
            literal = literal.strip(" ") or literal
            spec = sig.get("specificity")
            if spec is None:
                spec = sum(len(r.strip()) for r in required_literals(sig["regex"]))
            s = Signature(entry_id, i, re.compile(sig["regex"].encode("utf-8")), literal.encode("utf-8"),
                          bool(sig.get("fatal", True)), bool(sig.get("cascade", False)), int(spec),
                          sig.get("tail_group"), sig.get("origin", ""))
            self.signatures.append(s)
            by_literal.setdefault(s.literal, []).append(s)
        # shorter literals first is irrelevant for correctness; keep a stable order
        self.groups: list[tuple[bytes, list[Signature]]] = sorted(by_literal.items())
        self.literals: list[bytes] = [lit for lit, _ in self.groups]
        # what the prefilter searches for: fewer strings than literals, every literal holds one
        self.keys: list[bytes] = _prefilter_keys(self.literals) if keys else list(self.literals)
        # the index is of the literals without their digits, and a line is looked up without its
        # digits: a line holding a literal holds it digits-less too, so nothing is skipped that the
        # line holds; and lines that differ only in numbers (timestamps, pids, ranks, sizes: most
        # of a long log's repeats) share one lookup, kept in _seen
        self._grams, self._short = _gram_index([lit.translate(None, _DIGITS) for lit in self.literals])
        self._seen: dict[bytes, list[int]] = {}
        self.hits: dict[str, Hit] = {}
        self.bytes_scanned = 0
        self.candidates = 0

    def _fork(self) -> "Matcher":
        """The same signatures with no hits: a scan that may be abandoned and redone."""
        m = object.__new__(Matcher)
        m.__dict__.update(self.__dict__)
        m.hits, m.bytes_scanned, m.candidates = {}, 0, 0
        m._seen = {}
        return m

    def _merge(self, other: "Matcher") -> None:
        self.bytes_scanned += other.bytes_scanned
        self.candidates += other.candidates
        for eid, h in other.hits.items():
            mine = self.hits.get(eid)
            if mine is None:
                self.hits[eid] = h
                continue
            mine.count += h.count
            mine.last = h.last
            mine.cascade_only = mine.cascade_only and h.cascade_only
            if h.fatal and not mine.fatal:
                mine.fatal, mine.first_fatal = True, h.first_fatal
            mine.specificity = max(mine.specificity, h.specificity)
            for k, v in h.fields.items():
                mine.fields.setdefault(k, v)
            mine.lines = (mine.lines + h.lines)[:EVIDENCE_LINES]
            mine.cut = mine.cut or h.cut

    # ---- stage 2 and 3: one candidate line
    def feed_line(self, line: bytes, src_index: int, source: str, lineno: int, next_line: bytes | None = None) -> None:
        self.candidates += 1
        if line.endswith(b"\r"):  # CRLF logs (Windows, some container runtimes)
            line = line[:-1]
        long_line = len(line) > MATCH_WINDOW
        found: list[tuple[Signature, re.Match, bytes, int]] = []  # (sig, match, text, core end)
        groups = self.groups
        for g in self._groups_in(line):
            lit, sigs = groups[g]
            pos = line.find(lit)
            if pos == -1:
                continue
            if long_line:  # match only around the literal: bounded work per candidate line
                start = max(0, pos - MATCH_WINDOW // 4)
                end = start + MATCH_WINDOW
                # a NUL at a cut keeps ^ and $ from matching there (they mean the line's ends)
                pre, post = (b"\0" if start else b""), (b"\0" if end < len(line) else b"")
                raw = pre + line[start:end] + post
                text = pre + normalize(line[start:end]) + post
            else:
                raw = line
                text = normalize(line)
            joined = None
            unescaped = text != raw  # normalize() changed the line (JSON escapes, colour …)
            for sig in sigs:
                m = sig.regex.search(text)
                if m is None and unescaped:
                    # a backslash that is not a JSON escape (a Windows path: '…\\tensorrt_libs\\nvinfer_10.dll'):
                    # the line as it is
                    m = sig.regex.search(raw)
                    if m is not None:
                        found.append((sig, m, raw, _core_end(sig, m)))
                        continue
                if m is None and next_line is not None and not long_line:
                    if joined is None:
                        joined = _join_next(text, next_line)
                    m = sig.regex.search(joined)
                    if m is not None and m.start() >= len(text):
                        m = None  # the match must begin on this line
                    if m is not None:
                        found.append((sig, m, joined, _core_end(sig, m)))
                        continue
                if m is not None:
                    found.append((sig, m, text, _core_end(sig, m)))
        if not found:
            return
        keep = _innermost_dropped(found, self.follows)
        # one record per entry and line: the knowledge base's own signature first (its named
        # groups are the curated ones), the other matches of the entry only fill missing values
        keep.sort(key=lambda f: (f[0].index >= 1000, not f[0].fatal))
        first: dict[str, Signature] = {}
        for sig, m, text, _ in keep:
            if sig.entry_id in first:
                self._fill(self.hits[sig.entry_id], m)
                continue
            first[sig.entry_id] = sig
            self._record(sig, m, line, src_index, source, lineno, long_line)

    def _groups_in(self, line: bytes):
        """The indices, in order, of the literal groups worth a find on this line: those with a
        piece among the line's (_gram_index; a set intersection in C instead of a find per
        group), and those with a literal too short to be indexed.  A long line tries every group."""
        if len(line) > GRAM_LINE_MAX:
            return range(len(self.groups))
        key = line.translate(None, _DIGITS)
        seen = self._seen.get(key)
        if seen is not None:
            return seen
        grams = self._grams
        present = {key[i:i + GRAM] for i in range(0, len(key) - GRAM + 1, STEP)}.intersection(grams)
        out = set(self._short)
        for gram in present:
            out.update(grams[gram])
        seen = sorted(out)
        if len(self._seen) >= SEEN_MAX:
            self._seen.clear()
        self._seen[key] = seen
        return seen

    @staticmethod
    def _fill(hit: Hit, m: re.Match) -> None:
        for k, v in m.groupdict().items():
            if v is not None and k not in hit.fields:
                val = clean_text(v.decode("utf-8", "replace").strip())
                val = val.rstrip(".,;:")
                if val.endswith(")") and val.count("(") < val.count(")"):
                    val = val[:-1]
                if val:
                    hit.fields[k] = val

    def _record(self, sig: Signature, m: re.Match, line: bytes, src_index: int, source: str, lineno: int, cut: bool = False) -> None:
        hit = self.hits.get(sig.entry_id)
        where = (src_index, source, lineno)
        if hit is None:
            hit = self.hits[sig.entry_id] = Hit(sig.entry_id, first=where, follows=self.follows.get(sig.entry_id, ()))
        hit.count += 1
        hit.last = where
        if not sig.cascade:
            hit.cascade_only = False
        if sig.fatal and not hit.fatal:
            hit.fatal = True
            hit.first_fatal = where
        hit.specificity = max(hit.specificity, sig.specificity)
        self._fill(hit, m)
        if len(hit.lines) < EVIDENCE_LINES:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if len(text) > EVIDENCE_WIDTH or cut:
                # keep the part around the match: its literal
                i = line.find(sig.literal)
                start = max(0, len(line[: max(i, 0)].decode("utf-8", "replace")) - 80)
                text = ("…" if start else "") + text[start : start + EVIDENCE_WIDTH] + ("…" if start + EVIDENCE_WIDTH < len(text) else "")
                text += f" [line cut: {len(line)} bytes]"
                hit.cut = True
            hit.lines.append((source, lineno, clean_text(text)))

    # ---- stage 1: scanning a stream
    def scan(self, fh: BinaryIO, source: str, src_index: int = 0, size: int | None = None) -> str:
        """Scan one open binary stream; returns the prefilter used: "rg", "rg×N" (N ripgreps, each
        with a share of the keys), "grep", "grep×N" (N segments), "python"; "…<pipe" when the
        child read the stream through trtdiag, "…<pieces" when a run without newline too long for
        the child made trtdiag feed it the file in pieces."""
        engine = os.environ.get("TRTDIAG_EXPLAIN_ENGINE", "").lower()
        child = engine in ("grep", "rg") or (engine != "python" and (size is None or size >= GREP_MIN_SIZE))
        if child and self.literals and _has_fd(fh):
            rg = _rg() if engine != "grep" else None
            grep = None if rg else (_grep() if engine != "rg" else None)
            if rg or grep:
                argv_env = self._rg_argv(rg) if rg else self._grep_argv(grep)
                used = "rg" if rg else "grep"
                start = _tell(fh)
                regular = start is not None and _is_regular(fh)
                if not regular or _starts_with_long_run(fh, start):
                    # a pipe, or a file that begins with a run of bytes without newline (a dump,
                    # a file of NULs): read through trtdiag, long lines in pieces
                    self._scan_pumped(argv_env, fh, source, src_index)
                    return f"{used}<{'pieces' if regular else 'pipe'}"
                sub = self._fork()
                try:
                    nseg = _rg_procs(len(self.keys), size) if rg else _segments_for(fh, size)
                    if rg and nseg > 1:
                        used = f"rg×{nseg}"
                        sub._scan_rg_split(rg, fh, nseg, source, src_index)
                    elif nseg > 1:
                        used = f"grep×{nseg}"
                        sub._scan_grep_parallel(grep, fh, size, nseg, source, src_index)
                    else:
                        sub._scan_child(argv_env, fh, source, src_index)
                except _ChildOutOfMemory:
                    # a line longer than the child can hold: again, through trtdiag, in pieces
                    fh.seek(start)
                    self._scan_pumped(argv_env, fh, source, src_index)
                    return f"{used}<pieces"
                if size is not None:
                    sub.bytes_scanned += size
                self._merge(sub)
                return used
        self._scan_python(fh, source, src_index)
        return "python"

    def _scan_python(self, fh: BinaryIO, source: str, src_index: int) -> None:
        lits = self.keys
        base = 1  # line number of the first line in buf
        rest = b""
        while True:
            block = fh.read(CHUNK)
            self.bytes_scanned += len(block)
            if block:
                buf = rest + block if rest else block
                cut = buf.rfind(b"\n") + 1
                if cut == 0 and len(buf) < MAX_LINE:
                    rest = buf
                    continue
                if cut == 0:  # an enormous line without a newline: take it as it is
                    cut = len(buf)
                buf, rest = buf[:cut], buf[cut:]
            else:
                buf, rest = rest, b""
                if not buf:
                    break
            starts: set[int] = set()
            for lit in lits:
                i = buf.find(lit)
                while i != -1:
                    s = buf.rfind(b"\n", 0, i) + 1
                    starts.add(s)
                    e = buf.find(b"\n", i)
                    if e == -1:
                        break
                    i = buf.find(lit, e)
            if starts:
                lineno, pos = base, 0
                for s in sorted(starts):
                    lineno += buf.count(b"\n", pos, s)
                    pos = s
                    e = buf.find(b"\n", s)
                    nxt = None
                    if e != -1:
                        e2 = buf.find(b"\n", e + 1, e + 1 + MATCH_WINDOW)
                        nxt = buf[e + 1 : e2] if e2 != -1 else buf[e + 1 : e + 1 + MATCH_WINDOW]
                    self.feed_line(buf[s : e if e != -1 else len(buf)], src_index, source, lineno, nxt)
            base += buf.count(b"\n")
            if not block:
                break

    def _grep_argv(self, grep: str) -> tuple[list[str], dict]:
        argv = [grep, "-F", "-n", "-a", "-A", "1", "--no-filename"]
        for lit in self.keys:
            argv += ["-e", lit.decode("utf-8")]
        env = dict(os.environ, LC_ALL="C")
        for k in ("GREP_OPTIONS", "GREP_COLOR", "GREP_COLORS"):
            env.pop(k, None)
        return argv, env

    def _rg_argv(self, rg: str, keys: list[bytes] | None = None) -> tuple[list[str], dict]:
        """ripgrep over the same keys: fixed strings, every byte (-a), line numbers, the line
        after each hit (-A 1, for wrapped messages), no config file, no mmap (its address space is
        limited), one thread; it reads its standard input, the log trtdiag opened."""
        argv = [rg, "--no-config", "-F", "-n", "-a", "-A", "1", "--no-filename", "--no-heading", "--color", "never",
                "--no-mmap", "-j", "1", "--no-unicode", "--no-line-buffered"]
        for lit in self.keys if keys is None else keys:
            argv += ["-e", lit.decode("utf-8")]
        argv.append("-")
        env = dict(os.environ, LC_ALL="C")
        env.pop("RIPGREP_CONFIG_PATH", None)
        return argv, env

    @staticmethod
    def _records(stream, mapper=None):
        """(line, text, next line's text or None) from grep/rg output: lines "N:text" (a hit) and
        "N-text" (the line after it), "--" between groups; ``mapper`` turns the child's line
        numbers into the log's (pieces of long lines)."""
        pending: tuple[int, bytes] | None = None
        for raw in stream:
            if raw.startswith(b"--") and raw.rstrip(b"\n") == b"--":
                continue
            i = 0
            n = len(raw)
            while i < n and 48 <= raw[i] <= 57:
                i += 1
            if i == 0 or i >= n:
                continue
            lineno = int(raw[:i])
            if mapper is not None:
                lineno = mapper(lineno)
            sep = raw[i : i + 1]
            text = raw[i + 1 :].rstrip(b"\n")
            if pending is not None:
                pl, pt = pending
                yield pl, pt, (text if lineno in (pl, pl + 1) else None)
                pending = None
            if sep == b":":
                pending = (lineno, text)
        if pending is not None:
            yield pending[0], pending[1], None

    def _feed_grep_output(self, stream, source: str, src_index: int, base: int = 0, mapper=None) -> None:
        for lineno, text, nxt in self._records(stream, mapper):
            self.feed_line(text, src_index, source, base + lineno, nxt)

    def _scan_child(self, argv_env: tuple[list[str], dict], fh: BinaryIO, source: str, src_index: int) -> None:
        argv, env = argv_env
        p = subprocess.Popen(argv, stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             start_new_session=True, preexec_fn=_limit_memory)
        with _reaped([p]):
            assert p.stdout is not None
            self._feed_grep_output(p.stdout, source, src_index)
            err = p.stderr.read(1 << 16) if p.stderr else b""
            rc = p.wait()
        _check_rc(rc, err, source)

    def _scan_rg_split(self, rg: str, fh: BinaryIO, nproc: int, source: str, src_index: int) -> None:
        """Several ripgreps side by side on one regular file, each with a share of the keys (its
        SIMD search takes at most 64 patterns, and is fastest with fewer), each reading the file
        from its own descriptor; their outputs, each in line order, are merged (a line holding
        keys of two shares is fed once)."""
        import heapq

        share = [self.keys[i::nproc] for i in range(nproc)]
        procs: list[subprocess.Popen] = []
        with _reaped(procs):
            for keys in share:
                argv, env = self._rg_argv(rg, keys)
                fd = os.open(f"/proc/self/fd/{fh.fileno()}", os.O_RDONLY) if os.path.exists("/proc/self/fd") else os.dup(fh.fileno())
                try:
                    os.lseek(fd, fh.tell(), os.SEEK_SET)
                    procs.append(subprocess.Popen(argv, stdin=fd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                                  start_new_session=True, preexec_fn=_limit_memory))
                finally:
                    os.close(fd)
            last = None
            for lineno, text, nxt in heapq.merge(*(self._records(p.stdout) for p in procs), key=lambda r: r[0]):
                if lineno == last:
                    continue
                last = lineno
                self.feed_line(text, src_index, source, lineno, nxt)
            for p in procs:
                err = p.stderr.read(1 << 16) if p.stderr else b""
                _check_rc(p.wait(), err, source)

    def _scan_grep(self, grep: str, fh: BinaryIO, source: str, src_index: int) -> None:
        self._scan_child(self._grep_argv(grep), fh, source, src_index)

    def _scan_pumped(self, argv_env: tuple[list[str], dict], fh: BinaryIO, source: str, src_index: int) -> None:
        """The child reads the log through trtdiag: a run of more than PIECE bytes without a
        newline (a 1 GiB line, a file of NULs) reaches it as pieces of PIECE bytes, so that no
        line it holds is longer; the pieces' line numbers are mapped back to the log's.  Used for
        pipes, and for files whose direct scan ran out of the child's memory.  Chunks without such
        a run (checked with one find per half piece) are passed on as they are."""
        import bisect
        import threading

        argv, env = argv_env
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             start_new_session=True, preexec_fn=_limit_memory)
        continuation: list[int] = []  # child line numbers that continue the line before them
        failure: list[BaseException] = []

        def pump() -> None:
            run = 0  # bytes since the last newline written
            lines = 0  # newlines written
            assert p.stdin is not None
            try:
                while True:
                    block = fh.read(CHUNK)
                    if not block:
                        break
                    self.bytes_scanned += len(block)
                    if not block.lstrip(b"\x00"):
                        continue  # NULs only (a sparse or zeroed file): no key, no newline
                    first = block.find(b"\n")
                    head = first if first != -1 else len(block)
                    half = PIECE // 2
                    long_run = run + head > PIECE or any(block.find(b"\n", q, q + half) == -1 for q in range(head, len(block) - half, half))
                    if not long_run:
                        last = block.rfind(b"\n")
                        run = len(block) - last - 1 if last != -1 else run + len(block)
                        lines += block.count(b"\n")
                        p.stdin.write(block)
                        continue
                    out = []
                    pos = 0
                    while pos < len(block):
                        nl = block.find(b"\n", pos)
                        end = nl if nl != -1 else len(block)
                        while end - pos > PIECE - run:
                            cut = pos + PIECE - run
                            out.append(block[pos:cut])
                            out.append(b"\n")
                            lines += 1
                            continuation.append(lines + 1)
                            pos, run = cut, 0
                        out.append(block[pos:end])
                        run += end - pos
                        if nl == -1:
                            break
                        out.append(b"\n")
                        lines += 1
                        run = 0
                        pos = nl + 1
                    p.stdin.write(b"".join(out))
            except BrokenPipeError:
                pass
            except BaseException as exc:  # noqa: BLE001 - reported by the reading thread
                failure.append(exc)
            finally:
                try:
                    p.stdin.close()
                except OSError:
                    pass

        def real(n: int) -> int:
            return n - bisect.bisect_right(continuation, n)

        t = threading.Thread(target=pump, daemon=True)
        with _reaped([p]):
            t.start()
            assert p.stdout is not None
            self._feed_grep_output(p.stdout, source, src_index, mapper=real)
            err = p.stderr.read(1 << 16) if p.stderr else b""
            rc = p.wait()
            t.join()
        if failure:
            raise failure[0]
        _check_rc(rc, err, source)

    def _scan_grep_parallel(self, grep: str, fh: BinaryIO, size: int, nseg: int, source: str, src_index: int) -> None:
        """Large regular files: one grep per segment (split at line starts), each fed its byte range
        by `head -c` from its own file position; `wc -l` counts the lines of every segment but the
        last, so that line numbers stay absolute.  Segments are read in order: memory stays bounded
        by the pipes, whatever the file's size."""
        offsets = _split_at_lines(fh, size, nseg)
        argv, env = self._grep_argv(grep)
        head, wc = shutil.which("head"), shutil.which("wc")
        procs: list[subprocess.Popen] = []
        greps: list[subprocess.Popen] = []
        counters: list[subprocess.Popen | None] = []
        with _reaped(procs):
            for k, (a, b) in enumerate(zip(offsets, offsets[1:])):
                greps.append(self._segment_pipe(fh, a, b - a, [head, "-c", str(b - a)], argv, env, procs))
                last = k == len(offsets) - 2
                counters.append(None if last else self._segment_pipe(fh, a, b - a, [head, "-c", str(b - a)], [wc, "-l"], env, procs))
            base = 0
            for g, c in zip(greps, counters):
                assert g.stdout is not None
                self._feed_grep_output(g.stdout, source, src_index, base)
                err = g.stderr.read(1 << 16) if g.stderr else b""
                _check_rc(g.wait(), err, source)
                if c is not None:
                    out = c.stdout.read() if c.stdout else b""
                    c.wait()
                    base += int(out.split()[0]) if out.split() else 0

    @staticmethod
    def _segment_pipe(fh: BinaryIO, offset: int, length: int, head_argv: list[str], argv: list[str], env: dict, procs: list) -> subprocess.Popen:
        fd = os.open(f"/proc/self/fd/{fh.fileno()}", os.O_RDONLY) if os.path.exists("/proc/self/fd") else os.dup(fh.fileno())
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            h = subprocess.Popen(head_argv, stdin=fd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        finally:
            os.close(fd)
        procs.append(h)
        p = subprocess.Popen(argv, stdin=h.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             start_new_session=True, preexec_fn=_limit_memory)
        procs.append(p)
        assert h.stdout is not None
        h.stdout.close()  # grep owns the read end now; head gets SIGPIPE if grep dies
        return p


def _has_fd(fh: BinaryIO) -> bool:
    """Whether the stream's bytes are those of a file descriptor grep can read: a plain file or
    pipe object (not an in-memory buffer, nor a decompressing reader whose fd holds other bytes)."""
    import io

    if not isinstance(fh, (io.BufferedReader, io.BufferedRandom, io.FileIO)):
        return False
    try:
        fh.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return True


def _segments_for(fh: BinaryIO, size: int | None) -> int:
    """How many greps to run side by side on this stream: one per available CPU (up to 8) for a
    regular file of at least PARALLEL_MIN_SIZE per segment; 1 for pipes and small files."""
    if size is None or size < 2 * PARALLEL_MIN_SIZE or not (shutil.which("head") and shutil.which("wc")):
        return 1
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode) or fh.tell() != 0:
            return 1
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    except (OSError, ValueError):
        return 1
    return max(1, min(cpus, 8, size // PARALLEL_MIN_SIZE))


def _split_at_lines(fh: BinaryIO, size: int, nseg: int) -> list[int]:
    """Offsets 0 = o0 < o1 < … < size, each just after a newline, about size/nseg apart."""
    offsets = [0]
    fd = fh.fileno()
    for k in range(1, nseg):
        pos = size * k // nseg
        if pos <= offsets[-1]:
            continue
        buf = os.pread(fd, 1 << 20, pos)
        j = buf.find(b"\n")
        if j == -1:
            continue
        cut = pos + j + 1
        if offsets[-1] < cut < size:
            offsets.append(cut)
    offsets.append(size)
    return offsets


class _reaped:
    """Kill (the process groups of) child processes still running when the block is left."""

    def __init__(self, procs: list):
        self.procs = procs

    def __enter__(self):
        return self.procs

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, 9)
                except OSError:
                    pass
        for p in self.procs:
            if p.poll() is None or p.returncode is None:
                p.wait()
            for s in (p.stdout, p.stderr):
                if s:
                    s.close()
        return False


class _ChildOutOfMemory(Exception):
    """The prefilter child ran out of its address space (a line longer than it can hold)."""


def _limit_memory() -> None:  # runs in the child, before exec
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


def _tell(fh: BinaryIO) -> int | None:
    try:
        return fh.tell() if fh.seekable() else None
    except (OSError, ValueError):
        return None


RG_KEYS = 40  # keys per ripgrep past which a second one (on another CPU) pays


def _rg_procs(nkeys: int, size: int | None) -> int:
    if size is None or size < PARALLEL_MIN_SIZE:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    except OSError:
        cpus = 1
    return max(1, min(cpus, 4, -(-nkeys // RG_KEYS)))


GRAM = 4  # bytes of the pieces that index the literals
STEP = 4  # a line's pieces are taken at every STEP-th byte
GRAM_LINE_MAX = 4096  # longer lines try every literal: their pieces cost more than the finds
SEEN_MAX = 4096  # lines (digits left out) whose groups are kept
_DIGITS = b"0123456789"


def _gram_index(literals: list[bytes]) -> tuple[dict[bytes, list[int]], list[int]]:
    """piece → indices of the literals it stands for, and the literals tried on every line.

    A line's pieces are its GRAM-byte slices at offsets 0, STEP, 2·STEP, …  A literal at any
    offset of the line covers one of them at one of STEP consecutive offsets of its own, so it is
    indexed under the GRAM-byte pieces at STEP consecutive offsets: a line lacking all of them
    lacks the literal, and skipping it loses nothing.  Of the possible windows, the one whose
    pieces fewest other literals hold is taken (a line holding them is likelier to hold the
    literal).  Literals shorter than GRAM + STEP - 1 have no such window."""
    width = GRAM + STEP - 1
    shared: dict[bytes, int] = {}
    for lit in literals:
        for p in {lit[i:i + GRAM] for i in range(len(lit) - GRAM + 1)}:
            shared[p] = shared.get(p, 0) + 1
    index: dict[bytes, list[int]] = {}
    short: list[int] = []
    for n, lit in enumerate(literals):
        if len(lit) < width:
            short.append(n)
            continue
        windows = [[lit[k + j:k + j + GRAM] for j in range(STEP)] for k in range(len(lit) - width + 1)]
        # fewest literals sharing its pieces; then fewer spaces (the commonest byte of text)
        best = min(windows, key=lambda w: (sum(shared[p] for p in w), sum(p.count(b" ") for p in w)))
        for p in set(best):
            index.setdefault(p, []).append(n)
    return index, short


_KEYS: list = []


def _prefilter_keys(literals: list[bytes]) -> list[bytes]:
    """The checked-in keys (trtdiag/data/prefilter_keys.json, tools/prefilter_keys.py) that some
    literal holds, plus every literal no key covers (a stale file costs speed, never a miss)."""
    if not _KEYS:
        import json
        from pathlib import Path

        try:
            data = json.loads((Path(__file__).resolve().parent.parent / "data" / "prefilter_keys.json").read_text(encoding="utf-8"))
            _KEYS.append([k.encode("utf-8") for k in data.get("keys", []) if k])
        except (OSError, ValueError):
            _KEYS.append([])
    known = _KEYS[0]
    used: dict[bytes, None] = {}
    for lit in literals:
        key = next((k for k in known if k in lit), lit)
        used.setdefault(key, None)
    return list(used)


def _starts_with_long_run(fh: BinaryIO, start: int) -> bool:
    try:
        head = os.pread(fh.fileno(), 1 << 20, start)
    except OSError:
        return False
    return any(head.find(b"\n", q, q + PIECE) == -1 for q in range(0, max(len(head) - PIECE, 0) + 1, PIECE // 2)) and len(head) > PIECE


def _is_regular(fh: BinaryIO) -> bool:
    try:
        import stat

        return stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def _check_rc(rc: int, err: bytes, source: str) -> None:
    if rc in (0, 1):
        return
    low = err.lower()
    if rc < 0 or rc in (134, 137) or b"memory" in low or b"alloc" in low:
        raise _ChildOutOfMemory()
    from ..core.errors import InputError

    raise InputError(f"{source}: could not be read ({err.decode('utf-8', 'replace').strip()[:300] or f'exit code {rc}'})")


_RG: list[str | None] = []


def _rg() -> str | None:
    """ripgrep, if it is installed (checked once)."""
    if _RG:
        return _RG[0]
    path = shutil.which("rg")
    ok = None
    if path:
        try:
            out = subprocess.run([path, "--version"], capture_output=True, timeout=5).stdout
            if out.startswith(b"ripgrep"):
                ok = path
        except (OSError, subprocess.SubprocessError):
            ok = None
    _RG.append(ok)
    return ok


_GREP: list[str | None] = []


def _grep() -> str | None:
    """GNU grep, if there is one (checked once: -F -n -a and many -e are what we rely on)."""
    if _GREP:
        return _GREP[0]
    path = shutil.which("grep")
    ok = None
    if path:
        try:
            out = subprocess.run([path, "--version"], capture_output=True, timeout=5).stdout
            if b"GNU grep" in out:
                ok = path
        except (OSError, subprocess.SubprocessError):
            ok = None
    _GREP.append(ok)
    return ok


def rank(hits: Iterable[Hit]) -> list[Hit]:
    """Most likely root cause first.

    1. Cascade links: an entry the knowledge base names as a consequence of another entry that
       was seen (``consequence_of = [ids]``, or ``["*"]``: of any other fatal failure) comes after
       it, however early it was printed (depth in the graph of the links among the hits).
    2. Fatal before non-fatal (warnings, consequences).
    3. The earlier first (fatal) occurrence: the first fatal error of a log is usually the cause.
    4. On the same line, the more specific match (more literal characters).
    Entry ids never decide; equal keys keep the order in which the hits were seen."""
    hits = list(hits)
    present = {h.entry_id: h for h in hits}

    def parents(h: Hit) -> list[str]:
        out = []
        for f in h.follows:
            if f == "*":
                out += [o.entry_id for o in hits if o is not h and o.fatal and "*" not in o.follows]
            elif f in present and f != h.entry_id:
                out.append(f)
        return out

    depth: dict[str, int] = {h.entry_id: 0 for h in hits}
    for _ in range(len(hits)):  # longest path; a cycle stops growing after len(hits) rounds
        changed = False
        for h in hits:
            d = max((depth[p] + 1 for p in parents(h)), default=0)
            if d > depth[h.entry_id] and d <= len(hits):
                depth[h.entry_id] = d
                changed = True
        if not changed:
            break

    def key(h: Hit):
        where = h.first_fatal if h.fatal and h.first_fatal else h.first
        return (depth[h.entry_id], 0 if h.fatal else 1, where[0], where[2], -h.specificity)

    return sorted(hits, key=key)
