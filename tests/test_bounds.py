"""Extreme in-bound values (issue 12.9): every parameter has finite bounds, extreme values are
refused at load time naming the key, counts drawn in the engine cannot overflow into garbage,
profiles keep the delivered level a coverage, and a run that cannot fit in memory is refused
before it starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.config
from sim import ConfigError, load_config, simulate
from sim.config import ModelParams, TipsimConfig, check_memory, run_memory_terms
from sim.interventions import REGISTRY
from sim.interventions.base import Delivery, delivery_schedule
from sim.params import iter_params
from sim.rng import MAX_POISSON_MEAN, CountOverflowError, Streams
from sim.world import World, WorldError

ROOT = Path(__file__).resolve().parents[1]
WORLD = ROOT / "sim" / "data" / "world"
GIB = 2**30


def declared():
    """(owner, dotted name, default, metadata) of every model and intervention parameter."""
    out = [("params", name, value, meta) for name, value, meta in iter_params(ModelParams())]
    for kind, cls in sorted(REGISTRY.items()):
        out += [(f"interventions.{kind}", name, value, meta) for name, value, meta in iter_params(cls.Params())]
    return out


@pytest.mark.parametrize("owner, name, default, meta", declared(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_parameter_has_finite_bounds_holding_its_default(owner, name, default, meta):
    lo, hi = meta["bounds"]
    assert math.isfinite(lo) and math.isfinite(hi), f"{owner}.{name}: bounds {meta['bounds']}"
    if meta["unit"] == "date":
        return
    assert lo < hi
    p_lo, p_hi = meta["plausible"]
    assert lo <= p_lo <= p_hi <= hi, f"{owner}.{name}: plausible range outside the bounds"
    for v in default.values() if isinstance(default, dict) else [default]:
        assert lo <= v <= hi, f"{owner}.{name}: default {v} outside {meta['bounds']}"


def test_the_bounds_cover_every_parameter():
    """No parameter escaped the sweep above (the counts of the schema and the registry)."""
    names = [n for o, n, _, _ in declared() if o == "params"]
    assert len(names) == len(set(names)) > 70
    assert {o for o, *_ in declared()} == {"params"} | {f"interventions.{k}" for k in REGISTRY}


def compose_error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(overrides)
    return str(info.value)


@pytest.mark.parametrize("override, expected", [
    # the extreme values: each one line naming the key and the allowed range
    ("params.recruitment.entry_speed=1e308", "params.recruitment.entry_speed = 1e+308: must be within [0, 1] (1/day)"),
    ("params.recruitment.entry_speed=1e6", "params.recruitment.entry_speed = 1000000.0: must be within [0, 1] (1/day)"),
    ("params.migration.background_entries_per_day.KH=1e308",
     "params.migration.background_entries_per_day.KH = 1e+308: must be within [0, 1e+06] (entries/day)"),
    ("params.recruitment.deliberation_days=1e308", "params.recruitment.deliberation_days = 1e+308: must be > 0 and <= 3650 (days)"),
    ("params.recruitment.reach_mean=1e308", "params.recruitment.reach_mean = 1e+308: must be within [0.01, 1000] (responders/day)"),
    ("params.recruitment.reach_mean=1e-12", "params.recruitment.reach_mean = 1e-12: must be within [0.01, 1000] (responders/day)"),
    ("params.recruitment.fill_days=1e-12", "params.recruitment.fill_days = 1e-12: must be within [1, 3650] (days)"),
    ("params.compounds.capacity_mean=1e308", "params.compounds.capacity_mean = 1e+308: must be > 0 and <= 100000 (workers)"),
    ("params.compounds.initial_count.KH=3e6", "params.compounds.initial_count.KH = 3000000.0: must be within [0, 10000] (compounds)"),
    ("params.compounds.market_capacity.MM=1e308", "params.compounds.market_capacity.MM = 1e+308: must be > 0 and <= 1e+07 (places)"),
    ("+params.compounds.opening_rate.XX=1e9", "params.compounds.opening_rate.XX = 1000000000.0: must be within [0, 3650] (compounds/year)"),
    ("replicates=50000000", "replicates = 50000000: must be >= 1 and <= 10000"),
    ("workers=100000", "workers = 100000: must be >= 1 and <= 1024 (or null for the number of CPUs)"),
    ("sweep.n=1000000", "sweep.n = 1000000: must be >= 1 and <= 10000"),
    ("+interventions.departure_screening.cost_per_year_usd=2e12",
     "interventions.departure_screening.cost_per_year_usd = 2000000000000.0: must be within [0, 1e+12] (USD/year)"),
    ("+interventions.departure_screening.delay_days=1e308",
     "interventions.departure_screening.delay_days = 1e+308: must be within [0, 3650] (days)"),
])
def test_extreme_values_are_refused_naming_the_key(override, expected):
    assert compose_error([override]) == expected


# --------------------------------------------------------------------------------------------
# every parameter at its upper bound: refused for memory, or a run with sane counts
# --------------------------------------------------------------------------------------------

SHORT = ["start_date=2024-01-01", "end_date=2024-01-31"]
LIMIT = GIB // 2
"""The machine memory the sweep below pretends to have (so the largest runs are refused, not run)."""


@pytest.fixture(scope="module")
def world():
    return World(load_config(SHORT).world)


def at_bound(name: str, value, meta, side: int) -> list[str]:
    """Overrides putting parameter ``params.<name>`` (every entry of a table) at its lower
    (``side`` 0) or upper (1) bound."""
    bound = meta["bounds"][side]
    if isinstance(value, dict):
        return [f"params.{name}.{k}={bound}" for k in value]
    return [f"params.{name}={int(bound) if isinstance(value, int) else bound}"]


SCALARS = [(n, v, m) for n, v, m in iter_params(ModelParams()) if m["unit"] != "date"]
COMPANION = {("population.age_min", 1): "params.population.age_max=90", ("population.age_max", 0): "params.population.age_min=15",
             ("recruitment.platform_shares", 0): "params.recruitment.platform_shares.telegram=1",
             ("compounds.initial_count", 0): "params.compounds.initial_count.KH=1"}
"""A second override satisfying the cross-field rules (age_min <= age_max, some platform share, some compound)."""


def test_no_compound_at_the_start_is_refused():
    msg = compose_error([f"params.compounds.initial_count.{c}=0" for c in ("KH", "MM", "LA")])
    assert msg == "params.compounds.initial_count: needs at least one compound on the start date (recruiters link to compounds from day 0)"


@pytest.mark.parametrize("side", [0, 1], ids=["lower", "upper"])
@pytest.mark.parametrize("name, value, meta", SCALARS, ids=[n for n, _, _ in SCALARS])
def test_each_parameter_at_its_bounds(name, value, meta, side, world, monkeypatch):
    """Each parameter alone at either bound: the run is refused for memory before it starts
    (one line naming a key of the estimate), or its daily counts are finite, non-negative
    and far from overflow (no int64 garbage)."""
    monkeypatch.setattr(sim.config, "machine_memory", lambda: LIMIT)
    overrides = SHORT + at_bound(name, value, meta, side) + ([COMPANION[name, side]] if (name, side) in COMPANION else [])
    cfg = load_config(overrides)
    try:
        result = simulate(cfg, world=world, provenance=False)
    except ConfigError as exc:
        msg = str(exc)
        assert "\n" not in msg and "GiB of memory" in msg and msg.startswith(("params.compounds.", "end_date"))
        assert sum(b for b, _, _ in run_memory_terms(cfg)) > LIMIT - sim.config.BASE_BYTES
        return
    numbers = result.daily.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    assert (numbers >= 0).all(), f"negative counts at a bound of {name}"
    assert (numbers < 2**40).all(), f"overflowing counts at a bound of {name}"


# --------------------------------------------------------------------------------------------
# counts drawn in the engine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mean", [1e308, float("inf"), float("nan"), MAX_POISSON_MEAN * 1.0001])
def test_poisson_refuses_a_mean_beyond_the_safe_maximum(mean):
    with pytest.raises(CountOverflowError) as info:
        Streams(1).poisson("recruiter_entry", np.array([1.0, mean]), np.arange(2), 3)
    msg = str(info.value)
    assert isinstance(info.value, ConfigError) and "'recruiter_entry'" in msg and "2^33" in msg


def test_poisson_at_the_safe_maximum_is_a_whole_count():
    counts = Streams(1).poisson("recruiter_entry", np.array([MAX_POISSON_MEAN, 0.0, 5.0]), np.arange(3), 0)
    assert counts.dtype == np.int64
    assert abs(counts[0] - MAX_POISSON_MEAN) < 20 * math.sqrt(MAX_POISSON_MEAN) and counts[1] == 0 and counts[2] >= 0


# --------------------------------------------------------------------------------------------
# profiles keep the delivered level within [0, 1]
# --------------------------------------------------------------------------------------------

START = dt.date(2024, 1, 1)


def schedule(intensity: float, multipliers: list[float]):
    profile = [[f"2024-01-{1 + 5 * i:02d}", m] for i, m in enumerate(multipliers)]
    return delivery_schedule(Delivery(start="2024-01-01", intensity=intensity, profile=profile), START, 30, "x")


def test_profile_multiplier_of_ten_is_refused_naming_the_field():
    with pytest.raises(ConfigError) as info:
        schedule(1.0, [1.0, 10])
    assert str(info.value) == ("interventions.x.profile[1] = ['2024-01-06', 10]: multiplier 10 x intensity 1 = 10; "
                               "the delivered level must stay within [0, 1] (use a multiplier <= 1)")


def test_profile_through_the_configuration():
    msg = compose_error(["+interventions.departure_screening.intensity=0.5",
                         "+interventions.departure_screening.profile=[[2024-01-01,1],[2024-06-01,2.5]]"])
    assert msg.startswith("interventions.departure_screening.profile[1] = ['2024-06-01', 2.5]: multiplier 2.5 x intensity 0.5")
    levels, _ = schedule(0.5, [1.0, 2.0])  # exactly up to full coverage is allowed
    assert levels.max() == 1.0


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 1.0), st.lists(st.floats(0.0, 100.0), min_size=1, max_size=5))
def test_accepted_profiles_deliver_a_level_within_unit_interval(intensity, multipliers):
    if any(intensity * m > 1.0 for m in multipliers):
        with pytest.raises(ConfigError, match=r"interventions\.x\.profile\[\d\]"):
            schedule(intensity, multipliers)
    else:
        levels, cost = schedule(intensity, multipliers)
        assert ((levels >= 0) & (levels <= 1)).all() and (cost >= 0).all()


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------


def test_default_run_and_compare_pass_with_a_large_margin():
    cfg = load_config([])
    people = sum(b for b, _, _ in run_memory_terms(cfg)) / sim.config.BYTES_PER_PERSON
    assert 0.6e6 < people < 2e6  # a run creates about 0.66 million people
    check_memory(cfg, available=GIB)  # even a 1 GiB machine
    check_memory(cfg, runs_at_once=2, tasks=20 * len(REGISTRY) + 20, available=2 * GIB)


@pytest.mark.parametrize("overrides, key", [
    (["params.compounds.initial_count.KH=10000", "params.compounds.capacity_mean=100000"], "params.compounds.initial_count"),
    (["params.compounds.capacity_mean=100000"], "params.compounds.capacity_mean"),
    (["params.compounds.market_capacity.KH=1e7", "params.compounds.contract_end_rate=1", "params.compounds.escape_rate=1"],
     "params.compounds.contract_end_rate"),
    (["end_date=4000-12-31"], "end_date"),
])
def test_a_run_that_cannot_fit_is_refused_naming_its_driver(overrides, key):
    cfg = load_config(overrides)
    with pytest.raises(ConfigError) as info:
        check_memory(cfg, available=GIB)
    msg = str(info.value)
    assert msg.startswith(f"{key} = ") and "GiB of memory" in msg and "this machine has 1 GiB" in msg and "\n" not in msg


def test_an_ensemble_too_large_is_refused_by_replicates():
    cfg = load_config(["replicates=10000", "end_date=2020-12-31"])
    with pytest.raises(ConfigError, match=r"^replicates = 10000: needs an estimated .* the ensemble's 130000 tasks"):
        check_memory(cfg, runs_at_once=1, tasks=130000, available=GIB)


def test_run_refused_for_memory_before_it_starts(tmp_path):
    out = tmp_path / "never"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", "params.compounds.initial_count.KH=10000",
         "params.compounds.capacity_mean=100000", f"out_dir={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tipsim: error: params.compounds.initial_count = {'KH': 10000.0")
    assert "GiB of memory" in lines[0] and not out.exists()


def test_compare_refused_for_memory_before_any_task(tmp_path, monkeypatch):
    from sim.ensemble import run_compare

    monkeypatch.setattr(sim.config, "machine_memory", lambda: GIB // 8)

    def never(task):
        raise AssertionError("a task ran despite a run that cannot fit")

    out = tmp_path / "never"
    with pytest.raises(ConfigError, match=r"needs an estimated .* GiB of memory"):
        run_compare(["scenarios=[baseline,departure_screening]", "replicates=2", "end_date=2020-03-31", "compare_start=2020-02-01"],
                    out_dir=out, progress="quiet", task_fn=never)
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# the world's numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("file, column, maximum", [
    ("locations.csv", "travellers_per_day", "1e+06"), ("locations.csv", "weight", "1e+09"),
    ("routes.csv", "days_mean", "365"), ("routes.csv", "days_spread", "365"), ("routes.csv", "cost_usd", "1e+06"),
])
def test_world_numbers_have_upper_bounds(tmp_path, file, column, maximum):
    world = tmp_path / "w"
    shutil.copytree(WORLD, world)
    lines = (world / file).read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index(column)] = "1e308"
    lines[1] = ",".join(row)
    (world / file).write_text("\n".join(lines) + "\n")
    cfg = dataclasses.replace(TipsimConfig().world, data_dir=str(world))
    with pytest.raises(WorldError) as info:
        World(cfg)
    assert str(info.value) == f"{world / file}: line 2, field '{column}' = 1e308: must be <= {maximum}"
