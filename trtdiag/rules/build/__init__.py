"""Rules of the build area: one rule a file, helpers in common.py."""


def applies(facts) -> bool:
    """A TensorRT-LLM source build in view (``launch.source_build``) or an engine directory to
    build into (BLD002's disk space).  Without either the rule files are not imported."""
    return bool(facts.opt("engine_dir")) or facts.derived("launch.source_build") is not None
