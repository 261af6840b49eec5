"""Dose-response: an outcome's paired effect against the one setting a sweep varies.

From a sweep folder whose jobs differ in one setting (``tipsim compare -m`` over one lever, or
``tipsim sweep`` with one parameter): for each job, the mean paired effect of a scenario
against the reference over the comparison window (line and points) with its 95% bootstrap
confidence interval (shaded band; bars for a setting that is not a number). One panel per
outcome, each in its own unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.compare import COST_PER_VICTIM, RESAMPLES
from ..config import ConfigError
from . import style
from .heatmap import OUTCOMES, SweepResults
from .labels import lever_label, outcome_label, outcome_unit, scenario_label

CI_ALPHA = 0.25
"""Opacity of the 95% confidence band."""


def dose_data(sweep: SweepResults, scenario: str, outcomes: tuple[str, ...], key: str) -> pd.DataFrame:
    """Rows drawn: ``key, job, scenario, outcome, unit, replicates, effect_mean, ci_low, ci_high``, by setting."""
    c = sweep.comparison
    d = c[(c["scenario"] == scenario) & c["outcome"].isin(outcomes)]
    if d.empty:
        raise ConfigError(f"sweep dose-response: no results of scenario {scenario!r} in {sweep.root}")
    cols = [key, "job", "scenario", "outcome", "unit", "replicates", "effect_mean", "ci_low", "ci_high"]
    data = d[[x for x in cols if x in d.columns]].copy()
    if data[key].map(lambda v: isinstance(v, (int, float))).all():
        data[key] = pd.to_numeric(data[key])
    return data.sort_values([key, "outcome"], kind="stable").reset_index(drop=True)


@style.styled
def sweep_dose_response(sweep: SweepResults, scenario: str | None = None, outcomes: tuple[str, ...] = OUTCOMES,
                        key: str | None = None) -> style.Drawn:
    """Panels of an outcome's mean paired effect (with 95% CI) against the swept setting ``key`` (default: the sweep's)."""
    keys = [key] if key else list(sweep.keys)
    if len(keys) != 1:
        raise ConfigError(f"sweep dose-response: needs exactly one swept setting; {sweep.root} varies {len(keys)}"
                          + (f" ({', '.join(keys)})" if keys else ""))
    (key,) = keys
    scenario = scenario or next(s for s in sweep.scenarios if s != sweep.reference)
    data = dose_data(sweep, scenario, outcomes, key)
    numeric = pd.api.types.is_numeric_dtype(data[key])
    n = len(outcomes)
    ncols = 2 if n > 1 else 1
    nrows = -(-n // ncols)
    fig = style.figure(style.DOUBLE if ncols > 1 else style.SINGLE, height=0.45 + 1.75 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True).ravel()
    colour = style.series_style(max(sweep.scenarios.index(scenario), 1))["color"]
    settings = list(dict.fromkeys(data[key]))
    reps = sorted({int(n) for n in data["replicates"].dropna()})
    ci_label = f"95% confidence interval (n = {'/'.join(map(str, reps))} replicate pairs per job)"
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_visible(False)
            continue
        outcome = outcomes[i]
        o = data[data["outcome"] == outcome]
        x = o[key].to_numpy(dtype=float) if numeric else np.array([settings.index(v) for v in o[key]], dtype=float)
        mean, low, high = (o[c].to_numpy(dtype=float) for c in ("effect_mean", "ci_low", "ci_high"))
        ax.axhline(0, color="0.6", linewidth=0.6, zorder=0)
        has_ci = np.isfinite(low) & np.isfinite(high)
        if numeric:
            ax.fill_between(x, np.where(has_ci, low, np.nan), np.where(has_ci, high, np.nan), color=colour,
                            alpha=CI_ALPHA, linewidth=0, label=ci_label if i == 0 else None)
            ax.plot(x, mean, color=colour, marker="o", markersize=3, label="mean paired effect" if i == 0 else None)
            style.number_axis(ax.xaxis)
        else:
            ax.errorbar(x[has_ci], mean[has_ci], yerr=[mean[has_ci] - low[has_ci], high[has_ci] - mean[has_ci]],
                        color=colour, linestyle="none", linewidth=0.9, label=ci_label if i == 0 else None)
            ax.plot(x, mean, color=colour, marker="o", markersize=3, linestyle="none",
                    label="mean paired effect" if i == 0 else None)
            ax.set_xticks(range(len(settings)), [str(v) for v in settings])
        unit = outcome_unit(outcome)
        ax.set_ylabel(f"cost per victim averted ({unit})" if outcome == COST_PER_VICTIM
                      else f"effect vs {scenario_label(sweep.reference)} ({unit})")
        style.number_axis(ax.yaxis)
        ax.set_title(outcome_label(outcome))
        if i >= n - ncols:
            ax.set_xlabel(lever_label(key))
            ax.xaxis.set_tick_params(labelbottom=True)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    caption = (
        f"**Dose-response: {lever_label(key)}**, scenario {scenario_label(scenario)} vs "
        f"{scenario_label(sweep.reference)}. Each point is one sweep job: the mean over replicates of the paired "
        "difference scenario minus reference, summed over the comparison window (for cost per victim averted: mean "
        "extra cost / mean victims averted; left out where no victim is averted on average); the shaded band (bars "
        f"for a setting that is not a number) is its **95% bootstrap confidence interval** (BCa, {RESAMPLES:,} "
        "resamples) - the uncertainty of each mean effect, not the spread of single runs; the band is drawn between "
        "the jobs, which are the only settings run. "
        f"Outcomes: {', '.join(outcome_label(o) for o in outcomes)}. " + sweep.provenance()
    )
    return style.Drawn(f"sweep_dose_response_{scenario}", fig, data, caption)
