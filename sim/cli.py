"""Command-line entry points: ``tipsim <command> [key=value ...]`` (also ``python -m sim``).

Every command composes the Hydra configuration in ``configs/`` with the given overrides,
validates it (one clear error naming the key, before any work), then calls the API. Commands
stay thin: parse, call, print.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from .config import ConfigError, TipsimConfig, to_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"

def _schema() -> DictConfig:
    """The structured schema; its ``interventions`` subtree accepts new keys, so an override such as
    ``interventions.departure_screening.intensity=0.8`` adds or tunes an intervention without ``+``
    (each intervention's own fields are then checked against its schema)."""
    node = OmegaConf.structured(TipsimConfig)
    OmegaConf.set_struct(node.interventions, False)
    return node


ConfigStore.instance().store(name="tipsim_schema", node=_schema())


def load_config(overrides: list[str] | None = None) -> TipsimConfig:
    """Compose ``configs/config.yaml`` with ``overrides`` (``key=value`` strings) and validate it."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides or []))
    return to_config(cfg)


def _fail(exc: Exception) -> None:
    print(f"tipsim: error: {exc}", file=sys.stderr)
    sys.exit(2)


def _hydra_command(func):
    """Wrap ``func(cfg: TipsimConfig, raw: DictConfig)`` as a Hydra app on ``configs/config.yaml``."""

    @hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
    def app(raw: DictConfig) -> None:
        try:
            cfg = to_config(raw)
            func(cfg, raw)
        except ConfigError as exc:
            _fail(exc)

    return app


def _run(cfg: TipsimConfig, raw: DictConfig) -> None:
    from .run import simulate, write_run, yearly_summary

    result = simulate(cfg, progress=sys.stderr.isatty())
    out = write_run(result, cfg, cfg.out_dir)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(yearly_summary(result.daily).to_string())
    m = result.manifest
    print(
        f"\n{m['people_created']:,} people created; wall time {m['wall_time_s']:.1f} s; "
        f"peak memory {m['peak_memory_mb']:.0f} MiB"
    )
    print(f"results written to {out}")


def _targets(cfg: TipsimConfig, raw: DictConfig) -> None:
    from .analysis.targets import target_table
    from .run import run_replicates

    dailies = run_replicates(cfg, cfg.replicates, cfg.workers, progress=sys.stderr.isatty())
    table = target_table(dailies)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"scenario {cfg.scenario.name}, seed {cfg.seed}, replicates 0-{cfg.replicates - 1}")
    print(f"targets within tolerance: {int(table['within'].sum())}/{len(table)}")


def _docs(cfg: TipsimConfig, raw: DictConfig) -> None:
    from .docs import write_docs

    for path in write_docs(cfg, CONFIG_DIR.parent / "docs"):
        print(f"wrote {path}")


from .ensemble import commands as ensemble_commands  # noqa: E402  (handlers of compare, report, sweep, collect)
from .plots import commands as plot_commands  # noqa: E402  (handlers of figures, experiment)

COMMANDS = {
    "run": (_run, "run one simulation and write daily.parquet, config.yaml, manifest.json to out_dir"),
    "targets": (_targets, "run `replicates` seeds and compare with the public figures (sim/data/targets.csv)"),
    "docs": (_docs, "regenerate docs/parameters.md, docs/outputs.md and docs/interventions.md from the code"),
    "compare": (ensemble_commands.compare_command, "run `scenarios` x `replicates` (paired seeds) into out_dir and compare with the first scenario (-m: sweep)"),
    "report": (ensemble_commands.report_command, "reprint the comparison of a finished `compare` run: tipsim report out_dir=DIR"),
    "sweep": (ensemble_commands.sweep_command, "run the comparison at each point of a sweep.design (lhs, sobol, halton) over declared ranges"),
    "collect": (ensemble_commands.collect_command, "gather the jobs of a sweep folder into one table: tipsim collect out_dir=SWEEP_DIR"),
    "figures": (plot_commands.figures_command, "draw the publication figures of saved results into OUT_DIR/figures: tipsim figures out_dir=DIR"),
    "experiment": (plot_commands.experiment_command, "run a paper experiment (experiments/): tipsim experiment out_dir=results/experiments/E1"),
}


POSITIONAL = {"report": "out_dir", "collect": "out_dir", "figures": "out_dir", "experiment": "out_dir"}
"""Commands whose first bare argument is a folder (or, for experiment, the experiment's name):
``tipsim report DIR`` = ``tipsim report out_dir=DIR``; ``tipsim experiment E2`` runs E2 into results/experiments/E2."""


def usage() -> str:
    lines = ["usage: tipsim <command> [key=value ...]", "", "commands:"]
    lines += [f"  {name:<10} {doc}" for name, (_, doc) in COMMANDS.items()]
    lines += ["", "Overrides use Hydra syntax, e.g. `tipsim run seed=7 end_date=2021-12-31`."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"tipsim: error: unknown command {name!r}; known: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    func, _ = COMMANDS[name]
    if name in POSITIONAL and rest and "=" not in rest[0] and not rest[0].startswith("-"):
        rest[0] = f"{POSITIONAL[name]}='{rest[0]}'"  # `tipsim report DIR` means `tipsim report out_dir=DIR`
    sys.argv = [f"tipsim {name}", *rest]
    _hydra_command(func)()
    return 0
