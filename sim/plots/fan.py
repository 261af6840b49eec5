"""Fan charts: a quantity over time per scenario, with prediction bands and the public figures.

For each scenario, the line is the median across replicates of the quantity per week or
month (flows summed over each period, stocks at its end), and the shaded bands hold the
central 50% and 90% of the replicate trajectories: **prediction bands** of where one run
falls, not confidence intervals of the median. With fewer than
:data:`~sim.plots.results.MIN_BAND_RUNS` runs the one shaded band is the range of the runs,
labelled so with n (:func:`~sim.plots.results.prediction_bands`). Band swatches in the legend
have the scenarios' colours; the reference's median is drawn above the scenarios'. Public figures that map onto the plotted
output (:data:`sim.analysis.targets.TARGETS`) are drawn as points: a stock at its date, a
flow as its mean rate over the period it covers (a horizontal bar spanning the period), a
running total against the cumulative curve. Dotted vertical lines mark the start of the
interventions in which a scenario differs from the reference.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.legend_handler import HandlerTuple
from matplotlib.patches import Patch

from ..analysis.targets import TARGETS, Target, load_targets
from ..outputs import STOCK
from . import style
from .labels import Series, scenario_label, series
from .results import (
    DAYS_PER,
    MIN_BAND_RUNS,
    Band,
    EnsembleResults,
    Periods,
    intervention_starts,
    prediction_bands,
    quantile_bands,
    runs_text,
)

OVERLAY_MAX = 4
"""Up to this many scenarios share one panel; more are drawn as small multiples against the reference."""

DEFAULT_FANS = (
    ("victims", False),
    ("displacement", False),
    ("embassy_cases", False),
    ("embassy_cases_region", True),
    ("wni_in_KH", False),
    ("entries_KH", False),
    ("stops_hub_cgk", False),
)
"""Fan charts ``tipsim figures`` draws: the headline outcomes and every output a public figure maps onto."""


def observed_points(s: Series, periods: Periods, horizon: tuple[str, str], targets=TARGETS,
                    observed: pd.DataFrame | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """Public figures comparable with series ``s`` as plotted by period, in the units of the plot.

    Columns: ``target, how, period_start, period_end, x, value, low, high``. ``how`` is
    ``level`` (a stock on a date), ``mean rate`` (a flow over a period, divided by the days
    of the period and multiplied by the days of a plotted week or month) or ``running total``
    (a flow summed from the first day of the horizon, against a cumulative series).
    Figures whose period lies outside the horizon, shares, and figures of other outputs are
    left out. ``observed`` is a table like :func:`sim.analysis.targets.load_targets`
    (``id, value, low, high``; the default). ``columns`` are the daily columns of the runs
    (they name the world's destination countries, for figures scaled to the modelled share).
    """
    table = (load_targets() if observed is None else observed).set_index("id")
    lo, hi = pd.Timestamp(horizon[0]), pd.Timestamp(horizon[1])
    rows = []
    for t in targets:
        t: Target
        if s.columns != (t.column,) or t.kind == "share" or t.id not in table.index:
            continue
        start, end = pd.Timestamp(t.start), pd.Timestamp(t.end)
        if start < lo or end > hi:
            continue
        rec = table.loc[t.id]
        values = [float(rec.get(k)) if k in rec and pd.notna(rec.get(k)) else math.nan for k in ("value", "low", "high")]
        scale = factor = t.scale_for(pd.DataFrame(columns=columns or []))
        if t.kind == "end" and s.kind == STOCK and not s.cumulative:
            how, x = "level", end + pd.Timedelta(hours=12)
        elif t.kind == "sum" and s.cumulative and start == lo:
            how, x = "running total", end + pd.Timedelta(hours=12)
        elif t.kind == "sum" and not s.cumulative and s.kind != STOCK:
            days = (end - start).days + 1
            how, x = "mean rate", start + (end - start + pd.Timedelta(days=1)) / 2
            factor = scale * DAYS_PER[periods.unit] / days
        else:
            continue
        value, low, high = (v * factor for v in values)
        rows.append({"target": t.id, "how": how, "period_start": start, "period_end": end, "x": x,
                     "value": value, "low": low, "high": high})
    return pd.DataFrame(rows, columns=["target", "how", "period_start", "period_end", "x", "value", "low", "high"])


def fan_data(results: EnsembleResults, s: Series, scenarios: list[str]) -> pd.DataFrame:
    """Bands per scenario and period: ``scenario, period, period_start, period_end, x, p05 .. p95, n``."""
    values = results.series([s], scenarios)
    bands = quantile_bands(values, ["scenario", "period"])
    p = results.periods
    idx = bands["period"].to_numpy()
    bands.insert(2, "period_start", pd.to_datetime(p.start[idx]))
    bands.insert(3, "period_end", pd.to_datetime(p.end[idx]))
    bands.insert(4, "x", pd.to_datetime(p.x(s)[idx]))
    return bands


def _draw_observed(ax, obs: pd.DataFrame, label: bool) -> None:
    if obs.empty:
        return
    rate = obs[obs["how"] == "mean rate"]
    if len(rate):
        ax.hlines(rate["value"], rate["period_start"], rate["period_end"] + pd.Timedelta(days=1), color="black",
                  linewidth=1.3, zorder=5)
    has_range = obs[obs["low"].notna() | obs["high"].notna()]
    for _, r in has_range.iterrows():
        low = r["low"] if pd.notna(r["low"]) else r["value"]
        high = r["high"] if pd.notna(r["high"]) else r["value"]
        ax.vlines(r["x"], low, high, color="black", linewidth=0.8, zorder=5)
    ax.plot(obs["x"], obs["value"], linestyle="none", marker="o", markersize=4, markerfacecolor="white",
            markeredgecolor="black", markeredgewidth=1.0, zorder=6, label="observed (public figure)" if label else None)


def _draw_band(ax, d: pd.DataFrame, st: dict, label: str | None, bands: list[Band], zorder: float = 2) -> None:
    color = st["color"]
    for b in bands:
        ax.fill_between(d["x"], d[b.low], d[b.high], color=color, alpha=b.alpha, linewidth=0, zorder=1)
    ax.plot(d["x"], d["median"], color=color, linestyle=st["linestyle"], label=label, zorder=zorder)


def band_legend(bands: list[Band], colors: list[str]) -> tuple[list, list[str]]:
    """Legend entries of the bands: for each, one swatch per scenario colour, as dark as the band looks
    (an inner band is seen through the wider ones)."""
    handles, seen = [], 1.0
    for b in bands:
        seen *= 1 - b.alpha
        handles.append(tuple(Patch(facecolor=c, alpha=1 - seen, linewidth=0) for c in colors))
    return handles, [b.label for b in bands]


LEGEND_HANDLERS = {tuple: HandlerTuple(ndivide=None, pad=0)}
"""Tuples of swatches side by side (one per scenario colour)."""


@style.styled
def fan_chart(results: EnsembleResults, name: str | Series = "victims", cumulative: bool = False,
              scenarios: list[str] | None = None, targets=TARGETS, observed: pd.DataFrame | None = None,
              layout: str = "auto") -> style.Drawn:
    """Fan chart of ``name`` (a daily output column, a comparison outcome, or ``a+b``) per scenario.

    Args:
        results: a finished ensemble (:func:`sim.plots.load_ensemble`).
        name: what to plot; with ``cumulative`` its running total from the horizon start.
        scenarios: which to draw (default all, the reference first).
        targets, observed: the public figures to show (default: :data:`TARGETS` with
            ``sim/data/targets.csv``).
        layout: ``overlay`` (one panel), ``facets`` (one panel per scenario, each with the
            reference's median) or ``auto`` (overlay up to :data:`OVERLAY_MAX` scenarios).
    """
    s = series(name, cumulative)
    scenarios = list(scenarios or results.scenarios)
    if results.reference in scenarios:
        scenarios.remove(results.reference)
    scenarios.insert(0, results.reference)
    bands = fan_data(results, s, scenarios)
    if bands["n"].sum() == 0:
        raise ValueError(f"fan chart {s.key}: the results have no values of {', '.join(s.columns)}")
    per_country = [f"embassy_cases_{c}" for c in results.world.destination_countries]
    obs = observed_points(s, results.periods, results.horizon, targets, observed, per_country)
    starts = intervention_starts(results, scenarios)
    facets = layout == "facets" or (layout == "auto" and len(scenarios) > OVERLAY_MAX)
    styles = {name: style.series_style(i) for i, name in enumerate(results.scenarios)}
    bands_drawn = prediction_bands(bands["n"])
    lows, highs = [b.low for b in bands_drawn], [b.high for b in bands_drawn]
    scale = style.scale_for(bands[[*lows, *highs, "median"]].to_numpy().ravel(), s.base_unit)
    shown = bands.copy()
    for c in ("min", "p05", "p25", "median", "p75", "p95", "max"):
        shown[c] = shown[c] / scale.factor
    obs_shown = obs.copy()
    for c in ("value", "low", "high"):
        obs_shown[c] = obs_shown[c] / scale.factor
    ylabel = s.axis_label(results.periods.unit, scale.label(s.unit(results.periods.unit)))

    others = scenarios[1:]
    if facets:
        ncols = max(1, min(3, len(others)))  # no empty columns when there are only one or two scenarios
        nrows = math.ceil(len(others) / ncols)
        if ncols == 1:
            fig = style.figure(style.SINGLE, aspect=0.78)
        else:
            fig = style.figure(style.DOUBLE, height=0.75 + 1.55 * nrows)
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
        ref = shown[shown["scenario"] == results.reference]
        for i, ax in enumerate(axes):
            if i >= len(others):
                ax.set_visible(False)
                continue
            name_i = others[i]
            ax.plot(ref["x"], ref["median"], color="black", linewidth=0.8, linestyle=(0, (4, 1.5)), zorder=4,
                    label=f"median, {scenario_label(results.reference)} (reference)" if i == 0 else None)
            _draw_band(ax, shown[shown["scenario"] == name_i], {**styles[name_i], "linestyle": "-"},
                       "median, scenario" if i == 0 else None, bands_drawn)
            _draw_observed(ax, obs_shown, label=i == 0)
            _mark_starts(ax, starts[starts["scenario"] == name_i], label=i == 0)
            ax.set_title(scenario_label(name_i))
            if i % ncols == 0:
                ax.set_ylabel(ylabel)
            if i >= len(others) - ncols:
                ax.set_xlabel("Date")
                ax.xaxis.set_tick_params(labelbottom=True)
            style.number_axis(ax.yaxis)
        handles, labels = axes[0].get_legend_handles_labels()
        colors = [styles[x]["color"] for x in others]
    else:
        fig = style.figure(style.SINGLE, aspect=0.78)
        ax = fig.add_subplot()
        for name_i in scenarios:
            # the reference's median on top of the scenarios' (it is drawn first, so it would be hidden)
            _draw_band(ax, shown[shown["scenario"] == name_i], styles[name_i], scenario_label(name_i), bands_drawn,
                       zorder=3 if name_i == results.reference else 2)
        _draw_observed(ax, obs_shown, label=True)
        _mark_starts(ax, starts, label=True)
        ax.set_xlabel("Date")
        ax.set_ylabel(ylabel)
        style.number_axis(ax.yaxis)
        handles, labels = ax.get_legend_handles_labels()
        axes = [ax]
        colors = [styles[x]["color"] for x in scenarios]
    band_handles, band_labels = band_legend(bands_drawn, colors)
    handles += band_handles
    labels += band_labels
    for ax in axes:
        if ax.get_visible() and s.kind != "money" and np.nanmin(shown[lows[0]]) >= 0:
            ax.set_ylim(bottom=0)
    fig.legend(handles, labels, loc="outside lower center", ncols=3 if facets and len(others) > 1 else 2,
               handler_map=LEGEND_HANDLERS)

    data = pd.concat([
        bands.assign(kind="prediction band", series=s.key),
        obs.rename(columns={"value": "observed", "low": "observed_low", "high": "observed_high"}).assign(
            kind="observed", series=s.key),
        starts.rename(columns={"start": "x"}).assign(kind="intervention start", series=s.key),
    ], ignore_index=True)
    front = ["kind", "series", "scenario", "period", "period_start", "period_end", "x", "min", "p05", "p25", "median",
             "p75", "p95", "max", "n", "target", "how", "observed", "observed_low", "observed_high", "key", "type", "change"]
    data = data[[c for c in front if c in data.columns]]
    caption = _caption(results, s, scenarios, obs, starts, facets, bands_drawn, runs_text(bands["n"]))
    return style.Drawn(f"fan_{s.key}", fig, data, caption)


def _mark_starts(ax, starts: pd.DataFrame, label: bool) -> None:
    for i, day in enumerate(sorted(starts["start"].unique()) if len(starts) else []):
        ax.axvline(day, color="0.45", linewidth=0.6, linestyle=(0, (1, 1.5)), zorder=1,
                   label="intervention start" if (label and i == 0) else None)


def _caption(results: EnsembleResults, s: Series, scenarios: list[str], obs: pd.DataFrame, starts: pd.DataFrame,
             facets: bool, bands: list[Band], runs: str) -> str:
    period = results.periods.unit
    what = ("the running total from the first day of the horizon" if s.cumulative
            else "the value at the end of each " + period if s.kind == STOCK else f"the total per {period}")
    lines = [
        f"**{s.label}{', cumulative' if s.cumulative else ''}** ({s.unit(period)}; {what}, complete {period}s of "
        f"{results.horizon[0]} to {results.horizon[1]}; daily columns {' + '.join(s.columns)}).",
        f"Lines: median across replicates of each scenario ({', '.join(scenario_label(x) for x in scenarios)}; "
        f"reference {scenario_label(results.reference)}; {runs} runs per scenario). " + (
            "Shaded: 50% and 90% **prediction bands** - the central 50% and 90% of the replicate trajectories, i.e. "
            "the spread of single runs, not confidence intervals of the median or of an effect."
            if bands[0].low != "min" else
            f"Shaded: the **range of the {runs} runs** (lowest to highest per {period}) - the spread of single runs; "
            f"too few runs for a 90% prediction band (at least {MIN_BAND_RUNS} are needed)."),
    ]
    if facets:
        lines.append("One panel per scenario; the dashed black line in each is the reference's median.")
    if len(starts):
        listed = "; ".join(f"{scenario_label(r.scenario)}: {r.key} {r.change} {r.start.date()}" for r in starts.itertuples())
        lines.append(f"Dotted vertical lines: start of delivery of the interventions in which a scenario differs "
                     f"from the reference ({listed}).")
    if len(obs):
        parts = []
        for r in obs.itertuples():
            parts.append(f"{r.target} ({r.how}, {r.period_start.date()} to {r.period_end.date()})")
        lines.append("Open circles: public figures this output is calibrated against (sim/data/targets.csv, mapping in "
                     "sim/analysis/targets.py), in the units of the plot: " + "; ".join(parts) + ". A mean rate is the "
                     f"figure divided by the days it covers times the days of a {period} (the horizontal bar spans "
                     "the period); vertical bars show the published range where there is one.")
    else:
        lines.append("No public figure maps onto this output within the horizon.")
    lines.append(results.provenance())
    return " ".join(lines)
