"""The worked examples of docs/extending.md, each run as the document shows it (no code change).

* a fourth destination country: a Philippine compound cluster reached from Jakarta and
  Manado, added with world CSV rows and per-country parameter entries only - run, compare and
  figures end to end;
* a Cambodia-only world (the other destinations' rows removed);
* a new intervention on an existing lever: one class file (here defined in the test) and one
  scenario YAML in a ``--config-dir``;
* a new migrant state is a declaration in ``sim/lifecycle.py`` read by the exit engine, the
  draws and the pools: checked on the declarations.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_config, simulate
from sim.world import PACKAGE_WORLD_DIR, World

PH_LOCATIONS = [
    "tr_mnl,Manila (Ninoy Aquino International Airport),PH,transit,14.509,121.020,0,0,entry point",
    "dst_clark,Clark / Pampanga compounds,PH,destination,15.186,120.546,1.0,0,assumed",
]
PH_ROUTES = [
    "hub_cgk,tr_mnl,air,0.5,0.3,150,border,assumed",
    "hub_mdc,tr_mnl,air,0.5,0.3,120,border,assumed",
    "tr_mnl,dst_clark,land,0.3,0.2,10,none,assumed",
]
PH_PARAMS = [
    "+params.compounds.initial_count.PH=4",
    "+params.compounds.opening_rate.PH=2",
    "+params.compounds.market_capacity.PH=5000",
    "+params.destination_police.raid_rate.PH=0.0005",
]
"""The per-country parameter table entries of the new country (omitted ones take their declared defaults)."""


def philippine_world(folder: Path) -> Path:
    """The shipped world plus a Philippine compound cluster: rows appended to its CSV files."""
    shutil.copytree(PACKAGE_WORLD_DIR, folder)
    for name, rows in (("locations.csv", PH_LOCATIONS), ("routes.csv", PH_ROUTES), ("countries.csv", ["PH,Philippines,121.0,16.5"])):
        with open(folder / name, "a") as f:
            f.write("\n".join(rows) + "\n")
    return folder


def cambodia_only_world(folder: Path) -> Path:
    """The shipped world without the Myanmar and Laos destinations, the borders only they use, and their closures."""
    shutil.copytree(PACKAGE_WORLD_DIR, folder)
    dropped = {"dst_myawaddy", "dst_gtsez", "bd_myawaddy", "bd_huay_xai"}
    loc = pd.read_csv(folder / "locations.csv", dtype=str, keep_default_na=False)
    loc[~loc["id"].isin(dropped)].to_csv(folder / "locations.csv", index=False)
    routes = pd.read_csv(folder / "routes.csv", dtype=str, keep_default_na=False)
    routes[~routes["from"].isin(dropped) & ~routes["to"].isin(dropped)].to_csv(folder / "routes.csv", index=False)
    closures = pd.read_csv(folder / "closures.csv", dtype=str, keep_default_na=False)
    closures[~closures["country"].isin(["MM", "LA"])].to_csv(folder / "closures.csv", index=False)
    return folder


def tipsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_a_fourth_destination_country_is_data(tmp_path):
    world = World(load_config([f"world.data_dir={philippine_world(tmp_path / 'w')}"]).world)
    assert world.destination_countries == ("KH", "MM", "LA", "PH")
    assert world.country_name("PH") == "Philippines"
    cfg = load_config([f"world.data_dir={tmp_path / 'w'}", "world.name=sea_ph", "end_date=2020-12-31", *PH_PARAMS])
    daily = simulate(cfg).daily
    for column in ("arrivals_compound_PH", "exploited_PH", "working_PH", "embassy_cases_PH", "wni_in_PH",
                   "compounds_active_PH", "capacity_PH", "entries_PH"):
        assert column in daily
    assert daily["compounds_active_PH"].iloc[0] == 4
    assert daily["wni_in_PH"].iloc[0] > 0 and daily["arrivals_compound_PH"].sum() > 0
    # arrivals add up over the four countries, and displacement is everything outside Cambodia
    per_country = sum(daily[f"arrivals_compound_{c}"] for c in ("KH", "MM", "LA", "PH"))
    assert (per_country == daily["arrivals_compound"]).all()
    assert (daily["displacement"] == daily["arrivals_compound"] - daily["arrivals_compound_KH"]).all()
    # an embassy in the Philippines: its cases are part of the region's
    region = sum(daily[f"embassy_cases_{c}"] for c in ("KH", "MM", "LA", "PH"))
    assert (region == daily["embassy_cases_region"]).all()


def test_the_reference_country_can_be_the_new_one(tmp_path):
    cfg = load_config([f"world.data_dir={philippine_world(tmp_path / 'w')}", "end_date=2020-06-30",
                       "scenario.reference_country=PH", *PH_PARAMS])
    daily = simulate(cfg).daily
    assert (daily["embassy_cases"] == daily["embassy_cases_PH"]).all()
    assert (daily["displacement"] == daily["arrivals_compound"] - daily["arrivals_compound_PH"]).all()
    with pytest.raises(Exception, match="scenario.reference_country = 'TH': not a destination country"):
        simulate(load_config([f"world.data_dir={tmp_path / 'w'}", "end_date=2020-01-31", "scenario.reference_country=TH"]))


@pytest.mark.slow
def test_a_fourth_destination_country_runs_compare_and_figures_end_to_end(tmp_path):
    world = philippine_world(tmp_path / "w")
    out = tmp_path / "cmp"
    common = [f"world.data_dir={world}", "world.name=sea_ph", "end_date=2020-09-30", *PH_PARAMS]
    done = tipsim("compare", "scenarios=[baseline,no_policy]", "replicates=2", "compare_start=2020-04-01",
                  "executor=serial", f"out_dir={out}", *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = tipsim("figures", f"out_dir={out}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    drawn = {p.stem for p in (out / "figures").glob("*.png")}
    assert {"forest", "fan_victims", "fan_displacement"} <= drawn
    assert any(name.startswith("route_flow") for name in drawn)


def test_a_cambodia_only_world_runs(tmp_path):
    cfg = load_config([f"world.data_dir={cambodia_only_world(tmp_path / 'w')}", "end_date=2020-12-31"])
    daily = simulate(cfg).daily
    assert not [c for c in daily.columns if c.endswith(("_MM", "_LA"))]
    assert (daily["arrivals_compound"] == daily["arrivals_compound_KH"]).all() and daily["arrivals_compound"].sum() > 0
    assert (daily["displacement"] == 0).all() and (daily["resold_abroad"] == 0).all()
    assert (daily["embassy_cases"] == daily["embassy_cases_region"]).all()


def test_a_new_intervention_is_one_class_and_one_scenario(tmp_path):
    """A class on an existing lever, registered by its decorator, used by a scenario in --config-dir."""
    from dataclasses import dataclass

    from sim.interventions import REGISTRY
    from sim.interventions.base import Delivery, Intervention
    from sim.interventions.registry import register
    from sim.params import PROBABILITY, param

    @dataclass
    class EmbassyHotlineParams(Delivery):
        report_gain: float = param(0.5, "multiplier", "Relative rise of reporting to the embassy at full intensity.",
                                   bounds=(0, 10), plausible=(0.1, 1.0))

    class EmbassyHotline(Intervention):
        """A 24-hour embassy hotline: held people and knowing workers report more (report_rate lever)."""

        name = "embassy_hotline"
        Params = EmbassyHotlineParams

        def apply(self, levers, level: float) -> None:
            levers.scale("report_rate", 1.0 + self.params.report_gain * level)

    try:
        register(EmbassyHotline)
        horizon = ["start_date=2022-01-01", "end_date=2022-12-31"]
        base = simulate(load_config(horizon)).daily
        hot = simulate(load_config([*horizon, "+interventions.embassy_hotline.start=2022-01-01",
                                    "+interventions.embassy_hotline.report_gain=3"])).daily
        assert hot["embassy_cases_region"].sum() > 1.2 * base["embassy_cases_region"].sum()
    finally:
        REGISTRY.pop("embassy_hotline", None)


def test_a_new_state_is_a_declaration_the_engine_reads():
    """Exits, their timer/hazard kind, threshold streams and strides all come from sim.lifecycle.EXITS."""
    from sim import draws
    from sim.exits import exit_kind
    from sim.lifecycle import EXITS, HAZARD
    from sim.rules import EXIT_RATES

    hazard_states = {s for s in EXITS if exit_kind(s) == HAZARD}
    assert hazard_states == set(EXIT_RATES) == set(draws.EXIT_THRESHOLDS)
    assert all(len(exits) <= draws.MAX_EXITS for exits in EXITS.values())
    assert np.all([d.stream == f"exit_{s.name.lower()}" for s, d in draws.EXIT_THRESHOLDS.items()])
