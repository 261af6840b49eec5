"""Sweeps: space-filling designs over declared parameter ranges, and gathering sweep jobs.

A design varies parameters over the ``plausible`` range declared with each parameter
(:func:`sim.params.param`): model parameters ``params.<group>.<name>`` and intervention
fields ``interventions.<key>.<field>``. Points come from :mod:`scipy.stats.qmc` (Latin
hypercube by default; scrambled Sobol' or Halton), seeded by the experiment seed, so a
design is reproducible. Integer parameters are rounded.

Every job of a sweep (a Hydra multirun job of ``tipsim compare -m ...`` or a design point
of ``tipsim sweep``) is an ensemble folder whose manifest records the values it was given
(``sweep``). :func:`collect` gathers the jobs of a sweep folder into one table keyed by the
values that differ between jobs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..config import ConfigError, TipsimConfig, parse_date
from ..ensemble.files import read_manifest
from ..params import iter_params
from .compare import replicates_enough


@dataclass(frozen=True)
class Range:
    """The plausible range of one parameter."""

    low: float
    high: float
    integer: bool


def _range(name: str, value: Any, meta: dict) -> Range:
    lo, hi = meta["plausible"]
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise ConfigError(f"sweep.params: {name} has no finite plausible range ({lo}, {hi})")
    return Range(float(lo), float(hi), isinstance(value, int) and not isinstance(value, bool))


def _scalar(value: Any, meta: dict) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and meta["unit"] != "date"


def parameter_ranges(names: list[str], configs: list[TipsimConfig]) -> dict[str, Range]:
    """Declared plausible ranges of ``names`` (empty: every scalar model parameter).

    An intervention field is looked up in the first of ``configs`` (the compared scenarios)
    that contains the intervention.
    """
    model = {f"params.{n}": (v, m) for n, v, m in iter_params(configs[0].params) if _scalar(v, m)}
    if not names:
        return {n: _range(n, v, m) for n, (v, m) in model.items()}
    out = {}
    for name in names:
        if name in model:
            out[name] = _range(name, *model[name])
        elif name.startswith("interventions."):
            out[name] = _range(name, *_intervention_param(name, configs))
        else:
            raise ConfigError(
                f"sweep.params: {name!r} is not a scalar model parameter (params.<group>.<name>) "
                "nor an intervention field (interventions.<key>.<field>)"
            )
    return out


def _intervention_param(name: str, configs: list[TipsimConfig]) -> tuple[Any, dict]:
    from ..interventions import build_interventions

    _, key, *rest = name.split(".")
    field_name = ".".join(rest)
    for cfg in configs:
        if key not in cfg.interventions:
            continue
        start, end = parse_date(cfg.start_date, "start_date"), parse_date(cfg.end_date, "end_date")
        iv = next(i for i in build_interventions(cfg.interventions, start, end) if i.key == key)
        for n, v, m in iter_params(iv.params):
            if n == field_name and _scalar(v, m):
                return v, m
        raise ConfigError(f"sweep.params: {name!r}: intervention {key} has no scalar field {field_name!r}")
    raise ConfigError(f"sweep.params: {name!r}: no compared scenario has intervention {key!r}")


def design(ranges: dict[str, Range], kind: str, n: int, seed: int) -> pd.DataFrame:
    """``n`` points of a ``kind`` design (lhs, sobol, halton) over ``ranges``: one column per parameter."""
    d = len(ranges)
    engines = {"lhs": qmc.LatinHypercube, "sobol": qmc.Sobol, "halton": qmc.Halton}
    unit = engines[kind](d, rng=np.random.default_rng(seed)).random(n)
    lows = [r.low for r in ranges.values()]
    highs = [r.high for r in ranges.values()]
    points = qmc.scale(unit, lows, highs) if d else unit
    frame = pd.DataFrame(points, columns=list(ranges))
    for name, r in ranges.items():
        if r.integer:
            frame[name] = frame[name].round().astype(int)
    return frame


def point_overrides(row: pd.Series, ranges: dict[str, Range]) -> list[str]:
    """Hydra overrides setting one design point's values."""
    return [f"{name}={int(v)}" if ranges[name].integer else f"{name}={float(v)!r}" for name, v in row.items()]


@dataclass
class Collected:
    """The jobs of a sweep folder gathered into one table."""

    keys: list[str]
    """Swept settings (those that differ between jobs): the leading columns of the tables."""
    comparison: pd.DataFrame
    totals: pd.DataFrame
    incomplete: list[str] = field(default_factory=list)
    """Job folders whose ensemble has not finished (left out)."""


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


NOT_SWEPT = ("scenario", "scenarios", "replicate", "replicates", "out_dir", "executor", "workers", "job")
"""Settings never used as sweep keys: bookkeeping, or names of columns of the collected tables."""


def collect(sweep_dir: str | Path) -> Collected:
    """Gather every finished job (subfolder with a complete ensemble) of ``sweep_dir``."""
    root = Path(sweep_dir)
    jobs = sorted(p.parent for p in root.glob("*/manifest.json"))
    if not jobs:
        raise ConfigError(f"out_dir = {root}: no sweep jobs found (subfolders with a manifest.json)")
    done, incomplete = [], []
    for job in jobs:
        manifest = read_manifest(job)
        (done if manifest.get("status") == "complete" else incomplete).append((job, manifest))
    if not done:
        raise ConfigError(f"out_dir = {root}: none of the {len(jobs)} jobs has finished")
    values = [{k: _cell(v) for k, v in m.get("sweep", {}).items()} for _, m in done]
    names = [k for k in dict.fromkeys(k for v in values for k in v) if k not in NOT_SWEPT]
    keys = [k for k in names if len({json.dumps(v.get(k), default=str) for v in values}) > 1] if len(done) > 1 else names
    comparison, totals = [], []
    for (job, _), vals in zip(done, values, strict=True):
        table = pd.read_csv(job / "comparison.csv")
        table["replicates_enough"] = replicates_enough(table)  # the current rule, also for jobs of older versions
        tables = ((comparison, table), (totals, pd.read_parquet(job / "totals.parquet")))
        for frames, table in tables:
            for i, k in enumerate(keys):
                table.insert(i, k, vals.get(k))
            table.insert(len(keys), "job", job.name)
            frames.append(table)
    return Collected(keys, pd.concat(comparison, ignore_index=True), pd.concat(totals, ignore_index=True),
                     [job.name for job, _ in incomplete])
