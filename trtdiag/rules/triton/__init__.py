"""Rules of the triton area: one rule a file, helpers in common.py."""


def applies(facts) -> bool:
    """A model repository to look at (``triton.repo``); every rule of the area starts from it.
    Without one the rule files are not imported."""
    return facts["triton.repo"] is not None
