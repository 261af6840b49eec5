"""Publication figures (sim.plots) and `tipsim figures`, on one small saved ensemble.

The ensemble is built once for this module: 3 scenarios x 3 replicates over 2024-01-01 ..
2024-03-31 (91 days: 13 complete weeks), with the interventions starting 2024-01-15, run
serially in-process (about 8 s). Each figure function is checked through its matplotlib
objects (axes labels with units, legend entries, number of series), the files it writes,
and the CSV written beside it against the saved results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection, QuadMesh
from PIL import Image

from sim import load_config
from sim.analysis.compare import OUTCOMES, paired_differences
from sim.analysis.targets import Target
from sim.config import ConfigError
from sim.ensemble import read_daily, run_compare
from sim.plots import style
from sim.plots.commands import draw_figures
from sim.plots.costeffect import cost_effectiveness
from sim.plots.fan import fan_chart, observed_points
from sim.plots.forest import forest_plot
from sim.plots.heatmap import load_sweep, sweep_heatmap
from sim.plots.labels import series
from sim.plots.results import (
    Periods,
    load_ensemble,
    parts_without_routes,
    read_run,
)
from sim.plots.routes import route_flow, route_flow_from_ensemble
from sim.plots.stockflow import STAGES, stock_flow
from sim.run import simulate, write_run
from sim.world import World

SCENARIOS = ["baseline", "departure_screening", "combined"]
LABELS = ["baseline", "departure screening", "combined"]
SMALL = [f"scenarios=[{','.join(SCENARIOS)}]", "replicates=3", "start_date=2024-01-01", "end_date=2024-03-31",
         "executor=serial", "++interventions.departure_screening.start=2024-01-15",
         "++interventions.joint_training.start=2024-01-15"]
TIPSIM = Path(sys.executable).with_name("tipsim")


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("figures") / "ens"
    summary = run_compare(SMALL, out_dir=out, progress="quiet")
    assert summary.complete
    return out


@pytest.fixture(scope="module")
def results(ensemble):
    return load_ensemble(ensemble)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two `tipsim run` folders (baseline and combined, 2024 Q1) with routes.parquet."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in ("baseline", "combined"):
        cfg = load_config([f"scenario={name}", "start_date=2024-01-01", "end_date=2024-03-31"])
        out[name] = write_run(simulate(cfg), cfg, root / name)
    return out


def files_ok(paths: list[Path], name: str) -> None:
    assert sorted(p.name for p in paths) == sorted(f"{name}.{e}" for e in ("pdf", "svg", "png", "csv"))
    for p in paths:
        assert p.stat().st_size > 100, p
    assert paths[0].parent.joinpath(f"{name}.pdf").read_bytes().startswith(b"%PDF")
    assert b"<svg" in paths[0].parent.joinpath(f"{name}.svg").read_bytes()[:2000]


def legend_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.legends[0].get_texts()]


def weekly(daily: pd.DataFrame, column: str, stock: bool = False) -> pd.DataFrame:
    """Per-replicate weekly values (7-day blocks from the first day), the slow obvious way."""
    d = daily.copy()
    d["week"] = (pd.to_datetime(d["date"]) - pd.Timestamp("2024-01-01")).dt.days // 7
    d = d[d["week"] < 13]  # 91 days = 13 complete weeks
    g = d.groupby(["scenario", "replicate", "week"])[column]
    return (g.last() if stock else g.sum()).rename("value").reset_index()


# --------------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------------


def test_style_journal_widths_palette_and_greyscale():
    assert style.SINGLE * 25.4 == pytest.approx(89) and style.DOUBLE * 25.4 == pytest.approx(183)
    assert style.RC["font.size"] >= 6 and style.RC["xtick.labelsize"] >= 5  # readable at final size
    assert len(set(style.PALETTE)) == len(style.PALETTE) == 8
    styles = [style.series_style(i) for i in range(36)]
    assert len({(s["color"], str(s["linestyle"])) for s in styles}) == 36  # lines: colour x line style
    assert len({(s["color"], s["marker"]) for s in styles}) == 36  # points: colour x marker
    assert [s["color"] for s in styles].count("#000000") == 1  # black is the reference's alone

    def grey(hex_colour):
        r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    first = sorted(grey(c) for c in style.PALETTE[:4])
    assert min(np.diff(first)) > 0.05  # the first four series differ in greyscale too


# --------------------------------------------------------------------------------------------
# Fan chart
# --------------------------------------------------------------------------------------------


def test_fan_chart_axes_legend_series_and_files(results, tmp_path):
    drawn = fan_chart(results, "victims")
    fig = drawn.fig
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Date"
    assert ax.get_ylabel() == "Victims (persons/week)"
    # 3 runs are too few for a 90% prediction band: the band is their range, and says so with n
    assert legend_texts(fig) == [*LABELS, "intervention start", "range of the 3 runs"]
    medians = [line for line in ax.get_lines() if line.get_label() in LABELS]
    assert len(medians) == 3 and all(len(line.get_xdata()) == 13 for line in medians)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 3  # one band (the range) per scenario
    starts = [line for line in ax.get_lines() if list(line.get_ydata()) == [0, 1]]  # axvline: full height
    assert {pd.Timestamp(line.get_xdata()[0]).date().isoformat() for line in starts} == {"2024-01-01", "2024-01-15"}
    paths = drawn.save(tmp_path)
    files_ok(paths, "fan_victims")
    with Image.open(tmp_path / "fan_victims.png") as png:
        assert png.size[0] == round(89 / 25.4 * 300)  # printed at one column width, 300 dpi
        assert png.info.get("Software") == "tipsim"
    assert "range of the 3 runs" in drawn.caption and "3 replicates" in drawn.caption and "seed 20200101" in drawn.caption


def test_fan_chart_csv_matches_the_saved_parts(results, ensemble, tmp_path):
    drawn = fan_chart(results, "victims")
    drawn.save(tmp_path)
    csv = pd.read_csv(tmp_path / "fan_victims.csv")
    bands = csv[csv["kind"] == "prediction band"]
    assert len(bands) == 3 * 13 and set(bands["scenario"]) == set(SCENARIOS)
    values = weekly(read_daily(ensemble, columns=["scenario", "replicate", "date", "new_victims"]), "new_victims")
    expect = values.groupby(["scenario", "week"])["value"].quantile([0.05, 0.5, 0.95]).unstack()
    for scenario in SCENARIOS:
        got = bands[bands["scenario"] == scenario].sort_values("period")
        want = expect.loc[scenario]
        np.testing.assert_allclose(got["median"], want[0.5])
        np.testing.assert_allclose(got["p05"], want[0.05])
        np.testing.assert_allclose(got["p95"], want[0.95])
        assert (got["n"] == 3).all()
    marks = csv[csv["kind"] == "intervention start"]
    assert set(marks[marks["scenario"] == "departure_screening"]["key"]) == {"departure_screening"}
    assert set(marks["x"].str[:10]) >= {"2024-01-15", "2024-01-01"}


def test_fan_chart_draws_observed_figures_in_plot_units(results, tmp_path):
    targets = [Target("cases_q1", "embassy_cases_KH", "sum", "2024-01-01", "2024-02-29", ("factor", 2)),
               Target("held_mar", "exploited", "end", "2024-03-31", "2024-03-31", ("factor", 2)),
               Target("outside", "embassy_cases_KH", "sum", "2023-01-01", "2023-12-31", ("factor", 2))]
    observed = pd.DataFrame({"id": ["cases_q1", "held_mar", "outside"], "value": [120.0, 50.0, 9.0],
                             "low": [100.0, np.nan, np.nan], "high": [150.0, np.nan, np.nan]})
    drawn = fan_chart(results, "embassy_cases_KH", targets=targets, observed=observed)
    (ax,) = drawn.fig.axes
    assert "observed (public figure)" in legend_texts(drawn.fig)
    points = [line for line in ax.get_lines() if line.get_label() == "observed (public figure)"]
    assert len(points) == 1 and points[0].get_ydata()[0] == pytest.approx(120 / 60 * 7)  # mean per week over 60 days
    obs = drawn.data[drawn.data["kind"] == "observed"]
    assert list(obs["target"]) == ["cases_q1"]  # the stock target is another output; 'outside' is outside the horizon
    assert obs["observed_low"].iloc[0] == pytest.approx(100 / 60 * 7)
    stock = observed_points(series("exploited"), results.periods, results.horizon, targets, observed)
    assert list(stock["target"]) == ["held_mar"] and stock["value"].iloc[0] == 50.0 and stock["how"].iloc[0] == "level"


def test_fan_chart_small_multiples_against_the_reference(results):
    drawn = fan_chart(results, "wni_in_KH", layout="facets")
    panels = [ax for ax in drawn.fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in panels] == LABELS[1:]
    for ax in panels:
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1  # the range of the 3 runs
        assert any(line.get_label().startswith("median, baseline") or line.get_color() == "black" for line in ax.get_lines())
    assert panels[0].get_ylabel() == "Indonesians in Cambodia (persons)"
    assert legend_texts(drawn.fig)[:2] == ["median, baseline (reference)", "median, scenario"]


def test_weekly_and_monthly_periods_keep_only_complete_periods():
    weeks = Periods.of(pd.date_range("2024-01-01", "2024-03-31"))
    assert weeks.unit == "week" and len(weeks) == 13
    months = Periods.of(pd.date_range("2020-01-15", "2021-12-31"))
    assert months.unit == "month" and len(months) == 23 and str(months.start[0]) == "2020-02-01"
    daily = np.arange(len(pd.date_range("2024-01-01", "2024-03-31")), dtype=float)
    assert weeks.reduce(daily, "flow", False)[0] == sum(range(7))
    assert weeks.reduce(daily, "stock", False)[1] == 13
    assert weeks.reduce(daily, "flow", True)[1] == sum(range(14))


# --------------------------------------------------------------------------------------------
# Forest plot, cost-effectiveness plane, stock-and-flow panel
# --------------------------------------------------------------------------------------------


def test_forest_plot_panels_units_rows_and_csv(results, ensemble, tmp_path):
    drawn = forest_plot(results)
    panels = [ax for ax in drawn.fig.axes if ax.get_visible()]
    assert len(panels) == len(OUTCOMES) == 9
    for ax in panels:
        assert ax.get_xlabel().startswith("effect vs baseline (") and ax.get_xlabel().endswith(")")
        assert len(ax.get_lines()) == 2 + 1  # enough / not enough replicates, and the zero line
    for ax in panels[::3]:  # the first column names the scenarios (rows are shared)
        assert [t.get_text() for t in ax.get_yticklabels()] == LABELS[1:]
    assert panels[-1].get_xlabel() == "effect vs baseline (million USD)"  # cost, scaled
    assert legend_texts(drawn.fig)[2] == "n = 3 replicate pairs per scenario (enough needs \u2265 10)"
    files_ok(drawn.save(tmp_path), "forest")
    csv = pd.read_csv(tmp_path / "forest.csv")
    comparison = pd.read_csv(ensemble / "comparison.csv")
    merged = csv.merge(comparison, on=["scenario", "outcome"], suffixes=("", "_saved"))
    assert len(merged) == 2 * 9
    for col in ("effect_mean", "ci_low", "ci_high", "replicates"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_saved"])
    assert "95% confidence interval" in drawn.caption and "not the spread of single runs" in drawn.caption


def test_cost_effectiveness_plane_means_cis_and_replicate_pairs(results, ensemble, tmp_path):
    drawn = cost_effectiveness(results)
    (ax,) = drawn.fig.axes
    assert ax.get_xlabel() == "victims averted vs baseline (persons)"
    assert ax.get_ylabel() == "extra intervention cost (million USD)"
    assert legend_texts(drawn.fig) == [*LABELS[1:], "single replicate pairs (n = 3 per scenario)"]
    files_ok(drawn.save(tmp_path), "cost_effectiveness")
    csv = pd.read_csv(tmp_path / "cost_effectiveness.csv")
    comparison = pd.read_csv(ensemble / "comparison.csv").set_index(["scenario", "outcome"])
    means = csv[csv["kind"] == "mean"].set_index("scenario")
    for s in SCENARIOS[1:]:
        assert means.loc[s, "victims_averted"] == pytest.approx(-comparison.loc[(s, "victims"), "effect_mean"])
        assert means.loc[s, "victims_averted_ci_low"] == pytest.approx(-comparison.loc[(s, "victims"), "ci_high"])
        assert means.loc[s, "extra_cost_usd"] == pytest.approx(comparison.loc[(s, "cost_usd"), "effect_mean"])
    reps = csv[csv["kind"] == "replicate"].set_index(["scenario", "replicate"])
    diffs = paired_differences(pd.read_parquet(ensemble / "totals.parquet"), "baseline").set_index(["scenario", "replicate"])
    assert len(reps) == 6
    np.testing.assert_allclose(reps["victims_averted"], -diffs.loc[reps.index, "victims"])
    np.testing.assert_allclose(reps["extra_cost_usd"], diffs.loc[reps.index, "cost_usd"])


def test_cost_effectiveness_plane_tolerates_intervals_not_covering_the_mean(results):
    """Rounding (a zero-width cost interval a hair above its mean) or a BCa interval beside the mean: no error bar < 0."""
    c = results.comparison.copy()
    cost = c["outcome"] == "cost_usd"
    c.loc[cost, "ci_low"] = c.loc[cost, "effect_mean"] * (1 + 1e-12)
    c.loc[cost, "ci_high"] = c.loc[cost, "ci_low"]
    drawn = cost_effectiveness(dataclasses.replace(results, comparison=c))
    assert legend_texts(drawn.fig)[:2] == LABELS[1:]


def test_stock_and_flow_panel_stages_and_csv(results, ensemble, tmp_path):
    drawn = stock_flow(results)
    axes = drawn.fig.axes
    assert [ax.get_title(loc="left").split("  ")[1] for ax in axes] == [title for _, title in STAGES]
    assert [ax.get_ylabel() for ax in axes] == ["persons/week", "persons/week", "persons at end of week",
                                                "persons at end of week", "persons/week", "persons/week"]
    for ax in axes:
        assert len(ax.get_lines()) == 3 and sum(isinstance(c, PolyCollection) for c in ax.collections) == 3
    assert legend_texts(drawn.fig) == [*LABELS, "range of the 3 runs"]
    files_ok(drawn.save(tmp_path), "stock_flow")
    csv = pd.read_csv(tmp_path / "stock_flow.csv")
    daily = read_daily(ensemble, columns=["scenario", "replicate", "date", "exploited", "escaped", "rescued"])
    held = weekly(daily, "exploited", stock=True).groupby(["scenario", "week"])["value"].median()
    got = csv[csv["series"] == "exploited"].set_index(["scenario", "period"])["median"]
    np.testing.assert_allclose(got.sort_index(), held.sort_index().to_numpy())
    daily["out"] = daily["escaped"] + daily["rescued"]
    out = weekly(daily, "out").groupby(["scenario", "week"])["value"].quantile(0.95)
    got = csv[csv["series"] == "escaped+rescued"].set_index(["scenario", "period"])["p95"]
    np.testing.assert_allclose(got.sort_index(), out.sort_index().to_numpy())


# --------------------------------------------------------------------------------------------
# Route flows
# --------------------------------------------------------------------------------------------


def test_route_flow_from_two_run_folders(runs, tmp_path):
    (_, a), (_, b) = read_run(runs["baseline"]), read_run(runs["combined"])
    world = World(load_config().world)
    drawn = route_flow(world, a, b, ("baseline", "combined"))
    axes = drawn.fig.axes
    assert [ax.get_title(loc="left") for ax in axes] == ["baseline", "combined", "combined \u2212 baseline"]
    assert axes[0].get_ylabel() == "latitude (\u00b0N)" and all(ax.get_xlabel() == "longitude (\u00b0E)" for ax in axes)
    texts = legend_texts(drawn.fig)
    assert texts[:5] == ["origin province", "Indonesian hub", "transit or entry point", "border crossing",
                         "compound cluster"]
    assert texts[-2:] == ["more in scenario", "fewer in scenario"]
    files_ok(drawn.save(tmp_path), "route_flow_combined")
    csv = pd.read_csv(tmp_path / "route_flow_combined.csv")
    assert len(csv) == len(world.route_from)
    want = a.groupby(["from", "to"])["travellers"].sum()
    got = csv.set_index(["from", "to"])["travellers_reference"]
    np.testing.assert_allclose(got.loc[want.index], want)
    np.testing.assert_allclose(csv["difference"], csv["travellers_scenario"] - csv["travellers_reference"])
    used = (csv["travellers_reference"] > 0).sum()
    drawn_legs = [line for line in axes[0].get_lines() if line.get_color() == "0.2"]
    assert len(drawn_legs) == used  # one line per leg that anybody used


def test_route_flow_from_ensemble_route_tables(results, runs):
    """Through the ensemble interface: route tables with scenario and replicate columns (as read_routes returns)."""
    tables = []
    for name in ("baseline", "combined"):
        _, r = read_run(runs[name])
        for replicate in (0, 1):
            tables.append(r.assign(scenario=name, replicate=replicate, seed=20200101, travellers=r["travellers"] * (1 + replicate)))
    routes = pd.concat(tables, ignore_index=True)
    drawn = route_flow_from_ensemble(results, "combined", routes)
    assert drawn.name == "route_flow_combined"
    _, base = read_run(runs["baseline"])
    per_leg = base.groupby(["from", "to"])["travellers"].sum() * 1.5  # mean of x1 and x2
    np.testing.assert_allclose(drawn.data.set_index(["from", "to"]).loc[per_leg.index, "travellers_reference"], per_leg)
    assert "2 of baseline, 2 of combined" in drawn.caption


# --------------------------------------------------------------------------------------------
# Sweep heatmap
# --------------------------------------------------------------------------------------------

KEY_A, KEY_B = "interventions.departure_screening.intensity", "interventions.joint_training.intensity"


@pytest.fixture(scope="module")
def sweep_dir(ensemble, tmp_path_factory) -> Path:
    """A 3 x 2 grid of sweep jobs made from the saved ensemble, with known effects (10 a + b)."""
    root = tmp_path_factory.mktemp("sweep")
    manifest = json.loads((ensemble / "manifest.json").read_text())
    comparison = pd.read_csv(ensemble / "comparison.csv")
    for i, (a, b) in enumerate((a, b) for a in (0.0, 0.5, 1.0) for b in (0.0, 1.0)):
        job = root / str(i)
        job.mkdir()
        (job / "manifest.json").write_text(json.dumps({**manifest, "sweep": {KEY_A: a, KEY_B: b, "replicates": 3}}))
        c = comparison.copy()
        c.loc[c["outcome"] == "victims", "effect_mean"] = 10 * a + b
        c.to_csv(job / "comparison.csv", index=False)
        shutil.copy(ensemble / "totals.parquet", job / "totals.parquet")
    return root


def test_sweep_heatmap_grid_cells_labels_and_csv(sweep_dir, tmp_path):
    sweep = load_sweep(sweep_dir)
    assert sweep.keys == [KEY_A, KEY_B]
    drawn = sweep_heatmap(sweep, "combined", outcomes=("victims", "false_positive_stops"))
    panels = [ax for ax in drawn.fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2
    ax = panels[0]
    assert ax.get_xlabel() == "joint training: intensity (0-1)"
    assert ax.get_ylabel() == "departure screening: intensity (0-1)"
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    cells = np.asarray(mesh.get_array()).reshape(3, 2)
    np.testing.assert_allclose(cells, [[0, 1], [5, 6], [10, 11]])  # rows: screening 0, 0.5, 1; columns: training 0, 1
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "0.5", "1"]
    colorbars = [a for a in drawn.fig.axes if a.get_label() == "<colorbar>"]
    assert colorbars[0].get_ylabel() == "effect vs baseline (persons)"
    files_ok(drawn.save(tmp_path), "sweep_heatmap_combined")
    csv = pd.read_csv(tmp_path / "sweep_heatmap_combined.csv")
    v = csv[csv["outcome"] == "victims"]
    np.testing.assert_allclose(v["effect_mean"], 10 * v[KEY_A] + v[KEY_B])
    assert "6 sweep jobs" in drawn.caption and "confidence intervals" in drawn.caption


def test_sweep_heatmap_needs_two_swept_settings(sweep_dir, tmp_path):
    one = tmp_path / "one"
    for job in ("0", "2"):  # screening 0 and 0.5, training 0 in both: one swept setting
        shutil.copytree(sweep_dir / job, one / job)
    with pytest.raises(ConfigError, match="needs exactly two swept settings; .* varies 1 "):
        sweep_heatmap(load_sweep(one))


# --------------------------------------------------------------------------------------------
# tipsim figures
# --------------------------------------------------------------------------------------------


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_tipsim_figures_draws_everything_reproducibly(ensemble, tmp_path):
    """`tipsim figures` in a subprocess and draw_figures in this process (other hash seed, other state), at the same
    time on two copies of the results: every file is the same, byte for byte."""
    a, b = tmp_path / "a" / "ens", tmp_path / "b" / "ens"
    for folder in (a, b):
        shutil.copytree(ensemble, folder)
    cli = subprocess.Popen([str(TIPSIM), "figures", f"out_dir={a}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    report = draw_figures(b)
    out, err = cli.communicate(timeout=300)
    assert cli.returncode == 0, err
    expected = ["fan_victims", "fan_displacement", "fan_embassy_cases", "fan_embassy_cases_region_cumulative",
                "fan_wni_in_KH", "fan_entries_KH", "fan_stops_hub_cgk", "forest", "cost_effectiveness",
                "stock_flow", "route_flow_departure_screening", "route_flow_combined"]
    assert report.drawn == expected
    assert out.splitlines()[-1] == f"{len(expected)} figures in {a / 'figures'} (captions in captions.md)"
    first = digests(a / "figures")
    assert set(first) == {f"{n}.{e}" for n in expected for e in ("pdf", "svg", "png", "csv")} | {"captions.md"}
    assert digests(b / "figures") == first
    captions = (a / "figures" / "captions.md").read_text()
    for text in ("prediction bands", "95% confidence interval", "3 replicates per scenario", "seed 20200101"):
        assert text in captions
    assert all(f"## {n}" in captions for n in expected)
    assert [p.name for p in a.iterdir() if p.name.startswith(".figures")] == []
    umask = os.umask(0)
    os.umask(umask)
    assert (a / "figures").stat().st_mode & 0o777 == 0o777 & ~umask  # not the private mode of a temporary folder


def test_ensemble_without_route_flows_gets_every_other_figure(ensemble, tmp_path):
    """An ensemble made before route flows were recorded: the route-flow maps are left out, with the reason."""
    folder = tmp_path / "old"
    shutil.copytree(ensemble, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    for task in manifest["tasks"]:
        del task["routes"], task["routes_sha256"]
    shutil.rmtree(folder / "parts" / "routes")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "figures").mkdir()
    (folder / "figures" / "route_flow_combined.png").write_text("drawn earlier")  # replaced with the whole folder
    results = load_ensemble(folder)
    assert len(parts_without_routes(results)) == 9 and results.routes() is None
    report = draw_figures(folder)
    assert not [n for n in report.drawn if n.startswith("route_flow")] and "forest" in report.drawn
    assert not (folder / "figures" / "route_flow_combined.png").exists()
    assert any(s.startswith("route-flow maps: the ensemble's parts carry no route flows") for s in report.skipped)
    assert "route-flow maps: the ensemble's parts carry no route flows" in (folder / "figures" / "captions.md").read_text()


def test_route_flow_from_the_ensembles_own_route_flows(results):
    routes = results.routes()
    assert set(routes["scenario"]) == set(SCENARIOS) and routes.groupby("scenario")["replicate"].nunique().eq(3).all()
    drawn = route_flow_from_ensemble(results, "departure_screening")
    ref = routes[routes["scenario"] == "baseline"].groupby(["from", "to"])["travellers"].sum() / 3
    np.testing.assert_allclose(drawn.data.set_index(["from", "to"]).loc[ref.index, "travellers_reference"], ref)
    assert "3 of baseline, 3 of departure screening" in drawn.caption


def _broken(ensemble: Path, root: Path, case: str) -> Path:
    out = root / case
    if case == "nothing":
        out.mkdir()
    elif case == "run":
        cfg = load_config(["start_date=2024-01-01", "end_date=2024-01-10"])
        write_run(simulate(cfg), cfg, out)
    else:
        shutil.copytree(ensemble, out)
        if case == "missing":
            (out / "comparison.csv").unlink()
            (out / "parts" / "daily" / "scenario=baseline" / "replicate=1" / "part.parquet").unlink()
        elif case == "foreign_part":
            shutil.copy(out / "parts" / "daily" / "scenario=combined" / "replicate=0" / "part.parquet",
                        out / "parts" / "daily" / "scenario=baseline" / "replicate=2" / "part.parquet")
        elif case == "foreign_table":
            pd.DataFrame({"a": [1], "b": [2]}).to_csv(out / "comparison.csv", index=False)
        elif case == "foreign_manifest":
            (out / "manifest.json").write_text(json.dumps({"scenario": "baseline", "people_created": 5}))
        elif case == "incomplete":
            m = json.loads((out / "manifest.json").read_text())
            (out / "manifest.json").write_text(json.dumps({**m, "status": "incomplete", "counts": {"done": 8, "tasks": 9}}))
    return out


BROKEN = {
    "nothing": "missing manifest.json; not a tipsim results folder",
    "run": "a single `tipsim run` folder",
    "missing": "missing 2 file(s) that manifest.json lists: comparison.csv, parts/daily/scenario=baseline/replicate=1/part.parquet",
    "foreign_part": "1 part(s) differ from what the ensemble wrote (SHA-256 in manifest.json): "
                    "parts/daily/scenario=baseline/replicate=2/part.parquet",
    "foreign_table": "comparison.csv: missing column(s) scenario, outcome",
    "foreign_manifest": "a single `tipsim run` folder",
    "incomplete": "ensemble incomplete (8 of 9 tasks done)",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_figures_refuse_missing_or_foreign_files_with_one_clear_error(ensemble, tmp_path, case):
    out = _broken(ensemble, tmp_path, case)
    with pytest.raises(ConfigError) as info:
        draw_figures(out)
    assert BROKEN[case] in str(info.value)
    assert "\n" not in str(info.value)
    assert not (out / "figures").exists()


def test_tipsim_figures_cli_errors(ensemble, tmp_path):
    cases = {"missing": _broken(ensemble, tmp_path, "missing"), "none": None}
    procs = {
        name: subprocess.Popen([str(TIPSIM), "figures", *([f"out_dir={out}"] if out else [])], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HYDRA_FULL_ERROR": "0"})
        for name, out in cases.items()
    }
    results = {name: (p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for name, p in procs.items()}
    rc, out, err = results["missing"]
    assert rc == 2 and out == ""
    assert err.splitlines() == [f"tipsim: error: out_dir = {cases['missing']}: {BROKEN['missing']}; run the same "
                                "`tipsim compare` command (same out_dir) again to rebuild them"]
    rc, out, err = results["none"]
    assert rc == 2 and "give the results folder: tipsim figures out_dir=DIR" in err


# --------------------------------------------------------------------------------------------
# Issue 13: statistics that say no more than they know; what a reviewer sends back
# --------------------------------------------------------------------------------------------


def with_runs(results, name: str, n: int):
    """The results with ``n`` synthetic replicates per scenario of series ``name`` (value = replicate + period)."""
    s = series(name)
    periods = len(results.periods)
    frames = [pd.DataFrame({"scenario": sc, "replicate": r, "series": s.key, "period": np.arange(periods),
                            "value": float(r + 10 * i) + np.arange(periods)})
              for i, sc in enumerate(results.scenarios) for r in range(n)]
    return dataclasses.replace(results, _series={s.key: pd.concat(frames, ignore_index=True)})


def rendered(fig):
    """Draw ``fig`` on an Agg canvas (laid out as when saved) and return the renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def band_polys(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_fan_band_is_the_range_of_few_runs_and_a_prediction_band_of_many(results):
    """13.1: 3 runs are drawn as their range (labelled with n); 20 runs as 50% and 90% prediction bands (with n)."""
    from sim.plots.results import MIN_BAND_RUNS

    assert MIN_BAND_RUNS == 20
    few = fan_chart(results, "victims")
    (ax,) = few.fig.axes
    band = few.data[(few.data["kind"] == "prediction band") & (few.data["scenario"] == "baseline")]
    top = band_polys(ax)[0].get_paths()[0].vertices[:, 1]
    assert set(np.round(top, 9)) <= set(np.round(np.r_[band["min"], band["max"]], 9))  # lowest to highest run
    assert np.isclose(top.max(), band["max"].max()) and np.isclose(top.min(), band["min"].min())
    many = fan_chart(with_runs(results, "victims", MIN_BAND_RUNS), "victims")
    (ax,) = many.fig.axes
    assert legend_texts(many.fig)[-2:] == ["90% prediction band (20 runs)", "50% prediction band (20 runs)"]
    assert len(band_polys(ax)) == 6
    assert "Shaded: 50% and 90% **prediction bands**" in many.caption and "20 runs per scenario" in many.caption
    one_short = fan_chart(with_runs(results, "victims", MIN_BAND_RUNS - 1), "victims")
    assert legend_texts(one_short.fig)[-1] == "range of the 19 runs"


def test_band_legend_swatches_have_the_band_colours(results):
    """13.3: the band entry of the legend shows one swatch per scenario in that scenario's colour, not grey."""
    from matplotlib.colors import to_rgb

    drawn = fan_chart(results, "victims")
    (ax,) = drawn.fig.axes
    legend = drawn.fig.legends[0]
    swatches = [p for p in legend.get_children()[0].findobj(lambda a: a.__class__.__name__ == "Rectangle")
                if p.get_width() > 0 and p.get_facecolor()[3] > 0 and p.get_facecolor()[3] < 1]
    bands = [to_rgb(p.get_facecolor()[0]) for p in band_polys(ax)]
    assert [to_rgb(c) for c in (style.series_style(i)["color"] for i in range(3))] == bands
    assert sorted(to_rgb(p.get_facecolor()) for p in swatches) == sorted(bands)
    assert {round(p.get_alpha(), 6) for p in swatches} == {round(c.get_alpha(), 6) for c in band_polys(ax)}
    sf = stock_flow(results)
    assert len([p for p in sf.fig.legends[0].get_children()[0].findobj(
        lambda a: a.__class__.__name__ == "Rectangle") if 0 < p.get_facecolor()[3] < 1]) == 3


def test_fan_reference_median_is_drawn_above_the_scenarios(results):
    """13.3: the reference (black) is drawn first but must not be hidden under the last scenario's median."""
    (ax,) = fan_chart(results, "victims").fig.axes
    medians = {line.get_label(): line for line in ax.get_lines() if line.get_label() in LABELS}
    assert medians["baseline"].get_zorder() > max(medians[x].get_zorder() for x in LABELS[1:])
    assert min(line.get_zorder() for line in medians.values()) > max(c.get_zorder() for c in band_polys(ax))


def test_fan_facets_with_one_scenario_fill_the_canvas_and_keep_the_y_label(results):
    """13.3: one facet is a single-column figure with one panel, and its y-label lies inside the canvas."""
    drawn = fan_chart(results, "wni_in_KH", scenarios=["baseline", "combined"], layout="facets")
    fig = drawn.fig
    assert [ax for ax in fig.axes if not ax.get_visible()] == []
    (ax,) = fig.axes
    assert fig.get_figwidth() == pytest.approx(style.SINGLE)
    renderer = rendered(fig)
    box = ax.yaxis.label.get_window_extent(renderer)
    assert box.y0 >= 0 and box.y1 <= fig.bbox.height and box.x0 >= 0
    assert ax.get_position().width > 0.6  # the panel spans most of the width
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.x0 >= 0 and legend.x1 <= fig.bbox.width  # not clipped either
    two = fan_chart(results, "wni_in_KH", layout="facets").fig
    assert len([ax for ax in two.axes if ax.get_visible()]) == len(two.axes) == 2


def test_forest_dots_are_filled_only_with_enough_replicates(results):
    """13.1: a saved table that says 'enough' at n = 3 draws open dots; n = 20 with a tight CI draws a filled one."""
    c = results.comparison.copy()
    c["replicates_enough"] = True  # as an older tipsim wrote at 3 replicates
    drawn = forest_plot(dataclasses.replace(results, comparison=c))
    for ax in drawn.fig.axes:
        if ax.get_visible():
            filled = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_markerfacecolor() == "black"]
            assert all(len(line.get_xdata()) == 0 for line in filled)
    tight = c.copy()
    victims = tight["outcome"] == "victims"
    tight.loc[victims, "replicates"] = 20
    tight.loc[victims, "ci_low"] = tight.loc[victims, "effect_mean"] * 1.05
    tight.loc[victims, "ci_high"] = tight.loc[victims, "effect_mean"] * 0.95
    drawn = forest_plot(dataclasses.replace(results, comparison=tight), outcomes=["victims"])
    ax = drawn.fig.axes[0]
    filled = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_markerfacecolor() == "black"]
    assert len(filled) == 1 and len(filled[0].get_xdata()) == 2
    assert legend_texts(drawn.fig)[2].startswith("n = 20 replicate pairs per scenario")


def test_collect_judges_saved_tables_by_the_minimum_replicates(sweep_dir):
    """13.1: jobs whose comparison.csv says 'enough' at 3 replicates are collected as not enough."""
    from sim.analysis.sweep import collect

    saved = pd.read_csv(sweep_dir / "0" / "comparison.csv")
    assert (saved["replicates"] == 3).all()
    assert not collect(sweep_dir).comparison["replicates_enough"].any()


def test_cost_effectiveness_replicate_points_are_visible(results):
    """13.3: replicate pairs are open markers of a printable size, drawn above the CI bars."""
    from sim.plots.costeffect import REPLICATE_ALPHA, REPLICATE_SIZE

    (ax,) = cost_effectiveness(results).fig.axes
    points = [line for line in ax.get_lines() if line.get_linestyle() == "None" and len(line.get_xdata()) == 3]
    assert len(points) == 2
    bars = max(c.get_zorder() for c in ax.collections)
    for p in points:
        assert p.get_markersize() == REPLICATE_SIZE >= 3 and p.get_alpha() == REPLICATE_ALPHA >= 0.6
        assert p.get_markerfacecolor() == "none" and p.get_markeredgewidth() >= 0.5 and p.get_zorder() > bars


def test_route_flow_difference_widths_are_in_the_legend(runs):
    """13.3: the difference panel's own width scale is keyed in the legend (widths as drawn)."""
    from sim.plots.routes import MAX_WIDTH, width, width_keys

    (_, a), (_, b) = read_run(runs["baseline"]), read_run(runs["combined"])
    drawn = route_flow(World(load_config().world), a, b, ("baseline", "combined"))
    top_diff = drawn.data["difference"].abs().max()
    legend = drawn.fig.legends[0]
    texts = legend_texts(drawn.fig)
    keys = width_keys(top_diff)
    for v in keys:
        i = texts.index(f"\u00b1{v:,.0f} (right panel)")
        assert legend.legend_handles[i].get_linewidth() == pytest.approx(width(v, top_diff))
    widest = max(line.get_linewidth() for line in drawn.fig.axes[2].get_lines())
    assert widest == pytest.approx(MAX_WIDTH)  # the widest difference line is keyed by the same scale
    box = legend.get_window_extent(rendered(drawn.fig))
    assert box.x0 >= 0 and box.x1 <= drawn.fig.bbox.width  # the legend fits the double-column width


def make_sweep(ensemble: Path, root: Path, points: list[dict], effect) -> Path:
    """Sweep jobs made from the saved ensemble with the settings ``points`` and victims effect ``effect(point)``."""
    manifest = json.loads((ensemble / "manifest.json").read_text())
    comparison = pd.read_csv(ensemble / "comparison.csv")
    for i, point in enumerate(points):
        job = root / str(i)
        job.mkdir(parents=True)
        (job / "manifest.json").write_text(json.dumps({**manifest, "sweep": {**point, "replicates": 3}}))
        c = comparison.copy()
        v = c["outcome"] == "victims"
        c.loc[v, "effect_mean"] = effect(point)
        c.loc[v, "ci_low"], c.loc[v, "ci_high"] = effect(point) - 2, effect(point) + 2
        c.loc[c["outcome"] == "false_positive_stops", "effect_mean"] = 5.0 + (i % 2)  # a two-value range: 5 and 6
        c.to_csv(job / "comparison.csv", index=False)
        shutil.copy(ensemble / "totals.parquet", job / "totals.parquet")
    return root


def test_small_latin_hypercube_is_drawn_as_points_on_a_diverging_scale(ensemble, tmp_path):
    """13.2: 8 LHS points are coloured points (not an 8 x 8 grid of n/a cells); signed effects on a diverging
    map centred on 0; a two-value range is not stretched to the ends of the map."""
    from matplotlib.collections import PathCollection

    rng = np.random.default_rng(3)
    points = [{KEY_A: float(a), KEY_B: float(b)} for a, b in rng.random((8, 2))]
    sweep = load_sweep(make_sweep(ensemble, tmp_path / "lhs", points, lambda p: -10 * p[KEY_A]))
    drawn = sweep_heatmap(sweep, "combined", outcomes=("victims", "false_positive_stops", "cost_per_victim_averted"))
    panels = [ax for ax in drawn.fig.axes if ax.get_label() != "<colorbar>" and ax.get_visible()]
    assert len(panels) == 3
    for ax in panels:
        assert not [c for c in ax.collections if isinstance(c, QuadMesh)]
        (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(dots.get_offsets()) == 8
    victims, stops, cost = ([c for c in ax.collections if isinstance(c, PathCollection)][0] for ax in panels)
    assert victims.cmap.name.startswith(style.DIVERGING)
    assert victims.norm.vmin == -victims.norm.vmax == pytest.approx(-np.abs(victims.get_array()).max())
    assert stops.norm.vmin == -6 and stops.norm.vmax == 6  # 5 and 6 look alike, as they are
    assert np.ptp(stops.norm(np.array([5.0, 6.0]))) < 0.1
    assert cost.cmap.name.startswith(style.SEQUENTIAL) and cost.norm.vmin == 0
    rendered(drawn.fig)
    for bar in (a for a in drawn.fig.axes if a.get_label() == "<colorbar>"):
        ticks = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
        assert len(ticks) == len(set(ticks)) >= 3


def test_grid_or_points():
    from sim.plots.heatmap import is_grid

    full = pd.DataFrame([(a, b) for a in (0, 0.5, 1) for b in (0, 1)], columns=["a", "b"])
    assert is_grid(full, ["a", "b"])
    assert is_grid(full.drop(index=2), ["a", "b"])  # a failed job leaves one n/a cell
    lhs = pd.DataFrame({"a": [0.1, 0.6, 0.3], "b": [0.7, 0.2, 0.9]})
    assert not is_grid(lhs, ["a", "b"]) and not is_grid(lhs.iloc[:2], ["a", "b"])


def test_heatmap_grid_cells_use_a_diverging_map_centred_on_zero(sweep_dir):
    drawn = sweep_heatmap(load_sweep(sweep_dir), "combined", outcomes=("victims",))
    (mesh,) = [c for c in drawn.fig.axes[0].collections if isinstance(c, QuadMesh)]
    assert mesh.cmap.name.startswith(style.DIVERGING) and mesh.norm.vmin == -11 and mesh.norm.vmax == 11
    assert mesh.norm(0.0) == pytest.approx(0.5)


def test_colour_bar_and_axis_ticks_never_repeat():
    """13.2: tick labels get more digits when three would make two ticks read the same."""
    f = style.NumberFormatter()
    assert f.format_ticks([1000, 1000.5, 1001]) == ["1,000.0", "1,000.5", "1,001.0"]
    assert f.format_ticks([0, 0.25, 0.5]) == ["0", "0.25", "0.5"]
    assert f.format_ticks([-2e6, 0, 2e6]) == ["\u22122,000,000", "0", "2,000,000"]


def test_one_setting_sweep_draws_a_dose_response_line(ensemble, tmp_path):
    """13.10: a sweep over one setting draws effect vs the setting with its 95% CI band (not 0 figures)."""
    points = [{KEY_A: a} for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
    root = make_sweep(ensemble, tmp_path / "one", points, lambda p: -20 * p[KEY_A])
    report = draw_figures(root)
    assert report.drawn == ["sweep_dose_response_departure_screening", "sweep_dose_response_combined"]
    from sim.plots.dose import sweep_dose_response

    drawn = sweep_dose_response(load_sweep(root), "combined", outcomes=("victims",))
    (ax,) = drawn.fig.axes
    assert ax.get_xlabel() == "departure screening: intensity (0-1)"
    assert ax.get_ylabel() == "effect vs baseline (persons)"
    (line,) = [x for x in ax.get_lines() if x.get_label() == "mean paired effect"]
    np.testing.assert_allclose(line.get_xdata(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(line.get_ydata(), [0, -5, -10, -15, -20])
    (band,) = band_polys(ax)
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(-22) and ys.max() == pytest.approx(2)
    assert legend_texts(drawn.fig) == ["95% confidence interval (n = 3 replicate pairs per job)", "mean paired effect"]
    assert (root / "figures" / "sweep_dose_response_combined.png").exists()
