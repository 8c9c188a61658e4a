"""Rules of the fleet area: one rule a file, helpers in common.py."""
