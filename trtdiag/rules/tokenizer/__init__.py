"""Rules of the tokenizer area: one rule a file, helpers in common.py."""
