"""trtdiag checks: list every id trtdiag can report (rules and the ids commands make), or document one."""

from __future__ import annotations

import argparse
import sys

from ..main import HelpFormatter

EXAMPLES = """\
examples:
  trtdiag checks                 every rule id, its area and knowledge-base entry
  trtdiag checks ENG001          what ENG001 checks, why, and the fix
  trtdiag checks PLAN001         ids that commands make are documented too
  trtdiag checks EXP:shm-too-small
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("checks", help="list the checks (ids for --only/--skip) or document one", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    p.add_argument("id", nargs="?", help="a check id, to show its documentation")
    return p


def run(args) -> int:
    from ...core import catalogue, kb
    from ...core.errors import UsageError
    from ...render import catalogue as render

    specs = catalogue.load_all()
    if args.id:
        spec = catalogue.lookup(args.id)
        if spec is None:
            import difflib

            near = difflib.get_close_matches(args.id.upper(), list(specs), n=3)
            raise UsageError(f"no check {args.id!r}" + (f" (did you mean: {', '.join(near)}?)" if near else " (see `trtdiag checks`)"))
        entry = None
        if spec.family and ":" in args.id:
            entry = kb.get(args.id.split(":", 1)[1])
            if entry is None:
                raise UsageError(f"no knowledge-base entry {args.id.split(':', 1)[1]!r} (see: trtdiag explain --list)")
        elif spec.kb:
            entry = kb.get(spec.kb)
        from ..main import output_width

        sys.stdout.write(render.document(spec, entry, output_width(sys.stdout)))
        return 0
    rules = catalogue.select(command="check")
    others = [s for s in specs.values() if s not in rules]
    from ..main import output_width

    sys.stdout.write(render.listing(rules + others, output_width(sys.stdout)))
    return 0
