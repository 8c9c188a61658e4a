"""Rules of the build area: one rule a file, helpers in common.py."""
