"""Ids that commands make outside the rule pipeline, registered so `trtdiag checks ID` documents them."""

from __future__ import annotations

from .catalogue import register

register("PLAN001", area="plan", title="Will the model fit the GPU (trtdiag plan's verdict)", commands=("plan",),
         kb="engine-oom-at-load", text="""
    The verdict of ``trtdiag plan``: the model loads and its KV cache holds max_batch_size
    full-length sequences (ok), loads but holds fewer (a warning, with what that costs), or does not
    load (an error), per rank, for the precision, batch size and lengths asked, on the GPU given
    (``--gpu-memory``, ``--gpu NAME``) or the one visible.  The arithmetic is the same as MEM001/MEM002's
    (docs/memory.md).""")
register("PLAN002", area="plan", title="What fits on this GPU (trtdiag plan's table)", commands=("plan",), text="""
    The table ``trtdiag plan`` prints under its verdict: for each precision (the built or asked one
    first, then int8/int4 weight-only and fp8 KV cache), weights per rank, KV tokens, full sequences
    and the largest batch that fits.""")
register("EXP", area="explain", title="A known failure named in a log (trtdiag explain)", commands=("explain",), family=True,
         text="""
    ``trtdiag explain LOG`` reports each knowledge-base entry whose log signatures match as
    ``EXP:<entry id>`` (``EXP:trt-engine-version-mismatch``), with the evidence lines, the values
    extracted from them and the entry's fix.  ``trtdiag explain --kb ENTRY`` shows an entry;
    ``trtdiag explain --list`` lists them.""")
register("FLT010", area="fleet", title="Every rank answered", commands=("check",), text="""
    Under ``mpirun -n N trtdiag check --mpi`` every rank checks itself and sends its snapshot to rank
    0.  A rank whose own run failed (an unreadable input there, a crash) is reported by rank 0 as
    FLT010 with the rank, its host and its error; the exit code is that rank's.""")
register("PLAN003", area="plan", title="The KV cache the PyTorch backend will give (trtdiag plan --llm-api-options)", commands=("plan",),
         kb="gpu-out-of-memory", text="""
    The verdict of ``trtdiag plan --model-config config.json --llm-api-options X.yaml`` (or
    ``--backend pytorch``): TensorRT-LLM's PyTorch backend sizes its KV cache from a profiling pass,
    (total − peak + temporary KV) × kv_cache_config.free_gpu_memory_fraction, capped by
    kv_cache_config.max_tokens / max_gpu_total_bytes, in blocks of 32 tokens.  The peak is estimated
    from the weights per rank, the activations of max_num_tokens and the CUDA context
    (docs/pytorch_backend.md).  An error when the weights and activations do not fit the card, a
    warning when the KV cache cannot hold one max_seq_len sequence, ok otherwise with how many it holds.""")
register("PLAN004", area="plan", title="Levers on the PyTorch backend's KV cache (trtdiag plan's table)", commands=("plan",), text="""
    The table under PLAN003: the asked configuration, then the same with
    kv_cache_config.free_gpu_memory_fraction 0.95, half the max_num_tokens, an FP8 KV cache (compute
    capability 8.9 and newer, when the KV is wider) and twice the tensor parallelism; weights per
    rank, KV tokens, KV GiB and full sequences for each, with the YAML line that sets it.""")
