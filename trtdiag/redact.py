"""Redaction: one function over a whole JSON-able report (or snapshot) before it is rendered.

:func:`redact` replaces, everywhere (dict keys too: paths are often keys), the things that name a
person or a machine, with stable placeholders:

- this machine's host name(s) → ``<host>``; other machines' names recorded in the report or the
  fleet snapshots → ``<host-1>``, ``<host-2>`` … (in rank order, so the ranks' hosts stay apart)
- user names (``getpass``, ``$USER``/``$LOGNAME``, the owner of ``$HOME``, this uid's name, names
  recorded in snapshots) → ``<user>``; home directories → ``~`` (other ``/home/NAME`` → ``/home/<user>``)
- this machine's IP addresses, any IPv6 address, and IPv4 addresses in an address context
  (``10.0.0.5:8001``, NCCL's ``10.0.0.5<41234>``, ``inet 10.0.0.5``, ``host 10.0.0.5``, ``@10.0.0.5``, ``//10.0.0.5``, a value under a key named
  like ``addr``/``ip``/``host``) → ``<ip>``; loopback addresses are kept (they name nothing)
- MAC addresses → ``<mac>``; GPU UUIDs (``GPU-…``, ``MIG-…``) → ``<gpu-uuid>``; values under a
  ``serial`` key → ``<serial>``

- secrets by their shape, wherever they are (a command line, an environment value, a path
  component): access tokens (``hf_…``, ``ghp_…``/``github_pat_…``, ``sk-…``, ``nvapi-…``, ``xox?-…``,
  AWS ``AKIA…``, JWTs), credentials in URLs (``https://user:pass@host`` → ``https://<user>:<secret>@host``),
  the value after a command-line flag named like a secret (``--hf-token X``, ``--api-key=X``,
  ``--password X``), values under keys named like secrets (``*_TOKEN``, ``*_KEY``, ``*PASSWORD*``),
  and long mixed-case letter-and-digit strings (32+ characters) → ``<secret>``.  Hex strings (hashes,
  commits) are kept: they name a build, not a person.
- other machines' names where the key says it holds one (``MASTER_ADDR``, ``*_HOST``, ``*_HOSTS``,
  ``SLURM_NODELIST``, ``*_NODENAME``) → ``<host-N>``

A bare dotted quad elsewhere is kept: ``TensorRT 10.0.1.6`` is a version, not an address.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any, Iterable

HOST, USER, IP, MAC, GPU_UUID, SERIAL = "<host>", "<user>", "<ip>", "<mac>", "<gpu-uuid>", "<serial>"

_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
# an IPv4 address where the text says it is one: before :port or NCCL's <port>, after inet/addr/ip/host/@ or //
_IPV4_CTX = re.compile(
    rf"(?:(?<=[@/])|(?<=inet )|(?<=addr )|(?<=addr: )|(?<=address )|(?<=host )|(?<=ip ))({_IPV4})(?![\d.])"
    rf"|(?<![\w.-])({_IPV4})(?=:\d|<\d+>)"
)
_IPV4_WHOLE = re.compile(rf"^{_IPV4}(?:/\d+)?$")
_H4 = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?<![\w:.])(?:(?:{_H4}:){{7}}{_H4}|(?:{_H4}:){{1,7}}:(?:{_H4}(?::{_H4}){{0,6}})?|::(?:{_H4}:){{0,6}}{_H4})(?:%\w+)?(?![\w:])"
)
_MAC = re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])")
_GPU_UUID = re.compile(r"\b(?:GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_OTHER_HOME = re.compile(r"(?<![\w.-])/(?:home|Users)/(?!<user>)[^/\s'\"`:;,)\]}]+")
SECRET = "<secret>"
_TOKEN_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"
    r"|nvapi-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|glpat-[A-Za-z0-9_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)"
)
# a long run of letters and digits with upper case, lower case and digits: a key, not a word, a path or a hash
_LONG_RANDOM = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_-])")
_URL_CRED = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^\s/@:'\"]+)(?::(?P<pw>[^\s/@'\"]*))?@")
_SECRET_WORD = r"(?:token|api[-_]?key|access[-_]?key|secret|passw(?:or)?d|pwd|credentials?|auth)"
_SECRET_FLAG = re.compile(rf"^--?(?:[\w-]*[-_])?{_SECRET_WORD}(?![a-z])[\w-]*$|^--?key$", re.IGNORECASE)
_SECRET_FLAG_INLINE = re.compile(rf"(?P<flag>(?<![\w-])--?(?:[\w-]*[-_])?{_SECRET_WORD}(?![a-z])[\w-]*)(?P<sep>=|\s+)(?P<val>'[^']*'|\"[^\"]*\"|[^\s'\"]+)",
                                re.IGNORECASE)
# keys whose values are secrets: environment-style names with a secret word as one of their parts
# (HF_TOKEN, AWS_SECRET_ACCESS_KEY, NGC_API_KEY, MY_PASSWORD), and a few lower-case names
_SECRET_ENV_KEY = re.compile(r"(?:^|_)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?|AUTH|APIKEY)(?:$|_)")
_SECRET_NAMES = {"password", "passwd", "secret", "api_key", "apikey", "access_token", "auth_token", "token", "hf_token",
                 "private_key", "secret_key", "access_key", "credentials", "authorization"}


def _secret_key(key: str) -> bool:
    return bool(key) and (key.lower() in _SECRET_NAMES or (key.isupper() and bool(_SECRET_ENV_KEY.search(key)) and key not in ("PWD", "OLDPWD")))
_HOST_KEY = re.compile(r"(?:^|_)(?:addr|host|hosts|hostname|nodelist|node_list|nodename|master|server|head_node)$", re.IGNORECASE)
_HOSTNAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*(?:\[[0-9,\-]+\])?$")


def _random_like(m: re.Match) -> str:
    t = m.group(0)
    if re.fullmatch(r"[0-9a-fA-F]+", t) or "/" in t.strip("/") and not re.search(r"[A-Z]", t):
        return t
    parts = re.split(r"[-_/]", t)
    if max(len(p) for p in parts) < 20:  # words joined by - or _ (a model or package name)
        return t
    if re.search(r"[a-z]", t) and re.search(r"[A-Z]", t) and re.search(r"\d", t):
        return SECRET
    return t


def secrets_text(s: str) -> str:
    """``s`` with secrets replaced by their shape (no knowledge of this machine needed)."""
    if not s:
        return s
    s = _URL_CRED.sub(lambda m: m.group("scheme") + (USER + ":" + SECRET if m.group("pw") is not None else SECRET) + "@", s)
    s = _SECRET_FLAG_INLINE.sub(lambda m: m.group("flag") + m.group("sep") + SECRET, s)
    s = _TOKEN_SHAPES.sub(SECRET, s)
    s = _LONG_RANDOM.sub(_random_like, s)
    return s


SYSTEM_USERS = ("root", "nobody", "daemon", "ubuntu", "admin")
_ADDR_KEYS = ("addr", "address", "ip", "hostname", "host", "fqdn")


def _hostlike(h: str) -> bool:
    return bool(h) and h not in ("localhost", "?") and len(h) > 1


def _loopback(addr: str) -> bool:
    try:
        a = ipaddress.ip_address(addr.split("%")[0])
    except ValueError:
        return False
    return a.is_loopback or a.is_unspecified


class Redactor:
    """Holds what to hide; :meth:`__call__` returns a redacted deep copy of JSON-able data."""

    def __init__(self, hosts: Iterable[str] = (), users: Iterable[str] = (), homes: Iterable[str] = (), addrs: Iterable[str] = (),
                 other_hosts: Iterable[str] = ()):
        # this machine's names → <host>; other machines' (fleet snapshots) → <host-1>, <host-2> … in order of appearance,
        # so a fleet report still tells the ranks' hosts apart
        self.host_map: dict[str, str] = {}
        for h in hosts:
            if _hostlike(h):
                self.host_map[h] = HOST
        n = 0
        for h in other_hosts:
            short = h.split(".")[0]
            if not _hostlike(h) or h in self.host_map:
                continue
            if short in self.host_map:
                self.host_map[h] = self.host_map[short]
                continue
            n += 1
            self.host_map[h] = self.host_map[short] = f"<host-{n}>"
        self.hosts = sorted(self.host_map, key=len, reverse=True)
        self.users = sorted({u for u in users if u and len(u) > 1}, key=len, reverse=True)
        self.homes = sorted({h.rstrip("/") for h in homes if h and h.rstrip("/") not in ("", "/")}, key=len, reverse=True)
        self.addrs = sorted({a for a in addrs if a and not _loopback(a)}, key=len, reverse=True)
        self._exact = []
        for h in self.homes:
            self._exact.append((re.compile(re.escape(h) + r"(?![\w.-])"), "~"))
        for a in self.addrs:
            self._exact.append((re.compile(rf"(?<![\w.:]){re.escape(a)}(?![\w.:]|:[0-9a-fA-F]*:)"), IP))
        for h in self.hosts:
            self._exact.append((re.compile(rf"(?<![\w-]){re.escape(h)}(?![\w-])", re.IGNORECASE), self.host_map[h]))
        for u in self.users:
            # a name inside a path or a word joined by '-' is hidden too (/tmp/pytest-of-alice), except the
            # system accounts, which name nobody and are part of flags (--allow-run-as-root)
            edge = r"[\w-]" if u in SYSTEM_USERS else r"\w"
            self._exact.append((re.compile(rf"(?<!{edge}){re.escape(u)}(?!{edge})"), USER))

    def _other_host(self, h: str) -> str:
        if h in self.host_map:
            return self.host_map[h]
        short = h.split(".")[0]
        if short in self.host_map:
            return self.host_map[short]
        n = 1 + len({v for v in self.host_map.values() if v.startswith("<host-")})
        self.host_map[h] = self.host_map[short] = f"<host-{n}>"
        return self.host_map[h]

    def text(self, s: str, key: str = "") -> str:
        k = key.lower()
        if "serial" in k and s:
            return SERIAL
        if s and _secret_key(key):
            return SECRET
        if s and _HOST_KEY.search(k):
            parts = re.split(r"([,\s]+)", s)
            if all(_HOSTNAME.match(p) or not p.strip(", ") for p in parts) and any(p.strip(", ") for p in parts):
                s = "".join(p if not p.strip(", ") or p in ("localhost",) or _IPV4_WHOLE.match(p) else self._other_host(p) for p in parts)
        s = secrets_text(s)
        for rx, rep in self._exact:
            s = rx.sub(rep, s)
        s = _GPU_UUID.sub(GPU_UUID, s)
        s = _MAC.sub(MAC, s)
        s = _IPV6.sub(lambda m: m.group(0) if _loopback(m.group(0)) or not _plausible_v6(m.group(0)) else IP, s)
        s = _IPV4_CTX.sub(lambda m: m.group(0) if _loopback(m.group(0)) else IP, s)
        if any(w == k or k.endswith(w) or k.endswith("_" + w) for w in _ADDR_KEYS) and _IPV4_WHOLE.match(s) and not _loopback(s.split("/")[0]):
            s = IP
        s = _OTHER_HOME.sub(lambda m: m.group(0).rsplit("/", 1)[0] + "/" + USER, s)
        if k in ("user", "username", "owner", "login") and s not in ("", USER):
            s = USER
        return s

    def __call__(self, data: Any, key: str = "") -> Any:
        if isinstance(data, str):
            return self.text(data, key)
        if isinstance(data, dict):
            return {self.text(str(k)) if isinstance(k, str) else k: self(v, str(k)) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            out = []
            hide_next = False
            for v in data:  # an argv: the value after --hf-token / --password … is a secret
                if hide_next and isinstance(v, str):
                    out.append(SECRET)
                    hide_next = False
                    continue
                hide_next = isinstance(v, str) and bool(_SECRET_FLAG.match(v))
                out.append(self(v, key))
            return out
        return data


def _plausible_v6(s: str) -> bool:
    try:
        ipaddress.ip_address(s.split("%")[0])
        return True
    except ValueError:
        return False


def machine_identity() -> dict[str, set[str]]:
    """This machine's host names, user names, home directories and addresses (cheap, no DNS)."""
    import socket

    hosts, users, homes, addrs = set(), set(), set(), set()
    try:
        hn = socket.gethostname()
        hosts.update({hn, hn.split(".")[0]})
    except OSError:
        pass
    try:
        with open("/etc/hostname", encoding="utf-8") as fh:
            h = fh.read(256).strip()
            if h:
                hosts.update({h, h.split(".")[0]})
    except OSError:
        pass
    for var in ("USER", "LOGNAME", "USERNAME", "SUDO_USER"):
        if os.environ.get(var):
            users.add(os.environ[var])
    try:
        import getpass

        users.add(getpass.getuser())
    except Exception:
        pass
    home = os.environ.get("HOME") or os.path.expanduser("~")
    if home:
        homes.add(home)
    try:
        import pwd

        for uid in {os.getuid(), os.geteuid()} | ({os.stat(home).st_uid} if home and os.path.exists(home) else set()):
            try:
                pw = pwd.getpwuid(uid)
                users.add(pw.pw_name)
                homes.add(pw.pw_dir)
            except KeyError:
                pass
    except ImportError:  # pragma: no cover - not POSIX
        pass
    try:
        import psutil

        for nics in psutil.net_if_addrs().values():
            for a in nics:
                if a.family in (socket.AF_INET, socket.AF_INET6) and a.address:
                    addrs.add(a.address.split("%")[0])
    except Exception:
        pass
    return {"hosts": hosts, "users": users, "homes": homes, "addrs": addrs}


def _recorded(data: Any, ident: dict[str, set[str]]) -> None:
    """Host/user names recorded in a report's context or fleet snapshots (another machine's)."""
    if isinstance(data, dict):
        for k, v in data.items():
            lk = str(k).lower()
            if lk == "hosts" and isinstance(v, list):
                ident["other_hosts"].extend(x for x in v if isinstance(x, str))
            elif isinstance(v, str):
                if lk in ("hostname", "host", "fqdn"):
                    ident["other_hosts"].append(v)
                elif lk in ("user", "username"):
                    ident["users"].add(v)
                elif lk == "home":
                    ident["homes"].add(v)
                elif lk in ("addr", "resolved") and not _loopback(v):
                    ident["addrs"].add(v)
            else:
                _recorded(v, ident)
    elif isinstance(data, list):
        for v in data:
            _recorded(v, ident)


def redact(data: Any, identity: dict[str, set[str]] | None = None, also: Any = None) -> Any:
    """A copy of ``data`` with host, user, home, addresses, MACs and GPU UUIDs/serials replaced.

    ``identity`` defaults to this machine's (:func:`machine_identity`); names recorded in ``data``
    and in ``also`` (e.g. the fleet snapshots the report was made from) are hidden too."""
    ident: dict[str, Any] = {k: set(v) for k, v in (identity or machine_identity()).items()}
    ident["other_hosts"] = []
    for snap in also if isinstance(also, list) else []:  # fleet snapshots: their order is the rank order
        host = ((snap.get("facts") or {}).get("env.summary") or {}).get("hostname") if isinstance(snap, dict) else None
        if isinstance(host, str):
            ident["other_hosts"].append(host)
    _recorded(also, ident)
    _recorded(data, ident)
    return Redactor(ident.get("hosts", ()), ident.get("users", ()), ident.get("homes", ()), ident.get("addrs", ()),
                    other_hosts=ident["other_hosts"])(data)
