"""trtdiag plan (not built yet)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="(not built yet)", description=__doc__)
    return p


def run(args) -> int:
    from ..errors import UsageError

    raise UsageError("'trtdiag plan' is not available in this version")
