"""Configuration validation: every kind of bad input is rejected before any work, naming the key.

Two paths lead to a configuration: Hydra composition of ``configs/`` with ``key=value``
overrides (``sim.load_config``, exactly what the CLI does) and building ``TipsimConfig``
directly (the Python API, checked by ``sim.config.validate``). Range errors are
:class:`sim.config.ConfigError`; unknown keys and wrong types on the Hydra path are rejected
at composition by Hydra itself (``ConfigCompositionException``), which is what the CLI shows.
Each test asserts the exception type and that the message names the offending key and the
allowed values or range.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from sim import ConfigError, TipsimConfig, load_config
from sim.config import (
    EXECUTORS,
    PLATFORMS,
    CompoundParams,
    ModelParams,
    WorldConfig,
    to_config,
    validate,
)
from sim.interventions import REGISTRY, build_interventions

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def compose_error(overrides: list[str], exc_type=ConfigError) -> str:
    """Compose with ``overrides``; it must raise ``exc_type``; return the message."""
    with pytest.raises(exc_type) as info:
        load_config(overrides)
    return str(info.value)


def direct_error(cfg: TipsimConfig | dict) -> str:
    """Validate a directly built config; it must raise ConfigError; return the message.

    ``cfg`` may be a dict of dotted keys to set on the default ``TipsimConfig()``.
    """
    if isinstance(cfg, dict):
        cfg = configured(cfg)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    return str(info.value)


def configured(changes: dict) -> TipsimConfig:
    """The default TipsimConfig with dotted keys set (the Python API path, no Hydra)."""
    cfg = TipsimConfig()
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        obj = cfg
        for part in parents:
            obj = getattr(obj, part)
        if isinstance(obj, dict):
            obj[leaf] = value
        else:
            assert hasattr(obj, leaf), key
            setattr(obj, leaf, value)
    return cfg


# --------------------------------------------------------------------------------------------
# The defaults
# --------------------------------------------------------------------------------------------


def test_default_config_validates(base_cfg):
    assert isinstance(base_cfg, TipsimConfig)
    validate(base_cfg)  # composed exactly as the CLI does
    validate(TipsimConfig())  # the Python API's defaults
    assert base_cfg.scenario.name == "baseline"
    # the baseline scenario's dated policy events all parse against the default horizon
    start, end = dt.date.fromisoformat(base_cfg.start_date), dt.date.fromisoformat(base_cfg.end_date)
    ivs = build_interventions(base_cfg.interventions, start, end)
    assert len(ivs) == len(base_cfg.interventions) > 0
    assert all(len(iv.levels) == (end - start).days + 1 for iv in ivs)


def _leaves(node, prefix=""):
    """Dotted key -> value of every leaf of a plain (nested dict) container."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1], node


def test_params_default_yaml_equals_schema_defaults(base_cfg):
    """configs/params/default.yaml says a test checks its values equal the schema defaults."""
    raw = OmegaConf.to_container(OmegaConf.load(CONFIGS / "params" / "default.yaml")) or {}
    assert isinstance(raw, dict)
    schema = ModelParams()
    for key, value in _leaves(raw):
        obj = schema
        for part in key.split("."):
            assert hasattr(obj, part) or (isinstance(obj, dict) and part in obj), (
                f"configs/params/default.yaml: {key} is not a parameter of the schema"
            )
            obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
        assert value == obj, f"configs/params/default.yaml: {key} = {value!r} but the schema default is {obj!r}"
    # and what the CLI composes from that file is exactly the schema (API and CLI agree)
    assert base_cfg.params == schema


def test_config_yaml_and_world_yaml_equal_schema_defaults(base_cfg):
    """The top-level YAML values and the world group equal the dataclass defaults."""
    default = TipsimConfig()
    for name in ("seed", "replicate", "start_date", "end_date", "write_people", "replicates", "scenarios", "workers"):
        assert getattr(base_cfg, name) == getattr(default, name), name
    assert base_cfg.world == WorldConfig()
    assert base_cfg.executor == default.executor


@pytest.mark.parametrize("scenario", sorted(p.stem for p in (CONFIGS / "scenario").glob("*.yaml")))
def test_every_shipped_scenario_validates(scenario):
    cfg = load_config([f"scenario={scenario}"])
    assert cfg.scenario.name == scenario


# --------------------------------------------------------------------------------------------
# Parameter ranges
# --------------------------------------------------------------------------------------------


def test_probability_outside_unit_interval():
    msg = compose_error(["params.compounds.close_prob=1.5"])
    assert msg == "params.compounds.close_prob = 1.5: must be within [0, 1] (probability)"


@pytest.mark.parametrize("value", [-0.01, 1.0000001, float("nan"), float("inf")])
def test_probability_outside_unit_interval_direct(value):
    msg = direct_error({"params.compounds.close_prob": value})
    assert msg == f"params.compounds.close_prob = {value!r}: must be within [0, 1] (probability)"


def test_probability_edges_are_accepted():
    cfg = load_config(["params.compounds.close_prob=0", "params.compounds.relocate_prob=1"])
    assert cfg.params.compounds.close_prob == 0.0 and cfg.params.compounds.relocate_prob == 1.0


def test_negative_rate():
    msg = compose_error(["params.compounds.escape_rate=-0.1"])
    assert "params.compounds.escape_rate = -0.1" in msg
    assert msg == "params.compounds.escape_rate = -0.1: must be within [0, 1] (1/day)"


def test_negative_capacity():
    msg = compose_error(["params.embassy.repatriation_capacity=-1"])
    assert msg == "params.embassy.repatriation_capacity = -1.0: must be within [0, 1e+06] (persons/day)"
    msg = direct_error({"params.destination_police.deport_capacity": -5})
    assert msg == "params.destination_police.deport_capacity = -5: must be within [0, 1e+06] (persons/day)"


@pytest.mark.parametrize("value", [-3.0, 0.0])
def test_compound_capacity_must_be_positive(value):
    msg = direct_error({"params.compounds.capacity_mean": value})
    assert msg == f"params.compounds.capacity_mean = {value!r}: must be > 0 and <= 100000 (workers)"


def test_integer_parameter_bounds():
    msg = direct_error({"params.recruitment.compounds_per_recruiter": 0})
    assert msg == "params.recruitment.compounds_per_recruiter = 0: must be within [1, 100] (compounds)"


def test_cross_field_age_range():
    msg = direct_error({"params.population.age_max": 16.0})
    assert msg == "params.population.age_max = 16.0: must be >= age_min (18.0)"


def test_date_parameter_malformed():
    msg = direct_error({"params.recruitment.disclosed_share_midpoint": "notadate"})
    assert msg == "params.recruitment.disclosed_share_midpoint = 'notadate': not a date; use YYYY-MM-DD"


def test_all_platform_shares_zero():
    msg = direct_error({f"params.recruitment.platform_shares.{p}": 0.0 for p in PLATFORMS})
    assert msg.startswith("params.recruitment.platform_shares: must not all be zero")


def test_direct_config_out_of_range_is_caught_by_validate():
    cfg = TipsimConfig(params=ModelParams(compounds=CompoundParams(close_prob=1.5)))
    msg = direct_error(cfg)
    assert msg.startswith("params.compounds.close_prob = 1.5") and "[0, 1]" in msg


# --------------------------------------------------------------------------------------------
# Wrong types and unknown keys
# --------------------------------------------------------------------------------------------


def test_wrong_type_on_the_cli_path_is_a_composition_error():
    """Hydra rejects the type at composition (this is what `tipsim run` reports)."""
    with pytest.raises(ConfigCompositionException) as info:
        load_config(["params.compounds.close_prob=abc"])
    assert "params.compounds.close_prob=abc" in str(info.value)
    cause = str(info.value.__cause__)
    assert "full_key: params.compounds.close_prob" in cause and "Float" in cause


def test_wrong_type_integer_field():
    with pytest.raises(ConfigCompositionException) as info:
        load_config(["seed=abc"])
    assert "seed=abc" in str(info.value) and "Integer" in str(info.value.__cause__)


def test_wrong_type_via_to_config_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        to_config({"params": {"compounds": {"close_prob": "abc"}}})
    msg = str(info.value)
    assert msg.startswith("params.compounds.close_prob:") and "Float" in msg


def test_wrong_type_in_a_directly_built_parameter():
    cfg = TipsimConfig(params=ModelParams(compounds=CompoundParams(close_prob="0.5")))
    msg = direct_error(cfg)
    assert "params.compounds.close_prob = '0.5'" in msg and "must be a number" in msg and "probability" in msg


@pytest.mark.parametrize("field_name", ["seed", "replicates"])
def test_wrong_type_in_a_directly_built_top_level_field(field_name):
    msg = direct_error(TipsimConfig(**{field_name: "7"}))
    assert field_name in msg


def test_unknown_key_on_the_cli_path_is_a_composition_error():
    with pytest.raises(ConfigCompositionException) as info:
        load_config(["params.compounds.foo=1"])
    assert "params.compounds.foo" in str(info.value)
    assert "Key 'foo' not in 'CompoundParams'" in str(info.value.__cause__)


def test_unknown_top_level_key_via_to_config():
    with pytest.raises(ConfigError) as info:
        to_config({"bogus": 1})
    assert str(info.value).startswith("bogus: unknown key; allowed: seed, replicate, start_date")


@pytest.mark.parametrize("override", ["+params.compounds.foo=1", "+seedx=3"])
def test_unknown_key_appended_with_plus_is_rejected(override):
    key = override[1:].split("=")[0]
    msg = compose_error([override])
    assert key in msg


# --------------------------------------------------------------------------------------------
# Per-country and per-platform dicts
# --------------------------------------------------------------------------------------------


def test_a_per_country_table_is_keyed_by_country_codes():
    msg = compose_error(["+params.compounds.initial_count.Cambodia=3"])
    assert msg == "params.compounds.initial_count.Cambodia: not a country code; use ISO 3166 alpha-2 codes such as KH"


def test_a_per_country_table_may_name_a_new_country():
    """Countries are data: a table entry for a country the shipped world lacks is accepted (and used
    by a world that has it; ignored by one that does not)."""
    cfg = load_config(["+params.compounds.initial_count.PH=3", "end_date=2020-01-02"])
    assert cfg.params.compounds.initial_count["PH"] == 3


def test_unknown_key_in_the_platform_table():
    key = "params.recruitment.platform_shares.myspace"
    msg = direct_error({key: 0.5})
    assert msg == f"{key}: unknown key; allowed: {', '.join(PLATFORMS)}"


def test_unknown_country_without_plus_is_a_composition_error():
    with pytest.raises(ConfigCompositionException) as info:
        load_config(["params.compounds.initial_count.XX=3"])
    assert "params.compounds.initial_count.XX" in str(info.value)


def test_out_of_range_value_in_a_per_country_dict():
    msg = direct_error({"params.destination_police.leak_prob.KH": 1.2})
    assert msg == "params.destination_police.leak_prob.KH = 1.2: must be within [0, 1] (probability)"


def test_a_country_the_table_omits_takes_the_declared_default():
    """initial_count declares 0 for countries it does not name: omitting LA means no compounds in Laos."""
    from sim.params import per_country

    group = CompoundParams(initial_count={"KH": 20, "MM": 4})
    np.testing.assert_array_equal(per_country(group, "initial_count", ("KH", "MM", "LA")), [20, 4, 0])
    np.testing.assert_array_equal(per_country(group, "market_capacity", ("PH",)), [10000.0])


# --------------------------------------------------------------------------------------------
# Dates and top-level keys
# --------------------------------------------------------------------------------------------


def test_end_date_before_start_date():
    msg = compose_error(["start_date=2021-01-01", "end_date=2020-12-31"])
    assert msg == "end_date = 2020-12-31: must not be before start_date (2021-01-01)"


def test_one_day_horizon_is_valid():
    cfg = load_config(["start_date=2021-01-01", "end_date=2021-01-01"])
    assert cfg.start_date == cfg.end_date == "2021-01-01"


def test_malformed_date():
    msg = compose_error(["start_date=2020-13-45"])
    assert msg == "start_date = '2020-13-45': not a date; use YYYY-MM-DD"


@pytest.mark.parametrize("key, value", [("end_date", "2021-02-30"), ("start_date", "soon"), ("end_date", "")])
def test_malformed_date_direct(key, value):
    msg = direct_error({key: value})
    assert msg == f"{key} = {value!r}: not a date; use YYYY-MM-DD"


def test_replicates_below_one():
    assert compose_error(["replicates=0"]) == "replicates = 0: must be >= 1 and <= 10000"
    assert direct_error({"replicates": -3}) == "replicates = -3: must be >= 1 and <= 10000"


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("seed", -1, "seed = -1: must be within [0, 2^63)"),
        ("replicate", -1, "replicate = -1: must be within [0, 2^31)"),
        ("workers", 0, "workers = 0: must be >= 1 and <= 1024 (or null for the number of CPUs)"),
        ("workers", 1025, "workers = 1025: must be >= 1 and <= 1024 (or null for the number of CPUs)"),
        ("replicates", 50000000, "replicates = 50000000: must be >= 1 and <= 10000"),
        ("sweep.n", 0, "sweep.n = 0: must be >= 1 and <= 10000"),
        ("sweep.n", 10001, "sweep.n = 10001: must be >= 1 and <= 10000"),
        ("world.max_legs", 0, "world.max_legs = 0: must be within [1, 64] (legs per itinerary the random-number layout holds)"),
        ("world.max_legs", 65, "world.max_legs = 65: must be within [1, 64] (legs per itinerary the random-number layout holds)"),
    ],
)
def test_other_top_level_ranges(key, value, expected):
    assert direct_error({key: value}) == expected


def test_unknown_executor_name():
    msg = compose_error(["executor.name=slurm"])
    assert msg == f"executor.name = 'slurm': unknown executor; allowed: {', '.join(EXECUTORS)}"
    assert EXECUTORS == ("serial", "processes", "dask")


def test_unknown_executor_group_lists_the_available_files():
    msg = compose_error(["executor=slurm"], MissingConfigException)
    assert "executor/slurm" in msg
    for name in EXECUTORS:
        assert name in msg


@pytest.mark.parametrize("name", EXECUTORS)
def test_every_executor_group_validates(name):
    assert load_config([f"executor={name}"]).executor.name == name


# --------------------------------------------------------------------------------------------
# Interventions
# --------------------------------------------------------------------------------------------


def test_unknown_intervention_type_lists_the_known_ones():
    msg = compose_error(["+interventions.my_policy.type=teleportation"])
    assert msg.startswith("interventions.my_policy.type = 'teleportation': unknown intervention; known: ")
    listed = msg.split("known: ", 1)[1].split(", ")
    assert listed == sorted(REGISTRY) and "departure_screening" in listed


def test_intervention_key_defaults_to_its_type():
    msg = compose_error(["+interventions.teleportation.intensity=0.5"])
    assert "interventions.teleportation.type = 'teleportation'" in msg and "known: " in msg


def test_intervention_entry_must_be_a_mapping():
    msg = compose_error(["+interventions.departure_screening=3"])
    assert msg.startswith("interventions.departure_screening = 3") and "mapping" in msg


def test_intervention_field_out_of_range():
    msg = compose_error(["+interventions.departure_screening.sensitivity=2"])
    assert msg == "interventions.departure_screening.sensitivity = 2.0: must be within [0, 1] (probability)"


@pytest.mark.parametrize(
    "field_name, value, expected",
    [("intensity", -0.5, "must be within [0, 1] (0-1)"), ("ramp_days", -1.0, "must be within [0, 3650] (days)"),
     ("ramp_days", 1e308, "must be within [0, 3650] (days)"), ("cost_per_year_usd", 2e12, "must be within [0, 1e+12] (USD/year)"),
     ("false_positive_rate", 1.5, "must be within [0, 1] (probability)")],
)
def test_intervention_field_out_of_range_direct(field_name, value, expected):
    msg = direct_error({"interventions": {"screen": {"type": "departure_screening", field_name: value}}})
    assert msg == f"interventions.screen.{field_name} = {value!r}: {expected}"


def test_intervention_field_wrong_type():
    msg = direct_error({"interventions": {"departure_screening": {"sensitivity": "abc"}}})
    assert msg.startswith("interventions.departure_screening.sensitivity:") and "Float" in msg


def test_intervention_unknown_field_names_the_key():
    msg = compose_error(["+interventions.departure_screening.sensitivty=0.5"])
    assert msg.startswith("interventions.departure_screening.sensitivty:")


def test_intervention_unknown_field_lists_the_allowed_fields():
    msg = direct_error({"interventions": {"departure_screening": {"sensitivty": 0.5}}})
    assert "sensitivity" in msg.replace("sensitivty", "") and "false_positive_rate" in msg


def test_intervention_end_before_start():
    msg = compose_error(
        ["+interventions.departure_screening.start=2024-05-01", "+interventions.departure_screening.end=2024-01-01"]
    )
    assert msg == "interventions.departure_screening.end = 2024-01-01: must not be before start (2024-05-01)"


def test_intervention_malformed_start_date():
    msg = direct_error({"interventions": {"departure_screening": {"start": "2024-02-30"}}})
    assert msg == "interventions.departure_screening.start = '2024-02-30': not a date; use YYYY-MM-DD"


def test_bad_profile_entry():
    msg = compose_error(["+interventions.departure_screening.profile=[[2024-01-01,-1]]"])
    assert msg == "interventions.departure_screening.profile[0] = -1: must be within [0, 100] (multiplier)"


@pytest.mark.parametrize(
    "profile, expected",
    [
        ([["2024-01-01"]], "profile[0] = ['2024-01-01']: must be [date, multiplier]"),
        ([3], "profile[0] = 3: must be [date, multiplier]"),
        ([["2024-01-01", 1, 2]], "profile[0] = ['2024-01-01', 1, 2]: must be [date, multiplier]"),
        ([["2024-01-01", 1], ["notadate", 1]], "profile[1] = 'notadate': not a date; use YYYY-MM-DD"),
        ([["2024-01-01", "abc"]], "profile[0] = 'abc': must be a number (multiplier)"),
    ],
)
def test_bad_profile_entry_direct(profile, expected):
    msg = direct_error({"interventions": {"departure_screening": {"profile": profile}}})
    assert msg == f"interventions.departure_screening.{expected}"


@pytest.mark.parametrize(
    "start, end", [("2030-01-01", "2030-12-31"), ("2010-01-01", "2010-12-31"), ("2030-01-01", None)]
)
def test_intervention_window_outside_the_horizon_is_a_no_op(start, end):
    cfg = configured(
        {"start_date": "2022-01-01", "end_date": "2022-12-31",
         "interventions": {"departure_screening": {"start": start, "end": end}}}
    )
    validate(cfg)  # accepted
    (iv,) = build_interventions(cfg.interventions, dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert iv.levels.shape == (365,) and iv.daily_cost.shape == (365,)
    assert not iv.levels.any() and not iv.daily_cost.any()


def test_intervention_window_outside_the_horizon_is_accepted_on_the_cli_path():
    cfg = load_config(["+interventions.late.type=departure_screening", "+interventions.late.start=2040-01-01",
                       "+interventions.late.end=2040-12-31"])
    assert cfg.interventions["late"]["start"] == "2040-01-01"


def test_intervention_window_inside_the_horizon_acts_only_in_its_window():
    """Positive control for the no-op test: the same intervention, in the horizon, has an effect."""
    cfg = configured(
        {"start_date": "2022-01-01", "end_date": "2022-12-31",
         "interventions": {"departure_screening": {"start": "2022-03-01", "end": "2022-03-31", "intensity": 0.5}}}
    )
    validate(cfg)
    (iv,) = build_interventions(cfg.interventions, dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    on = np.flatnonzero(iv.levels)
    assert on[0] == 59 and on[-1] == 89 and len(on) == 31  # 1 March .. 31 March 2022 (day 59..89)
    np.testing.assert_allclose(iv.levels[on], 0.5)
    np.testing.assert_allclose(iv.daily_cost[on].sum(), 31 * 0.5 * iv.params.cost_per_year_usd / 365.0)


def test_validation_reports_before_any_work(tmp_path):
    """A bad key with a long horizon fails at once: validation precedes model construction."""
    msg = compose_error(["end_date=2999-12-31", "params.compounds.close_prob=1.5", f"out_dir={tmp_path / 'x'}"])
    assert "params.compounds.close_prob" in msg
    assert not (tmp_path / "x").exists()


def test_direct_config_end_before_start():
    """The Python API path: a config changed with dataclasses.replace is checked by validate."""
    cfg = dataclasses.replace(TipsimConfig(), start_date="2022-01-02", end_date="2022-01-01")
    assert re.fullmatch(r"end_date = 2022-01-01: must not be before start_date \(2022-01-02\)", direct_error(cfg))
