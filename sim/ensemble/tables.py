"""The combined tables of a finished ensemble, built from its parts (never by re-running).

* ``totals.parquet``: outcome totals over the comparison window, one row per (scenario, replicate).
* ``trajectories.parquet``: median and 5-95% band per (scenario, outcome, measure, date).
* ``comparison.csv``: paired statistics per (scenario, outcome) against the reference
  (:func:`sim.analysis.compare.compare`).

Parts are read one scenario at a time (one Arrow dataset each) and only the outcome columns, so memory stays at
about two scenarios' outcome series whatever the ensemble size. The tables depend only on
the parts and the configuration, so an interrupted-and-resumed ensemble gives the same
tables as an uninterrupted one.
"""

from __future__ import annotations

import pandas as pd

from ..analysis import compare as cmp
from .plan import Ensemble
from .store import DAILY, read_parts

TABLES = ("totals.parquet", "trajectories.parquet", "comparison.csv")


def build_tables(ensemble: Ensemble) -> dict[str, pd.DataFrame]:
    """The combined tables of an ensemble whose parts are all present."""
    cfg = ensemble.cfg
    columns = ["scenario", "replicate", "date", *cmp.source_columns()]
    by_scenario: dict[str, list] = {}
    for task in ensemble.tasks:
        by_scenario.setdefault(task.scenario, []).append(task.path(DAILY))
    totals, bands = [], []
    reference = None
    for name, paths in by_scenario.items():
        outcomes = cmp.daily_outcomes(read_parts(paths, columns))
        totals.append(cmp.window_totals(outcomes, cfg.compare_start, cfg.end_date))
        bands.append(cmp.trajectory_bands(outcomes, reference, cfg.compare_start))
        if name == ensemble.reference:
            reference = outcomes
    totals_frame = pd.concat(totals, ignore_index=True)
    return {
        "totals.parquet": totals_frame,
        "trajectories.parquet": pd.concat(bands, ignore_index=True),
        "comparison.csv": cmp.compare(totals_frame, ensemble.reference, seed=cfg.seed),
    }
