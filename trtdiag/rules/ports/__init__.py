"""Rules of the ports area: one rule a file, helpers in common.py."""
