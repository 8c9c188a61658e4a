"""One judgement of a whole model repository, as Triton and the backend release it came from would make it.

:func:`judge_repository` takes the ``triton.repo`` fact's ``models`` (folder → parsed model) and
returns plain data the TRI rules render:

* ``release`` — :func:`trtdiag.derive.triton_release.detect_release` (tags, how sure);
* ``models[folder]`` — ``template`` (the all_models template it matches), ``placeholders`` (every
  ``${…}`` with its verdict for that release), ``blocking`` (the names that stop it),
  ``config_errors`` (Triton's ValidateModelConfig after normalisation), ``instance_groups``
  (normalised: count defaults applied, kinds by number resolved);
* ``ensembles[folder]`` — :func:`trtdiag.derive.triton_semantics.validate_ensemble`;
* ``bls[folder]`` — the model the BLS calls (given or the release's own default) and
  :func:`~trtdiag.derive.triton_semantics.bls_coherence` with it.

Pure: no I/O beyond the packaged table.
"""

from __future__ import annotations

from typing import Any

from ..core.facts import derived
from . import triton_release, triton_semantics as sem


@derived("triton_judge")
def judgement(facts) -> dict[str, Any] | None:
    """The derived fact the TRI rules read: :func:`judge_repository` of ``triton.repo`` (None
    without a repository)."""
    repo = facts.get("triton.repo")
    if not isinstance(repo, dict) or not isinstance(repo.get("models"), dict):
        return None
    return judge_repository(repo["models"])


def judge_repository(models: dict[str, dict[str, Any]], gpus: int | None = None) -> dict[str, Any]:
    rel = triton_release.detect_release(models)
    tags = rel["tags"]
    out: dict[str, Any] = {"release": {k: v for k, v in rel.items() if k != "models"}, "models": {}, "ensembles": {}, "bls": {}}
    for folder, m in models.items():
        match = rel["models"].get(folder) or {}
        template = match.get("template")
        mtags = tags if not rel["mixed"] else (match.get("tags") or tags)
        entry: dict[str, Any] = {"template": template, "tags": mtags, "how": match.get("how")}
        if m.get("read_error") or m.get("parse_error") and not m.get("placeholders"):
            entry.update({"placeholders": [], "blocking": [], "config_errors": [], "instance_groups": None})
            out["models"][folder] = entry
            continue
        verdicts = sem.placeholder_verdicts(m, template, mtags)
        entry["placeholders"] = verdicts
        entry["blocking"] = sorted({v["name"] for v in verdicts if v["required"]})
        if m.get("parse_error"):
            entry.update({"config_errors": [], "instance_groups": None})
            out["models"][folder] = entry
            continue
        cfg = sem.autocomplete_backend_fields(m, folder, _version_files(m))
        # values that came from a placeholder are None and are not judged; a model whose
        # placeholders block it is judged on the rest
        entry["config_errors"] = [] if cfg.get("has_ensemble_scheduling") else sem.validate_model_config(cfg, gpus)
        entry["instance_groups"] = None if cfg.get("has_ensemble_scheduling") else sem.normalize_instance_groups(cfg, gpus)
        out["models"][folder] = entry
        if cfg.get("has_ensemble_scheduling") or cfg.get("platform") == "ensemble":
            if not m.get("placeholders"):
                out["ensembles"][folder] = sem.validate_ensemble(cfg, _named(models))
            else:
                out["ensembles"][folder] = {"errors": [], "decoupled": None, "first": None,
                                            "not_judged": "placeholders left in the ensemble (TRI001)"}
    for folder, m in models.items():
        params = m.get("parameters") or {}
        is_bls = (out["models"].get(folder, {}).get("template") or "").endswith("tensorrt_llm_bls") or "tensorrt_llm_model_name" in params
        if not is_bls or m.get("parse_error"):
            continue
        target, why = sem.bls_target(m, out["models"][folder]["tags"])
        entry = {"target": target, "target_from": why, "coherence": []}
        if target and target in models and not models[target].get("parse_error"):
            entry["coherence"] = sem.bls_coherence(m, models[target])
        elif target:
            entry["missing_target"] = target
        out["bls"][folder] = entry
    return out


def _version_files(m: dict[str, Any]) -> list[str] | None:
    """Files of the model's first version folder, when the fact lists them (model.py for the Python models)."""
    if m.get("model_py"):
        return ["model.py"]
    return None if m.get("versions") is None else []


def _named(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Step models by folder name with the name Triton gives them (the folder when the config has none)."""
    return {f: (m if m.get("name") else dict(m, name=f)) for f, m in models.items()}
