"""The whole model: conservation, non-negative stocks, determinism, and the run folder."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import TraffickingModel, load_config, simulate
from sim.cli import main
from sim.lifecycle import State
from sim.outputs import FLOW, STOCK, COLUMNS
from sim.world import World
from tests.invariants import assert_population_consistent

REQUIRED_COLUMNS = (
    "date contacts recruited departures intercepted false_positive_stops arrivals_compound exploited in_transit "
    "escaped rescued deported repatriated embassy_cases embassy_cases_scam tppo_victims_identified wni_in_KH "
    "entries_KH recruiters_active recruiters_arrested compounds_active compounds_raided person_days_exploited"
).split()


@pytest.fixture(scope="module")
def world(base_cfg):
    return World(base_cfg.world)


def _with_params(cfg, **sections):
    params = cfg.params
    for section, values in sections.items():
        params = dataclasses.replace(params, **{section: dataclasses.replace(getattr(params, section), **values)})
    return dataclasses.replace(cfg, params=params)


def assert_vacancies_follow_from_the_people(m) -> None:
    """Vacancies (documented: capacity minus occupants minus people on their way, none in a closed
    compound, never below zero) recomputed from the people's states and compounds."""
    pop, comp = m.population, m.compounds
    taking = np.isin(pop.state, [int(State.WORKING), int(State.EXPLOITED), int(State.RECRUITED), int(State.IN_TRANSIT)])
    taking &= pop.compound >= 0
    taken = np.bincount(pop.compound[taking], minlength=comp.n)[: comp.n]
    expected = np.where(comp.open, np.maximum(comp.capacity - taken, 0.0), 0.0)
    np.testing.assert_allclose(comp.vacancies(), expected)


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
        assert_vacancies_follow_from_the_people(m)
    daily = m.daily()
    numeric = daily.drop(columns="date")
    assert (numeric >= 0).all().all(), "a negative count or stock"
    # the recorded stocks (counted from the pools) agree with the people's state column
    last = daily.iloc[-1]
    state = m.population.state
    for column, s in (("exploited", State.EXPLOITED), ("in_transit", State.IN_TRANSIT), ("in_shelter", State.SHELTER),
                      ("detained_stock", State.DETAINED)):
        assert last[column] == (state == s).sum(), column


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
        assert_vacancies_follow_from_the_people(m)


def test_daily_table_has_the_documented_columns(short_cfg):
    daily = simulate(short_cfg).daily
    missing = [c for c in REQUIRED_COLUMNS if c not in daily.columns]
    assert not missing
    assert len(daily) == 365 and daily["date"].iloc[0] == pd.Timestamp("2022-01-01")
    for name, (kind, _, _) in COLUMNS.items():
        if kind in (FLOW, STOCK):
            assert np.issubdtype(daily[name].dtype, np.integer), name


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
    # the people's final states agree with the last day's stocks in daily.parquet (counted from the pools)
    last = pd.read_parquet(outs[0] / "daily.parquet").iloc[-1]
    for column, state in (("exploited", "exploited"), ("in_transit", "in_transit"), ("in_shelter", "shelter")):
        assert (people["state"] == state).sum() == last[column], column
    assert people["state"].notna().all() and manifest["people_by_state"]["exploited"] == last["exploited"]
    config = (outs[0] / "config.yaml").read_text()
    assert "seed: 20200101" in config and "escape_rate:" in config and "${" not in config


def test_covid_closures_collapse_travel(base_cfg):
    daily = simulate(dataclasses.replace(base_cfg, end_date="2022-12-31")).daily
    month = daily.set_index("date")["entries_KH"].resample("MS").sum()
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
    # departures (recorded when people set out) against the travel stock and the journeys' outcomes (recorded
    # by another rule when they end): nobody is in transit before day 0; a journey ends at a compound or at
    # a checkpoint stop (interceptions other than passport postponements, which happen before departure)
    ended = daily["arrivals_compound"] + daily["intercepted"] - daily["passport_postponed"]
    np.testing.assert_array_equal(daily["in_transit"].to_numpy(), np.cumsum(daily["departures"] - ended))
    assert daily["departures"].sum() > 1000 and (daily["intercepted"] - daily["passport_postponed"]).sum() > 0


NO_RAIDS = [f"params.destination_police.raid_rate.{c}=0" for c in ("KH", "MM", "LA")]


@pytest.fixture(scope="module")
def half_year():
    """Six months of 2022 with people, no raids (so every exit from the held stock has its own column)
    and no entry refusals (so every leg into Cambodia that is travelled is an entry)."""
    cfg = load_config(["start_date=2022-01-01", "end_date=2022-06-30", "params.immigration.entry_detect=0", *NO_RAIDS])
    return cfg, simulate(cfg, people=True)


def test_held_stock_and_person_days_follow_from_the_people_and_the_flows(half_year):
    """The held stock (and person-days held, one per held person per day) recomputed independently:
    anchored on the people table's final states and walked back through the day's flows in and out
    of EXPLOITED, each recorded by a different rule."""
    _, result = half_year
    daily, people = result.daily, result.people
    # premises of the balance: no raids (so no closures, detentions or raid rescues) and no mass release
    assert daily["compounds_raided"].sum() == 0 and daily["dumped"].sum() == 0
    inflow = daily["new_victims"].to_numpy()
    outflow = (daily["escaped"] + daily["ransomed"] + daily["rescued"]).to_numpy()
    assert inflow.sum() > 50 and outflow.sum() > 20, "too few events for the balance to mean anything"
    net = inflow - outflow
    held_at_end = int((people["state"] == "exploited").sum())
    held = held_at_end - (net.sum() - np.cumsum(net))  # end-of-day stock, day by day
    np.testing.assert_array_equal(daily["exploited"].to_numpy(), held)
    np.testing.assert_array_equal(daily["person_days_exploited"].to_numpy(), held)
    # every held episode is counted on the person: episodes held = held on day 0 (before its flows) + new victims
    held_before_day0 = held[0] - net[0]
    assert people["times_trafficked"].sum() == held_before_day0 + inflow.sum()
    now_held = people[people["state"] == "exploited"]
    assert now_held["held"].all() and (now_held["times_trafficked"] >= 1).all()


def test_entries_into_cambodia_follow_from_the_routes_and_the_people(half_year):
    """Migrants' entries, recorded at the journey's outcome, recomputed from the route flows (recorded
    when people set out): every leg into Cambodia travelled is an entry, except for those still on
    their way at the end (from the people table). Visa runs are Poisson at the configured rate per
    knowing worker in Cambodia (end-of-day stock: visa runs are drawn after the day's moves)."""
    cfg, result = half_year
    daily, people, routes = result.daily, result.people, result.routes
    assert daily["intercepted_entry"].sum() == 0  # premise: nobody is refused at an entry check
    w = World(cfg.world)
    country = np.asarray(w.country)
    at = lambda ids: country[[w.index[i] for i in ids]]  # noqa: E731
    into_kh = (at(routes["to"]) == "KH") & (at(routes["from"]) != "KH")
    travelled = int(routes.loc[into_kh, "travellers"].sum())
    on_the_way = people[people["state"] == "in_transit"]
    edges = w.paths.edges[on_the_way["path"].to_numpy()]
    legs = np.where(edges >= 0, edges, 0)
    kh_leg = (edges >= 0) & (country[w.route_to[legs]] == "KH") & (country[w.route_from[legs]] != "KH")
    before_outcome = np.arange(edges.shape[1])[None, :] < (on_the_way["stop_check"].to_numpy() // 2)[:, None]
    pending = int((kh_leg & before_outcome).sum())
    migrants = int(daily["entries_migrants_KH"].sum())
    assert migrants > 1000 and migrants == travelled - pending
    # visa runs: an exact Poisson total, within 4 standard deviations of its mean
    mean = cfg.params.compounds.visa_run_rate["KH"] * daily["working_KH"].sum()
    visa = int(daily["entries_visa_runs_KH"].sum())
    assert mean > 100 and abs(visa - mean) < 4 * np.sqrt(mean), (visa, mean)
    total = int(daily["entries_KH"].sum())
    assert total == travelled - pending + visa + int(daily["entries_background_KH"].sum())
