"""Rules of the tensorrt area: one rule a file, helpers in common.py."""
