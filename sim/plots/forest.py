"""Forest plot: the paired effect of every scenario on every headline outcome, with 95% CIs.

Read from ``comparison.csv`` (:func:`sim.analysis.compare.compare`): per scenario and
outcome, the mean over replicates of the paired difference scenario minus reference, summed
over the comparison window, and its 95% bootstrap (BCa) confidence interval. One panel per
outcome, each in its own unit; a filled marker means the replicates were enough: at least
:data:`~sim.analysis.compare.MIN_REPLICATES` pairs and a CI half-width of at most 10% of the
effect. The number of replicates is written in the figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..analysis.compare import MIN_REPLICATES, OUTCOMES, PRECISION, RESAMPLES, replicates_enough
from . import style
from .labels import outcome_label, scenario_label
from .results import EnsembleResults

COLUMNS = ["scenario", "outcome", "unit", "replicates", "reference_mean", "scenario_mean", "effect_mean", "ci_low",
           "ci_high", "relative_change", "replicates_enough", "replicates_needed"]
"""Columns of ``comparison.csv`` written beside the figure."""


def forest_data(comparison: pd.DataFrame, scenarios: list[str], outcomes: list[str]) -> pd.DataFrame:
    """The rows of the comparison table drawn, in drawing order (outcome-major)."""
    rows = comparison[comparison["scenario"].isin(scenarios) & comparison["outcome"].isin(outcomes)].copy()
    rows["_o"] = rows["outcome"].map({o: i for i, o in enumerate(outcomes)})
    rows["_s"] = rows["scenario"].map({s: i for i, s in enumerate(scenarios)})
    rows = rows.sort_values(["_o", "_s"]).drop(columns=["_o", "_s"])
    rows["replicates_enough"] = replicates_enough(rows)  # the current rule, also for tables saved by older versions
    return rows[[c for c in COLUMNS if c in rows.columns]].reset_index(drop=True)


@style.styled
def forest_plot(results: EnsembleResults, outcomes: list[str] | None = None, scenarios: list[str] | None = None,
                ncols: int = 3) -> style.Drawn:
    """One panel per outcome (default: every headline outcome), one row per scenario other than the reference."""
    outcomes = list(outcomes or OUTCOMES)
    scenarios = [s for s in (scenarios or results.scenarios) if s != results.reference]
    data = forest_data(results.comparison, scenarios, outcomes)
    nrows = math.ceil(len(outcomes) / ncols)
    height = 0.45 + nrows * (0.42 + 0.13 * len(scenarios))
    fig = style.figure(style.DOUBLE, height=height)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    y = -np.arange(len(scenarios), dtype=float)
    for i, ax in enumerate(axes):
        if i >= len(outcomes):
            ax.set_visible(False)
            continue
        outcome = outcomes[i]
        d = data[data["outcome"] == outcome].set_index("scenario").reindex(scenarios)
        unit = str(d["unit"].dropna().iloc[0]) if d["unit"].notna().any() else OUTCOMES[outcome].unit
        scale = style.scale_for(d[["effect_mean", "ci_low", "ci_high"]].to_numpy().ravel(), unit)
        mean = d["effect_mean"].to_numpy(dtype=float) / scale.factor
        low = d["ci_low"].to_numpy(dtype=float) / scale.factor
        high = d["ci_high"].to_numpy(dtype=float) / scale.factor
        enough = d["replicates_enough"].fillna(False).astype(bool).to_numpy()
        ax.axvline(0, color="0.6", linewidth=0.6, zorder=0)
        has_ci = np.isfinite(low) & np.isfinite(high)
        ax.hlines(y[has_ci], low[has_ci], high[has_ci], color="black", linewidth=0.9)
        ax.plot(mean[enough], y[enough], linestyle="none", marker="o", color="black", markersize=3.5)
        ax.plot(mean[~enough], y[~enough], linestyle="none", marker="o", markerfacecolor="white",
                markeredgecolor="black", markersize=3.5)
        ax.set_title(outcome_label(outcome))
        ax.set_xlabel(f"effect vs {scenario_label(results.reference)} ({scale.label(unit)})")
        style.number_axis(ax.xaxis)
        ax.set_yticks(y, [scenario_label(s) for s in scenarios])
        ax.set_ylim(y[-1] - 0.7, 0.7)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
    handles = [
        Line2D([], [], color="black", marker="o", linestyle="-", linewidth=0.9, markersize=3.5),
        Line2D([], [], color="black", marker="o", markerfacecolor="white", linestyle="none", markersize=3.5),
    ]
    labels = ["mean paired effect with 95% CI (replicates enough)", "mean paired effect (more replicates needed)"]
    reps = sorted({int(n) for n in data["replicates"].dropna()})
    n_text = "/".join(map(str, reps)) if reps else "no"
    handles.append(Line2D([], [], linestyle="none"))
    labels.append(f"n = {n_text} replicate pairs per scenario (enough needs \u2265 {MIN_REPLICATES})")
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return style.Drawn("forest", fig, data, _caption(results, scenarios, outcomes))


def _caption(results: EnsembleResults, scenarios: list[str], outcomes: list[str]) -> str:
    start, end = results.window
    return (
        f"**Paired effects vs {scenario_label(results.reference)}.** For each scenario "
        f"({', '.join(scenario_label(s) for s in scenarios)}) and outcome "
        f"({', '.join(outcome_label(o) for o in outcomes)}), summed over the comparison window {start} to {end}: "
        "the point is the mean over replicates of the paired difference scenario minus reference (negative = fewer "
        "than the reference), the bar its **95% confidence interval** (bootstrap, BCa, "
        f"{RESAMPLES:,} resamples of the replicate pairs) - the uncertainty of the mean effect, not the spread of "
        f"single runs. Filled: at least {MIN_REPLICATES} replicate pairs and a CI half-width of at most "
        f"{PRECISION:.0%} of the effect (replicates enough); open: more replicates needed (comparison.csv: replicates_needed). An effect no replicate shows has a zero-width "
        "interval; with one replicate there is none. " + results.provenance()
    )
