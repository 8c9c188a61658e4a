"""Rules of the triton area: one rule a file, helpers in common.py."""
