"""Pure derivations: facts from facts, no I/O."""
