"""TRI006: Ensemble steps name real models, tensors and batch sizes."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _parsed, _repo, error, ok


# ---------------------------------------------------------------- TRI006 ensemble
@rule("TRI006", area=AREA, title="Ensemble steps name real models, tensors and batch sizes", kb="triton-ensemble-step-mismatch")
def ensemble_steps(facts):
    """Each ensemble step names a model of the repository, maps only inputs and outputs that model
    has, maps every required input, and no step allows a smaller max_batch_size than the ensemble;
    the BLS model's tensorrt_llm_model_name names a model of the repository.

    Why: tritonserver validates ensembles when it loads them and refuses with "ensemble E
    contains models that are not available", "… is mapping to non-existing input …", "ensemble E
    allows maximum batch size N, but it contains model M which only allows maximum batch size to
    be K"; a BLS model pointing at a missing model fails every request.

    Fix: make the names agree (rename the model folder or the step's model_name) and give the
    ensemble a max_batch_size no larger than its steps'.
    """
    repo = _repo(facts)
    if repo is None:
        return
    models = repo["models"]
    for ename, e in _parsed(repo):
        steps = e.get("ensemble_steps") or []
        if not steps:
            continue
        problems = 0
        for st in steps:
            sname = st["model_name"]
            ev = {"file": e["config_path"], "step": sname}
            if sname not in models:
                problems += 1
                hint = (f" The folder {sname}/ is there but holds no config.pbtxt: copy it from the templates."
                        if sname in (repo.get("folders_without_config") or []) else f" Models present: {', '.join(sorted(models))}.")
                yield error(f"ensemble {ename}: step model '{sname}' is not in the repository",
                            f"tritonserver: \"ensemble {ename} contains models that are not available: {sname}\".{hint}",
                            evidence=dict(ev, models=sorted(models)))
                continue
            sm = models[sname]
            if sm.get("parse_error"):
                continue
            ins = {t["name"]: t for t in sm.get("inputs") or []}
            outs = {t["name"] for t in sm.get("outputs") or []}
            for k, v in st["input_map"].items():
                if k not in ins:
                    problems += 1
                    yield error(f"ensemble {ename}: step {sname} has no input '{k}'",
                                f"tritonserver: \"in ensemble {ename}, ensemble tensor {v} is mapping to non-existing input {k} in model {sname}\". "
                                f"Inputs of {sname}: {', '.join(sorted(ins))}.", evidence=ev)
            mapped = set(st["input_map"])
            for iname, t in ins.items():
                if iname not in mapped and not t.get("optional"):
                    problems += 1
                    yield error(f"ensemble {ename}: required input '{iname}' of {sname} is not mapped",
                                f"tritonserver: \"in ensemble {ename}, input {iname} in model {sname} is not mapped to any ensemble tensors\". "
                                f"Add input_map {{ key: \"{iname}\" value: \"…\" }} to the step, or mark the input optional in {sname}/config.pbtxt.", evidence=ev)
            for k, v in st["output_map"].items():
                if k not in outs:
                    problems += 1
                    yield error(f"ensemble {ename}: step {sname} has no output '{k}'",
                                f"tritonserver: \"in ensemble {ename}, ensemble tensor {v} is mapped from non-existing output {k} in model {sname}\". "
                                f"Outputs of {sname}: {', '.join(sorted(outs))}.", evidence=ev)
            emb, smb = e.get("max_batch_size"), sm.get("max_batch_size")
            if emb is not None and smb is not None and smb != 0 and smb < emb:
                problems += 1
                yield error(f"ensemble {ename}: max_batch_size {emb} > {sname}'s {smb}",
                            f"tritonserver: \"ensemble {ename} allows maximum batch size {emb}, but it contains model {sname} which only allows maximum batch size to be {smb}\". "
                            f"Set max_batch_size: {smb} in {e['config_path']} (or raise {sname}'s).", evidence=dict(ev, ensemble_max_batch_size=emb, step_max_batch_size=smb))
        if not problems:
            yield ok(f"ensemble '{ename}': {len(steps)} steps agree with their models", file=e["config_path"])
    for bname, b in _parsed(repo):
        target = (b.get("parameters") or {}).get("tensorrt_llm_model_name")
        if target and target not in models:
            yield error(f"{bname}: tensorrt_llm_model_name '{target}' is not in the repository",
                        f"The BLS model sends every request to model '{target}' ({b['config_path']}), which the repository does not hold; requests fail. "
                        f"Set it to {repo.get('trtllm_model') or 'the tensorrtllm model'}.", evidence={"file": b["config_path"], "tensorrt_llm_model_name": target, "models": sorted(models)})
