"""The whole model: conservation, non-negative stocks, determinism, and the run folder."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import TraffickingModel, simulate
from sim.cli import main
from sim.outputs import FLOW, STOCK, COLUMNS
from sim.world import World
from tests.invariants import assert_population_consistent

REQUIRED_COLUMNS = (
    "date contacts recruited departures intercepted false_positive_stops arrivals_compound exploited in_transit "
    "escaped rescued deported repatriated embassy_cases embassy_cases_scam tppo_victims_identified wni_in_cambodia "
    "entries_cambodia recruiters_active recruiters_arrested compounds_active compounds_raided person_days_exploited"
).split()


@pytest.fixture(scope="module")
def world(base_cfg):
    return World(base_cfg.world)


def _with_params(cfg, **sections):
    params = cfg.params
    for section, values in sections.items():
        params = dataclasses.replace(params, **{section: dataclasses.replace(getattr(params, section), **values)})
    return dataclasses.replace(cfg, params=params)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    escape=st.floats(0.0, 0.02),
    exploit=st.floats(0.0, 0.01),
    report=st.floats(0.0, 0.02),
    raid=st.floats(0.0, 0.05),
    remigration=st.floats(0.0, 0.02),
    detect=st.floats(0.0, 0.5),
    capacity=st.floats(10.0, 60.0),
)
def test_every_person_is_in_exactly_one_state_every_day(world, base_cfg, seed, escape, exploit, report, raid, remigration, detect, capacity):
    """Conservation under random parameters: nobody lost or duplicated, counts consistent, no negatives."""
    cfg = dataclasses.replace(base_cfg, seed=seed, start_date="2022-03-01", end_date="2022-05-30")
    cfg = _with_params(
        cfg,
        compounds={"escape_rate": escape, "exploit_rate": exploit, "capacity_mean": capacity,
                   "initial_deceived_share": 0.3},
        embassy={"family_report_rate": report, "repatriation_capacity": 3.0},
        destination_police={"raid_rate": {"KH": raid, "MM": raid, "LA": raid}, "deport_capacity": 2.0},
        migration={"remigration_rate": remigration},
        immigration={"exit_detect": detect, "entry_detect": detect},
    )
    m = TraffickingModel(cfg, world)
    for _ in range(m.n_days):
        m.step()
        assert_population_consistent(m.population, m.compounds.n)
        assert (m.compounds.vacancies() >= 0).all()
    daily = m.daily()
    numeric = daily.drop(columns="date")
    assert (numeric >= 0).all().all(), "a negative count or stock"
    # stocks agree with the people
    last = daily.iloc[-1]
    from sim.lifecycle import State

    assert last["exploited"] == m.population.count(State.EXPLOITED)
    assert last["in_transit"] == m.population.count(State.IN_TRANSIT)


@settings(max_examples=6, deadline=None)
@given(kh=st.integers(65, 200), fill=st.sampled_from([0.0, 0.02, 0.3]), seed=st.integers(0, 2**31))
def test_many_compounds_from_the_start_keep_the_population_consistent(world, base_cfg, kh, fill, seed):
    """Regression (issue 12 item 11): more than 64 compounds on day 0, most of them empty or nearly so."""
    cfg = dataclasses.replace(base_cfg, seed=seed, start_date="2022-06-01", end_date="2022-06-20")
    cfg = _with_params(cfg, compounds={"initial_count": {"KH": kh, "MM": 4, "LA": 3}, "initial_fill": fill})
    m = TraffickingModel(cfg, world)
    assert m.compounds.n == kh + 7
    assert_population_consistent(m.population, m.compounds.n)
    for _ in range(m.n_days):
        m.step()
        assert_population_consistent(m.population, m.compounds.n)


def test_daily_table_has_the_documented_columns(short_cfg):
    daily = simulate(short_cfg).daily
    missing = [c for c in REQUIRED_COLUMNS if c not in daily.columns]
    assert not missing
    assert len(daily) == 365 and daily["date"].iloc[0] == pd.Timestamp("2022-01-01")
    for name, (kind, _, _) in COLUMNS.items():
        if kind in (FLOW, STOCK):
            assert np.issubdtype(daily[name].dtype, np.integer), name
    # person-days exploited is the held stock times one day
    assert (daily["person_days_exploited"] == daily["exploited"]).all()
    # entries add up from their parts
    parts = daily["entries_cambodia_migrants"] + daily["entries_visa_runs"] + daily["entries_background"]
    assert (daily["entries_cambodia"] == parts).all()


def test_same_seed_gives_identical_results_and_another_seed_does_not(short_cfg):
    a = simulate(short_cfg).daily
    b = simulate(short_cfg).daily
    pd.testing.assert_frame_equal(a, b)
    c = simulate(dataclasses.replace(short_cfg, seed=short_cfg.seed + 1)).daily
    d = simulate(dataclasses.replace(short_cfg, replicate=1)).daily
    for other in (c, d):
        assert not a.drop(columns="date").equals(other.drop(columns="date"))


def test_run_command_writes_the_run_folder_and_repeats_bit_identically(tmp_path, capsys):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        main(["run", "start_date=2022-01-01", "end_date=2022-02-28", f"out_dir={out}", "write_people=true"])
        outs.append(out)
    printed = capsys.readouterr().out
    assert "results written to" in printed and "2022" in printed
    for out in outs:
        assert sorted(p.name for p in out.iterdir()) == [
            "config.yaml", "daily.parquet", "manifest.json", "people.parquet", "routes.parquet"]
    assert (outs[0] / "daily.parquet").read_bytes() == (outs[1] / "daily.parquet").read_bytes()
    manifest = json.loads((outs[0] / "manifest.json").read_text())
    for key in ("seed", "scenario", "versions", "wall_time_s", "peak_memory_mb", "people_created", "git_commit", "interventions"):
        assert key in manifest
    assert manifest["versions"]["mesa"].startswith("3.")
    people = pd.read_parquet(outs[0] / "people.parquet")
    assert len(people) == manifest["people_created"]
    assert people["state"].value_counts().sum() == len(people)
    config = (outs[0] / "config.yaml").read_text()
    assert "seed: 20200101" in config and "escape_rate:" in config and "${" not in config


def test_covid_closures_collapse_travel(base_cfg):
    daily = simulate(dataclasses.replace(base_cfg, end_date="2022-12-31")).daily
    month = daily.set_index("date")["entries_cambodia"].resample("MS").sum()
    before = month["2020-01":"2020-02"].mean()
    during = month["2020-05":"2021-10"].mean()
    after = month["2022-06":"2022-12"].mean()
    assert during < 0.25 * before and after > 4 * during


def test_route_flows_count_every_departure_on_its_first_leg(short_cfg):
    result = simulate(short_cfg)
    routes, daily = result.routes, result.daily
    from sim.world import World

    world = World(short_cfg.world)
    first_legs = routes[routes["from"].isin([world.ids[o] for o in world.origins])]
    assert first_legs["travellers"].sum() == daily["departures"].sum()
    assert (routes["travellers"] >= 0).all() and set(routes["year"]) == {2022}
    # no one travels a leg out of Indonesia without first reaching a hub
    hubs = routes[routes["from"].isin([world.ids[h] for h in world.hubs])]["travellers"].sum()
    assert 0 < hubs <= first_legs["travellers"].sum()
