"""Pure facts derived from other facts (no I/O)."""
