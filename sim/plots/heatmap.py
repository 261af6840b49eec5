"""Sweep heatmaps: an outcome's paired effect over two swept levers.

From a sweep folder (``tipsim compare -m ...`` with Hydra multirun, or ``tipsim sweep``),
gathered by :func:`sim.analysis.sweep.collect` (what ``tipsim collect`` writes as
``collected.csv``): for each combination of the two swept settings, the mean paired effect
of a scenario against the reference on an outcome over the comparison window. A grid of
settings (most combinations of the values present, :func:`is_grid`) is drawn as cells with
their values written in; scattered designs (Latin hypercube, Sobol', Halton - however few
points) as points coloured by the effect. Signed effects use a diverging colour map centred
on 0 with limits symmetric about it (:func:`colour_scale`); the cost per victim averted a
sequential one from 0. Every scale includes 0, so two close values are not stretched to the
ends of the colour map. The 95% CIs are in the CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Colormap, Normalize
from matplotlib.ticker import MaxNLocator

from ..analysis.compare import COST_PER_VICTIM, RESAMPLES
from ..analysis.sweep import collect
from ..config import ConfigError
from ..ensemble.files import read_manifest
from . import style
from .labels import lever_label, outcome_label, outcome_unit, scenario_label

OUTCOMES = ("victims", "displacement", "false_positive_stops", COST_PER_VICTIM)
"""Outcomes drawn by default (one panel each)."""

GRID_MAX = 15
"""A sweep with at most this many values per setting, every combination present at most once, may be a grid."""

NA_COLOUR = "0.85"
"""Colour of cells and points without a value (n/a)."""

GRID_FILL = 0.5
"""...and more than this share of the combinations of its values present (a grid with a failed job is still a
grid; a Latin hypercube of n points fills 1/n of its n x n combinations and is drawn as points)."""


@dataclass
class SweepResults:
    """The finished jobs of a sweep folder."""

    root: Path
    keys: list[str]
    """The settings that differ between jobs."""
    comparison: pd.DataFrame
    manifests: dict[str, dict]
    """Manifest of each finished job (by job folder name)."""
    incomplete: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return next(iter(self.manifests.values()))["reference"]

    @property
    def scenarios(self) -> list[str]:
        return list(next(iter(self.manifests.values()))["scenarios"])

    def provenance(self) -> str:
        reps = sorted({int(m["replicates"]) for m in self.manifests.values()})
        seeds = sorted({int(m["seeds"]["seed"]) for m in self.manifests.values()})
        windows = sorted({" to ".join(map(str, m["compare_window"])) for m in self.manifests.values()})
        commits = sorted({str(m.get("git_commit")) for m in self.manifests.values()})
        return (f"{len(self.manifests)} sweep jobs, each {'/'.join(map(str, reps))} replicates per scenario "
                f"(seed {', '.join(map(str, seeds))}; common random numbers within and across jobs); comparison window "
                f"{'; '.join(windows)}; git commit {', '.join(commits)}."
                + (f" Unfinished jobs left out: {', '.join(self.incomplete)}." if self.incomplete else ""))


def load_sweep(root: str | Path) -> SweepResults:
    """Gather a sweep folder's finished jobs (reads saved results; never runs anything)."""
    root = Path(root)
    try:
        c = collect(root)
    except ValueError as exc:  # e.g. a swept key named like a table column (see docs/figures.md)
        raise ConfigError(f"out_dir = {root}: cannot gather the sweep's jobs ({exc})") from None
    manifests = {}
    for job in dict.fromkeys(c.comparison["job"]):
        manifests[str(job)] = read_manifest(root / str(job))
    return SweepResults(root, list(c.keys), c.comparison, manifests, list(c.incomplete))


def is_grid(points: pd.DataFrame, keys: list[str]) -> bool:
    """Whether the settings form a grid: few distinct values, no combination repeated, most combinations present."""
    sizes = [points[k].nunique() for k in keys]
    combinations = int(np.prod(sizes)) if sizes else 0
    return (all(n <= GRID_MAX for n in sizes) and not points.duplicated(keys).any()
            and len(points) > GRID_FILL * combinations)


def colour_scale(values: np.ndarray, signed: bool) -> tuple[Colormap, Normalize]:
    """Colour map and normalisation of a panel.

    Signed effects: :data:`style.DIVERGING` centred on 0, limits symmetric (+-max|value|). One-signed
    quantities (cost per victim averted, unless it changes sign): :data:`style.SEQUENTIAL` from 0 to the
    largest value (or from the smallest to 0). Either way 0 is on the scale, so close values look close.
    """
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top or 1.0

    def cmap(name: str) -> Colormap:
        return colormaps[name].with_extremes(bad=NA_COLOUR)

    if signed or (finite.size and finite.min() < 0 < finite.max()):
        return cmap(style.DIVERGING), Normalize(-top, top)
    if finite.size and finite.max() <= 0:
        return cmap(style.SEQUENTIAL), Normalize(-top, 0.0)
    return cmap(style.SEQUENTIAL), Normalize(0.0, top)


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f}M".replace("-", "\u2212")
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k".replace("-", "\u2212")
    return (f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2g}").replace("-", "\u2212")


@style.styled
def sweep_heatmap(sweep: SweepResults, scenario: str | None = None, outcomes: tuple[str, ...] = OUTCOMES,
                  keys: list[str] | None = None) -> style.Drawn:
    """Panels of an outcome's mean paired effect over the two swept ``keys`` (default: the sweep's)."""
    keys = list(keys or sweep.keys)
    if len(keys) != 2:
        raise ConfigError(f"sweep heatmap: needs exactly two swept settings; {sweep.root} varies {len(keys)}"
                          + (f" ({', '.join(keys)})" if keys else ""))
    others = [s for s in sweep.scenarios if s != sweep.reference]
    scenario = scenario or others[0]
    c = sweep.comparison
    d = c[(c["scenario"] == scenario) & c["outcome"].isin(outcomes)]
    if d.empty:
        raise ConfigError(f"sweep heatmap: no results of scenario {scenario!r} in {sweep.root}")
    cols = [*keys, "job", "scenario", "outcome", "unit", "replicates", "effect_mean", "ci_low", "ci_high"]
    data = d[[x for x in cols if x in d.columns]].copy()
    for k in keys:
        data[k] = pd.to_numeric(data[k], errors="raise") if data[k].map(lambda v: isinstance(v, (int, float))).all() else data[k]
    data = data.sort_values([*keys, "outcome"], kind="stable").reset_index(drop=True)
    xk, yk = keys[1], keys[0]
    grid = is_grid(data[data["outcome"] == outcomes[0]], keys)
    n = len(outcomes)
    ncols = 2 if n > 1 else 1
    nrows = -(-n // ncols)
    fig = style.figure(style.DOUBLE if ncols > 1 else style.SINGLE, height=0.3 + 2.45 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_visible(False)
            continue
        outcome = outcomes[i]
        o = data[data["outcome"] == outcome]
        unit = outcome_unit(outcome)
        label = (f"cost per victim averted ({unit})" if outcome == COST_PER_VICTIM
                 else f"effect vs {scenario_label(sweep.reference)} ({unit})")
        values = o["effect_mean"].to_numpy(dtype=float)
        cmap, norm = colour_scale(values, signed=outcome != COST_PER_VICTIM)
        if grid:
            xs, ys = sorted(o[xk].unique()), sorted(o[yk].unique())
            table = o.pivot(index=yk, columns=xk, values="effect_mean").reindex(index=ys, columns=xs)
            mesh = ax.pcolormesh(np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5,
                                 np.ma.masked_invalid(table.to_numpy(dtype=float)), cmap=cmap, norm=norm,
                                 edgecolors="white", linewidth=0.5)
            for (r, cidx), v in np.ndenumerate(table.to_numpy(dtype=float)):
                colour = _text_colour(mesh.cmap(norm(v))) if np.isfinite(v) else "black"
                ax.text(cidx, r, _fmt(v), ha="center", va="center", fontsize=5.5, color=colour)
            ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in xs])
            ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in ys])
            ax.tick_params(length=0)
            for spine in ax.spines.values():
                spine.set_visible(False)
        else:
            mesh = ax.scatter(o[xk], o[yk], c=values, cmap=cmap, norm=norm, s=24, edgecolors="black",
                              linewidths=0.4, plotnonfinite=True, zorder=3)
            style.number_axis(ax.xaxis)
            style.number_axis(ax.yaxis)
        bar = fig.colorbar(mesh, ax=ax, shrink=0.9, aspect=25)
        bar.set_label(label)
        bar.outline.set_linewidth(0.4)
        bar.locator = MaxNLocator(nbins=5)
        bar.formatter = style.NumberFormatter()
        bar.update_ticks()
        ax.set_title(outcome_label(outcome))
        ax.set_xlabel(lever_label(xk))
        ax.set_ylabel(lever_label(yk))
    caption = (
        f"**Sweep of {lever_label(yk)} x {lever_label(xk)}**, scenario {scenario_label(scenario)} vs "
        f"{scenario_label(sweep.reference)}. Each {'cell' if grid else 'point'} is one sweep job: the mean over "
        "replicates of the paired difference scenario minus reference, summed over the comparison window (for cost "
        "per victim averted: mean extra cost / mean victims averted; n/a where no victim is averted on average). "
        f"Colours and numbers are means (signed effects on a diverging scale centred on 0: red more, blue fewer than "
        f"{scenario_label(sweep.reference)}; grey: n/a); their 95% bootstrap confidence intervals (BCa, {RESAMPLES:,} resamples) are "
        "in the CSV (ci_low, ci_high) - the uncertainty of each mean effect, not the spread of single runs. "
        f"Outcomes: {', '.join(outcome_label(o) for o in outcomes)}. " + sweep.provenance()
    )
    return style.Drawn(f"sweep_heatmap_{scenario}", fig, data, caption)
