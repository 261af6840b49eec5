"""Stock-and-flow panel: the trafficking pipeline over time, one panel per stage.

contacted -> recruited -> in transit -> held in compounds -> rescued or escaped ->
repatriated. Flows (contacts, recruitments, rescues and escapes, repatriations) are totals
per week or month; stocks (in transit, held) are values at the end of each period. Lines
are medians across replicates, shading the 90% prediction band of the trajectories (the range
of the runs, labelled so, when there are too few for a 90% band).
"""

from __future__ import annotations

import pandas as pd

from ..outputs import STOCK
from . import style
from .labels import scenario_label, series
from .fan import LEGEND_HANDLERS, band_legend
from .results import EnsembleResults, prediction_bands, quantile_bands, runs_text

STAGES = (
    ("contacts", "Contacted"),
    ("recruited", "Recruited"),
    ("in_transit", "In transit"),
    ("exploited", "Held in compounds"),
    ("escaped+rescued", "Rescued or escaped"),
    ("repatriated", "Repatriated"),
)
"""(series, title) of each stage, in pipeline order."""

MAX_SCENARIOS = 4
"""Scenarios drawn together (the reference and those with the largest effect on victims)."""


def pick_scenarios(results: EnsembleResults, k: int = MAX_SCENARIOS - 1) -> list[str]:
    """The reference and the ``k`` scenarios with the largest mean |effect| on victims (ties: listed order)."""
    c = results.comparison[results.comparison["outcome"] == "victims"].set_index("scenario")["effect_mean"]
    order = {s: i for i, s in enumerate(results.scenarios)}
    others = sorted((s for s in results.scenarios if s != results.reference and s in c.index),
                    key=lambda s: (-abs(float(c[s])), order[s]))
    chosen = set(others[:k])
    return [results.reference] + [s for s in results.scenarios if s in chosen]


def stock_flow_data(results: EnsembleResults, scenarios: list[str]) -> pd.DataFrame:
    specs = [series(name) for name, _ in STAGES]
    values = results.series(specs, scenarios)
    bands = quantile_bands(values, ["series", "scenario", "period"])
    p = results.periods
    idx = bands["period"].to_numpy()
    bands.insert(3, "period_start", pd.to_datetime(p.start[idx]))
    bands.insert(4, "period_end", pd.to_datetime(p.end[idx]))
    x = {s.key: pd.to_datetime(p.x(s)) for s in specs}
    bands.insert(5, "x", [x[k][i] for k, i in zip(bands["series"], idx)])
    bands.insert(1, "kind", [("stock" if s.kind == STOCK else "flow") for s in (series(k) for k in bands["series"])])
    return bands


@style.styled
def stock_flow(results: EnsembleResults, scenarios: list[str] | None = None) -> style.Drawn:
    """The pipeline panel for ``scenarios`` (default: :func:`pick_scenarios`)."""
    scenarios = list(scenarios or pick_scenarios(results))
    data = stock_flow_data(results, scenarios)
    fig = style.figure(style.DOUBLE, height=3.6)
    axes = fig.subplots(2, 3, sharex=True).ravel()
    order = {s: i for i, s in enumerate(results.scenarios)}
    unit = results.periods.unit
    bands = prediction_bands(data["n"], widths=(90,))
    for i, (ax, (name, title)) in enumerate(zip(axes, STAGES)):
        s = series(name)
        d = data[data["series"] == s.key]
        scale = style.scale_for(d[[bands[0].low, bands[0].high]].to_numpy().ravel(), s.base_unit)
        for sc in scenarios:
            st = style.series_style(order[sc])
            ds = d[d["scenario"] == sc]
            for b in bands:
                ax.fill_between(ds["x"], ds[b.low] / scale.factor, ds[b.high] / scale.factor, color=st["color"],
                                alpha=b.alpha, linewidth=0, zorder=1)
            ax.plot(ds["x"], ds["median"] / scale.factor, color=st["color"], linestyle=st["linestyle"],
                    label=scenario_label(sc) if i == 0 else None, zorder=3 if sc == results.reference else 2)
        arrow = "" if i == len(STAGES) - 1 else "  \u2192"
        ax.set_title(f"{i + 1}  {title}{arrow}")
        when = f" at end of {unit}" if s.kind == STOCK else ""
        ax.set_ylabel(f"{scale.label(s.unit(unit))}{when}")
        ax.set_ylim(bottom=0)
        style.number_axis(ax.yaxis)
        if i >= 3:
            ax.set_xlabel("Date")
    handles, labels = axes[0].get_legend_handles_labels()
    band_handles, band_labels = band_legend(bands, [style.series_style(order[sc])["color"] for sc in scenarios])
    fig.legend(handles + band_handles, labels + band_labels, loc="outside lower center", ncols=len(labels) + 1,
               handler_map=LEGEND_HANDLERS)
    return style.Drawn("stock_flow", fig, data, _caption(results, scenarios, bands[0].low == "min", runs_text(data["n"])))


def _caption(results: EnsembleResults, scenarios: list[str], is_range: bool, runs: str) -> str:
    unit = results.periods.unit
    left = [s for s in results.scenarios if s not in scenarios]
    chosen = f" Scenarios shown: {', '.join(scenario_label(s) for s in scenarios)}"
    if left:
        chosen += (f" (the reference and the {len(scenarios) - 1} with the largest mean effect on victims; not shown: "
                   f"{', '.join(scenario_label(s) for s in left)})")
    return (
        "**The pipeline over time**: 1 contacted (people answering an online job offer) -> 2 recruited (offers "
        "accepted) -> 3 in transit (stock) -> 4 held in compounds (stock) -> 5 rescued or escaped -> 6 repatriated by "
        f"an embassy. Flows are totals per {unit}, stocks values at the end of each {unit} (complete {unit}s of "
        f"{results.horizon[0]} to {results.horizon[1]}). Lines: median across replicates ({runs} runs per scenario); "
        + (f"shaded: the **range of the {runs} runs** (too few for a 90% prediction band), not a confidence interval."
           if is_range else "shaded: 90% **prediction band** of the trajectories (central 90% of single runs), not a "
           "confidence interval.") + chosen + ". "
        + results.provenance()
    )
