"""trtdiag check: inspect this machine (or a snapshot) before launch; changes nothing."""

from __future__ import annotations

import argparse

from ..main import HelpFormatter, add_output_options, add_select_options, add_target_options, print_report, run_checks

EXAMPLES = """\
examples:
  trtdiag check
  trtdiag check --engine-dir /engines/llama-7b/tp1 --json
  trtdiag check --model-repo /tensorrtllm_backend/triton_model_repo --only triton,ports
  trtdiag check --from snapshot.json           the same checks on a snapshot taken elsewhere
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="find launch failures before launch (read-only)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    add_target_options(p)
    add_select_options(p)
    add_output_options(p)
    p.add_argument("--mpi", action="store_true", help="run as one rank of `mpirun -n N trtdiag check --mpi`; rank 0 reports for all")
    p.add_argument("--reachability", action="store_true", help="with --mpi: each rank resolves every other rank's host name and opens a TCP connection to it (2 s limit each)")
    return p


def run(args) -> int:
    if getattr(args, "reachability", False) and not getattr(args, "mpi", False):
        from ...core.errors import UsageError

        raise UsageError("--reachability tests the network between the ranks of `mpirun -n N trtdiag check --mpi`: add --mpi")
    if getattr(args, "mpi", False):
        from ...engine.fleet import run_mpi

        return run_mpi(args)
    report, _ = run_checks(args, "check")
    print_report(report, args)
    return report.exit_code(getattr(args, "strict", False))
