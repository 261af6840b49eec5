"""Running one simulation and writing its run folder.

A run folder holds ``daily.parquet`` (one row per day, columns in ``docs/outputs.md``),
``routes.parquet`` (travellers per year and route, for flow diagrams),
``config.yaml`` (the fully resolved configuration), ``manifest.json`` (seed, scenario,
interventions, package versions, git commit, wall time, peak memory, people created) and,
with ``write_people=true``, ``people.parquet`` (one row per person ever created).

Files are first written to a temporary folder beside ``out_dir`` and moved into place only
when all are complete, so a failed or interrupted run never leaves half-written files.
``out_dir`` must be new or empty (:func:`sim.folders.check_out_dir`, called before the simulation starts):
a run never overwrites or mixes with earlier results, whatever wrote them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from .config import TipsimConfig, check_memory, parallel_runs, to_yaml
from .folders import RUN_FORMAT, check_out_dir
from .job_progress import resolve_mode
from .lifecycle import State
from .model import TraffickingModel
from .world import World

PACKAGES = ("tipsim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "networkx")
SUMMARY_FLOWS = (
    "contacts", "recruited", "departures", "intercepted", "arrivals_compound", "new_victims", "rescued",
    "deported", "repatriated", "embassy_cases", "entries_KH", "recruiters_arrested",
)
SUMMARY_STOCKS = ("wni_in_KH", "exploited", "recruiters_active", "compounds_active")


@dataclass
class RunResult:
    """What a run produces in memory."""

    daily: pd.DataFrame
    manifest: dict
    people: pd.DataFrame | None = None
    routes: pd.DataFrame | None = None  # travellers per year and route (routes.parquet)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that determine results."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The git commit of the code (with '+dirty' if modified), or None outside a checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def simulate(cfg: TipsimConfig, world: World | None = None, people: bool | None = None,
             progress: bool | str = False, provenance: bool = True) -> RunResult:
    """Run one simulation in memory.

    Args:
        cfg: a run configuration (validated here, before any work).
        world: a loaded world to reuse across runs (loaded from ``cfg.world`` if omitted).
        people: also return the people table (default: ``cfg.write_people``).
        progress: show the progress over the days (:class:`sim.job_progress.JobProgress`):
            ``True`` a bar on a terminal and a log line every 10% of the days otherwise,
            or a mode (``bar``, ``log``, ``quiet``).
        provenance: record the git commit and package versions in the manifest (two ``git``
            subprocesses); ensemble tasks, whose manifest is not kept, pass False and the
            ensemble records them once.
    """
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    world = world if world is not None else World(cfg.world)  # its files are checked first
    check_memory(cfg)  # then refuse a run that cannot fit, before any work
    model = TraffickingModel(cfg, world)
    daily = model.run(progress)
    wall = time.perf_counter() - t0
    pop = model.population
    manifest = {
        "format": RUN_FORMAT,
        "scenario": cfg.scenario.name,
        "seed": cfg.seed,
        "replicate": cfg.replicate,
        "start_date": cfg.start_date,
        "end_date": cfg.end_date,
        "world": model.world.name,
        "interventions": [iv.describe() for iv in model.interventions],
        "people_created": int(pop.n),
        "people_by_state": {State(i).name.lower(): int(n) for i, n in enumerate(pop.state_counts())},
        "recruiters_created": int(model.recruiters.n),
        "compounds_created": int(model.compounds.n),
        "wall_time_s": round(wall, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "started_utc": started.isoformat(timespec="seconds"),
    }
    if provenance:
        manifest.update(git_commit=git_commit(), versions=package_versions())
    want_people = cfg.write_people if people is None else people
    return RunResult(daily, manifest, people_table(model) if want_people else None, model.route_table())


def _replicate_daily(args) -> pd.DataFrame:
    cfg, replicate = args
    return simulate(dataclasses.replace(cfg, replicate=replicate), provenance=False).daily


def run_replicates(cfg: TipsimConfig, n: int, workers: int | None = None,
                   progress: bool | str = False) -> list[pd.DataFrame]:
    """Daily tables of replicates 0..n-1 of ``cfg``, in replicate order.

    ``progress`` counts finished replicates (:func:`sim.job_progress.resolve_mode`: ``True`` is a
    bar on a terminal and one log line per replicate otherwise).

    Runs on the ensemble executor named by ``cfg.executor`` (serial, local processes or Dask;
    :mod:`sim.ensemble.executors`) with ``workers`` workers (default ``cfg.workers``, then
    the CPU count); the tables do not depend on the executor. Raises the first task error.
    """
    from .ensemble.executors import make_executor
    from .ensemble.progress import Progress

    check_memory(cfg, parallel_runs(cfg, n), tasks=n)
    out: list[pd.DataFrame | None] = [None] * n
    tasks = [(cfg, r) for r in range(n)]
    with make_executor(cfg.executor, workers or cfg.workers, n) as ex, Progress(n, resolve_mode(progress), "runs") as bar:
        for i, daily, error in ex.map_unordered(_replicate_daily, tasks):
            if error is not None:
                raise error
            out[i] = daily
            bar.update(f"replicate {i}", True)
    return out


def people_table(model: TraffickingModel) -> pd.DataFrame:
    """One row per person ever created: attributes, history counters and final state."""
    pop = model.population
    df = pd.DataFrame({name: getattr(pop, name) for name in pop.cols if name not in ("pos", "group")})
    df["state"] = pd.Categorical.from_codes(df["state"].astype(int), [s.name.lower() for s in State])
    df["origin"] = [model.world.ids[model.world.origins[o]] for o in df["origin"]]
    return df


def write_run(result: RunResult, cfg: TipsimConfig, out_dir: str | Path) -> Path:
    """Write a run folder atomically (temporary folder, then moved into place) into a new or empty ``out_dir``.

    Raises :class:`~sim.config.ConfigError` if ``out_dir`` is not empty (:func:`sim.folders.check_out_dir`).
    """
    out = check_out_dir(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        result.daily.to_parquet(tmp / "daily.parquet", index=False)
        if result.people is not None:
            result.people.to_parquet(tmp / "people.parquet", index=False)
        if result.routes is not None:
            result.routes.to_parquet(tmp / "routes.parquet", index=False)
        (tmp / "config.yaml").write_text(to_yaml(cfg))
        (tmp / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=str) + "\n")
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes the folder private; a run folder is shared like any folder
        if out.exists():
            out.rmdir()  # empty (checked above); fails rather than lose anything that appeared since
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def yearly_summary(daily: pd.DataFrame) -> pd.DataFrame:
    """Totals by year of the key flows, and year-end values of the key stocks."""
    year = daily["date"].dt.year
    flows = daily.groupby(year)[[c for c in SUMMARY_FLOWS if c in daily]].sum()  # a world without KH has no *_KH
    stocks = daily.groupby(year)[[c for c in SUMMARY_STOCKS if c in daily]].last().add_suffix("_end")
    out = flows.join(stocks)
    out.index.name = "year"
    return out
