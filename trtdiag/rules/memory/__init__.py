"""Rules of the memory area: one rule a file, helpers in common.py."""
