"""Which tensorrtllm_backend release a model repository's configs were copied from.

Pure functions over the ``triton.repo`` fact's models and the per-release table
(:mod:`trtdiag.derive.backend_table`).  Each model of the repository is compared with every
template of every release tag:

* ``exact`` — the file is byte for byte that tag's unfilled template (sha256 equal);
* ``structure`` — same parameter keys, same input and output tensors (names and data types; a data
  type that is itself a placeholder in the template matches any): a filled copy of that template;
* ``closest`` — the best partial match (score below 1: parameters or tensors added or removed).

Consecutive tags often ship identical templates (v0.18.0–v0.18.2), so the answer is the set of tags
that match best, not one tag.  When the models point at different tags (a tensorrt_llm config
from a newer release beside older pre/post-processing) the answer says ``mixed`` and gives each
model's own tags.
"""

from __future__ import annotations

from typing import Any

from . import backend_table as bt

MIN_SCORE = 0.5  # below this a model is not taken for a copy of any template
WILDCARD_TYPES = {"TYPE_INVALID"}  # what a ${…} data_type reads as (the parser's dummy is the enum's first value)


def _tensor_map(items: list[str] | list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for t in items:
        if isinstance(t, dict):
            out[t["name"]] = t.get("data_type") or "TYPE_INVALID"
        else:
            n, _, d = t.partition(":")
            out[n] = d
    return out


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _tensors_score(mine: dict[str, str], theirs: dict[str, str]) -> float:
    names = _jaccard(set(mine), set(theirs))
    common = set(mine) & set(theirs)
    if not common:
        return names
    same = sum(1 for n in common if mine[n] == theirs[n] or mine[n] in WILDCARD_TYPES or theirs[n] in WILDCARD_TYPES)
    return names * (same / len(common))


def model_signature(m: dict[str, Any]) -> dict[str, Any]:
    """The parts of a parsed model (``triton.repo`` model) that identify its template."""
    return {
        "name": m.get("name"),
        "sha256": m.get("sha256"),
        "platform": m.get("platform"),
        "parameters": set((m.get("parameters") or {}).keys()),
        "inputs": _tensor_map(m.get("inputs") or []),
        "outputs": _tensor_map(m.get("outputs") or []),
    }


def compare(sig: dict[str, Any], fp: dict[str, Any]) -> tuple[float, str]:
    """(score in [0, 1], how) of a repository model against one template fingerprint."""
    if sig.get("sha256") and sig["sha256"] == fp.get("sha256"):
        return 1.0, "exact"
    if (sig.get("platform") == "ensemble") != (fp.get("platform") == "ensemble"):
        return 0.0, "closest"
    p = _jaccard(sig["parameters"], set(fp.get("parameters") or []))
    i = _tensors_score(sig["inputs"], _tensor_map(fp.get("inputs") or []))
    o = _tensors_score(sig["outputs"], _tensor_map(fp.get("outputs") or []))
    score = (p + i + o) / 3
    return score, ("structure" if score == 1.0 else "closest")


def match_model(m: dict[str, Any]) -> dict[str, Any]:
    """The templates a repository model matches best: ``{"template", "tags", "score", "how"}``
    (template None when nothing scores MIN_SCORE)."""
    sig = model_signature(m)
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for tag in bt.releases():
        for key, t in bt.template_models(tag).items():
            s, how = compare(sig, t["fingerprint"])
            if s >= MIN_SCORE:
                best[(tag, key)] = (s, how)
    if not best:
        return {"template": None, "tags": [], "score": 0.0, "how": None}
    top = max(s for s, _ in best.values())
    hits = [(tag, key, how) for (tag, key), (s, how) in best.items() if s == top]
    # one template name among the hits: prefer the one the model's name or folder is called by
    exact = {k for _, k, h in hits if h == "exact"}
    keys = sorted({k for _, k, _ in hits}, key=lambda k: (k not in exact, k.split("/")[1] != (m.get("name") or ""),
                                                          not k.startswith("inflight_batcher_llm/"), k))
    key = keys[0]
    if key in exact:  # byte for byte some tags' template: those tags, not the ones merely alike
        hits = [h for h in hits if h[2] == "exact"]
    tags = [t for t, k, _ in hits if k == key]
    hows = {h for t, k, h in hits if k == key}
    return {"template": key, "tags": sorted(tags, key=bt.tag_key), "score": round(top, 4),
            "how": "exact" if hows == {"exact"} else ("structure" if top == 1.0 else "closest")}


def detect_release(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The release(s) a repository's templates came from.

    ``models``: the ``triton.repo`` fact's ``models`` (folder → parsed model).  Returns
    ``{"tags": [...], "how": "exact"|"structure"|"closest"|None, "score", "mixed": bool,
    "models": {folder: match_model(...)}, "summary": "v0.18.0–v0.18.2 (structure)"}``; ``tags`` is
    the intersection of the models' tags when they agree, else the tags that the most models
    share (``mixed`` true).  Models that match no template (the user's own) are left out."""
    per = {name: match_model(m) for name, m in models.items() if not m.get("parse_error") or m.get("sha256")}
    matched = {n: r for n, r in per.items() if r["template"]}
    if not matched:
        return {"tags": [], "how": None, "score": 0.0, "mixed": False, "models": per, "summary": "no tensorrtllm_backend template recognised"}
    common = set(bt.releases())
    for r in matched.values():
        common &= set(r["tags"])
    mixed = not common
    if mixed:  # the tags the most models agree on
        counts: dict[str, int] = {}
        for r in matched.values():
            for t in r["tags"]:
                counts[t] = counts.get(t, 0) + 1
        top = max(counts.values())
        common = {t for t, c in counts.items() if c == top}
    tags = sorted(common, key=bt.tag_key)
    hows = {r["how"] for r in matched.values()}
    how = "exact" if hows == {"exact"} else ("structure" if hows <= {"exact", "structure"} else "closest")
    score = round(sum(r["score"] for r in matched.values()) / len(matched), 4)
    span = tags[0] if len(tags) == 1 else f"{tags[0]}–{tags[-1]}" if _consecutive(tags) else ", ".join(tags)
    summary = f"tensorrtllm_backend {span} ({how}" + (f", score {score}" if how == "closest" else "") + (", models from different releases" if mixed else "") + ")"
    return {"tags": tags, "how": how, "score": score, "mixed": mixed, "models": per, "summary": summary}


def _consecutive(tags: list[str]) -> bool:
    allt = bt.releases()
    idx = [allt.index(t) for t in tags]
    return idx == list(range(idx[0], idx[0] + len(idx)))
