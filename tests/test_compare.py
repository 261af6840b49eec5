"""Paired comparison statistics on synthetic data with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis import compare as cmp


def synthetic_totals(n: int, effect: float, seed: int, noise: float = 2.0) -> pd.DataFrame:
    """Baseline totals vary a lot between replicates; the paired scenario differs by ``effect`` plus a little noise."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({name: rng.normal(1000, 200, n) for name in cmp.OUTCOMES})
    scen = base + effect + rng.normal(0, noise, (n, len(cmp.OUTCOMES)))
    scen["cost_usd"] = base["cost_usd"] + 5000.0
    frames = []
    for name, values in (("baseline", base), ("screening", scen)):
        frames.append(values.assign(scenario=name, replicate=np.arange(n)))
    return pd.concat(frames, ignore_index=True)[cmp.KEYS + list(cmp.OUTCOMES)]


def test_bootstrap_ci_covers_a_known_difference():
    totals = synthetic_totals(n=50, effect=-10.0, seed=1)
    table = cmp.compare(totals, "baseline", seed=3).set_index("outcome")
    row = table.loc["victims"]
    assert row.ci_low < -10.0 < row.ci_high
    assert row.ci_high - row.ci_low < 3  # pairing removes the between-replicate spread (sd 200)
    assert row.relative_change == pytest.approx(row.effect_mean / row.reference_mean)
    assert row.effect_p05 < row.effect_median < row.effect_p95


def test_bootstrap_coverage_is_close_to_95_percent():
    true = 1.5
    hits = 0
    trials = 200
    for seed in range(trials):
        diff = np.random.default_rng(seed).normal(true, 4.0, 40)
        low, high = cmp.bootstrap_mean_ci(diff, np.random.default_rng(10_000 + seed))
        hits += low <= true <= high
    assert 0.89 <= hits / trials <= 0.99


def test_bootstrap_is_reproducible_and_independent_of_table_order():
    totals = synthetic_totals(n=20, effect=-5.0, seed=2)
    a = cmp.compare(totals, "baseline", seed=11)
    b = cmp.compare(totals.sample(frac=1.0, random_state=0), "baseline", seed=11)
    pd.testing.assert_frame_equal(a, b)


def test_pairs_are_matched_by_replicate():
    totals = synthetic_totals(n=5, effect=-7.0, seed=4, noise=0.0)
    diffs = cmp.paired_differences(totals.iloc[::-1], "baseline")
    assert np.allclose(diffs["victims"], -7.0)
    assert sorted(diffs["replicate"]) == list(range(5))


def test_constant_differences_have_a_point_interval():
    low, high = cmp.bootstrap_mean_ci(np.full(10, 3.0), np.random.default_rng(0))
    assert (low, high) == (3.0, 3.0)
    assert cmp.precision(0.0, 0.0, 0.0, 10) == (0.0, True, 10)


def test_cost_per_victim_averted():
    totals = synthetic_totals(n=30, effect=-10.0, seed=5, noise=1.0)
    row = cmp.compare(totals, "baseline", seed=0).set_index("outcome").loc[cmp.COST_PER_VICTIM]
    assert row.effect_mean == pytest.approx(5000.0 / 10.0, rel=0.05)
    assert row.ci_low < 500.0 < row.ci_high
    # No victims averted: the ratio is undefined rather than a misleading number.
    none = cmp.compare(synthetic_totals(n=30, effect=0.0, seed=6), "baseline").set_index("outcome")
    assert math.isnan(none.loc[cmp.COST_PER_VICTIM].ci_low)


def test_replicates_enough_and_needed():
    rel, enough, needed = cmp.precision(-10.0, -12.0, -8.0, 50)
    assert rel == pytest.approx(0.2) and not enough and needed == 200  # half-width halves with 4x replicates
    assert cmp.precision(-10.0, -10.5, -9.5, 50)[1]


def daily_frame() -> pd.DataFrame:
    dates = pd.date_range("2023-12-30", "2024-01-03")
    rows = []
    for scenario, shift in (("baseline", 0), ("screening", -1)):
        for r in range(3):
            for d in dates:
                row = {c: 0 for c in cmp.source_columns()}
                row.update(scenario=scenario, replicate=r, date=d, new_victims=10 + r + shift * (d.year == 2024),
                           displacement=3)
                rows.append(row)
    return pd.DataFrame(rows)


def test_window_totals_and_displacement():
    out = cmp.daily_outcomes(daily_frame())
    totals = cmp.window_totals(out, "2024-01-01", "2024-01-03").set_index(["scenario", "replicate"])
    assert totals.loc[("baseline", 1), "victims"] == 33
    assert totals.loc[("screening", 1), "victims"] == 30
    assert totals.loc[("baseline", 0), "displacement"] == 9  # 3 a day outside the reference country


def test_trajectory_bands():
    out = cmp.daily_outcomes(daily_frame())
    ref = out[out["scenario"] == "baseline"]
    bands = cmp.trajectory_bands(out[out["scenario"] == "screening"], ref, "2024-01-01")
    effect = bands[(bands["outcome"] == "victims") & (bands["measure"] == "cumulative_effect")]
    assert list(effect["median"]) == [-1.0, -2.0, -3.0]  # one victim fewer per day from the window start
    level = bands[(bands["outcome"] == "victims") & (bands["measure"] == "level")]
    assert len(level) == 5 and (level["p05"] <= level["median"]).all() and (level["median"] <= level["p95"]).all()


def test_format_table():
    text = cmp.format_table(cmp.compare(synthetic_totals(n=10, effect=-10.0, seed=7), "baseline"))
    assert "victims" in text and "95% CI" in text and "cost_per_victim_averted" in text


def test_few_replicates_are_never_enough():
    """Issue 13.1: 2-3 replicates with a tight interval, or a chance tie ([6, 6] at n = 2), are not 'enough'."""
    assert cmp.MIN_REPLICATES == 10
    assert cmp.precision(6.0, 6.0, 6.0, 2) == (0.0, False, cmp.MIN_REPLICATES)  # a tie of two replicates
    rel, enough, needed = cmp.precision(-10.0, -10.1, -9.9, 3)  # 1% half-width, but only 3 pairs
    assert rel == pytest.approx(0.01) and not enough and needed == cmp.MIN_REPLICATES
    assert cmp.precision(-10.0, -10.1, -9.9, cmp.MIN_REPLICATES)[1]  # the same interval from 10 pairs is enough
    assert cmp.precision(6.0, 6.0, 6.0, cmp.MIN_REPLICATES)[1]  # 10 pairs that all agree: a constant effect
    for n in (2, 3):
        totals = synthetic_totals(n=n, effect=-50.0, seed=8, noise=0.5)  # tight effect, few replicates
        table = cmp.compare(totals, "baseline", seed=1)
        assert not table["replicates_enough"].any()
        row = table.set_index("outcome").loc["victims"]
        assert row.replicates_needed >= cmp.MIN_REPLICATES
        assert "no (~10)" in cmp.format_table(table) and " yes" not in cmp.format_table(table)
    tie = synthetic_totals(n=2, effect=6.0, seed=9, noise=0.0)  # every pair differs by exactly 6: [6, 6]
    row = cmp.compare(tie, "baseline").set_index("outcome").loc["victims"]
    assert (row.ci_low, row.ci_high) == (6.0, 6.0) and not row.replicates_enough


def test_verdict_of_saved_tables_is_recomputed():
    """A table saved by an older tipsim (enough = True at n = 2) is judged by the current rule."""
    old = pd.DataFrame({"effect_mean": [6.0, -10.0, -10.0], "ci_low": [6.0, -10.1, -12.0],
                        "ci_high": [6.0, -9.9, -8.0], "replicates": [2, 20, 20], "replicates_enough": [True, True, True]})
    assert list(cmp.replicates_enough(old)) == [False, True, False]
    saved = cmp.compare(synthetic_totals(n=3, effect=-50.0, seed=8, noise=0.5), "baseline", seed=1)
    saved["replicates_enough"], saved["replicates_needed"] = True, 3  # as written at n = 3 before the rule
    text = cmp.format_table(saved)  # what `tipsim report` prints for such a folder
    assert " yes" not in text and "no (~10)" in text
