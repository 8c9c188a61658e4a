"""Rules of the engine area: one rule a file, helpers in common.py."""
