"""FLT001: Same TensorRT on every rank."""

from __future__ import annotations

from ...core.catalogue import rule
from .common import _get, _skew, ranks_of


@rule("FLT001", area="fleet", title="Same TensorRT on every rank", kb="fleet-rank-version-skew")
def same_tensorrt(facts):
    """Compares the TensorRT that will load the engine (``trt.installed``) across ranks.

    Why: an engine plan loads only in the TensorRT that built it; a node whose image carries another
    TensorRT fails with "The engine plan file is not compatible with this version of TensorRT" on
    that rank alone, and the other ranks hang waiting for it.

    Fix: run every rank from the same container image, or install the same ``tensorrt`` wheel on
    the odd node (``pip install tensorrt==VERSION``)."""
    ranks = ranks_of(facts)
    return _skew(ranks, "TensorRT", lambda r: _get(r.facts, "trt.installed", "version"),
                 fix_summary="install TensorRT {value} on {odd} — `pip install tensorrt=={value}` there, or run it from the image the other ranks use",
                 fix_id="FLT001-align-tensorrt")
