"""ENG006: One engine file per rank (tp × pp)."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _engine, error, ok, os, warning


@rule("ENG006", area="engine", title="One engine file per rank (tp × pp)", kb="engine-rank-files-missing")
def engine_ranks(facts):
    """The engine directory holds one engine per rank: tp_size × pp_size files named rank0.engine …
    (trtllm-build) or <name>_<dtype>_tp<N>_rank<R>.engine (legacy build.py).

    Why: each MPI rank loads its own file; a missing one fails that rank at launch.
    Fix: copy the missing rank files, or rebuild with the intended tp/pp.
    """
    e = _engine(facts)
    if not e or e.get("is_file") or not e.get("expected_ranks"):
        return
    n = e["normalized"]
    miss = [p for p in e.get("problems", []) if p["kind"] == "missing-rank"]
    extra = [p for p in e.get("problems", []) if p["kind"] == "extra-ranks"]
    ev = {"tp": n.get("tp"), "pp": n.get("pp"), "world_size": e["expected_ranks"],
          "found": [os.path.basename(r["path"]) for r in e.get("ranks", [])]}
    if miss:
        yield error(f"{miss[0].get('missing_count', len(miss))} of {e['expected_ranks']} rank engine file(s) missing",
                    f"config.json says tp={n.get('tp')} × pp={n.get('pp')} = {e['expected_ranks']} ranks, but "
                    f"{miss[0]['expected_file']} is missing. Copy the missing files from where the engine was built, or rebuild.",
                    evidence=dict(ev, missing=[p["expected_file"] for p in miss]))
    elif extra:
        yield warning(f"Engine files for ranks {extra[0]['ranks']} beyond world size {e['expected_ranks']}",
                      "Files of another build are mixed into this directory.", evidence=ev)
    else:
        yield ok(f"{e['expected_ranks']} rank engine file(s) for tp={n.get('tp')} × pp={n.get('pp')}", **ev)
