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
