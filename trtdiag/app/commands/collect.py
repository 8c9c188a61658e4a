"""trtdiag collect: record what the checks read on this machine into a snapshot (no weights).

The snapshot holds the facts the checks asked for (versions, library paths, GPU inventory, engine
headers and configs, the model repository) plus the environment summary, launch variables and rank
identity the fleet checks compare.  `trtdiag check --from snap.json` runs every check on it
elsewhere; several `--from` files (one per node or rank) add the cross-rank checks."""

from __future__ import annotations

import argparse
import json
import sys

from ..main import HelpFormatter, add_select_options, add_target_options, make_facts, run_checks

EXAMPLES = """\
examples:
  trtdiag collect -o node1.json --engine-dir /engines/llama-70b
  trtdiag check --from node1.json               same findings, on any machine
  trtdiag check --from node0.json --from node1.json   ... and the cross-rank checks (FLT)
  mpirun -n 8 trtdiag collect -o /shared/snap-{rank}.json   one snapshot per rank, to compare later
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("collect", help="record a snapshot of what the checks read (for check --from)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=HelpFormatter)
    add_target_options(p)
    add_select_options(p)
    p.add_argument("-o", "--output", metavar="FILE", default="-",
                   help="where to write the snapshot (default: standard output); {rank} and {host} are replaced, "
                        "e.g. `mpirun -n 8 trtdiag collect -o /shared/snap-{rank}.json`")
    p.add_argument("--redact", action="store_true",
                   help="hide user and host names, home paths, IP/MAC addresses and GPU UUIDs/serials (to attach to a public issue)")
    return p


def run(args) -> int:
    from ...engine.fleet import gather_local
    from ...probes.fleet import rank_from_env

    facts = make_facts(args)
    ident = rank_from_env()
    if ident["local_rank"] is not None and facts.options.get("gpu_index") is None:
        facts.options["gpu_index"] = ident["local_rank"]  # the GPU this rank will use, as under `check --mpi`
    _, facts = run_checks(args, "collect", facts)
    gather_local(facts)  # what the fleet checks and `report --from` compare, even if no check asked
    snap = facts.snapshot()
    if args.redact:
        from ...redact import redact

        snap = redact(json.loads(json.dumps(snap, default=str)))
    text = json.dumps(snap, indent=1, default=str, sort_keys=True) + "\n"
    if args.output != "-" and ("{rank}" in args.output or "{host}" in args.output):
        import socket

        args.output = args.output.replace("{rank}", str(ident["rank"] if ident["rank"] is not None else 0)).replace("{host}", socket.gethostname())
    if args.output == "-":
        sys.stdout.write(text)
    else:
        from ...fsutil import write_output

        write_output(args.output, text)
        print(f"snapshot written to {args.output}", file=sys.stderr)
    return 0
