"""trtllm.installed lives in :mod:`trtdiag.probes.trt`; Facts imports a probe's module by the part of
its name before the first dot, so this module only makes ``trtllm.*`` find it."""

from . import trt  # noqa: F401  (registers trtllm.installed)
