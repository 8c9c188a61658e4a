"""Pure derivations: facts in (plain data), facts out.  No I/O, no imports of tensorrt(_llm)."""
