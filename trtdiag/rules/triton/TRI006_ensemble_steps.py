"""TRI006: Ensemble steps name real models, tensors and batch sizes."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, _judge, _repo, error, ok


# ---------------------------------------------------------------- TRI006 ensemble
@rule("TRI006", area=AREA, title="Ensembles pass Triton's validation; the BLS calls a model that takes its batches", kb="triton-ensemble-step-mismatch")
def ensemble_steps(facts):
    """Each ensemble as tritonserver validates it when it loads, in its order (triton-inference-server/core
    src/model_config_utils.cc ValidateEnsembleSchedulingConfig, model_repository_manager.cc,
    src/ensemble_scheduler/ensemble_utils.cc ValidateEnsembleConfig): steps, input/output maps,
    unused or unwritten tensors, missing step models and versions, cycles between ensembles, each
    step's max_batch_size, data types and shapes of every ensemble tensor with the batch dimension
    expanded, and steps fed by two different decoupled models.  The BLS model calls a model the
    repository holds (its tensorrt_llm_model_name, or the release's own default) whose
    max_batch_size is not below the BLS's.

    Why: tritonserver refuses such an ensemble with the message quoted in the finding ("in ensemble
    ensemble, ensemble tensor _REQUEST_OUTPUT_LEN: inconsistent data type: TYPE_INT32 is inferred
    from model preprocessing while TYPE_UINT32 is inferred from model tensorrt_llm" when a
    tensorrt_llm config of another release sits beside older pre/post-processing); a BLS that
    forwards a batch larger than the callee allows fails with "inference request batch-size must be
    <= N".

    Fix: copy all models of the repository from one release; make names, types and batch sizes agree.
    """
    repo = _repo(facts)
    if repo is None:
        return
    j = _judge(facts)
    if j is None:
        return
    from ...derive.triton_findings import ensembles

    for f in ensembles(repo, j):
        ev = f["evidence"]
        if f["severity"] == "error":
            missing = [n for n in repo.get("folders_without_config") or [] if n in f["message"]]
            msg = f["message"] + (f" The folder {missing[0]}/ is there but holds no config.pbtxt: copy it from the templates." if missing else "")
            yield error(f["title"], msg, evidence=ev)
        else:
            yield ok(f["title"], **{k: v for k, v in ev.items() if v is not None})
