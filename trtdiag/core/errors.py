"""trtdiag's own errors.  Anything else that escapes is a bug (shown in full with --debug)."""


class TrtdiagError(Exception):
    """Base class: printed as one line, exit code ``exit_code``."""

    exit_code = 2


class InputError(TrtdiagError):
    """Input that cannot be read or understood: a missing, empty, truncated or malformed file."""


class UsageError(TrtdiagError):
    """Options that do not fit together."""


class ProbeError(TrtdiagError):
    """A probe could not gather its facts (the check that needs them reports it)."""
