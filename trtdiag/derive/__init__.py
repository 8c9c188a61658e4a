"""Pure facts derived from other facts: plain data in, plain data out; no I/O, no imports of tensorrt(_llm)."""
