"""Recognise known failures in logs: the matcher behind ``trtdiag explain``.

Logs are often gigabytes of verbose TensorRT output with the one line that matters somewhere in
the middle.  The matcher therefore works in three stages and constant memory:

1. **Prefilter.**  Every signature in the knowledge base has a ``literal``: a substring that every
   line its regex matches must contain (given in the entry, or derived from the regex by
   :func:`required_literals`).  Only lines holding one of these literals go further.  The scan for
   them runs over binary chunks of the file, never over decoded lines: either through ``grep -F``
   (one child process per log: a C multi-pattern search that runs at hundreds of MB/s; the log is
   handed to it as its standard input, so it reads exactly what trtdiag opened), or, without a
   usable grep or for small logs, in Python with ``bytes.find`` per literal per 4 MiB chunk.
2. **Confirm.**  A candidate line is tested with ``in`` against each literal, and only the
   signatures whose literal it holds run their regular expression (on bytes).
3. **Aggregate.**  Each knowledge-base entry is reported once: how many lines matched, the first
   and last place (``file:line``), the values pulled out of the first match (named groups:
   ``expected``, ``found`` …) and the first few evidence lines.

:func:`rank` orders the results so that the root cause comes first: an entry matched by a fatal
signature beats one matched only by non-fatal (cascade or warning) signatures, and among equals
the earlier first occurrence wins — the first fatal error is usually the cause, the rest fall out
of it.

Set ``TRTDIAG_EXPLAIN_ENGINE=python`` (or ``grep``) to force one prefilter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable

CHUNK = 4 << 20  # bytes read at a time
MAX_LINE = 16 << 20  # a "line" longer than this is cut (binary garbage in a log)
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


class Matcher:
    """All signatures of a set of knowledge-base entries, grouped by prefilter literal."""

    def __init__(self, entries: Iterable[dict[str, Any]]):
        self.signatures: list[Signature] = []
        by_literal: dict[bytes, list[Signature]] = {}
        for entry in entries:
            for i, sig in enumerate(entry.get("signatures") or []):
                literal = sig.get("literal")
                if not literal:
                    lits = required_literals(sig["regex"])
                    if not lits:
                        raise ValueError(f"{entry['id']}: signature {i} needs a 'literal' (its regex requires none)")
                    literal = lits[0]
                # spaces at the ends of a literal cost the multi-pattern search much (they are the
                # commonest byte) and add no selectivity: search for the literal without them
                literal = literal.strip(" ") or literal
                s = Signature(entry["id"], i, re.compile(sig["regex"].encode("utf-8")), literal.encode("utf-8"),
                              bool(sig.get("fatal", True)), bool(sig.get("cascade", False)))
                self.signatures.append(s)
                by_literal.setdefault(s.literal, []).append(s)
        # shorter literals first is irrelevant for correctness; keep a stable order
        self.groups: list[tuple[bytes, list[Signature]]] = sorted(by_literal.items())
        self.literals: list[bytes] = [lit for lit, _ in self.groups]
        self.hits: dict[str, Hit] = {}
        self.bytes_scanned = 0
        self.candidates = 0

    # ---- stage 2 and 3: one candidate line
    def feed_line(self, line: bytes, src_index: int, source: str, lineno: int) -> None:
        self.candidates += 1
        if line.endswith(b"\r"):  # CRLF logs (Windows, some container runtimes)
            line = line[:-1]
        seen: set[str] = set()
        for lit, sigs in self.groups:
            if lit not in line:
                continue
            for sig in sigs:
                if sig.entry_id in seen:
                    continue
                m = sig.regex.search(line)
                if m is None:
                    continue
                seen.add(sig.entry_id)
                self._record(sig, m, line, src_index, source, lineno)

    def _record(self, sig: Signature, m: re.Match, line: bytes, src_index: int, source: str, lineno: int) -> None:
        hit = self.hits.get(sig.entry_id)
        where = (src_index, source, lineno)
        if hit is None:
            hit = self.hits[sig.entry_id] = Hit(sig.entry_id, first=where)
        hit.count += 1
        hit.last = where
        if not sig.cascade:
            hit.cascade_only = False
        if sig.fatal and not hit.fatal:
            hit.fatal = True
            hit.first_fatal = where
        for k, v in m.groupdict().items():
            if v is not None and k not in hit.fields:
                hit.fields[k] = v.decode("utf-8", "replace").strip()
        if len(hit.lines) < EVIDENCE_LINES:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if len(text) > EVIDENCE_WIDTH:
                # keep the part around the match
                start = max(0, len(line[: m.start()].decode("utf-8", "replace")) - 80)
                text = ("…" if start else "") + text[start : start + EVIDENCE_WIDTH] + ("…" if start + EVIDENCE_WIDTH < len(text) else "")
            hit.lines.append((source, lineno, text))

    # ---- stage 1: scanning a stream
    def scan(self, fh: BinaryIO, source: str, src_index: int = 0, size: int | None = None) -> str:
        """Scan one open binary stream; returns the prefilter used ("grep" or "python")."""
        engine = os.environ.get("TRTDIAG_EXPLAIN_ENGINE", "").lower()
        use_grep = engine == "grep" or (engine != "python" and (size is None or size >= GREP_MIN_SIZE))
        grep = _grep() if use_grep and self.literals and _has_fd(fh) else None
        if grep:
            nseg = _segments_for(fh, size)
            if nseg > 1:
                self._scan_grep_parallel(grep, fh, size, nseg, source, src_index)
                self.bytes_scanned += size
                return f"grep×{nseg}"
            self._scan_grep(grep, fh, source, src_index)
            if size is not None:
                self.bytes_scanned += size
            return "grep"
        self._scan_python(fh, source, src_index)
        return "python"

    def _scan_python(self, fh: BinaryIO, source: str, src_index: int) -> None:
        lits = self.literals
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
                    self.feed_line(buf[s : e if e != -1 else len(buf)], src_index, source, lineno)
            base += buf.count(b"\n")
            if not block:
                break

    def _grep_argv(self, grep: str) -> tuple[list[str], dict]:
        argv = [grep, "-F", "-n", "-a", "--no-filename"]
        for lit in self.literals:
            argv += ["-e", lit.decode("utf-8")]
        env = dict(os.environ, LC_ALL="C")
        for k in ("GREP_OPTIONS", "GREP_COLOR", "GREP_COLORS"):
            env.pop(k, None)
        return argv, env

    def _feed_grep_output(self, stream, source: str, src_index: int, base: int = 0) -> None:
        for raw in stream:
            num, _, line = raw.partition(b":")
            try:
                lineno = int(num)
            except ValueError:  # pragma: no cover - grep always numbers its lines with -n
                continue
            self.feed_line(line.rstrip(b"\n"), src_index, source, base + lineno)

    def _scan_grep(self, grep: str, fh: BinaryIO, source: str, src_index: int) -> None:
        argv, env = self._grep_argv(grep)
        p = subprocess.Popen(argv, stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        with _reaped([p]):
            assert p.stdout is not None
            self._feed_grep_output(p.stdout, source, src_index)
            err = p.stderr.read() if p.stderr else b""
            rc = p.wait()
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
                err = g.stderr.read() if g.stderr else b""
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
        p = subprocess.Popen(argv, stdin=h.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
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


def _check_rc(rc: int, err: bytes, source: str) -> None:
    if rc not in (0, 1):
        from ..core.errors import InputError

        raise InputError(f"{source}: could not be read ({err.decode('utf-8', 'replace').strip() or f'grep exit code {rc}'})")


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
    """Most likely root cause first: fatal before non-fatal, then by first (fatal) occurrence."""

    def key(h: Hit):
        where = h.first_fatal if h.fatal and h.first_fatal else h.first
        return (0 if h.fatal else 1, where[0], where[2], h.entry_id)

    return sorted(hits, key=key)
