"""TRI012: Each model has a version folder (and model.py for Python models)."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _parsed, _repo, error, ok


# ---------------------------------------------------------------- TRI012 version folders
@rule("TRI012", area=AREA, title="Each model has a version folder (and model.py for Python models)", kb="triton-model-version-missing")
def version_folders(facts):
    """Every model folder holds a numeric version folder (``1/``), and a Python-backend model's
    version folder holds ``model.py``.

    Why: tritonserver loads versions, not folders: without one it refuses the model with "at least
    one version must be available under the version policy of model 'ensemble'".  git does not keep
    empty folders, so ``ensemble/1`` and ``tensorrt_llm/1`` are easily lost when the templates are
    copied or committed; the Python models (preprocessing, postprocessing, tensorrt_llm_bls) need
    their ``1/model.py``.

    Fix: ``mkdir -p REPO/MODEL/1`` (for ensemble and tensorrt_llm), and copy ``1/model.py`` from
    tensorrtllm_backend's all_models/inflight_batcher_llm for the Python models.
    """
    repo = _repo(facts)
    if repo is None:
        return
    problems = 0
    for name, m in _parsed(repo):
        versions = m.get("versions")
        if versions is None:
            continue
        if not versions:
            problems += 1
            yield error(f"{name}: no version folder",
                        f"{m['path']} holds no numeric version folder; tritonserver refuses it with \"at least one version must be available under the version policy of model '{name}'\". "
                        f"Create it: mkdir -p {m['path']}/1", evidence={"model": m["path"]})
            continue
        if m.get("backend") == "python" and not m.get("model_py"):
            problems += 1
            yield error(f"{name}: no model.py in {'/'.join(versions[-1:])}/",
                        f"{name} uses the Python backend, which loads {m['path']}/{versions[-1]}/model.py; it is missing. "
                        f"Copy it from tensorrtllm_backend/all_models/inflight_batcher_llm/{name}/1/model.py (the same release as the templates).",
                        evidence={"model": m["path"], "versions": versions})
    if not problems:
        yield ok("Every model has a version folder", models=sorted(repo["models"]))
