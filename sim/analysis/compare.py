"""Paired comparison of scenarios against a reference scenario (docs/ensembles.md).

Replicate r of every scenario runs with the same seed (common random numbers), so the
effect of a scenario is estimated from paired differences: for each replicate, the
scenario's outcome total over the comparison window minus the reference's. For every
scenario and outcome this module reports

* the mean paired difference with a 95% bootstrap confidence interval
  (:func:`scipy.stats.bootstrap`, BCa; resampling replicates, so pairs stay together),
* the relative change (mean difference / reference mean),
* the median and 5-95% band of the per-replicate differences, and
* whether the replicates were enough: at least :data:`MIN_REPLICATES` pairs, and the CI
  half-width relative to the effect at most :data:`PRECISION`; otherwise
  ``replicates_needed`` estimates how many would be (half-width shrinks as 1/sqrt(n); never
  fewer than :data:`MIN_REPLICATES`).

Cost per victim averted is a ratio of means (mean extra cost / mean victims averted); its
CI resamples the replicate pairs jointly and is left undefined (NaN) when the victims-averted
CI contains zero, since the ratio is then unbounded.

Trajectory bands (median and 5-95% band across replicates, per date) are computed for the
daily level of every outcome and for the cumulative paired effect from the window start.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

PRECISION = 0.1
"""Replicates are 'enough' when the 95% CI half-width is at most this fraction of |effect|."""

MIN_REPLICATES = 10
"""Fewest replicate pairs for any 'replicates enough' verdict.

Below this the bootstrap interval says more than the data know: with n pairs the bootstrap
distribution of the mean has at most C(2n-1, n) distinct values (10 at n = 3), BCa's
acceleration and bias corrections are estimated from n jackknife values, and intervals
undercover badly (a 95% BCa interval from 3 normal pairs covers the mean far less than 95% of
the time). A zero-width interval from a chance tie (two replicates with the same difference,
``[6, 6]`` at n = 2) would otherwise pass the precision test. With 10 or more pairs that all
agree, the effect really is constant (e.g. a fixed delivery cost), and a zero-width interval
counts as enough.
"""

CONFIDENCE = 0.95
"""Confidence level of the bootstrap intervals."""

RESAMPLES = 9999
"""Bootstrap resamples per interval."""

BAND = (0.05, 0.95)
"""Quantiles of the reported bands (5-95%)."""


@dataclass(frozen=True)
class Outcome:
    """An outcome compared across scenarios: the sum of daily output columns over the window."""

    columns: tuple[str, ...]
    unit: str
    meaning: str


OUTCOMES: dict[str, Outcome] = {
    "victims": Outcome(("new_victims",), "persons", "People trafficked into compounds (became held)."),
    "person_days_exploited": Outcome(("person_days_exploited",), "person-days", "Days spent held in compounds."),
    "embassy_cases": Outcome(("embassy_cases",), "cases", "New cases at the embassy in the reference country (KBRI Phnom Penh by default)."),
    "rescued": Outcome(("rescued",), "persons", "Rescues (raids and targeted rescues)."),
    "repatriated": Outcome(("repatriated",), "persons", "Repatriations arranged by an embassy."),
    "recruiters_arrested": Outcome(("recruiters_arrested",), "recruiters", "Recruiters arrested."),
    "false_positive_stops": Outcome(("false_positive_stops",), "persons", "Legitimate travellers stopped by screening."),
    "displacement": Outcome(("displacement",), "persons",
                            "Arrivals at compounds outside the reference country (displacement)."),
    "cost_usd": Outcome(("intervention_cost_usd",), "USD", "Cost of all interventions delivered."),
}

COST_PER_VICTIM = "cost_per_victim_averted"
"""Derived outcome: mean extra cost (USD) per victim averted, relative to the reference."""

KEYS = ["scenario", "replicate"]


def source_columns() -> list[str]:
    """The daily output columns the outcomes are built from."""
    return sorted({c for o in OUTCOMES.values() for c in o.columns})


def daily_outcomes(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily outcome values: ``scenario, replicate, date`` plus one column per outcome."""
    out = daily[KEYS + ["date"]].copy()
    for name, o in OUTCOMES.items():
        out[name] = daily[list(o.columns)].sum(axis=1)
    return out


def window_totals(outcomes: pd.DataFrame, start, end) -> pd.DataFrame:
    """Outcome totals per (scenario, replicate) over the window ``[start, end]`` (dates inclusive)."""
    dates = pd.to_datetime(outcomes["date"])
    inside = outcomes[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    return inside.groupby(KEYS, sort=False)[list(OUTCOMES)].sum().reset_index()


def paired_differences(totals: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per replicate, each scenario's totals minus the reference's (replicates present in both)."""
    ref = totals[totals["scenario"] == reference].set_index("replicate")[list(OUTCOMES)]
    rows = []
    for name, group in totals[totals["scenario"] != reference].groupby("scenario", sort=False):
        g = group.set_index("replicate")[list(OUTCOMES)]
        common = g.index.intersection(ref.index).sort_values()
        diff = g.loc[common] - ref.loc[common]
        diff.insert(0, "scenario", name)
        rows.append(diff.reset_index())
    if not rows:
        return pd.DataFrame(columns=KEYS + list(OUTCOMES))
    return pd.concat(rows, ignore_index=True)[KEYS + list(OUTCOMES)]


def _rng(seed: int, scenario: str, outcome: str) -> np.random.Generator:
    """A bootstrap generator that depends only on (seed, scenario, outcome), not on table order."""
    return np.random.default_rng([seed, zlib.crc32(f"{scenario}/{outcome}".encode())])


def bootstrap_mean_ci(diff: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95% bootstrap (BCa) interval of the mean of paired differences.

    Constant data (e.g. an outcome no scenario changes) has the point as its interval; a
    single replicate has no interval (NaN).
    """
    if len(diff) < 2:
        return math.nan, math.nan
    if np.ptp(diff) == 0:
        return float(diff[0]), float(diff[0])
    res = stats.bootstrap((diff,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES, method="BCa", rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_ratio_ci(extra_cost: np.ndarray, averted: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95% bootstrap (percentile) interval of mean(extra_cost) / mean(averted), pairs resampled jointly."""

    def ratio(c, a, axis=-1):
        return np.mean(c, axis=axis) / np.mean(a, axis=axis)

    res = stats.bootstrap((extra_cost, averted), ratio, paired=True, vectorized=True, confidence_level=CONFIDENCE,
                          n_resamples=RESAMPLES, method="percentile", rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def precision(mean: float, low: float, high: float, n: int) -> tuple[float, bool, int]:
    """CI half-width relative to |mean|, whether the replicates are enough, replicates needed to be.

    Enough means at least :data:`MIN_REPLICATES` pairs and a half-width of at most
    :data:`PRECISION` of |mean| (a zero-width interval only from :data:`MIN_REPLICATES` or more
    pairs, never from a chance tie of a few). The number needed is at least :data:`MIN_REPLICATES`.
    """
    half = (high - low) / 2
    if math.isnan(half):
        return math.nan, False, MIN_REPLICATES if n < MIN_REPLICATES else 0
    if half == 0:
        return 0.0, n >= MIN_REPLICATES, max(n, MIN_REPLICATES)
    if mean == 0:
        return math.inf, False, 0
    rel = half / abs(mean)
    needed = max(n, MIN_REPLICATES, math.ceil(n * (rel / PRECISION) ** 2))
    return rel, rel <= PRECISION and n >= MIN_REPLICATES, needed


def replicates_enough(table: pd.DataFrame) -> pd.Series:
    """The 'replicates enough' verdict of every row of a comparison table, from its numbers.

    Recomputed with :func:`precision` from ``effect_mean, ci_low, ci_high, replicates``, so tables
    saved by an older tipsim (which counted 2-3 replicates or a chance tie as enough) are judged
    by the same rule when they are collected or drawn.
    """
    cols = ["effect_mean", "ci_low", "ci_high", "replicates"]
    return pd.Series([precision(float(m), float(lo), float(hi), int(n))[1] if pd.notna(n) else False
                      for m, lo, hi, n in table[cols].itertuples(index=False)], index=table.index, dtype=bool)


def _row(scenario, outcome, unit, n, ref_mean, sc_mean, effect, low, high, rel_change, band) -> dict:
    rel, enough, needed = precision(effect, low, high, n)
    return {
        "scenario": scenario, "outcome": outcome, "unit": unit, "replicates": n,
        "reference_mean": ref_mean, "scenario_mean": sc_mean,
        "effect_mean": effect, "ci_low": low, "ci_high": high, "relative_change": rel_change,
        "effect_p05": band[0], "effect_median": band[1], "effect_p95": band[2],
        "ci_halfwidth_rel": rel, "replicates_enough": enough,
        "replicates_needed": needed if needed else math.nan,
    }


def compare(totals: pd.DataFrame, reference: str, seed: int = 0) -> pd.DataFrame:
    """The comparison table: one row per (scenario other than ``reference``, outcome).

    Args:
        totals: window totals per (scenario, replicate), from :func:`window_totals`.
        reference: the scenario the others are compared with (usually ``baseline``).
        seed: seed of the bootstrap (results are reproducible for a given seed).
    """
    diffs = paired_differences(totals, reference)
    means = totals.groupby("scenario", sort=False)[list(OUTCOMES)].mean()
    rows = []
    for scenario, d in diffs.groupby("scenario", sort=False):
        n = len(d)
        replicates = d["replicate"].to_numpy()
        ref = totals[(totals["scenario"] == reference) & totals["replicate"].isin(replicates)]
        ref_means = ref[list(OUTCOMES)].mean()
        for name, o in OUTCOMES.items():
            x = d[name].to_numpy(dtype=float)
            low, high = bootstrap_mean_ci(x, _rng(seed, scenario, name))
            effect = float(x.mean())
            rel_change = effect / ref_means[name] if ref_means[name] != 0 else math.nan
            band = np.quantile(x, [BAND[0], 0.5, BAND[1]])
            rows.append(_row(scenario, name, o.unit, n, float(ref_means[name]), float(means.loc[scenario, name]),
                             effect, low, high, rel_change, band))
        rows.append(_cost_per_victim_row(scenario, d, seed))
    return pd.DataFrame(rows)


def _cost_per_victim_row(scenario: str, d: pd.DataFrame, seed: int) -> dict:
    """Mean extra cost per victim averted, with its CI (NaN when victims averted may be zero)."""
    extra_cost = d["cost_usd"].to_numpy(dtype=float)
    averted = -d["victims"].to_numpy(dtype=float)
    n = len(d)
    value = float(extra_cost.mean() / averted.mean()) if averted.mean() > 0 else math.nan
    low_v, high_v = bootstrap_mean_ci(averted, _rng(seed, scenario, "victims_averted"))
    low = high = math.nan
    if n >= 2 and low_v > 0:
        low, high = bootstrap_ratio_ci(extra_cost, averted, _rng(seed, scenario, COST_PER_VICTIM))
    nan3 = (math.nan, math.nan, math.nan)
    return _row(scenario, COST_PER_VICTIM, "USD/victim", n, math.nan, math.nan, value, low, high, math.nan, nan3)


def trajectory_bands(outcomes: pd.DataFrame, reference: pd.DataFrame | None, start) -> pd.DataFrame:
    """Median and 5-95% band across replicates, per (outcome, date), of one scenario; long format.

    ``measure`` is ``level`` (the daily outcome value over the whole horizon) or, when the
    ``reference`` scenario's daily outcomes are given, ``cumulative_effect`` (the paired
    difference to the reference accumulated from ``start``). Works one scenario at a time so
    that large ensembles never hold more than two scenarios' daily outcomes.
    """
    scenario = outcomes["scenario"].iloc[0]
    frames = []
    for name in OUTCOMES:
        wide = outcomes.pivot(index="replicate", columns="date", values=name)
        frames.append(_band_frame(scenario, name, "level", wide))
        if reference is not None:
            ref = reference.pivot(index="replicate", columns="date", values=name)
            common = wide.index.intersection(ref.index)
            diff = wide.loc[common] - ref.loc[common]
            diff = diff.loc[:, diff.columns >= pd.Timestamp(start)].cumsum(axis=1)
            frames.append(_band_frame(scenario, name, "cumulative_effect", diff))
    return pd.concat(frames, ignore_index=True)


def _band_frame(scenario: str, outcome: str, measure: str, wide: pd.DataFrame) -> pd.DataFrame:
    q = np.quantile(wide.to_numpy(dtype=float), [BAND[0], 0.5, BAND[1]], axis=0)
    return pd.DataFrame({
        "scenario": scenario, "outcome": outcome, "measure": measure, "date": wide.columns,
        "p05": q[0], "median": q[1], "p95": q[2],
    })


def format_table(table: pd.DataFrame) -> str:
    """The comparison as a fixed-width text table for the terminal."""
    if table.empty:
        return "(no comparison: fewer than two scenarios)"

    def num(x: float) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "n/a"
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"

    lines = []
    verdicts = replicates_enough(table)  # the current rule, also for a table saved by an older version
    for (_, r), is_enough in zip(table.iterrows(), verdicts, strict=True):
        ci = f"[{num(r.ci_low)}, {num(r.ci_high)}]"
        rel = "n/a" if pd.isna(r.relative_change) else f"{100 * r.relative_change:+.1f}%"
        needed = r.replicates_needed
        if r.replicates < MIN_REPLICATES:
            needed = MIN_REPLICATES if pd.isna(needed) else max(needed, MIN_REPLICATES)
        if is_enough:
            enough = "yes"
        elif pd.isna(needed):
            enough = "no"
        else:
            enough = f"no (~{int(needed):,})"
        lines.append({
            "scenario": r.scenario, "outcome": r.outcome, "reference": num(r.reference_mean),
            "effect (mean)": num(r.effect_mean), "95% CI": ci, "change": rel,
            "5-95% band": f"[{num(r.effect_p05)}, {num(r.effect_p95)}]", "n": str(r.replicates),
            "enough": enough,
        })
    frame = pd.DataFrame(lines)
    return frame.to_string(index=False)
