"""Handlers of ``tipsim compare``, ``report``, ``sweep`` and ``collect`` (registered in :mod:`sim.cli`).

Each receives the validated configuration and the raw Hydra config of the command, calls
the ensemble API and prints. ``compare`` run with ``-m`` (Hydra multirun) is one job of a
sweep: it writes into the job's own subfolder of the sweep folder (``hydra.sweep.dir``)
and records the overrides it was given, which ``collect`` uses as the table's keys.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ..analysis.compare import format_table
from ..analysis.sweep import collect, design, parameter_ranges, point_overrides
from ..config import ConfigError, TipsimConfig
from ..folders import check_out_dir, folder_contents
from . import files, store
from .plan import plan, scenario_config, swept_values
from .runner import FORMAT, EnsembleFailed, Summary, run_ensembles
from .signals import Interrupted

ENSEMBLE_FORMAT = FORMAT.split("/")[0] + "/"


def _overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task)


def _header(manifest: dict) -> str:
    start, end = manifest["compare_window"]
    return (f"paired comparison vs {manifest['reference']}, window {start} .. {end}, "
            f"{manifest['replicates']} replicates (seed {manifest['seeds']['seed']}); "
            "effect = scenario - reference, summed over the window")


def _run(ensembles) -> list[Summary]:
    """Run the ensembles; if a task failed, print the first failure with a resume hint and exit with status 1;
    if a signal stopped the run, say so in one line and exit with status 128 + the signal's number."""
    try:
        return run_ensembles(ensembles)
    except EnsembleFailed as exc:
        print(f"tipsim: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Interrupted as exc:
        print(f"tipsim: {exc}", file=sys.stderr)
        sys.exit(128 + exc.signum)


def _is_ensemble(folder: Path) -> bool:
    """Whether ``folder`` is an ensemble folder (its manifest says so), which ``compare`` may resume."""
    try:
        manifest = store.read_manifest(folder)
    except ConfigError:
        return False
    if manifest is None:  # killed before its first manifest: only the lock, its own subfolders and temporaries
        own = {store.LOCK, "config", "parts"}
        return all(p.name in own or p.name.startswith(f".{store.MANIFEST}{files.TMP_MARK}") for p in folder.iterdir())
    return isinstance(manifest, dict) and str(manifest.get("format", "")).startswith(ENSEMBLE_FORMAT)


def _is_sweep(folder: Path) -> bool:
    """Whether ``folder`` is a ``tipsim sweep`` folder (its design.csv), which ``sweep`` may resume."""
    return (folder / "design.csv").is_file()


def compare_command(cfg: TipsimConfig, raw: DictConfig) -> None:
    hydra = HydraConfig.get()
    overrides = _overrides()
    multirun = hydra.mode == RunMode.MULTIRUN
    out_dir = hydra.runtime.output_dir if multirun else cfg.out_dir
    check_out_dir(out_dir, accept=_is_ensemble)
    if multirun:
        ensemble = plan(cfg, overrides, out_dir, sweep=swept_values(overrides))
    else:
        ensemble = plan(cfg, overrides, out_dir)
    summaries = _run([ensemble])
    print(_header(store.read_manifest(ensemble.out_dir)))
    print(format_table(summaries[0].comparison))
    print(f"results in {ensemble.out_dir} (comparison.csv, totals.parquet, trajectories.parquet, parts/daily, "
          "parts/routes)")


def report_command(cfg: TipsimConfig, raw: DictConfig) -> None:
    out = Path(cfg.out_dir)
    if not out.is_dir():
        raise ConfigError(f"out_dir = {out}: no such folder; give the out_dir of a `tipsim compare` run")
    manifest = store.read_manifest(out)
    if manifest is None:
        raise ConfigError(f"out_dir = {out}: no {store.MANIFEST}; give the out_dir of a `tipsim compare` run")
    if not _is_ensemble(out):
        raise ConfigError(f"out_dir = {out}: holds {folder_contents(out)}, not a comparison; give the out_dir of a "
                          "`tipsim compare` run")
    if not isinstance(manifest.get("counts"), dict) or not {"done", "tasks"} <= set(manifest["counts"]):
        raise ConfigError(f"out_dir = {out}: its {store.MANIFEST} lacks the task counts of a `tipsim compare` run")
    if manifest.get("status") != "complete":
        counts = manifest["counts"]
        raise ConfigError(f"out_dir = {out}: ensemble incomplete ({counts['done']} of {counts['tasks']} tasks done); "
                          "run the same `tipsim compare` command again to finish it")
    import pandas as pd

    try:
        header = _header(manifest)
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"out_dir = {out}: its {store.MANIFEST} lacks compare_window, reference, replicates or "
                          "seeds; not written by `tipsim compare`") from None
    if not (out / "comparison.csv").is_file():
        raise ConfigError(f"out_dir = {out}: no comparison.csv; run the same `tipsim compare` command again to rebuild it")
    print(header)
    print(format_table(pd.read_csv(out / "comparison.csv")))


def sweep_command(cfg: TipsimConfig, raw: DictConfig) -> None:
    overrides = _overrides()
    out = check_out_dir(cfg.out_dir, accept=_is_sweep).resolve()
    configs = [scenario_config(name, overrides) for name in cfg.scenarios]
    ranges = parameter_ranges(list(cfg.sweep.params), configs)
    points = design(ranges, cfg.sweep.design, cfg.sweep.n, cfg.seed)
    ensembles = [
        plan(cfg, overrides + point_overrides(row, ranges), out / f"point_{i:03d}", sweep=row.to_dict())
        for i, row in points.iterrows()
    ]
    store.write_table(out / "design.csv", points.rename_axis("point").reset_index())
    print(f"tipsim: {cfg.sweep.design} design of {len(points)} points over {len(ranges)} parameters "
          f"(design.csv); {len(ensembles[0].tasks)} tasks per point", file=sys.stderr)
    _run(ensembles)
    _print_collected(out)


def collect_command(cfg: TipsimConfig, raw: DictConfig) -> None:
    _print_collected(Path(cfg.out_dir))


def _print_collected(root: Path) -> None:
    """Gather a sweep folder's jobs, write collected.csv and collected_totals.parquet, print a summary."""
    import pandas as pd

    c = collect(root)
    store.write_table(root / "collected.csv", c.comparison)
    store.write_table(root / "collected_totals.parquet", c.totals)
    cols = [*c.keys, "scenario", "outcome", "effect_mean", "ci_low", "ci_high", "relative_change", "replicates_enough"]
    with pd.option_context("display.width", 250, "display.max_rows", 500, "display.max_columns", 20):
        print(c.comparison[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"{c.comparison['job'].nunique()} jobs keyed by {', '.join(c.keys) or '(nothing varies)'}; "
          f"written to {root / 'collected.csv'} and {root / 'collected_totals.parquet'}")
    if c.incomplete:
        print(f"tipsim: warning: left out unfinished jobs: {', '.join(c.incomplete)}", file=sys.stderr)
