"""Reading saved results for figures: ensemble folders, sweep folders, run folders.

Figures are drawn from saved results only; nothing here runs the model. An ensemble folder
(``tipsim compare``) is checked before anything is drawn (:func:`load_ensemble`): it must be
complete, hold every file its manifest lists, and its parts must be the bytes the ensemble
wrote (SHA-256 recorded in the manifest). A problem is one :class:`~sim.config.ConfigError`
naming every missing or foreign file. Manifests and digests are read with
:mod:`sim.ensemble.files`, parts with :mod:`sim.ensemble.store` (one Arrow dataset per
scenario), as the ensemble runner does.

Time series are read one scenario at a time, only the columns they need, and reduced at once
to periods (weeks or months, :class:`Periods`), so an ensemble of thousands of six-year runs
is summarised in little memory: only the per-period values of each replicate are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from ..analysis.compare import OUTCOMES
from ..config import ConfigError
from ..ensemble import files, store
from ..outputs import STOCK
from .labels import Series

ENSEMBLE_FORMAT = "tipsim-ensemble/"
COMPARISON_COLUMNS = ("scenario", "outcome", "unit", "replicates", "reference_mean", "scenario_mean", "effect_mean",
                      "ci_low", "ci_high", "relative_change", "replicates_enough")
TOTALS_COLUMNS = ("scenario", "replicate", *OUTCOMES)
ROUTE_COLUMNS = ("year", "from", "to", "mode", "travellers")
SHOW_MAX = 8
"""Longest list of file names in an error message."""

WEEKLY_UP_TO_DAYS = 366
"""Horizons up to this many days are shown by week, longer ones by month."""

DAYS_PER = {"week": 7.0, "month": 365.25 / 12}


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:SHOW_MAX])
    return shown + (f" and {len(names) - SHOW_MAX} more" if len(names) > SHOW_MAX else "")


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Periods:
    """Complete weeks (7-day blocks from the first day) or calendar months of a horizon.

    Periods cut by the start or end of the horizon are left out: a partial month summed
    as if it were whole would show a false dip.
    """

    unit: str
    """``week`` or ``month``."""
    start: np.ndarray
    """First day of each complete period (datetime64[D])."""
    end: np.ndarray
    """Last day of each complete period."""
    first: np.ndarray
    """Index (day of the horizon) of each period's first day."""
    last: np.ndarray
    """Index of each period's last day."""

    @classmethod
    def of(cls, dates, unit: str | None = None) -> Periods:
        d = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))).normalize()
        if unit is None:
            unit = "week" if len(d) <= WEEKLY_UP_TO_DAYS else "month"
        if unit == "week":
            label = np.arange(len(d)) // 7
            expected = np.full(len(d), 7)
        elif unit == "month":
            label = (d.year * 12 + d.month - 1).to_numpy()
            expected = d.days_in_month.to_numpy()
        else:
            raise ConfigError(f"period {unit!r}: use week or month")
        _, first, counts = np.unique(label, return_index=True, return_counts=True)
        last = first + counts - 1
        complete = counts == expected[first]
        first, last = first[complete], last[complete]
        days = d.to_numpy().astype("datetime64[D]")
        return cls(unit, days[first], days[last], first, last)

    def __len__(self) -> int:
        return len(self.first)

    @property
    def mid(self) -> np.ndarray:
        """Middle of each period (where per-period flows are plotted)."""
        return self.start.astype("datetime64[h]") + (self.end - self.start + np.timedelta64(1, "D")).astype("timedelta64[h]") // 2

    def reduce(self, daily: np.ndarray, kind: str, cumulative: bool) -> np.ndarray:
        """Per-period values of a daily series: sums of flows, end values of stocks, running totals."""
        if cumulative:
            return np.cumsum(daily)[self.last]
        if kind == STOCK:
            return daily[self.last]
        csum = np.concatenate([[0.0], np.cumsum(daily)])
        return csum[self.last + 1] - csum[self.first]

    def x(self, s: Series) -> np.ndarray:
        """Where each period's value is plotted: flows at the middle, stocks and running totals at the end."""
        return self.end.astype("datetime64[h]") + np.timedelta64(12, "h") if (s.kind == STOCK or s.cumulative) else self.mid


def period_values(daily: pd.DataFrame, specs: list[Series], periods: Periods) -> dict[str, np.ndarray]:
    """Per-period values of each series in one run's daily table (NaN for columns it lacks)."""
    out = {}
    for s in specs:
        present = [c for c in s.columns if c in daily.columns]
        if len(present) < len(s.columns):
            out[s.key] = np.full(len(periods), np.nan)
            continue
        values = daily[present].to_numpy(dtype=float).sum(axis=1)
        out[s.key] = periods.reduce(values, s.kind, s.cumulative)
    return out


MIN_BAND_RUNS = 20
"""Fewest runs behind a band labelled "90% prediction band" (and its 50% band).

With fewer runs the 5% and 95% quantiles are interpolations between the few most extreme runs
(with 4 runs, the "5%" quantile is 85% of the way from the lowest to the second lowest): the
band then says more than the runs know. Below this, figures draw the range of the n runs
(lowest to highest) and label it so, with n (:func:`prediction_bands`).
"""


def quantile_bands(values: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Median, 50% and 90% bands and the range (``min``, ``max``) across replicates of ``value``, per group of ``by``."""
    q = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
    names = ["min", "p05", "p25", "median", "p75", "p95", "max"]
    rows = []
    for keys, g in values.groupby(by, sort=False):
        v = g["value"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        qs = np.quantile(v, q) if v.size else [np.nan] * len(q)
        rows.append({**dict(zip(by, keys if isinstance(keys, tuple) else (keys,))), **dict(zip(names, qs)), "n": int(v.size)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Band:
    """A shaded band of a time-series figure: the columns it spans, its opacity and its legend label."""

    low: str
    high: str
    alpha: float
    label: str


def runs_text(n: pd.Series) -> str:
    """The runs per scenario and period behind bands, e.g. ``3`` or ``3-4``."""
    ns = sorted({int(x) for x in n if x > 0})
    if not ns:
        return "0"
    return str(ns[0]) if ns[0] == ns[-1] else f"{ns[0]}-{ns[-1]}"


def prediction_bands(n: pd.Series, widths: tuple[int, ...] = (90, 50)) -> list[Band]:
    """The bands to draw over runs ``n`` (per scenario and period), widest first.

    With at least :data:`MIN_BAND_RUNS` runs everywhere: the central ``widths`` % prediction
    bands (``p05-p95``, ``p25-p75``), labelled with n. With fewer: one band, the range of the n
    runs (``min-max``), labelled "range of the n runs".
    """
    from .style import BAND_ALPHA

    text = runs_text(n)
    positive = n[n > 0]
    if len(positive) and int(positive.min()) >= MIN_BAND_RUNS:
        cols = {90: ("p05", "p95"), 50: ("p25", "p75")}
        return [Band(*cols[w], BAND_ALPHA[w], f"{w}% prediction band ({text} runs)") for w in widths]
    return [Band("min", "max", BAND_ALPHA[90], f"range of the {text} runs")]


# --------------------------------------------------------------------------------------------
# Ensemble folders
# --------------------------------------------------------------------------------------------


@dataclass
class EnsembleResults:
    """A finished ``tipsim compare`` folder, checked (:func:`load_ensemble`)."""

    out_dir: Path
    manifest: dict
    comparison: pd.DataFrame
    totals: pd.DataFrame
    configs: dict[str, dict]
    """Resolved configuration of each scenario (``config/<scenario>.yaml``) as plain dicts."""
    _series: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def reference(self) -> str:
        return self.manifest["reference"]

    @property
    def scenarios(self) -> list[str]:
        """Scenarios in the order they were listed (the reference first)."""
        return list(self.manifest["scenarios"])

    @property
    def replicates(self) -> int:
        return int(self.manifest["replicates"])

    @property
    def seed(self) -> int:
        return int(self.manifest["seeds"]["seed"])

    @property
    def window(self) -> tuple[str, str]:
        """The comparison window (first and last day)."""
        start, end = self.manifest["compare_window"]
        return str(start), str(end)

    @property
    def horizon(self) -> tuple[str, str]:
        c = self.configs[self.reference]
        return str(c["start_date"]), str(c["end_date"])

    @cached_property
    def dates(self) -> pd.DatetimeIndex:
        start, end = self.horizon
        return pd.date_range(start, end, freq="D")

    @cached_property
    def periods(self) -> Periods:
        return Periods.of(self.dates)

    def provenance(self) -> str:
        """One line for captions: replicates, seed, window, code version, commit."""
        commit = self.manifest.get("git_commit") or "unknown"
        return (f"{self.replicates} replicates per scenario (seed {self.seed}; replicate r of every scenario shares its "
                f"random numbers); comparison window {self.window[0]} to {self.window[1]}; tipsim code version "
                f"{self.manifest.get('code_version', 'unknown')}, git commit {commit}.")

    def parts(self, scenario: str) -> list[tuple[int, Path]]:
        """(replicate, part path) of a scenario's finished tasks, by replicate."""
        tasks = [t for t in self.manifest["tasks"] if t["scenario"] == scenario and t["status"] == "done"]
        return [(int(t["replicate"]), self.out_dir / t["part"]) for t in sorted(tasks, key=lambda t: t["replicate"])]

    def series(self, specs: list[Series], scenarios: list[str] | None = None) -> pd.DataFrame:
        """Per-period values per replicate: ``scenario, replicate, series, period, value`` (long).

        Reads each scenario's parts once (one dataset, only the columns the series not read
        before need).
        """
        scenarios = list(scenarios or self.scenarios)
        todo = [s for s in dict.fromkeys(specs) if s.key not in self._series]
        if todo:
            columns = sorted({c for s in todo for c in s.columns})
            frames = {s.key: [] for s in todo}
            for name in self.scenarios:
                parts = self.parts(name)
                table = store.read_parts([path for _, path in parts], ["replicate", *columns])
                by_replicate = dict(iter(table.groupby("replicate", sort=False)))
                for replicate, path in parts:
                    daily = by_replicate.get(replicate, table.iloc[:0]).drop(columns="replicate")
                    if len(daily) != len(self.dates):
                        raise ConfigError(f"{path}: {len(daily)} days, expected {len(self.dates)} ({self.horizon[0]} .. "
                                          f"{self.horizon[1]}); not this ensemble's part")
                    for key, values in period_values(daily, todo, self.periods).items():
                        frames[key].append(pd.DataFrame({"scenario": name, "replicate": replicate, "series": key,
                                                         "period": np.arange(len(values)), "value": values}))
            for key, parts in frames.items():
                self._series[key] = pd.concat(parts, ignore_index=True)
        out = pd.concat([self._series[s.key] for s in dict.fromkeys(specs)], ignore_index=True)
        return out[out["scenario"].isin(scenarios)].reset_index(drop=True)

    def interventions(self, scenario: str) -> dict[str, dict]:
        """The interventions of a scenario (instance key -> settings), as resolved."""
        spec = self.configs[scenario].get("interventions") or {}
        return {k: dict(v) for k, v in spec.items() if v is not None}

    def routes(self) -> pd.DataFrame | None:
        """Travellers per year and route of every task (``scenario, replicate, seed, year, from, to, mode, travellers``),
        or None when the ensemble has no route-flow parts."""
        return read_ensemble_routes(self)

    @cached_property
    def world(self):
        """The world the reference scenario ran in (locations with coordinates, routes)."""
        from ..config import WorldConfig
        from ..world import World

        w = self.configs[self.reference].get("world") or {}
        return World(WorldConfig(**w))


def intervention_starts(results: EnsembleResults, scenarios: list[str] | None = None) -> pd.DataFrame:
    """Start dates of the interventions in which each scenario differs from the reference.

    Columns ``scenario, key, type, start, change`` (``added``: the scenario has it, ``changed``:
    set differently, ``removed``: the reference has it and the scenario not; then ``start`` is
    the reference's). Only starts inside the horizon.
    """
    ref = results.interventions(results.reference)
    rows = []
    lo, hi = (pd.Timestamp(d) for d in results.horizon)
    for name in scenarios or results.scenarios:
        if name == results.reference:
            continue
        own = results.interventions(name)
        for key in sorted(set(own) | set(ref)):
            if own.get(key) == ref.get(key):
                continue
            spec = own.get(key) or ref.get(key)
            change = "removed" if key not in own else ("added" if key not in ref else "changed")
            start = pd.Timestamp(str(spec.get("start") or "2024-01-01"))
            if lo <= start <= hi:
                rows.append({"scenario": name, "key": key, "type": spec.get("type") or key, "start": start,
                             "change": change})
    return pd.DataFrame(rows, columns=["scenario", "key", "type", "start", "change"])


def _single_run(path: Path) -> bool:
    return (path / "daily.parquet").exists()


def folder_kind(out: Path) -> str:
    """``ensemble`` (a ``tipsim compare`` folder), ``sweep`` (a folder of ensemble jobs), ``run`` or ``unknown``."""
    if (out / "manifest.json").exists():
        if _single_run(out):
            return "run"
        return "ensemble"
    if any(out.glob("*/manifest.json")):
        return "sweep"
    if _single_run(out):
        return "run"
    return "unknown"


def load_ensemble(out_dir: str | Path, verify: bool = True) -> EnsembleResults:
    """Check and open a finished ``tipsim compare`` folder.

    Raises one :class:`ConfigError` naming every problem of one kind: no such folder, not an
    ensemble folder (e.g. a ``tipsim run`` folder), an unfinished ensemble, files the
    manifest lists but that are missing, parts whose bytes differ from the SHA-256 recorded
    when they were written (``verify``), or tables that are not tipsim's.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise ConfigError(f"out_dir = {out}: no such folder")
    if not (out / "manifest.json").exists():
        if folder_kind(out) == "run":
            raise ConfigError(f"out_dir = {out}: a single `tipsim run` folder (daily.parquet) but no manifest.json; "
                              "figures need the out_dir of `tipsim compare` (or a sweep folder)")
        raise ConfigError(f"out_dir = {out}: missing manifest.json; not a tipsim results folder (give the out_dir of "
                          "`tipsim compare`, or a sweep folder)")
    manifest = files.read_manifest(out)
    if not str(manifest.get("format", "")).startswith(ENSEMBLE_FORMAT):
        what = "a single `tipsim run` folder" if "people_created" in manifest else "not a tipsim ensemble folder"
        raise ConfigError(f"{out / 'manifest.json'}: {what} (no format {ENSEMBLE_FORMAT}...); figures need the out_dir "
                          "of `tipsim compare` (or a sweep folder)")
    for key in ("status", "reference", "scenarios", "replicates", "seeds", "compare_window", "tasks"):
        if key not in manifest:
            raise ConfigError(f"{out / 'manifest.json'}: missing field {key!r}; not a tipsim ensemble manifest")
    if manifest["status"] != "complete":
        counts = manifest.get("counts", {})
        raise ConfigError(f"out_dir = {out}: ensemble {manifest['status']} ({counts.get('done', '?')} of "
                          f"{counts.get('tasks', '?')} tasks done); run the same `tipsim compare` command again "
                          "to finish it, then draw the figures")
    needed = {"comparison.csv": None, "totals.parquet": None}
    for name, info in manifest["scenarios"].items():
        needed[info.get("config", f"config/{name}.yaml")] = None
    tasks = manifest["tasks"]
    for t in tasks:
        needed[t["part"]] = t.get("sha256")
        if "routes" in t:
            needed[t["routes"]] = t.get("routes_sha256")
    missing = [name for name in needed if not (out / name).is_file()]
    if missing:
        raise ConfigError(f"out_dir = {out}: missing {len(missing)} file(s) that manifest.json lists: {_listing(missing)}; "
                          "run the same `tipsim compare` command (same out_dir) again to rebuild them")
    not_done = [t["label"] for t in tasks if t.get("status") != "done"]
    if not_done:
        raise ConfigError(f"out_dir = {out}: tasks not done although the manifest says complete: {_listing(not_done)}")
    if verify:
        changed = [name for name, sha in needed.items() if sha and files.sha256(out / name) != sha]
        if changed:
            raise ConfigError(f"out_dir = {out}: {len(changed)} part(s) differ from what the ensemble wrote (SHA-256 in "
                              f"manifest.json): {_listing(changed)}; foreign or modified files - re-run `tipsim compare` "
                              "into a new out_dir")
    comparison = _read_table(out / "comparison.csv", COMPARISON_COLUMNS)
    totals = _read_table(out / "totals.parquet", TOTALS_COLUMNS)
    scenarios = list(manifest["scenarios"])
    for name, table, expected in (("comparison.csv", comparison, set(scenarios) - {manifest["reference"]}),
                                  ("totals.parquet", totals, set(scenarios))):
        found = set(table["scenario"].astype(str))
        if found != expected:
            extra, lacking = sorted(found - expected), sorted(expected - found)
            what = "; ".join(p for p in (f"scenarios not in manifest.json: {', '.join(extra)}" if extra else "",
                                         f"lacks scenarios {', '.join(lacking)}" if lacking else "") if p)
            raise ConfigError(f"{out / name}: {what}; a foreign table - re-run `tipsim compare` to rebuild it")
    counts = totals.groupby("scenario").size()
    if (counts != manifest["replicates"]).any():
        raise ConfigError(f"{out / 'totals.parquet'}: {counts.to_dict()} rows per scenario, expected "
                          f"{manifest['replicates']}; a foreign table - re-run `tipsim compare` to rebuild it")
    configs = {}
    for name, info in manifest["scenarios"].items():
        path = out / info.get("config", f"config/{name}.yaml")
        try:
            configs[name] = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        except Exception as exc:  # noqa: BLE001 - any YAML problem is the same error for the user
            raise ConfigError(f"{path}: unreadable configuration ({str(exc).splitlines()[0]})") from None
        for key in ("start_date", "end_date", "interventions"):
            if key not in configs[name]:
                raise ConfigError(f"{path}: missing key {key!r}; not a tipsim configuration")
    return EnsembleResults(out, manifest, comparison, totals, configs)


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - unreadable is unreadable, whatever the parser says
        raise ConfigError(f"{path}: unreadable ({str(exc).splitlines()[0]}); re-run `tipsim compare` to rebuild it") from None
    lacking = [c for c in columns if c not in table.columns]
    if lacking:
        raise ConfigError(f"{path}: missing column(s) {', '.join(lacking)}; not a table written by `tipsim compare`")
    return table


# --------------------------------------------------------------------------------------------
# Route tables
# --------------------------------------------------------------------------------------------


def parts_without_routes(results: EnsembleResults) -> list[str]:
    """Daily parts (relative paths) of finished tasks that have no route-flow part (ensembles made before
    route flows were recorded)."""
    return [t["part"] for t in results.manifest["tasks"] if t.get("status") == "done" and "routes" not in t]


def read_ensemble_routes(results: EnsembleResults) -> pd.DataFrame | None:
    """Route flows of every task (``scenario, replicate, seed, year, from, to, mode, travellers``), read with
    :func:`sim.ensemble.read_routes`, or None when the ensemble has no route-flow parts."""
    if parts_without_routes(results):
        return None
    table = store.read_routes(results.out_dir)
    lacking = [c for c in ("scenario", "replicate", *ROUTE_COLUMNS) if c not in table.columns]
    if lacking:
        raise ConfigError(f"{results.out_dir}: route flows lack column(s) {', '.join(lacking)}")
    return table


def read_run(run_dir: str | Path) -> tuple[dict, pd.DataFrame | None]:
    """The manifest and route table (``routes.parquet``, None if absent) of a ``tipsim run`` folder."""
    out = Path(run_dir)
    if not (out / "manifest.json").exists() or not (out / "daily.parquet").exists():
        raise ConfigError(f"{out}: not a `tipsim run` folder (needs manifest.json and daily.parquet)")
    manifest = files.read_manifest(out)
    routes = out / "routes.parquet"
    return manifest, (pd.read_parquet(routes) if routes.exists() else None)
