"""Handlers of ``tipsim figures`` and ``tipsim experiment`` (registered in :mod:`sim.cli`), and
:func:`draw_figures`, which they call.

``tipsim figures out_dir=DIR`` draws every figure that the saved results in ``DIR`` allow
into ``DIR/figures/`` (replacing what an earlier call drew there), with ``captions.md``.
Nothing is re-run. ``tipsim experiment out_dir=results/experiments/E2`` runs the commands of
experiment E2 (:mod:`sim.plots.experiments`); without ``out_dir`` it lists the experiments.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from ..config import ConfigError, TipsimConfig
from ..ensemble import files
from ..ensemble.plan import override_key
from ..job_progress import JobProgress
from .experiments import EXPERIMENTS, RUN_COMMANDS, default_out, resolve

# matplotlib and the figure modules are imported when a figure is drawn, so that every other
# tipsim command starts without them.

FIGURES = "figures"
CAPTIONS = "captions.md"


@dataclass
class Report:
    """What :func:`draw_figures` drew and left out."""

    folder: Path
    drawn: list[str] = field(default_factory=list)
    """Names (file stems) of the figures drawn."""
    skipped: list[str] = field(default_factory=list)
    """Figures not drawn, each with the reason."""


def _ensemble_figures(results, skipped: list[str]):
    """Yield the figures of an ensemble folder one by one (so only one is in memory at a time)."""
    from .costeffect import cost_effectiveness
    from .fan import DEFAULT_FANS, fan_chart
    from .forest import forest_plot
    from .labels import series
    from .routes import route_flow_from_ensemble
    from .stockflow import STAGES, stock_flow

    wanted = []
    for name, cumulative in DEFAULT_FANS:
        try:
            wanted.append(series(name, cumulative))
        except ConfigError:
            pass
    results.series(wanted + [series(name) for name, _ in STAGES])  # one pass over the parts for every time series
    for name, cumulative in DEFAULT_FANS:
        try:
            s = series(name, cumulative)
        except ConfigError as exc:
            skipped.append(f"fan chart of {name}: {exc}")
            continue
        values = results.series([s])
        if not values["value"].notna().any():
            skipped.append(f"fan chart of {s.key}: the results have no column {' + '.join(s.columns)}")
            continue
        yield fan_chart(results, s)
    yield forest_plot(results)
    yield cost_effectiveness(results)
    yield stock_flow(results)
    routes = results.routes()
    if routes is None:
        skipped.append("route-flow maps: the ensemble's parts carry no route flows (made by a tipsim version that did "
                       "not record them); run `tipsim compare` into a new out_dir to get them")
    else:
        for scenario in results.scenarios:
            if scenario != results.reference:
                try:
                    yield route_flow_from_ensemble(results, scenario, routes)
                except FileNotFoundError as exc:
                    skipped.append(f"route-flow map of {scenario}: {exc}")
    skipped.append("sweep heatmap: drawn from a sweep folder (`tipsim figures out_dir=SWEEP_DIR`), not from one ensemble")


def _sweep_figures(root: Path, skipped: list[str]):
    from .dose import sweep_dose_response
    from .heatmap import load_sweep, sweep_heatmap

    sweep = load_sweep(root)
    draw = {1: sweep_dose_response, 2: sweep_heatmap}.get(len(sweep.keys))
    if draw is None:
        skipped.append(f"sweep figures: a dose-response line needs one swept setting and a heatmap two; this sweep "
                       f"varies {len(sweep.keys)}" + (f" ({', '.join(sweep.keys)})" if sweep.keys else ""))
    else:
        for scenario in sweep.scenarios:
            if scenario != sweep.reference:
                yield draw(sweep, scenario)
    skipped.append("fan charts, forest plot, cost-effectiveness plane, stock-and-flow panel, route flows: drawn per "
                   "job (`tipsim figures out_dir=SWEEP_DIR/<job>`)")
    yield sweep  # the caller takes the provenance from it


def draw_figures(out_dir: str | Path, verify: bool = True, progress: bool | str = False) -> Report:
    """Draw every figure the saved results in ``out_dir`` allow into ``out_dir/figures/``.

    ``out_dir`` is an ensemble folder (``tipsim compare``) or a sweep folder (jobs of
    ``tipsim compare -m`` or ``tipsim sweep``). Figures are written into a temporary folder
    that then replaces ``figures/`` whole, so the folder never mixes two drawings. Raises a
    :class:`ConfigError` naming what is missing or foreign before anything is drawn.
    ``progress`` counts the figures drawn (:func:`sim.job_progress.resolve_mode`).
    """
    from .results import folder_kind, load_ensemble

    out = Path(out_dir)
    if not out.is_dir():
        raise ConfigError(f"out_dir = {out}: no such folder")
    kind = folder_kind(out)
    skipped: list[str] = []
    if kind == "sweep":
        items = list(_sweep_figures(out, skipped))
        sweep = items.pop()
        header = sweep.provenance()
        figures = iter(items)
    else:
        results = load_ensemble(out, verify=verify)  # raises the clear errors (run folders, missing files, ...)
        header = results.provenance()
        figures = _ensemble_figures(results, skipped)
    tmp = files.temporary_folder(out, f"{FIGURES}-partial")  # usual permissions, unlike mkdtemp's private folder
    report = Report(out / FIGURES)
    captions = []
    bar = JobProgress("figures", None, progress, "figure")
    try:
        for drawn in figures:
            drawn.save(tmp)
            bar.update(f"{drawn.name} drawn")
            report.drawn.append(drawn.name)
            captions.append((drawn.name, drawn.caption))
            drawn.fig.clear()
        (tmp / CAPTIONS).write_text(_captions(out, header, captions, skipped))
        _replace(tmp, out / FIGURES)
    finally:
        bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
        files.release(tmp)
    report.skipped = skipped
    return report


def _captions(out: Path, header: str, captions: list[tuple[str, str]], skipped: list[str]) -> str:
    from . import style

    lines = [
        f"# Figures of `{out.name}`",
        "",
        "Drawn by `tipsim figures` from the saved results in this folder (nothing was re-run). Each figure is in "
        f"{', '.join(f.upper() for f in style.FORMATS)} (PNG at {style.RC['savefig.dpi']} dpi), with the numbers "
        "behind it in the CSV of the same name. Bands around lines are **prediction bands** (the spread of single "
        "replicate trajectories); error bars on effects are **95% confidence intervals of mean paired effects**.",
        "",
        header,
        "",
    ]
    for name, caption in captions:
        lines += [f"## {name}", "", caption, "", f"Files: {', '.join(f'`{name}.{e}`' for e in (*style.FORMATS, 'csv'))}",
                  ""]
    if skipped:
        lines += ["## Not drawn", ""] + [f"* {s}" for s in skipped] + [""]
    return "\n".join(lines)


def _replace(new: Path, target: Path) -> None:
    """Put folder ``new`` in place of ``target`` (the old one is removed after the swap)."""
    old = None
    if target.exists():
        old = files.temporary_folder(target.parent, f"{FIGURES}-old")
        target.rename(old / FIGURES)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
        files.release(old)


def _given(key: str) -> bool:
    """Whether the user set ``key`` on the command line."""
    from hydra.core.hydra_config import HydraConfig

    return any(override_key(o) == key for o in HydraConfig.get().overrides.task)


def figures_command(cfg: TipsimConfig, raw: DictConfig) -> None:
    if not _given("out_dir"):
        raise ConfigError("give the results folder: tipsim figures out_dir=DIR (the out_dir of `tipsim compare`, or a "
                          "sweep folder)")
    from . import style

    report = draw_figures(cfg.out_dir, progress=True)  # a bar on a terminal, a log line per figure otherwise
    for name in report.drawn:
        print(f"{name}: {', '.join(f'{name}.{e}' for e in (*style.FORMATS, 'csv'))}")
    for note in report.skipped:
        print(f"tipsim: not drawn: {note}", file=sys.stderr)
    print(f"{len(report.drawn)} figures in {report.folder} (captions in {CAPTIONS})")


def experiment_command(overrides: list[str], config_dir: Path | None = None) -> None:
    """``tipsim experiment out_dir=... [settings]``: run the experiment's commands one after another.

    Called with the command line's overrides as typed, without composing a configuration (no Hydra app): the
    settings are the experiment's own (:attr:`Experiment.settings`) or overrides of the commands it runs, which
    check them (so comma lists such as ``levels=0,1`` reach a sweep unchanged). ``config_dir`` (``--config-dir``)
    is passed on to the run commands.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = {override_key(o): o for o in overrides}
    if "out_dir" not in parsed:
        print(list_experiments())
        return
    out_dir = OverridesParser.create().parse_override(parsed["out_dir"]).value()
    name, folder = resolve(str(out_dir))
    if name not in EXPERIMENTS:
        raise ConfigError(f"out_dir = {out_dir}: its last component names the experiment; known: "
                          f"{', '.join(EXPERIMENTS)} (e.g. out_dir={default_out('E1')})")
    out = Path(folder)
    extra = [o for o in overrides if override_key(o) != "out_dir"]
    exp = EXPERIMENTS[name]
    print(f"experiment {name}: {exp.title}", flush=True)
    for cmd, text in zip(exp.commands(str(out), extra), exp.shell(str(out), extra)):
        print(f"$ {text}", flush=True)
        options = ["--config-dir", str(config_dir)] if config_dir and cmd[0] in RUN_COMMANDS else []
        done = subprocess.run([sys.executable, "-m", "sim", cmd[0], *options, *cmd[1:]])
        if done.returncode != 0:
            print(f"tipsim: error: experiment {name} stopped: `{text}` exited with status {done.returncode}",
                  file=sys.stderr)
            sys.exit(done.returncode)
    print(f"experiment {name} done: results and figures in {out}")


def list_experiments() -> str:
    lines = ["usage: tipsim experiment out_dir=results/experiments/NAME [replicates=N workers=N ...]",
             "runs the experiment's commands (results, then figures) into out_dir; its last component names the "
             "experiment (a bare NAME means results/experiments/NAME). Experiments (experiments/<NAME>/README.md):", ""]
    for name, exp in EXPERIMENTS.items():
        lines.append(f"{name}  {exp.title} ({exp.tasks:,} full-horizon runs)")
        lines += [f"    {c}" for c in exp.shell(default_out(name))]
    return "\n".join(lines)
