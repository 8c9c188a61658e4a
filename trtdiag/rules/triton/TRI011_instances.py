"""TRI011: Instance counts and queue delays make sense."""

from __future__ import annotations

from ...core.catalogue import rule
from ...derive.triton_semantics import KIND_NAMES
from .common import AREA, INFLIGHT, MAX_SANE_DELAY_US, _judge, _parsed, _repo, error, ok, warning


@rule("TRI011", area=AREA, title="Instance counts and queue delays make sense", kb="triton-instance-config")
def instances(facts):
    """Instance groups as Triton normalises them, then validates them; the tensorrt_llm model runs
    one instance under inflight batching; preferred batch sizes do not exceed max_batch_size; the
    dynamic batcher does not hold requests back for a second or more.

    Why: Triton fills in what a group leaves out before it validates (triton-inference-server/core
    src/model_config_utils.cc NormalizeInstanceGroup, SetDefaultInstanceCount): a count that is
    absent or below 1 becomes 1 (2 on CPU for the tensorflow and onnxruntime backends), a missing
    group becomes one, a kind may be given by number (``kind: 2`` is KIND_CPU); it refuses a kind
    number that names no kind ("has unexpected kind KIND_AUTO"), GPUs listed on a CPU group, and a
    preferred batch size above max_batch_size.  Every extra tensorrt_llm instance loads the whole
    engine again while inflight batching already batches inside one instance;
    max_queue_delay_microseconds is added to the latency of requests that wait for a batch.

    Fix: count: 1 for tensorrt_llm (KIND_CPU, as in the templates); a few preprocessing /
    postprocessing instances; max_queue_delay_microseconds in the hundreds, not millions.
    """
    repo = _repo(facts)
    if repo is None:
        return
    trt_name = repo.get("trtllm_model")
    judged = (_judge(facts) or {}).get("models") or {}
    problems = 0
    for name, m in _parsed(repo):
        f = m["config_path"]
        ig = (judged.get(name) or {}).get("instance_groups")
        if ig and ig.get("error") and "count" not in {p.get("field") for p in m.get("placeholders") or []}:
            problems += 1
            yield error(f"{name}: tritonserver refuses its instance_group",
                        f"tritonserver: \"{ig['error']}\" ({f}). Use kind KIND_CPU or KIND_GPU (KIND_CPU for the tensorrtllm_backend models, as in the templates).",
                        evidence={"file": f, "groups as Triton normalises them": ig["groups"], "source": ig["source"]})
        cnt = ig["total"] if ig else m.get("instance_count")
        if name == trt_name:
            gmt = (m.get("parameters") or {}).get("gpt_model_type")
            if cnt is not None and cnt > 1 and gmt in INFLIGHT:
                problems += 1
                yield warning(f"{name}: {cnt} instances under {gmt}",
                              f"{f} runs {cnt} instances of the tensorrtllm model; each loads the whole engine and its KV cache again, while inflight batching already batches requests inside one. Set count: 1.",
                              evidence={"file": f, "count": cnt, "gpt_model_type": gmt})
            given = [KIND_NAMES.get(k, k) if isinstance(k, int) else k for k in m.get("instance_kinds") or []]  # kind: 1 is KIND_GPU
            if "KIND_GPU" in given:
                problems += 1
                yield warning(f"{name}: instance_group kind KIND_GPU",
                              f"{f} uses KIND_GPU, so Triton creates one tensorrt_llm instance per visible GPU, each loading the engine; the backend places the engine on GPUs itself. Use kind: KIND_CPU as in the templates.",
                              evidence={"file": f, "kinds": given})
        mb = m.get("max_batch_size")
        pref = m.get("preferred_batch_size") or []
        refused = [e for e in (judged.get(name) or {}).get("config_errors") or [] if e.startswith("dynamic batching preferred size")]
        if refused and mb is not None:
            problems += 1
            yield error(f"{name}: preferred_batch_size {pref} above max_batch_size {mb}",
                        f"tritonserver: \"{refused[0]}\" ({f}). Set preferred_batch_size: [ {max(mb, 1)} ] or drop it.",
                        evidence={"file": f, "preferred_batch_size": pref, "max_batch_size": mb})
        d = m.get("max_queue_delay_microseconds")
        if d is not None and d >= MAX_SANE_DELAY_US:
            problems += 1
            yield warning(f"{name}: max_queue_delay_microseconds {d} (= {d / 1e6:g} s)",
                          f"{f}: the dynamic batcher may hold each request up to {d / 1e6:g} s waiting for a fuller batch. Microseconds, not milliseconds: use a few hundred (e.g. 100) or 0 with inflight batching.",
                          evidence={"file": f, "max_queue_delay_microseconds": d})
    if not problems:
        yield ok("Instance counts and queue delays are sensible", models=sorted(repo["models"]))
