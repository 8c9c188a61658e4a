"""Every rule is pure: it reads facts and returns findings.  No I/O, no processes, no sockets, no
argument parsing and no fix planning under trtdiag/rules (read from the source, so a new rule that
breaks the promise fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "trtdiag" / "rules"

FORBIDDEN_MODULES = ("argparse", "subprocess", "socket", "shutil", "glob", "pathlib", "urllib", "http")
FORBIDDEN_PACKAGES = ("probes", "fixes", "app", "render")  # relative or trtdiag.<name>
FORBIDDEN_CALLS = {
    "open", "os.path.exists", "os.path.lexists", "os.path.isfile", "os.path.isdir", "os.path.islink",
    "os.path.getsize", "os.path.getmtime", "os.path.realpath", "os.path.abspath", "os.stat", "os.lstat",
    "os.listdir", "os.scandir", "os.walk", "os.access", "os.getcwd", "os.geteuid", "os.getuid", "os.kill",
    "os.system", "os.popen", "os.environ.get", "os.getenv", "print", "input",
}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                if a.name.split(".")[0] in FORBIDDEN_MODULES or a.name.startswith(tuple(f"trtdiag.{p}" for p in FORBIDDEN_PACKAGES)):
                    out.append(f"{path.name}:{n.lineno} import {a.name}")
        elif isinstance(n, ast.ImportFrom):
            mod = n.module or ""
            top = mod.split(".")[0]
            if n.level == 0 and (top in FORBIDDEN_MODULES or mod.startswith(tuple(f"trtdiag.{p}" for p in FORBIDDEN_PACKAGES))):
                out.append(f"{path.name}:{n.lineno} from {mod}")
            if n.level >= 3 and top in FORBIDDEN_PACKAGES:  # from ...probes / ...fixes
                out.append(f"{path.name}:{n.lineno} from {'.' * n.level}{mod}")
        elif isinstance(n, ast.Call):
            name = _dotted(n.func)
            if name in FORBIDDEN_CALLS:
                out.append(f"{path.name}:{n.lineno} {name}()")
        elif isinstance(n, ast.Subscript) and _dotted(n.value) == "os.environ":
            out.append(f"{path.name}:{n.lineno} os.environ[...]")
    return out


def test_rules_do_no_io_and_plan_no_fixes():
    files = sorted(RULES.rglob("*.py"))
    assert len(files) > 60
    bad = [v for f in files for v in _violations(f)]
    assert bad == []


def test_one_rule_a_file_named_after_its_id():
    from trtdiag.core import catalogue

    files = catalogue.rule_files()
    seen: dict[str, str] = {}
    for rid, path in files.items():
        p = Path(path)
        assert p.parent.parent == RULES, (rid, path)
        assert p.name.startswith(rid + "_"), (rid, p.name)
        assert p.name not in seen, f"{p.name} holds {seen.get(p.name)} and {rid}"
        seen[p.name] = rid
    for p in RULES.glob("*/*.py"):
        if p.name in ("__init__.py", "common.py"):
            continue
        assert p.name in seen, f"{p} registers no rule"
