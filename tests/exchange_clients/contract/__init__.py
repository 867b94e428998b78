"""The contract suite: one set of tests every venue client must pass."""
