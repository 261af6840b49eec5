"""Publication figures from saved results, never from re-running the model (docs/figures.md).

Every figure is drawn from results on disk - an ensemble folder of ``tipsim compare``, a
sweep folder, or ``tipsim run`` folders for route flows - and never re-runs the model.
Each figure function returns a :class:`~sim.plots.style.Drawn` (the matplotlib figure, the
data behind it, its caption); ``.save(folder)`` writes PDF, SVG, 300-dpi PNG and CSV.

* :mod:`.style` - the one style: journal widths, fonts, palette, reproducible saving;
* :mod:`.results` - reading and checking saved results (:func:`load_ensemble`);
* :mod:`.fan` (:func:`fan_chart`), :mod:`.forest` (:func:`forest_plot`),
  :mod:`.costeffect` (:func:`cost_effectiveness`), :mod:`.heatmap` (:func:`sweep_heatmap`,
  :func:`load_sweep`), :mod:`.dose` (:func:`sweep_dose_response`), :mod:`.routes`
  (:func:`route_flow`, :func:`route_flow_from_ensemble`),
  :mod:`.stockflow` (:func:`stock_flow`);
* :mod:`.commands` - ``tipsim figures`` (:func:`draw_figures`) and ``tipsim experiment``;
  :mod:`.experiments` - the experiments E1-E4.

Example::

    from sim.plots import load_ensemble, fan_chart
    results = load_ensemble("results/experiments/E1")
    fan_chart(results, "embassy_cases").save("paper/figures")

Names are imported on first use, so ``import sim.plots`` does not load matplotlib.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "load_ensemble": ".results",
    "EnsembleResults": ".results",
    "read_run": ".results",
    "fan_chart": ".fan",
    "forest_plot": ".forest",
    "cost_effectiveness": ".costeffect",
    "sweep_heatmap": ".heatmap",
    "load_sweep": ".heatmap",
    "sweep_dose_response": ".dose",
    "route_flow": ".routes",
    "route_flow_from_ensemble": ".routes",
    "stock_flow": ".stockflow",
    "draw_figures": ".commands",
    "Drawn": ".style",
    "EXPERIMENTS": ".experiments",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
