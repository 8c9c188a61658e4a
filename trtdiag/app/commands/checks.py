"""trtdiag checks: list every check with its id, area and knowledge-base entry; or show one."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("checks", help="list the checks (ids for --only/--skip) or document one", description=__doc__)
    p.add_argument("id", nargs="?", help="a check id, to show its documentation")
    return p


def run(args) -> int:
    from ...core import catalogue as registry, kb
    from ...core.errors import UsageError

    specs = registry.load_all()
    if args.id:
        spec = specs.get(args.id.upper())
        if spec is None:
            raise UsageError(f"no check {args.id!r} (see `trtdiag checks`)")
        print(f"{spec.id}  {spec.title}  (area: {spec.area})\n")
        print(spec.doc or "(no documentation)")
        entry = kb.get(spec.kb) if spec.kb else None
        if entry:
            print(f"\nknowledge base: {entry['id']} — {entry['title']}")
        return 0
    for spec in registry.select(command="check") + [s for s in specs.values() if "check" not in s.commands]:
        print(f"{spec.id:8} {spec.area:12} {spec.title}" + (f"  [{spec.kb}]" if spec.kb else ""))
    return 0
