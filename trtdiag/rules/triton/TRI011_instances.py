"""TRI011: Instance counts and queue delays make sense."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import AREA, INFLIGHT, MAX_SANE_DELAY_US, _parsed, _repo, error, ok, warning


@rule("TRI011", area=AREA, title="Instance counts and queue delays make sense", kb="triton-instance-config")
def instances(facts):
    """Instance groups have a count of at least 1; the tensorrt_llm model runs one instance under
    inflight batching; preferred batch sizes do not exceed max_batch_size; the dynamic batcher
    does not hold requests back for a second or more.

    Why: Triton refuses a count below 1 and a preferred batch size above max_batch_size; every
    extra tensorrt_llm instance loads the whole engine again (out of GPU memory) while inflight
    batching already batches inside one instance; max_queue_delay_microseconds is added to the
    latency of requests that wait for a batch.

    Fix: count: 1 for tensorrt_llm (KIND_CPU, as in the templates); a few preprocessing /
    postprocessing instances; max_queue_delay_microseconds in the hundreds, not millions.
    """
    repo = _repo(facts)
    if repo is None:
        return
    trt_name = repo.get("trtllm_model")
    problems = 0
    for name, m in _parsed(repo):
        f = m["config_path"]
        cnt = m.get("instance_count")
        if cnt is not None and m.get("instance_kinds") and cnt < 1:
            problems += 1
            yield error(f"{name}: instance_group count {cnt}",
                        f"{f} asks for {cnt} instances; tritonserver refuses an instance group with a count below 1. Set count: 1 (or more for the Python models).",
                        evidence={"file": f, "count": cnt})
        if name == trt_name:
            gmt = (m.get("parameters") or {}).get("gpt_model_type")
            if cnt is not None and cnt > 1 and gmt in INFLIGHT:
                problems += 1
                yield warning(f"{name}: {cnt} instances under {gmt}",
                              f"{f} runs {cnt} instances of the tensorrtllm model; each loads the whole engine and its KV cache again, while inflight batching already batches requests inside one. Set count: 1.",
                              evidence={"file": f, "count": cnt, "gpt_model_type": gmt})
            if "KIND_GPU" in (m.get("instance_kinds") or []):
                problems += 1
                yield warning(f"{name}: instance_group kind KIND_GPU",
                              f"{f} uses KIND_GPU, so Triton creates one tensorrt_llm instance per visible GPU, each loading the engine; the backend places the engine on GPUs itself. Use kind: KIND_CPU as in the templates.",
                              evidence={"file": f, "kinds": m.get("instance_kinds")})
        mb = m.get("max_batch_size")
        pref = m.get("preferred_batch_size") or []
        too_big = [x for x in pref if mb is not None and mb > 0 and x > mb]
        if too_big:
            problems += 1
            yield error(f"{name}: preferred_batch_size {too_big} above max_batch_size {mb}",
                        f"{f}: tritonserver refuses a dynamic_batching preferred_batch_size larger than max_batch_size ({mb}). Set preferred_batch_size: [ {mb} ] or drop it.",
                        evidence={"file": f, "preferred_batch_size": pref, "max_batch_size": mb})
        d = m.get("max_queue_delay_microseconds")
        if d is not None and d >= MAX_SANE_DELAY_US:
            problems += 1
            yield warning(f"{name}: max_queue_delay_microseconds {d} (= {d / 1e6:g} s)",
                          f"{f}: the dynamic batcher may hold each request up to {d / 1e6:g} s waiting for a fuller batch. Microseconds, not milliseconds: use a few hundred (e.g. 100) or 0 with inflight batching.",
                          evidence={"file": f, "max_queue_delay_microseconds": d})
    if not problems:
        yield ok("Instance counts and queue delays are sensible", models=sorted(repo["models"]))
