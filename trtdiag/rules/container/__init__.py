"""Rules of the container area: one rule a file, helpers in common.py."""
