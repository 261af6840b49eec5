"""Behaviours of recruiters, compounds and agencies, each checked with fixed seeds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from sim import TraffickingModel
from sim.agents.compound import SCAM
from sim.config import PLATFORMS
from sim.levers import Levers
from sim.lifecycle import State
from sim.today import Today
from sim.world import World

KH = 0  # Cambodia: the first destination country of the shipped world


@pytest.fixture(scope="module")
def world(base_cfg):
    return World(base_cfg.world)


def _model(cfg, world, seed=1, **sections) -> TraffickingModel:
    params = cfg.params
    for section, values in sections.items():
        params = dataclasses.replace(params, **{section: dataclasses.replace(getattr(params, section), **values)})
    cfg = dataclasses.replace(cfg, params=params, seed=seed, start_date="2024-01-01", end_date="2024-12-31", interventions={})
    return TraffickingModel(cfg, world)


def _levers(m, **changes) -> Levers:
    lv = m.lever_schedule.base.copy()
    for name, value in changes.items():
        getattr(lv, name)[...] = value
    return lv


# -- recruiters ------------------------------------------------------------------------------


def test_police_arrest_domestic_recruiters_at_the_configured_hazard_and_never_those_abroad(base_cfg, world):
    m = _model(base_cfg, world, recruitment={"initial_recruiters": 2000})
    rec = m.recruiters
    domestic, abroad = ~rec.abroad, rec.abroad
    lv = _levers(m, arrest_domestic=0.01, arrest_abroad=0.0)
    arrested = np.concatenate([m.indonesian_police.arrest_recruiters(d, lv) for d in range(30)])
    expected = domestic.sum() * (1 - np.exp(-0.01 * 30))
    assert abs(len(arrested) - expected) < 4 * np.sqrt(expected)
    assert not rec.abroad[arrested].any() and rec.arrested[arrested].all() and not rec.active[arrested].any()
    assert not set(arrested.tolist()) & {r.slot for r in rec.agents}  # removed from the model's agents
    assert abroad.sum() > 0 and rec.active[abroad].all()


def test_peers_of_an_arrested_recruiter_lie_low(base_cfg, world):
    m = _model(base_cfg, world, recruitment={"initial_recruiters": 3000, "lie_low_prob": 0.5, "lie_low_days": 20})
    rec = m.recruiters
    victim = int(np.flatnonzero(~rec.abroad)[0])
    peers = (rec.platform == rec.platform[victim]) & (rec.home == rec.home[victim])
    peers[victim] = False
    rec.select(np.array([victim])).do("arrest", 5)
    rec.lie_low_after(np.array([victim]), 5)
    low = rec.low_until > 5
    assert not (low & ~peers).any(), "only peers (same platform and province) lie low"
    assert 0.3 < low[peers].mean() < 0.7
    assert (rec.low_until[low] == 25).all()
    reach = rec.effective_reach(10, m.lever_schedule.base)
    assert (reach[low] == 0).all() and (reach[rec.active & ~low] > 0).all()


def test_recruiters_leave_platforms_under_takedown(base_cfg, world):
    m = _model(base_cfg, world, recruitment={"initial_recruiters": 2000, "platform_switch_rate": 0.2})
    rec = m.recruiters
    fb = PLATFORMS.index("facebook")
    before = (rec.platform == fb).sum()
    lv = _levers(m)
    lv.platform_pressure[fb] = 1.0
    for day in range(10):
        rec.switch_platforms(day, lv)
    after = (rec.platform == fb).sum()
    # each day a recruiter under full pressure moves with probability 1 - exp(-0.2), and none moves onto
    # the platform under takedown: the stayers are Binomial(before, exp(-0.2 * 10))
    stay = np.exp(-0.2 * 10)
    assert before >= 100 and abs(after - before * stay) < 4 * np.sqrt(before * stay * (1 - stay))  # 4 standard errors


def test_reach_follows_demand_and_unmet_demand_draws_new_recruiters(base_cfg, world):
    m = _model(base_cfg, world)
    rec, comp = m.recruiters, m.compounds
    none = np.zeros(comp.n)
    lam, _, unmet = rec.supply(0, m.lever_schedule.base, none)
    assert lam.sum() == 0 and unmet.sum() == 0
    desired = np.full(comp.n, 5.0)
    lam, link_supply, unmet = rec.supply(0, m.lever_schedule.base, desired)
    assert (lam <= rec.effective_reach(0, m.lever_schedule.base) + 1e-9).all()
    assert np.isclose(lam.sum() + unmet.sum(), desired.sum())
    n0 = int(rec.active.sum())
    entered = sum(rec.enter_and_exit(d, m.lever_schedule.base, lam, np.full(comp.n, 50.0), comp.open)[0] for d in range(20))
    assert entered > 0 and rec.active.sum() > n0 - 5
    new = np.arange(rec.n)[rec.entered >= 0]
    assert (rec.links[new] >= 0).any(axis=1).all(), "entrants link to compounds"


# -- compounds -------------------------------------------------------------------------------


def test_compound_growth_saturates_at_market_capacity(base_cfg, world):
    market = {"KH": 20000.0, "MM": 3000.0, "LA": 3000.0}
    m = _model(base_cfg, world, compounds={"market_capacity": market, "growth_rate": 5.0, "growth_rate_gambling": 5.0,
                                           "growth_fill_threshold": 0.0, "opening_rate": {"KH": 50.0, "MM": 0.0, "LA": 0.0}})
    comp = m.compounds
    for day in range(1000):
        comp.grow(day)
    kh = comp.open & (comp.country == KH)
    assert 0.9 * market["KH"] < comp.capacity[kh].sum() <= market["KH"] * 1.01
    assert comp.headroom()[KH] < 0.1


def test_raided_compounds_close_relocate_or_shrink_in_the_configured_shares(base_cfg, world):
    m = _model(base_cfg, world, compounds={"initial_count": {"KH": 400, "MM": 40, "LA": 40}, "relocate_prob": 0.5,
                                           "shrink_fraction": 0.3})
    comp = m.compounds
    lv = _levers(m, close_prob=0.4, relocate_abroad_share=0.5)
    kh = np.flatnonzero(comp.country == KH)
    cap = comp.capacity[kh].copy()
    outcomes = np.array(comp.respond_to_raids(kh, 10, lv))
    stayed, gone, moved = outcomes == kh, outcomes < 0, (outcomes >= 0) & (outcomes != kh)
    n = len(kh)
    assert abs(stayed.mean() - 0.6) < 4 * np.sqrt(0.24 / n)
    assert abs(moved.sum() / (moved.sum() + gone.sum()) - 0.5) < 0.15
    assert np.allclose(comp.capacity[kh[stayed]], 0.7 * cap[stayed])
    assert not comp.open[kh[~stayed]].any() and (comp.successor[kh[moved]] == outcomes[moved]).all()
    abroad = comp.country[outcomes[moved]] != KH
    assert 0.3 < abroad.mean() < 0.7, "half of relocations leave the country"


def test_vacancies_are_capacity_minus_occupants_and_people_on_their_way(base_cfg, world):
    m = _model(base_cfg, world)
    comp, pop = m.compounds, m.population
    slot = 0
    before = comp.vacancies()[slot]
    rows = pop.create(key=np.arange(10**9, 10**9 + 5, dtype=np.uint64))
    m.exits.move(rows, State.RECRUITED, compound=slot, timer=np.full(5, 3))
    assert np.isclose(comp.vacancies()[slot], max(before - 5, 0))


# -- agencies --------------------------------------------------------------------------------


def test_checkpoints_stop_travellers_at_the_lever_times_their_visibility(base_cfg, world):
    m = _model(base_cfg, world, travel={"visibility_voluntary": 0.5, "visibility_repeat": 1.0})
    pop = m.population
    n = 40_000
    rows = pop.create(key=np.arange(2 * 10**9, 2 * 10**9 + n, dtype=np.uint64), episode=np.ones(n))
    pop.cols["voluntary"][rows] = np.arange(n) % 2 == 0
    hub = m.world.index["hub_cgk"]
    route = int(np.flatnonzero((m.world.route_from == hub) & m.world.route_exit_check)[0])
    edges = np.full((n, 1), route)
    lv = _levers(m)
    lv.exit_detect[hub] = 0.2
    stops, checked = m.border.itinerary_checks(rows, edges, np.zeros((n, 1), dtype=np.int64), lv)
    stopped = stops[:, 0]
    vol = pop.voluntary[rows]
    assert checked[:, 0].all()
    assert abs(stopped[~vol].mean() - 0.2) < 0.01 and abs(stopped[vol].mean() - 0.1) < 0.01


def test_embassy_assesses_trafficking_by_how_people_came_and_were_held(base_cfg, world):
    m = _model(base_cfg, world, embassy={"tppo_prob_deceived": 0.8, "tppo_prob_held": 0.3, "tppo_prob_worker": 0.0})
    pop = m.population
    n = 9000
    rows = pop.create(key=np.arange(3 * 10**9, 3 * 10**9 + n, dtype=np.uint64), episode=np.ones(n))
    kind = np.arange(n) % 3  # 0 deceived and held, 1 knowing but held, 2 knowing worker
    pop.cols["voluntary"][rows] = kind > 0
    pop.cols["held"][rows] = kind < 2
    pop.cols["compound"][rows] = 0
    before = m.record.data["tppo_victims_identified"][0]
    m.embassies[KH].open_cases(rows[kind == 0], 0)
    deceived = m.record.data["tppo_victims_identified"][0] - before
    m.embassies[KH].open_cases(rows[kind == 1], 0)
    held = m.record.data["tppo_victims_identified"][0] - before - deceived
    m.embassies[KH].open_cases(rows[kind == 2], 0)
    assert abs(deceived / 3000 - 0.8) < 0.03 and abs(held / 3000 - 0.3) < 0.03
    assert m.record.data["tppo_victims_identified"][0] - before == deceived + held
    assert m.record.data["embassy_cases_KH"][0] >= n
    m.embassies[KH].open_cases(rows, 0)  # nobody gets a second case in the same episode
    assert m.record.data["embassy_cases_region"][0] == n


def test_destination_police_raid_at_the_hazard_and_leaks_hide_workers(base_cfg, world):
    m = _model(base_cfg, world, compounds={"initial_count": {"KH": 500, "MM": 0, "LA": 0}},
               destination_police={"find_prob": 0.6, "leaked_find_prob": 0.05})
    lv = _levers(m)
    lv.raid_rate[KH] = 0.02
    lv.leak_prob[KH] = 0.5
    police = m.destination_police[KH]
    raided, leaked = zip(*(police.choose_raids(d, lv) for d in range(20)))
    n_raids = sum(len(r) for r in raided)
    expected = 500 * 20 * (1 - np.exp(-0.02))
    assert abs(n_raids - expected) < 4 * np.sqrt(expected)
    leaks = np.concatenate(leaked)
    assert abs(leaks.mean() - 0.5) < 4 * np.sqrt(0.25 / len(leaks))
    pop = m.population
    rows = pop.pool(State.WORKING, KH).members[:20000]
    found_open, _ = police.sort_found(rows, np.zeros(len(rows), bool), lv)
    found_leak, _ = police.sort_found(rows, np.ones(len(rows), bool), lv)
    n = len(rows)
    assert n >= 1000
    assert abs(found_open.mean() - 0.6) < 4 * np.sqrt(0.6 * 0.4 / n)  # within 4 standard errors
    assert abs(found_leak.mean() - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n)


def test_recruiters_reroute_away_from_a_checkpoint_they_learnt_is_risky(base_cfg, world):
    m = _model(base_cfg, world, travel={"beta_risk": 40.0})
    pop = m.population
    from sim.rules.travel import choose_paths

    n = 5000
    rows = pop.create(key=np.arange(4 * 10**9, 4 * 10**9 + n, dtype=np.uint64),
                      origin=np.full(n, int(np.searchsorted(m.world.origins, m.world.index["id_jabar"]))))
    kh_compound = int(np.flatnonzero(m.compounds.country == KH)[0])
    pop.cols["compound"][rows] = kh_compound  # test set-up: placed directly (the rules move people with m.exits.move)
    w = m.world
    cgk = w.index["hub_cgk"]

    today = Today(day=0, levers=m.lever_schedule.base, access=np.ones(len(m.countries)), awareness=0.0)

    def share_via_cgk():
        legs = w.paths.edges[choose_paths(m, rows, today)]
        return (w.route_from[np.where(legs >= 0, legs, 0)] == cgk).any(axis=1).mean()

    before = share_via_cgk()
    m.routes.risk[w.route_from == cgk] = 0.2  # recruiters learnt that CGK departures are stopped
    after = share_via_cgk()
    assert before > 0.3 and after < 0.5 * before


def test_awareness_of_embassy_help_grows_with_cases(base_cfg, world):
    from sim.rules.exploitation import embassy_awareness

    m = _model(base_cfg, world, embassy={"awareness_initial": 0.1, "awareness_cases": 1000.0})
    assert np.isclose(embassy_awareness(m, 0), 0.1)
    m.record.data["embassy_cases_region"][0] = 1000
    assert np.isclose(embassy_awareness(m, 0), 0.1), "only cases before the day count"
    assert np.isclose(embassy_awareness(m, 1), 1 - 0.9 * np.exp(-1))


def test_scam_compounds_dominate_openings(base_cfg, world):
    m = _model(base_cfg, world, compounds={"scam_share_new": 0.9})
    comp = m.compounds
    slots = comp.create(5, KH, 2000)
    share = (comp.sector[slots] == SCAM).mean()
    assert stats.binomtest(int(share * 2000), 2000, 0.9).pvalue > 0.001


def test_resale_moves_held_people_to_another_compound(base_cfg, world):
    from sim.rules.exploitation import resell

    m = _model(base_cfg, world, compounds={"initial_deceived_share": 0.5, "resale_abroad_share": 0.3})
    pop = m.population
    rows = pop.pool(State.EXPLOITED, KH).members[:3000]
    before = pop.compound[rows].copy()
    resell(m, rows, np.full(len(rows), KH))
    after = pop.compound[rows]
    assert (after != before).all()
    assert (pop.state[rows] == State.EXPLOITED).all()
    abroad = m.compounds.country[after] != KH
    assert abs(abroad.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(rows))  # within 4 standard errors (was +-12)
    assert (pop.group[rows] == m.compounds.country[after]).all()


def test_held_people_without_a_buyer_stay_and_can_still_be_rescued(base_cfg, world):
    """A resale with no other open compound leaves people with the seller, re-armed (not stuck)."""
    from sim.rules.exploitation import resell

    m = _model(base_cfg, world, compounds={"initial_count": {"KH": 1, "MM": 0, "LA": 0}, "initial_deceived_share": 0.5,
                                           "resale_abroad_share": 0.0, "opening_rate": {"KH": 0.0, "MM": 0.0, "LA": 0.0}})
    pop = m.population
    rows = pop.pool(State.EXPLOITED, KH).members
    transitions = pop.transitions[rows].copy()
    resell(m, rows, np.full(len(rows), KH))
    assert (pop.compound[rows] == 0).all() and (pop.transitions[rows] == transitions + 1).all()
    clock = m.exits.clock(State.EXPLOITED)[KH]
    pool = pop.pool(State.EXPLOITED, KH)
    assert (pool.targets[:, : pool.n].min(axis=0)[pool.rows[: pool.n] >= 0] > clock.min()).all()


def test_a_run_without_recruiters_works(base_cfg, world):
    m = _model(base_cfg, world, recruitment={"initial_recruiters": 0, "entry_speed": 0.0})
    for _ in range(30):
        m.step()
    assert m.daily()["contacts"].sum() == 0 and m.recruiters.n == 0


def test_a_column_named_like_an_attribute_is_refused():
    """Column properties are installed on the class: one that would hide a method is an error."""
    from sim.agents.table import AgentTable

    with pytest.raises(TypeError, match=r"Shadowing\.append: a column would hide"):
        type("Shadowing", (AgentTable,), {}, schema={"append": np.dtype(np.int64)})

    class Table(AgentTable, schema={"size": np.dtype(np.float64)}):
        pass

    t = Table(capacity=4)
    t.append(size=2.5)
    t.append(size=4.0)
    np.testing.assert_array_equal(t.size, [2.5, 4.0])  # a view of the rows in use
    t.size[0] = 1.0
    assert t.cols["size"][0] == 1.0
