"""Route-flow maps: travellers on every leg from origin provinces through hubs and transit
countries to the compounds, for the reference and a scenario, and their difference.

Drawn on the world's coordinates (``sim/data/world/locations.csv``; longitude and latitude,
no base map): each leg is a straight line whose width is proportional to the travellers on
it (mean per replicate, summed over the years shown); markers tell origin provinces, hubs,
transit points, border crossings and compound clusters apart. The third panel shows the
difference, scenario minus reference - where an intervention displaces people to other
hubs, routes or countries (e.g. from Cambodia to Myanmar and Laos).

The data are route tables: ``year, from, to, mode, travellers`` per run (``routes.parquet``
of ``tipsim run``) or per ensemble task (carried in each part's metadata and read with
:func:`sim.ensemble.read_routes`, with ``scenario, replicate, seed``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import style
from .labels import scenario_label
from .results import EnsembleResults

KIND_MARKERS = {"origin": "o", "hub": "s", "transit": "^", "border": "D", "destination": "*"}
KIND_LABELS = {"origin": "origin province", "hub": "Indonesian hub", "transit": "transit or entry point",
               "border": "border crossing", "destination": "compound cluster"}
MAX_WIDTH = 3.5
"""Line width (pt) of the busiest leg."""


def route_means(routes: pd.DataFrame, years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Travellers per leg (``from, to, mode, travellers``): summed over ``years`` (inclusive), mean over replicates."""
    r = routes
    if years is not None:
        r = r[(r["year"] >= years[0]) & (r["year"] <= years[1])]
    keys = ["from", "to", "mode"]
    if "replicate" in r.columns:
        n = r["replicate"].nunique()
        total = r.groupby(keys, sort=False)["travellers"].sum()
        out = (total / max(n, 1)).reset_index()
    else:
        out = r.groupby(keys, sort=False)["travellers"].sum().astype(float).reset_index()
    return out


def _locations(world) -> pd.DataFrame:
    return pd.DataFrame({"id": world.ids, "name": world.names, "kind": world.kind, "country": world.country,
                         "lon": world.lon, "lat": world.lat}).set_index("id")


def route_flow_data(world, reference: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """One row per leg of the world: coordinates, travellers in the reference and the scenario, difference."""
    loc = _locations(world)
    legs = pd.DataFrame({"from": np.asarray(world.ids)[world.route_from], "to": np.asarray(world.ids)[world.route_to],
                         "mode": world.route_mode})
    for col, table in (("travellers_reference", reference), ("travellers_scenario", scenario)):
        legs = legs.merge(table.rename(columns={"travellers": col}), on=["from", "to", "mode"], how="left")
        legs[col] = legs[col].fillna(0.0).astype(float)
    legs["difference"] = legs["travellers_scenario"] - legs["travellers_reference"]
    for end in ("from", "to"):
        legs[f"{end}_kind"] = loc.loc[legs[end], "kind"].to_numpy()
        legs[f"{end}_lon"] = loc.loc[legs[end], "lon"].to_numpy()
        legs[f"{end}_lat"] = loc.loc[legs[end], "lat"].to_numpy()
    return legs


def arrivals_by_country(world, data: pd.DataFrame, column: str) -> dict[str, float]:
    """Travellers on legs into compound clusters, by destination country."""
    loc = _locations(world)
    into = data[data["to_kind"] == "destination"]
    by = into.groupby(loc.loc[into["to"], "country"].to_numpy())[column].sum()
    return {c: float(by.get(c, 0.0)) for c in sorted(set(loc.loc[loc["kind"] == "destination", "country"]))}


def _nice(x: float) -> float:
    if x <= 0:
        return 0.0
    exp = np.floor(np.log10(x))
    for m in (5, 2, 1):
        if m * 10**exp <= x:
            return float(m * 10**exp)
    return float(10**exp)


def _draw_base(ax, world, loc: pd.DataFrame, data: pd.DataFrame) -> None:
    for r in data.itertuples():
        ax.plot([r.from_lon, r.to_lon], [r.from_lat, r.to_lat], color="0.85", linewidth=0.3, zorder=1,
                solid_capstyle="round")
    for country, g in loc.groupby("country"):
        # where the world's countries.csv puts the name, else above the country's locations
        x, y = world.country_label_at.get(country, (g["lon"].mean(), g["lat"].max() + 1.1))
        ax.text(x, y, world.country_name(country), ha="center", va="center", fontsize=5.5, color="0.45",
                style="italic", zorder=2)
    for kind, marker in KIND_MARKERS.items():
        g = loc[loc["kind"] == kind]
        ax.plot(g["lon"], g["lat"], linestyle="none", marker=marker, markersize=4.5 if kind == "destination" else 2.8,
                markerfacecolor="white", markeredgecolor="black", markeredgewidth=0.5, zorder=5)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(min(loc["lon"].min(), 95) - 1.5, max(loc["lon"].max(), 123) + 1.5)
    ax.set_ylim(loc["lat"].min() - 3.5, loc["lat"].max() + 2.5)


def width(value: float, top: float) -> float:
    """Line width (pt) of a leg with ``value`` travellers when the busiest has ``top``."""
    return 0.25 + (MAX_WIDTH - 0.25) * abs(value) / top


def width_keys(top: float) -> list[float]:
    """Round traveller numbers for the legend's width key of a panel whose busiest leg has ``top`` (largest first)."""
    return sorted({_nice(top), _nice(top / 5)} - {0.0}, reverse=True)


def _draw_legs(ax, data: pd.DataFrame, column: str, top: float, color, linestyle="-") -> None:
    d = data[data[column].abs() > 0].sort_values(column, key=np.abs)
    for r in d.itertuples():
        ax.plot([r.from_lon, r.to_lon], [r.from_lat, r.to_lat], color=color(getattr(r, column)) if callable(color) else color,
                linewidth=width(getattr(r, column), top), linestyle=linestyle(getattr(r, column)) if callable(linestyle) else linestyle,
                alpha=0.85, zorder=3, solid_capstyle="round")


@style.styled
def route_flow(world, reference: pd.DataFrame, scenario: pd.DataFrame, names: tuple[str, str],
               replicates: tuple[int, int] = (1, 1), years: tuple[int, int] | None = None,
               provenance: str = "", color: str = style.PALETTE[1]) -> style.Drawn:
    """Map of travellers per leg: reference, scenario, difference.

    Args:
        world: the :class:`sim.world.World` both ran in.
        reference, scenario: route tables (``year, from, to, mode, travellers``; with ``replicate``
            for several runs, which are averaged).
        names: (reference, scenario) names for titles and the file name ``route_flow_<scenario>``.
        replicates: runs behind each table (for the caption).
        years: first and last year (by year of setting out) summed; default all.
        provenance: sentence added to the caption (seed, code version).
    """
    ref_means, sc_means = route_means(reference, years), route_means(scenario, years)
    data = route_flow_data(world, ref_means, sc_means)
    loc = _locations(world)
    top = float(max(data["travellers_reference"].max(), data["travellers_scenario"].max(), 1e-9))
    top_diff = float(max(data["difference"].abs().max(), 1e-9))
    fig = style.figure(style.DOUBLE, height=3.3)
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    span = f"{years[0]}-{years[1]}" if years else "all years"
    if years and years[0] == years[1]:
        span = str(years[0])
    titles = [scenario_label(names[0]), scenario_label(names[1]),
              f"{scenario_label(names[1])} \u2212 {scenario_label(names[0])}"]
    for i, ax in enumerate(axes):
        _draw_base(ax, world, loc, data)
        if i == 0:
            _draw_legs(ax, data, "travellers_reference", top, "0.2")
        elif i == 1:
            _draw_legs(ax, data, "travellers_scenario", top, color)
        else:
            _draw_legs(ax, data, "difference", top_diff, lambda v: style.INCREASE if v > 0 else style.DECREASE,
                       lambda v: "-" if v > 0 else (0, (3, 1.2)))
        ax.set_title(titles[i])
        ax.set_xlabel("longitude (\u00b0E)")
        column = ("travellers_reference", "travellers_scenario", "difference")[i]
        arrivals = arrivals_by_country(world, data, column)
        sign = "+," if i == 2 else ","
        text = "arrivals at compounds:\n" + "  ".join(f"{c} {v:{sign}.0f}".replace("-", "\u2212") for c, v in arrivals.items())
        ax.text(0.02, 0.02, text, transform=ax.transAxes, fontsize=5.5, va="bottom", ha="left", color="0.2", zorder=6,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
    axes[0].set_ylabel("latitude (\u00b0N)")
    handles = [Line2D([], [], linestyle="none", marker=m, markerfacecolor="white", markeredgecolor="black",
                      markeredgewidth=0.5, markersize=4.5 if k == "destination" else 3) for k, m in KIND_MARKERS.items()]
    labels = [KIND_LABELS[k] for k in KIND_MARKERS]
    for v in width_keys(top):
        handles.append(Line2D([], [], color="0.2", linewidth=width(v, top)))
        labels.append(f"{v:,.0f} travellers")
    for v in width_keys(top_diff):  # the difference panel has its own width scale
        handles.append(Line2D([], [], color="0.6", linewidth=width(v, top_diff)))
        labels.append(f"\u00b1{v:,.0f} (right panel)")
    handles += [Line2D([], [], color=style.INCREASE, linewidth=1.5),
                Line2D([], [], color=style.DECREASE, linewidth=1.5, linestyle=(0, (3, 1.2)))]
    labels += ["more in scenario", "fewer in scenario"]
    fig.legend(handles, labels, loc="outside lower center", ncols=6)
    data.insert(0, "scenario", names[1])
    data.insert(0, "reference", names[0])
    caption = (
        f"**Route flows, {scenario_label(names[0])} vs {scenario_label(names[1])}** ({span}, by year of setting out). "
        "Each line is a leg of the world's route network (sim/data/world/routes.csv) between locations at their "
        "longitude and latitude; its width is proportional to the travellers who used it, summed over the years "
        f"shown and averaged over replicates ({replicates[0]} of {scenario_label(names[0])}, {replicates[1]} of "
        f"{scenario_label(names[1])}; same widths in the first two panels, widest = {top:,.0f} travellers). Right: "
        f"difference scenario minus reference (vermillion solid: more, blue dashed: fewer; widest = "
        f"{top_diff:,.0f}; its own width scale, keyed \u00b1 in the legend) - displacement between hubs, routes and destination countries. Means of replicate "
        "tables; no interval is drawn. Grey lines: legs nobody used. " + provenance
    )
    return style.Drawn(f"route_flow_{names[1]}", fig, data, caption.strip())


def route_flow_from_ensemble(results: EnsembleResults, scenario: str, routes: pd.DataFrame | None = None) -> style.Drawn:
    """Route-flow map of ``scenario`` against the reference of an ensemble, over the comparison window's years."""
    routes = results.routes() if routes is None else routes
    if routes is None:
        raise FileNotFoundError(f"{results.out_dir}: the ensemble's parts carry no route flows")
    years = (pd.Timestamp(results.window[0]).year, pd.Timestamp(results.window[1]).year)
    ref = routes[routes["scenario"] == results.reference]
    sc = routes[routes["scenario"] == scenario]
    if ref.empty or sc.empty:
        missing = results.reference if ref.empty else scenario
        raise FileNotFoundError(f"{results.out_dir}: no route tables of scenario {missing}")
    note = ""
    if pd.Timestamp(results.window[0]) != pd.Timestamp(f"{years[0]}-01-01"):
        note = f"Route tables are by calendar year: all of {years[0]} is shown although the window starts {results.window[0]}. "
    return route_flow(results.world, ref, sc, (results.reference, scenario),
                      (ref["replicate"].nunique(), sc["replicate"].nunique()), years, note + results.provenance(),
                      style.series_style(results.scenarios.index(scenario))["color"])
