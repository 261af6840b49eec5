"""Analyses of runs: public targets (``targets``), paired scenario comparison (``compare``), sweeps (``sweep``)."""
