"""Docking: the vectorised engine and each per-agent Mesa model of the core migrant life cycle
give statistically equal outputs: the naive one (benchmarks/naive_mesa.py) and the competent
one (benchmarks/competent_mesa.py). Every test that involves a Mesa model runs for both
(parametrized by ``mesa_model``).

All start from the same cohort (copied from a TraffickingModel built with the subset
configuration) and run 365 days; the engine uses its counter-based streams, the Mesa models
their own seeded generators, so they are compared statistically, not bit for bit.

The comparison is a family of seven two-sample tests:

* chi-square homogeneity of the state occupancy (people per state) at days 30, 91, 182, 364;
* chi-square homogeneity of the route out of the compounds by day 364 (left at the end of
  work, brought a case as a worker, escaped, ransomed, rescued, still inside);
* chi-square homogeneity of where people are at day 364 by home reason (left, repatriated,
  self-returned, not home);
* two-sample Kolmogorov-Smirnov test of the day people left the compounds.

Each person falls in exactly one cell of each table, so each table is a pair of multinomial
samples; cells with fewer than 10 people in both samples together are pooled. The
family-wise significance level is ALPHA = 0.01, Bonferroni-split over the seven tests (each
at 0.01 / 7). With fixed seeds the outcome is deterministic; the level documents how large a
discrepancy counts as a failure. A negative control (each Mesa model with the escape hazard
doubled) must be rejected by the same family, so the test has the power to see a real
difference in one exit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import competent_mesa  # noqa: E402
import naive_mesa  # noqa: E402
from sim.lifecycle import HomeReason, State  # noqa: E402

N = 4000
ENGINE_SEED = naive_mesa.SEED
MESA_SEED = 1
MESA_MODELS = {"naive": naive_mesa.NaiveModel, "competent": competent_mesa.CompetentModel}
ALPHA = 0.01
DAYS = (30, 91, 182, 364)
N_TESTS = len(DAYS) + 3
PER_TEST = ALPHA / N_TESTS
STATES = [int(s) for s in naive_mesa.SUBSET_STATES]
EXITS_OUT = ("left_compound", "escaped", "ransomed", "rescued", "dumped")


def _pooled(table: np.ndarray, min_count: int = 10) -> np.ndarray:
    """2 x k table with sparse columns (< min_count in both rows together) pooled into one; empty columns dropped."""
    sparse = table.sum(axis=0) < min_count
    out = table[:, ~sparse]
    if sparse.any():
        out = np.column_stack([out, table[:, sparse].sum(axis=1)])
    return out[:, out.sum(axis=0) > 0]


def _chi2(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    res = stats.chi2_contingency(_pooled(np.array([a, b])), correction=False)
    return float(res.statistic), float(res.pvalue)


def _leave_days(history: np.ndarray, n: int) -> np.ndarray:
    """Day each leaver left the compounds, from the daily stock in compounds (nobody enters them)."""
    inside = history[:, int(State.WORKING)] + history[:, int(State.EXPLOITED)]
    drops = -np.diff(np.concatenate([[n], inside]))
    assert (drops >= 0).all()
    return np.repeat(np.arange(len(drops)), drops)


def _routes(history: np.ndarray, flows: dict[str, int], n: int) -> np.ndarray:
    """People by route out of the compounds by the last day; 'worker case' is the remainder."""
    inside = int(history[-1, int(State.WORKING)] + history[-1, int(State.EXPLOITED)])
    named = [flows[k] for k in EXITS_OUT]
    worker_case = n - inside - sum(named)
    assert worker_case >= 0
    return np.array([*named, worker_case, inside])


def _homes(reasons: np.ndarray, n: int) -> np.ndarray:
    counts = reasons[[int(HomeReason.LEFT), int(HomeReason.REPATRIATED), int(HomeReason.SELF_RETURN)]]
    return np.append(counts, n - reasons.sum())


def docking_tests(engine: dict, other: dict) -> dict[str, tuple[float, float]]:
    """The test family: name -> (statistic, p-value)."""
    n = engine["n"]
    out = {f"occupancy day {d}": _chi2(engine["history"][d, STATES], other["history"][d, STATES]) for d in DAYS}
    out["route out of compounds"] = _chi2(_routes(engine["history"], engine["flows"], n), _routes(other["history"], other["flows"], n))
    out["home reason"] = _chi2(_homes(engine["reasons"], n), _homes(other["reasons"], n))
    ks = stats.ks_2samp(_leave_days(engine["history"], n), _leave_days(other["history"], n))
    out["KS leave day"] = (float(ks.statistic), float(ks.pvalue))
    return out


@pytest.fixture(scope="module")
def cfg():
    return naive_mesa.subset_config(N, seed=ENGINE_SEED)


@pytest.fixture(scope="module")
def engine(cfg):
    history, reasons, model = naive_mesa.engine_occupancy(cfg)
    daily = model.daily()
    flows = {k: int(daily[k].sum()) for k in naive_mesa.FLOWS}
    return {"n": int(model.population.n), "history": history, "reasons": reasons, "flows": flows, "daily": daily}


def _run_mesa(cfg, model_class, scale=None, seed=MESA_SEED):
    history, reasons, model = naive_mesa.mesa_occupancy(cfg, rng=seed, hazard_scale=scale, model=model_class)
    flows = {k: int(model.flows[:, i].sum()) for i, k in enumerate(naive_mesa.FLOWS)}
    return {"n": model.n_people, "history": history, "reasons": reasons, "flows": flows}


@pytest.fixture(scope="module", params=sorted(MESA_MODELS))
def mesa_model(request):
    """The Mesa model class under test (each test using it runs once per model)."""
    return MESA_MODELS[request.param]


@pytest.fixture(scope="module")
def mesa_run(cfg, mesa_model):
    return _run_mesa(cfg, mesa_model)


def test_subset_switches_off_everything_but_the_life_cycle(engine):
    d = engine["daily"]
    for col in ("contacts", "recruited", "arrivals_compound", "remigrations", "compounds_raided", "compounds_opened",
                "detained", "deported", "recruiters_entered", "intervention_cost_usd"):
        assert d[col].sum() == 0, col
    assert d["recruiters_active"].iloc[0] == 0  # the one recruiter the schema requires is arrested on day 0
    assert abs(engine["n"] - N) <= 0.01 * N
    # nobody leaves the subset's states
    assert (engine["history"][:, STATES].sum(axis=1) == engine["n"]).all()


def test_both_start_from_the_same_cohort(cfg, mesa_model):
    import sim

    model = sim.TraffickingModel(cfg)
    nm = mesa_model(model, rng=MESA_SEED)
    pop = model.population
    assert nm.n_people == pop.n
    assert nm.counts[int(State.WORKING)] == pop.count(State.WORKING)
    assert nm.counts[int(State.EXPLOITED)] == pop.count(State.EXPLOITED)
    held_share = pop.count(State.EXPLOITED) / pop.n
    assert abs(held_share - naive_mesa.DECEIVED_SHARE) < 0.03
    np.testing.assert_array_equal(nm.head[: model.compounds.n], pop.headcount[: model.compounds.n])
    by_compound = np.bincount([a.compound for a in nm.agents], minlength=model.compounds.n)
    np.testing.assert_array_equal(by_compound, pop.headcount[: model.compounds.n])


def test_every_exit_of_the_subset_is_exercised(engine, mesa_run):
    for side in (engine, mesa_run):
        f = side["flows"]
        for k in ("left_compound", "new_victims", "escaped", "ransomed", "resold", "rescued", "self_returned", "repatriated"):
            assert f[k] >= 10, (k, f[k])
        assert f["dumped"] == 0  # mass release is an intervention lever, 0 here
        r = side["reasons"]
        assert r[int(HomeReason.LEFT)] > 1000 and r[int(HomeReason.REPATRIATED)] > 300 and r[int(HomeReason.SELF_RETURN)] > 100


def test_engine_and_mesa_model_dock(engine, mesa_run, mesa_model):
    assert engine["n"] == mesa_run["n"]
    results = docking_tests(engine, mesa_run)
    for name, (stat, p) in results.items():
        print(f"{mesa_model.__name__}: {name:<24} statistic {stat:8.3f}  p = {p:.3g}")
    failed = {k: v for k, v in results.items() if v[1] < PER_TEST}
    assert not failed, f"engine and {mesa_model.__name__} differ (each test at {PER_TEST:.4f}): {failed}"
    # the occupancies are also close in absolute terms: within 4% of the cohort in every state and day
    diff = np.abs(engine["history"][list(DAYS)][:, STATES] - mesa_run["history"][list(DAYS)][:, STATES])
    assert diff.max() <= 0.04 * engine["n"]


def test_negative_control_doubled_escape_rate_is_rejected(cfg, engine, mesa_model):
    control = _run_mesa(cfg, mesa_model, {"escape": 2.0})
    results = docking_tests(engine, control)
    for name, (stat, p) in results.items():
        print(f"control: {name:<24} statistic {stat:8.3f}  p = {p:.3g}")
    p_min = min(p for _, p in results.values())
    assert p_min < PER_TEST, results
    # and the difference is where it should be: many more escapes, fewer people held at the end
    assert control["flows"]["escaped"] > 1.3 * engine["flows"]["escaped"]
    held = int(State.EXPLOITED)
    assert control["history"][-1, held] < 0.85 * engine["history"][-1, held]


def test_mesa_model_is_reproducible_from_its_seed(cfg, mesa_run, mesa_model):
    again = _run_mesa(cfg, mesa_model)
    np.testing.assert_array_equal(again["history"], mesa_run["history"])
    other = _run_mesa(cfg, mesa_model, seed=MESA_SEED + 1)
    assert not np.array_equal(other["history"], mesa_run["history"])


def test_competent_exit_probabilities_follow_the_hazard_shares():
    """One uniform per day: leave with p = 1 - exp(-H), by exit j with p h_j / H; a closed exit is never taken."""
    import bisect
    from types import SimpleNamespace

    hazards = (0.01, 0.0, 0.02, 0.005, 0.0)
    agent = SimpleNamespace()
    competent_mesa.Migrant.arm(agent, hazards)
    total = sum(hazards)
    assert agent.p_exit == pytest.approx(1.0 - np.exp(-total), rel=1e-15)
    np.testing.assert_allclose(np.diff(np.concatenate([[0.0], agent.cum])), agent.p_exit * np.array(hazards) / total, rtol=1e-12)
    u = np.nextafter(agent.cum, 0.0)  # just below each boundary: the exit ending there, or an earlier one
    taken = {bisect.bisect_right(agent.cum, x) for x in np.concatenate([u, np.linspace(0.0, agent.p_exit, 10_001)[:-1]])}
    assert taken == {0, 2, 3}
    competent_mesa.Migrant.arm(agent, (0.0, 0.0))
    assert agent.p_exit == 0.0 and agent.cum == []
