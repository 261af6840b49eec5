"""Interventions: composition, no-op identity, and direction and dose of every mechanism.

Each mechanism is run with common random numbers (replicate r of both arms shares its
streams) over ten replicates, on a short window after the Covid reopening, against the same
window without interventions. With paired seeds the differences are small and the tests
are powerful.

A mechanism "moves" an outcome when the paired differences (treated minus untreated, signed
so that the mechanism's direction is positive) pass both a one-sided paired t-test at 1% and
a one-sided exact sign test at 5% (ties count against: with ten pairs at least nine must move
the right way). An intervention that does nothing passes each decision with probability below
1%; two negative controls show the decisions fail for a no-op intervention and for pure noise
(unpaired replicates of the untreated arm).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import ConfigError, load_config, simulate
from sim.config import PLATFORMS
from sim.interventions import REGISTRY, build_interventions
from sim.levers import Levers
from sim.world import World

WINDOW = ["start_date=2022-07-01", "end_date=2022-10-31"]
REPLICATES = 10
ALPHA_T = 0.01  # one-sided paired t-test
ALPHA_SIGN = 0.05  # one-sided exact sign test (10 pairs: at least 9 in the mechanism's direction)
DOWN, UP = -1, +1

# intervention -> (overrides making it act at once and strongly, (channel it acts on, direction),
# (its own counter, direction)). Recruiter-side mechanisms are judged on arrivals at compounds, not
# contacts: arrested recruiters' pending recruits lapse and replacements re-contact to fill the same
# vacancies (a hydra effect; domestic enforcement even raises contacts).
MECHANISMS = {
    "departure_screening": ({"hubs": ["hub_cgk"]}, ("departures_via_hub_cgk", DOWN), ("intercepted_exit_indonesia", UP)),
    "visa_screening": ({}, ("new_victims_deceived", DOWN), ("intercepted_entry", UP)),
    "passport_screening": ({}, ("departures", DOWN), ("passport_postponed", UP)),
    "joint_training": ({"delay_days": 0.0, "raid_rate_gain": 20.0}, ("person_days_exploited", DOWN), ("rescued", UP)),
    "extradition": ({"arrest_rate_abroad": 0.01}, ("arrivals_compound", DOWN), ("recruiters_arrested_abroad", UP)),
    "intelligence_sharing": ({"recruiter_detection_gain": 5.0}, ("new_victims", DOWN), ("recruiters_arrested", UP)),
    "immigration_attache": ({}, ("in_shelter", DOWN), ("repatriated", UP)),
    "joint_investigation": ({"arrest_rate_abroad": 0.01}, ("arrivals_compound", DOWN), ("recruiters_arrested", UP)),
    "asean_coordination": ({}, ("arrivals_compound", DOWN), ("intercepted_transit", UP)),
    "awareness_campaign": ({}, ("new_victims_deceived", DOWN), ("recruited_deceived", DOWN)),
    "platform_takedown": ({"effect": 0.9, "platforms": list(PLATFORMS)}, ("arrivals_compound", DOWN), ("platform_switches", UP)),
    "safe_migration_channel": ({}, ("recruited", DOWN), ("legal_jobs", UP)),
    "destination_crackdown": ({}, ("person_days_exploited", DOWN), ("compounds_raided", UP)),
    "domestic_enforcement": ({"arrest_gain": 20.0}, ("arrivals_compound", DOWN), ("recruiters_arrested", UP)),
}
STOCKS = {"in_shelter"}


@pytest.fixture(scope="module")
def world():
    return World(load_config().world)


def _overrides(name: str | None, replicate: int, intensity: float = 1.0) -> list[str]:
    overrides = [*WINDOW, "interventions={}", f"replicate={replicate}"]
    if name is not None:
        extra, _, _ = MECHANISMS[name]
        overrides += [f"+interventions.{name}.start=2022-07-01", f"+interventions.{name}.intensity={intensity}"]
        overrides += [f"+interventions.{name}.{k}={_hydra(v)}" for k, v in extra.items()]
    return overrides


def _totals(overrides: list[str]) -> pd.Series:
    """Totals of the window (flows summed, stocks at the end)."""
    daily = simulate(load_config(overrides)).daily
    totals = daily.drop(columns="date").sum()
    for stock in STOCKS:
        totals[stock] = daily[stock].iloc[-1]
    return totals


@lru_cache(maxsize=None)
def _run(name: str | None, replicate: int, intensity: float = 1.0) -> pd.Series:
    """Totals of the window for one arm (cached: the no-intervention arm is shared)."""
    return _totals(_overrides(name, replicate, intensity))


def _hydra(v) -> str:
    return "[" + ",".join(v) + "]" if isinstance(v, list) else str(v)


def _differences(treated: list[pd.Series], base: list[pd.Series], outcome: str) -> np.ndarray:
    return np.array([t[outcome] - b[outcome] for t, b in zip(treated, base)], dtype=float)


def moves(d: np.ndarray, direction: int) -> bool:
    """Whether paired differences ``d`` move in ``direction`` beyond noise (module docstring)."""
    x = direction * np.asarray(d, dtype=float)
    right = int((x > 0).sum())
    p_sign = stats.binomtest(right, len(x), 0.5, alternative="greater").pvalue
    if x.std() > 0:
        p_t = stats.ttest_1samp(x, 0.0, alternative="greater").pvalue
    else:
        p_t = 0.0 if x.mean() > 0 else 1.0
    return bool(p_sign < ALPHA_SIGN and p_t < ALPHA_T)


def test_every_registered_intervention_is_covered():
    assert set(MECHANISMS) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_each_mechanism_moves_its_channel_and_its_own_counter_in_its_direction(name):
    _, (channel, channel_dir), (counter, counter_dir) = MECHANISMS[name]
    base = [_run(None, r) for r in range(REPLICATES)]
    treated = [_run(name, r) for r in range(REPLICATES)]
    d_channel, d_counter = _differences(treated, base, channel), _differences(treated, base, counter)
    assert moves(d_channel, channel_dir), f"{channel} does not move {channel_dir:+d}: {d_channel}"
    assert moves(d_counter, counter_dir), f"{counter} does not move {counter_dir:+d}: {d_counter}"


def test_the_mechanism_test_fails_for_an_intervention_that_does_nothing(monkeypatch):
    """Negative control: joint training (the weakest effect above) delivered at full intensity by a
    class whose ``apply`` changes no lever leaves every replicate unchanged, and both decisions fail."""
    name = "joint_training"
    monkeypatch.setattr(REGISTRY[name], "apply", lambda self, levers, level: None)
    _, (channel, channel_dir), (counter, counter_dir) = MECHANISMS[name]
    base = [_run(None, r) for r in range(REPLICATES)]
    treated = [_totals(_overrides(name, r)) for r in range(REPLICATES)]
    assert (treated[0][f"cost_{name}"] > 0), "the no-op intervention is delivered (and paid for)"
    for outcome, direction in ((channel, channel_dir), (counter, counter_dir)):
        d = _differences(treated, base, outcome)
        assert (d == 0).all() and not moves(d, direction)


def test_the_mechanism_test_is_not_passed_by_noise():
    """Negative control: replicates 10-19 of the untreated arm against replicates 0-9 (no effect, no
    pairing). Each of the 28 decisions passes noise with probability below 1%; on these seeds none does."""
    base = [_run(None, r) for r in range(REPLICATES)]
    other = [_run(None, r + REPLICATES) for r in range(REPLICATES)]
    passed = [(outcome, direction) for _, (channel, cd), (counter, kd) in MECHANISMS.values()
              for outcome, direction in ((channel, cd), (counter, kd))
              if moves(_differences(other, base, outcome), direction)]
    assert not passed, passed


def test_the_decision_rule_on_fixed_differences():
    assert moves(np.array([-3.0] * 10), DOWN) and not moves(np.array([-3.0] * 10), UP)
    assert not moves(np.zeros(10), DOWN) and not moves(np.zeros(10), UP)
    assert not moves(np.array([-5.0] * 8 + [1.0, 1.0]), DOWN)  # 8 of 10: the sign test fails at 5%
    assert not moves(np.array([-100.0] + [1.0] * 9), DOWN)  # one large difference is not a consistent move
    assert not moves(np.array([-1.0] * 9 + [50.0]), DOWN)  # nine small moves and one large opposite: the t-test fails


def test_dose_response_of_departure_screening():
    """More screening stops more people at Soekarno-Hatta, replicate by replicate (common random numbers)."""
    doses = (0.25, 0.5, 1.0)
    stopped = np.array([[_run("departure_screening", r, d)["intercepted_exit_indonesia"] for d in doses] for r in range(REPLICATES)])
    assert (np.diff(stopped, axis=1) >= 0).mean() >= 0.9
    assert (stopped[:, -1] > stopped[:, 0]).all()


def test_screening_only_at_soekarno_hatta_displaces_departures_to_other_hubs():
    base = [_run(None, r) for r in range(REPLICATES)]
    treated = [_run("departure_screening", r) for r in range(REPLICATES)]
    others = [c for c in base[0].index if c.startswith("departures_via_") and c != "departures_via_hub_cgk"]
    diff = np.array([t[others].sum() - b[others].sum() for t, b in zip(treated, base)], dtype=float)
    assert diff.mean() > 0 and stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue < 0.01


def test_noop_interventions_leave_the_run_bit_identical():
    base = simulate(load_config([*WINDOW])).daily
    for extra in (["interventions.departure_screening.intensity=0"],
                  ["interventions.departure_screening.start=2030-01-01"],
                  ["interventions.departure_screening.start=2010-01-01", "++interventions.departure_screening.end=2011-12-31"]):
        daily = simulate(load_config([*WINDOW, "scenario=departure_screening", *extra])).daily
        pd.testing.assert_frame_equal(daily[base.columns], base)
        assert (daily["cost_departure_screening"] == 0).all()


def test_interventions_touching_the_same_lever_compose_by_the_documented_rules(world):
    cfg = load_config()
    spec = {
        "a": {"type": "departure_screening", "start": "2020-01-01", "sensitivity": 0.3, "hubs": ["hub_cgk"]},
        "b": {"type": "departure_screening", "start": "2020-01-01", "sensitivity": 0.3, "hubs": ["hub_cgk"]},
        "c": {"type": "awareness_campaign", "start": "2020-01-01", "effect": 0.2},
        "d": {"type": "awareness_campaign", "start": "2020-01-01", "effect": 0.2},
        "e": {"type": "extradition", "start": "2020-01-01", "arrest_rate_abroad": 0.001},
        "f": {"type": "joint_investigation", "start": "2020-01-01", "arrest_rate_abroad": 0.002},
    }
    ivs = build_interventions(spec, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    for iv in ivs:
        iv.bind(world)
    base = Levers.baseline(cfg.params, world)
    cgk = world.index["hub_cgk"]
    results = []
    for order in (ivs, ivs[::-1]):
        lv = base.copy()
        for iv in order:
            iv.apply(lv, 1.0)
        results.append(lv)
    p0 = base.exit_detect[cgk]
    assert np.isclose(results[0].exit_detect[cgk], 1 - (1 - p0) * 0.7 * 0.7)  # independent chances
    assert np.allclose(results[0].deceptive_acceptance, 0.8 * 0.8)  # multipliers multiply
    assert np.isclose(results[0].arrest_abroad, base.arrest_abroad + 0.003)  # rates add
    for f in dataclasses.fields(Levers):
        assert np.allclose(getattr(results[0], f.name), getattr(results[1], f.name)), f"{f.name} depends on order"


def test_delivery_profile_ramp_delay_and_decay():
    spec = {"t": {"type": "joint_training", "start": "2020-01-11", "end": "2020-03-10", "delay_days": 10.0,
                  "ramp_days": 20.0, "intensity": 0.8, "half_life_days": 30.0, "cost_per_year_usd": 365.0}}
    (iv,) = build_interventions(spec, dt.date(2020, 1, 1), dt.date(2020, 6, 30))
    lv, cost = iv.levels, iv.daily_cost
    assert (lv[:20] == 0).all()  # before start + delay
    assert np.isclose(lv[20], 0.8 / 20) and np.isclose(lv[39], 0.8)  # linear ramp
    assert np.isclose(lv[69], 0.8) and np.isclose(lv[69 + 30], 0.4)  # half-life after the end
    assert np.isclose(cost[10:70].sum(), 60 * 0.8) and cost[70:].sum() == 0  # paid while delivered


def test_unknown_intervention_and_bad_fields_are_clear_errors():
    with pytest.raises(ConfigError, match="known: asean_coordination, awareness_campaign"):
        load_config(["+interventions.x.type=teleportation"])
    with pytest.raises(ConfigError, match=r"interventions\.departure_screening\.sensitivity = 1\.5: must be within \[0, 1\]"):
        load_config(["scenario=departure_screening", "++interventions.departure_screening.sensitivity=1.5"])
    with pytest.raises(ConfigError, match="hubs = 'hub_nowhere': unknown location"):
        simulate(load_config([*WINDOW, "scenario=departure_screening", "++interventions.departure_screening.hubs=[hub_nowhere]"]))
