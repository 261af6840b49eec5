"""Sweeps: Hydra multirun with the joblib launcher, `tipsim collect`, space-filling designs, `tipsim sweep`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sweep import Range, collect, design, parameter_ranges, point_overrides
from sim.config import ConfigError
from sim.ensemble import compose
from sim.ensemble.plan import scenario_config

ROOT = Path(__file__).resolve().parents[1]
TINY = ["scenarios=[baseline,departure_screening]", "replicates=1", "start_date=2024-01-01", "end_date=2024-01-15",
        "executor=serial"]


def tipsim(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_hydra_multirun_with_joblib_launcher_then_collect(tmp_path):
    sweep = tmp_path / "sweep"
    tipsim("compare", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}", *TINY,
           "++interventions.departure_screening.intensity=0.2,0.8")
    jobs = sorted(p.name for p in sweep.iterdir() if (p / "manifest.json").exists())
    assert jobs == ["0", "1"]  # one subfolder of the sweep folder per job
    done = tipsim("collect", f"out_dir={sweep}")
    assert "2 jobs keyed by interventions.departure_screening.intensity" in done.stdout
    table = pd.read_csv(sweep / "collected.csv")
    key = "interventions.departure_screening.intensity"
    assert list(table.columns[:2]) == [key, "job"]
    assert sorted(table[key].unique()) == [0.2, 0.8]
    stops = table[table["outcome"] == "false_positive_stops"].set_index(key)["effect_mean"]
    assert stops[0.8] > stops[0.2] > 0  # more screening stops more legitimate travellers
    totals = pd.read_parquet(sweep / "collected_totals.parquet")
    assert len(totals) == 4 and not totals.duplicated([key, "scenario", "replicate"]).any()


def test_intervention_overrides_only_touch_scenarios_that_have_it():
    overrides = ["++interventions.departure_screening.intensity=0.8"]
    assert "departure_screening" not in scenario_config("baseline", overrides).interventions
    assert scenario_config("departure_screening", overrides).interventions["departure_screening"]["intensity"] == 0.8


def test_latin_hypercube_design():
    ranges = {"a": Range(0.0, 1.0, False), "b": Range(10.0, 20.0, False), "k": Range(1, 5, True)}
    points = design(ranges, "lhs", 8, seed=3)
    assert points.shape == (8, 3)
    for name in ("a", "b"):
        r = ranges[name]
        strata = np.floor((points[name] - r.low) / (r.high - r.low) * 8).astype(int)
        assert sorted(strata) == list(range(8))  # one point in each of the 8 equal strata
    assert points["k"].between(1, 5).all() and points["k"].dtype.kind == "i"
    pd.testing.assert_frame_equal(points, design(ranges, "lhs", 8, seed=3))
    assert point_overrides(points.iloc[0], ranges)[2] == f"k={points['k'].iloc[0]}"


def test_declared_ranges():
    cfg = compose(TINY)
    configs = [scenario_config(s, TINY) for s in cfg.scenarios]
    every = parameter_ranges([], configs)
    assert every["params.compounds.growth_rate"] == Range(0.3, 2.5, False)
    assert every["params.recruitment.initial_recruiters"].integer
    assert "params.recruitment.disclosed_share_midpoint" not in every  # a date, not a number
    chosen = parameter_ranges(["interventions.departure_screening.sensitivity"], configs)
    assert chosen["interventions.departure_screening.sensitivity"] == Range(0.05, 0.6, False)
    with pytest.raises(ConfigError, match="no compared scenario has intervention 'extradition'"):
        parameter_ranges(["interventions.extradition.intensity"], configs)
    with pytest.raises(ConfigError, match="not a scalar model parameter"):
        parameter_ranges(["params.nonsense"], configs)


def test_sweep_command_runs_a_design_and_collects(tmp_path):
    out = tmp_path / "lhs"
    done = tipsim("sweep", *TINY, "sweep.n=2", "sweep.params=[interventions.departure_screening.sensitivity]",
                  f"out_dir={out}")
    key = "interventions.departure_screening.sensitivity"
    assert f"2 jobs keyed by {key}" in done.stdout
    points = pd.read_csv(out / "design.csv")
    table = pd.read_csv(out / "collected.csv")
    assert sorted(table[key].unique()) == sorted(points[key])
    assert points[key].between(0.05, 0.6).all()


def test_collect_without_jobs_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no sweep jobs found"):
        collect(tmp_path)
