"""Rules of the engine area: one rule a file, helpers in common.py."""


def applies(facts) -> bool:
    """An engine to look at (``engine.info``: --engine-dir, or the one a Triton repository names);
    every rule of the area starts from it.  Without one the rule files are not imported."""
    return bool(facts["engine.info"])
