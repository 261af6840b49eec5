"""Analyses of saved or in-memory runs: public targets, (later) paired comparison and sweeps."""
