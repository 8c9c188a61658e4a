"""Rules of the gpu area: one rule a file, helpers in common.py."""
