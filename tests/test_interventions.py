"""Interventions: composition, no-op identity, and direction and dose of every mechanism.

Each mechanism is run with common random numbers (replicate r of both arms shares its
streams) over ten replicates, on a short window after the Covid reopening, against the same
window without interventions. With paired seeds the differences are small and the tests
are powerful; the significance levels are stated where used.
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
from sim.interventions import REGISTRY, build_interventions
from sim.levers import Levers
from sim.world import World

WINDOW = ["start_date=2022-07-01", "end_date=2022-10-31"]
REPLICATES = 10

# intervention -> (overrides making it act at once, metric it must not increase, its own counter and direction).
# Recruiter-side mechanisms are judged on arrivals at compounds, not contacts: arrested recruiters'
# pending recruits lapse and replacements re-contact to fill the same vacancies (a hydra effect).
MECHANISMS = {
    "departure_screening": ({"hubs": ["hub_cgk"]}, "departures_via_hub_cgk", ("intercepted_exit_indonesia", +1)),
    "visa_screening": ({}, "new_victims_deceived", ("intercepted_entry", +1)),
    "passport_screening": ({}, "departures", ("passport_postponed", +1)),
    "joint_training": ({"delay_days": 0.0, "raid_rate_gain": 3.0}, "person_days_exploited", ("rescued", +1)),
    "extradition": ({"arrest_rate_abroad": 0.01}, "arrivals_compound", ("recruiters_arrested_abroad", +1)),
    "intelligence_sharing": ({"recruiter_detection_gain": 5.0}, "new_victims", ("recruiters_arrested", +1)),
    "immigration_attache": ({}, "in_shelter", ("repatriated", +1)),
    "joint_investigation": ({"arrest_rate_abroad": 0.01}, "arrivals_compound", ("recruiters_arrested", +1)),
    "asean_coordination": ({}, "arrivals_compound", ("intercepted_transit", +1)),
    "awareness_campaign": ({}, "new_victims_deceived", ("recruited_deceived", -1)),
    "platform_takedown": ({"effect": 0.9}, "arrivals_compound", ("platform_switches", +1)),
    "safe_migration_channel": ({}, "recruited", ("legal_jobs", +1)),
    "destination_crackdown": ({}, "person_days_exploited", ("compounds_raided", +1)),
    "domestic_enforcement": ({"arrest_gain": 5.0}, "arrivals_compound", ("recruiters_arrested", +1)),
}
STOCKS = {"in_shelter"}


@pytest.fixture(scope="module")
def world():
    return World(load_config().world)


@lru_cache(maxsize=None)
def _run(name: str | None, replicate: int, intensity: float = 1.0) -> pd.Series:
    """Totals of the window for one arm (cached: the no-intervention arm is shared)."""
    overrides = [*WINDOW, "interventions={}", f"replicate={replicate}"]
    if name is not None:
        extra, _, _ = MECHANISMS[name]
        overrides += [f"+interventions.{name}.start=2022-07-01", f"+interventions.{name}.intensity={intensity}"]
        overrides += [f"+interventions.{name}.{k}={_hydra(v)}" for k, v in extra.items()]
    daily = simulate(load_config(overrides)).daily
    totals = daily.drop(columns="date").sum()
    for stock in STOCKS:
        totals[stock] = daily[stock].iloc[-1]
    return totals


def _hydra(v) -> str:
    return "[" + ",".join(v) + "]" if isinstance(v, list) else str(v)


def test_every_registered_intervention_is_covered():
    assert set(MECHANISMS) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_higher_intensity_does_not_increase_the_targeted_channel_and_moves_its_own_counter(name):
    _, channel, (counter, sign) = MECHANISMS[name]
    base = [_run(None, r) for r in range(REPLICATES)]
    treated = [_run(name, r) for r in range(REPLICATES)]
    d_channel = np.array([t[channel] - b[channel] for t, b in zip(treated, base)], dtype=float)
    d_counter = np.array([t[counter] - b[counter] for t, b in zip(treated, base)], dtype=float) * sign
    # the targeted channel does not increase: a one-sided paired t-test for an increase is not significant (5%)
    if d_channel.std() > 0:
        assert stats.ttest_1samp(d_channel, 0.0, alternative="greater").pvalue > 0.05, d_channel
    else:
        assert d_channel.mean() <= 0
    # the mechanism's own counter moves in its direction in every replicate or on average (1% one-sided)
    assert d_counter.mean() > 0, d_counter
    if d_counter.std() > 0:
        assert stats.ttest_1samp(d_counter, 0.0, alternative="greater").pvalue < 0.01, d_counter


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
