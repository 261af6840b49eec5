"""Cost-effectiveness plane: extra cost against victims averted, per scenario, with uncertainty.

Each scenario is compared with the reference over the comparison window: x = victims
averted (reference minus scenario, from the paired replicates), y = extra intervention cost
(scenario minus reference). Small open points are single replicate pairs (their spread); the
large marker is the mean with 95% bootstrap confidence intervals on both axes (from
``comparison.csv``). The ratio (cost per victim averted) and its interval are in the CSV.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..analysis.compare import COST_PER_VICTIM, paired_differences
from . import style
from .labels import scenario_label
from .results import EnsembleResults


REPLICATE_SIZE = 3.5
"""Marker size (pt) of single replicate pairs: open markers, visible at print size, smaller than the means' (4.5)."""

REPLICATE_ALPHA = 0.8
"""Opacity of single replicate pairs (open markers: overlapping points stay apart)."""


def cost_effect_data(results: EnsembleResults, scenarios: list[str]) -> pd.DataFrame:
    """Means with CIs (``kind = mean``) and single replicate pairs (``kind = replicate``)."""
    c = results.comparison.set_index(["scenario", "outcome"])
    rows = []
    for s in scenarios:
        v, k = c.loc[(s, "victims")], c.loc[(s, "cost_usd")]
        r = c.loc[(s, COST_PER_VICTIM)] if (s, COST_PER_VICTIM) in c.index else None
        rows.append({
            "kind": "mean", "scenario": s, "replicate": np.nan, "replicates": int(v["replicates"]),
            "victims_averted": -float(v["effect_mean"]),
            "victims_averted_ci_low": -float(v["ci_high"]), "victims_averted_ci_high": -float(v["ci_low"]),
            "extra_cost_usd": float(k["effect_mean"]),
            "extra_cost_ci_low": float(k["ci_low"]), "extra_cost_ci_high": float(k["ci_high"]),
            "cost_per_victim_averted_usd": float(r["effect_mean"]) if r is not None else np.nan,
            "cost_per_victim_ci_low": float(r["ci_low"]) if r is not None else np.nan,
            "cost_per_victim_ci_high": float(r["ci_high"]) if r is not None else np.nan,
        })
    diffs = paired_differences(results.totals, results.reference)
    diffs = diffs[diffs["scenario"].isin(scenarios)]
    reps = pd.DataFrame({"kind": "replicate", "scenario": diffs["scenario"], "replicate": diffs["replicate"],
                         "victims_averted": -diffs["victims"].astype(float), "extra_cost_usd": diffs["cost_usd"].astype(float)})
    reps["_s"] = reps["scenario"].map({s: i for i, s in enumerate(scenarios)})
    reps = reps.sort_values(["_s", "replicate"]).drop(columns="_s")
    return pd.concat([pd.DataFrame(rows), reps], ignore_index=True)


@style.styled
def cost_effectiveness(results: EnsembleResults, scenarios: list[str] | None = None) -> style.Drawn:
    """The cost-effectiveness plane of every scenario other than the reference."""
    scenarios = [s for s in (scenarios or results.scenarios) if s != results.reference]
    data = cost_effect_data(results, scenarios)
    means = data[data["kind"] == "mean"].set_index("scenario")
    reps = data[data["kind"] == "replicate"]
    wide = len(scenarios) > 5
    fig = style.figure(style.DOUBLE if wide else style.SINGLE, aspect=0.5 if wide else 0.85)
    ax = fig.add_subplot()
    yscale = style.scale_for(data[["extra_cost_usd", "extra_cost_ci_low", "extra_cost_ci_high"]].to_numpy().ravel(), "USD")
    ax.axhline(0, color="0.6", linewidth=0.6, zorder=0)
    ax.axvline(0, color="0.6", linewidth=0.6, zorder=0)
    order = {s: i for i, s in enumerate(results.scenarios)}
    for s in scenarios:
        st = style.series_style(order[s])
        r = reps[reps["scenario"] == s]
        ax.plot(r["victims_averted"], r["extra_cost_usd"] / yscale.factor, linestyle="none", marker=st["marker"],
                markersize=REPLICATE_SIZE, alpha=REPLICATE_ALPHA, markerfacecolor="none", markeredgecolor=st["color"],
                markeredgewidth=0.7, zorder=5)  # open, above the CI bars (a fixed cost puts them on the bar)
        m = means.loc[s]
        x, y = m["victims_averted"], m["extra_cost_usd"] / yscale.factor
        xerr = np.array([[x - m["victims_averted_ci_low"]], [m["victims_averted_ci_high"] - x]])
        yerr = np.array([[y - m["extra_cost_ci_low"] / yscale.factor], [m["extra_cost_ci_high"] / yscale.factor - y]])
        # no bar where there is no interval; rounding (or a BCa interval not covering the mean) must not give < 0
        xerr = np.clip(np.where(np.isfinite(xerr), xerr, 0), 0, None)
        yerr = np.clip(np.where(np.isfinite(yerr), yerr, 0), 0, None)
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, color=st["color"], marker=st["marker"], markersize=4.5,
                    markeredgecolor="black", markeredgewidth=0.5, linewidth=0.9, label=scenario_label(s), zorder=4)
    ax.set_xlabel(f"victims averted vs {scenario_label(results.reference)} (persons)")
    ax.set_ylabel(f"extra intervention cost ({yscale.label('USD')})")
    style.number_axis(ax.xaxis)
    style.number_axis(ax.yaxis)
    handles, labels = ax.get_legend_handles_labels()
    counts = reps.groupby("scenario")["replicate"].nunique()
    n = "/".join(map(str, sorted(set(counts)))) if len(counts) else "0"
    handles.append(Line2D([], [], linestyle="none", marker="o", markersize=REPLICATE_SIZE, alpha=REPLICATE_ALPHA,
                          markerfacecolor="none", markeredgecolor="0.3", markeredgewidth=0.7))
    labels.append(f"single replicate pairs (n = {n} per scenario)")
    if wide:
        fig.legend(handles, labels, loc="outside right upper", ncols=1)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return style.Drawn("cost_effectiveness", fig, data, _caption(results, scenarios))


def _caption(results: EnsembleResults, scenarios: list[str]) -> str:
    start, end = results.window
    return (
        f"**Cost-effectiveness plane** vs {scenario_label(results.reference)}, comparison window {start} to {end}. "
        "x: victims averted (reference minus scenario: people who became held in a compound); y: extra cost of all "
        "interventions delivered (scenario minus reference; assumed unit costs, docs/interventions.md). Large markers: "
        "means over replicate pairs with **95% bootstrap confidence intervals** (BCa) of each mean - the uncertainty "
        "of the mean effect; small open points: single replicate pairs (the spread of single runs). A cost that "
        "does not vary between replicates (fixed delivery costs) has a zero-width interval. Cost per victim averted (a ratio of means, with "
        "a percentile bootstrap CI, left empty when the victims-averted CI includes zero) is in the CSV. "
        f"Scenarios: {', '.join(scenario_label(s) for s in scenarios)}. " + results.provenance()
    )
