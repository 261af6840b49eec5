"""Command-line entry points: ``tipsim <command> [key=value ...]`` (also ``python -m sim``).

A command goes through three gates before any work starts, each failing with one line
``tipsim: error: ...`` and exit status 2:

1. :func:`screen` reads the arguments without importing the model or Hydra: options, overrides
   of Hydra itself (only the launcher choice and its plain fields may be set), ``_target_``
   anywhere, config-group choices that are not plain names, a missing results folder;
2. :func:`scan_config_files` reads the YAML files Hydra could compose from (the user's
   ``--config-dir`` and the data groups of ``configs/``) and refuses any ``hydra`` or
   ``_target_`` key in them, so a shared scenario file cannot run code (Hydra callbacks,
   launchers and ``instantiate`` all go through those keys; tipsim never instantiates objects
   named by configuration);
3. Hydra composes the configuration and :func:`sim.config.to_config` validates it; Hydra's
   own errors (an unknown key, a wrong type, an unknown scenario) are turned into the same
   one-line form by :func:`hydra_error_line`.

``tipsim <command> --help`` prints that command's own help (:data:`COMMANDS`) and imports
nothing else, so it is instant. Handlers are imported only when their command runs.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import import_module
from pathlib import Path
from typing import NamedTuple

PACKAGE_DIR = Path(__file__).resolve().parent


def _config_dir() -> Path:
    """``configs/`` shipped in the package (a wheel install), else the repository's (a checkout)."""
    shipped = PACKAGE_DIR / "configs"
    return shipped if (shipped / "config.yaml").is_file() else PACKAGE_DIR.parent / "configs"


CONFIG_DIR = _config_dir()
"""The configuration tipsim composes from (Hydra's primary config folder)."""

USER_CONFIG_DIRS: list[Path] = []
"""Folders given with ``--config-dir`` to this command (extra scenarios, worlds, parameter sets)."""


def config_dirs() -> list[Path]:
    """Every folder configurations are composed from: the user's ``--config-dir`` and :data:`CONFIG_DIR`.

    Inside a Hydra app (also a job of a launcher in another process) the ``--config-dir`` is
    read from Hydra's record of its config sources.
    """
    dirs = list(USER_CONFIG_DIRS)
    if "hydra" in sys.modules:
        from hydra.core.hydra_config import HydraConfig

        if HydraConfig.initialized():
            dirs += [Path(s.path) for s in HydraConfig.get().runtime.config_sources
                     if s.provider == "command-line" and s.schema == "file"]
    return [*dict.fromkeys(dirs), CONFIG_DIR]


class ConfigRefused(Exception):
    """A command line or configuration file refused before Hydra sees it (one line, exit 2)."""


# --------------------------------------------------------------------------------------------
# Commands and their help
# --------------------------------------------------------------------------------------------


class Command(NamedTuple):
    handler: str
    """``module:function`` (relative to ``sim``), imported only when the command runs."""
    doc: str
    """One line for ``tipsim --help``."""
    keys: str
    """The main keys, for ``tipsim <command> --help``."""
    example: str


COMMANDS: dict[str, Command] = {
    "run": Command(
        ".cli:_run", "run one simulation and write daily.parquet, routes.parquet, config.yaml, manifest.json to out_dir",
        "out_dir (a new or empty folder; default results/<scenario>/<time>, or one folder per job with -m), "
        "scenario, seed, start_date, end_date (YYYY-MM-DD), write_people, params.<group>.<name>",
        "tipsim run scenario=departure_screening seed=7 end_date=2021-12-31 out_dir=results/try1"),
    "targets": Command(
        ".cli:_targets", "run `replicates` seeds and compare with the public figures (sim/data/targets.csv)",
        "replicates, seed, workers, executor (serial, processes, dask), params.<group>.<name>",
        "tipsim targets replicates=5 workers=2"),
    "docs": Command(
        ".cli:_docs", "regenerate docs/parameters.md, docs/outputs.md and docs/interventions.md from the code",
        "(none)", "tipsim docs"),
    "compare": Command(
        ".ensemble.commands:compare_command",
        "run `scenarios` x `replicates` (paired seeds) into out_dir and compare with the first scenario (-m: sweep)",
        "scenarios=[reference,other,...], replicates, seed, compare_start, end_date, out_dir (new, empty or the same "
        "compare folder to resume; default results/compare/<time>), executor, workers; --config-dir DIR adds your own scenario files",
        "tipsim compare 'scenarios=[baseline,departure_screening]' replicates=10 out_dir=results/screening"),
    "report": Command(
        ".ensemble.commands:report_command", "reprint the comparison of a finished `compare` run: tipsim report DIR",
        "out_dir (or the folder as the first argument): a `tipsim compare` folder", "tipsim report results/screening"),
    "sweep": Command(
        ".ensemble.commands:sweep_command",
        "run the comparison at each point of a sweep.design (lhs, sobol, halton) over declared ranges",
        "sweep.design, sweep.n, sweep.params=[params.<group>.<name>,...], scenarios, replicates, "
        "out_dir (default results/sweep/<time>)",
        "tipsim sweep sweep.design=lhs sweep.n=8 'sweep.params=[params.compounds.growth_rate]' "
        "'scenarios=[baseline,departure_screening]' replicates=4 out_dir=results/sweep1"),
    "collect": Command(
        ".ensemble.commands:collect_command", "gather the jobs of a sweep folder into one table: tipsim collect SWEEP_DIR",
        "out_dir (or the folder as the first argument): a sweep folder (`tipsim sweep` or `tipsim compare -m`)",
        "tipsim collect results/sweep1"),
    "figures": Command(
        ".plots.commands:figures_command", "draw the publication figures of saved results into DIR/figures: tipsim figures DIR",
        "out_dir (or the folder as the first argument): a `tipsim compare` folder or a sweep folder",
        "tipsim figures results/screening"),
    "experiment": Command(
        ".plots.commands:experiment_command", "run a paper experiment (experiments/): tipsim experiment E1",
        "out_dir (its last component names the experiment: E1 .. E4), replicates, workers; without out_dir: the list",
        "tipsim experiment E1 replicates=3"),
}

WITHOUT_HYDRA = ("experiment",)
"""Commands that compose no configuration: their handler takes the overrides as typed (and ``--config-dir``) and
passes them to the commands it runs (so a comma list for a sweep is not Hydra's 'Ambiguous value')."""

POSITIONAL = {"report": "out_dir", "collect": "out_dir", "figures": "out_dir", "experiment": "out_dir"}
"""Commands whose first bare argument is a folder (or, for experiment, the experiment's name):
``tipsim report DIR`` = ``tipsim report out_dir=DIR``; ``tipsim experiment E2`` runs E2 into results/experiments/E2."""

NEEDS_FOLDER = ("report", "collect", "figures")
"""Commands that read a results folder and have no meaningful default for it."""

DEFAULT_OUT_DIRS = {"compare": "results/compare", "sweep": "results/sweep"}
"""Where ``compare`` and ``sweep`` write when no ``out_dir`` is given: a new folder named by the start
time under their own folder (``results/compare/<time>``), never among the run folders of
``tipsim run`` (``results/<scenario>/<time>``, the ``out_dir`` of ``configs/config.yaml``).
The folder is passed to Hydra as an ``out_dir=`` override, so the ensemble records it like one the
user gave, and giving it again resumes. ``compare -m`` writes into ``hydra.sweep.dir`` instead."""

TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"
"""The time stamp of default folders (as ``${now:...}`` in ``configs/config.yaml``)."""


def default_out_dir(name: str, overrides: list[str], multirun: bool) -> str | None:
    """The ``out_dir=`` override to add for command ``name``, or None (given, not needed, or a sweep job)."""
    if name not in DEFAULT_OUT_DIRS or multirun or any(o.partition("=")[0].lstrip("+") == "out_dir" for o in overrides):
        return None
    import time

    return f"out_dir={DEFAULT_OUT_DIRS[name]}/{time.strftime(TIME_FORMAT)}"


def usage() -> str:
    lines = ["usage: tipsim <command> [key=value ...]", "", "commands:"]
    lines += [f"  {name:<10} {c.doc}" for name, c in COMMANDS.items()]
    lines += ["", "Overrides use Hydra syntax, e.g. `tipsim run seed=7 end_date=2021-12-31`.",
              "`tipsim <command> --help` describes one command. Options: -m (sweep the comma-separated values), "
              "--config-dir DIR (your own scenario/world/params files), --cfg job (print the configuration)."]
    return "\n".join(lines)


def command_help(name: str) -> str:
    c = COMMANDS[name]
    return "\n".join([f"usage: tipsim {name} [key=value ...]", "", c.doc, "", f"main keys: {c.keys}",
                      f"example:   {c.example}", "",
                      "Every key and its allowed range: docs/parameters.md; bad values are refused with one line "
                      "naming the key (exit 2) before any work."])


# --------------------------------------------------------------------------------------------
# Gate 1: the arguments
# --------------------------------------------------------------------------------------------

OPTIONS_WITH_VALUE = ("--config-dir", "-cd", "--cfg", "-c", "--package", "-p")
OPTIONS_FLAG = ("-m", "--multirun", "--resolve", "--info", "-i")
OPTIONS_REFUSED = {
    "--config-path": "use --config-dir DIR", "-cp": "use --config-dir DIR",
    "--config-name": "tipsim always composes configs/config.yaml; add files with --config-dir DIR",
    "-cn": "tipsim always composes configs/config.yaml; add files with --config-dir DIR",
    "--experimental-rerun": "it loads a pickled configuration", "--shell-completion": "tab completion is not supported",
    "-sc": "tab completion is not supported", "--hydra-help": "see `tipsim <command> --help`",
}

GROUPS = ("world", "params", "scenario", "executor")
"""Config groups a user selects by name (``scenario=combined``)."""

DATA_GROUPS = (*GROUPS, "experiment", "calibration")
"""Groups of ``configs/`` whose files are data (scanned for ``hydra``/``_target_`` keys)."""

LAUNCHERS = ("basic", "joblib", "slurm", "submitit_local", "submitit_slurm")
LAUNCHER_FIELDS = (
    "timeout_min", "nodes", "tasks_per_node", "cpus_per_task", "gpus_per_node", "gpus_per_task", "mem_gb",
    "mem_per_cpu", "mem_per_gpu", "partition", "qos", "account", "constraint", "comment", "exclude", "gres",
    "array_parallelism", "max_num_timeout", "signal_delay_s", "additional_parameters", "name",
    "n_jobs", "backend", "prefer", "require", "verbose", "timeout", "pre_dispatch", "batch_size",
)
"""Plain fields of the submitit and joblib launchers that may be overridden (never ``_target_`` or ``setup``)."""

HYDRA_KEYS = ("hydra.sweep.dir", "hydra.sweep.subdir")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A safe name: it may become part of a path (scenario and world names, config-group choices)."""
OBJECT_KEYS = ("_target_", "_partial_", "_args_", "_recursive_", "_convert_")


def safe_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None and ".." not in value


class Screened(NamedTuple):
    overrides: list[str]
    config_dir: Path | None
    multirun: bool


def _check_override(text: str, multirun: bool) -> None:
    key, eq, value = text.partition("=")
    bare = key.lstrip("~+")
    if not eq and not key.startswith("~"):
        raise ConfigRefused(f"{text!r}: not a key=value override (or an option); see `tipsim <command> --help`")
    if "@" in bare:
        raise ConfigRefused(f"{key}: package overrides ('@') are not supported; set keys by their full name")
    parts = re.split(r"[./]", bare)
    if any(p in OBJECT_KEYS for p in parts) or any(k in value for k in OBJECT_KEYS):
        raise ConfigRefused(f"{key}: '_target_'-style keys are not allowed; tipsim never creates objects named by "
                            "configuration")
    if parts[0] == "hydra":
        ok = (bare == "hydra/launcher" and key == bare and all(v in LAUNCHERS for v in value.split(","))) or (
            bare.startswith("hydra.launcher.") and key == bare and parts[2] in LAUNCHER_FIELDS and len(parts) == 3
        ) or (bare in HYDRA_KEYS and key == bare)
        if not ok:
            raise ConfigRefused(
                f"{key}: Hydra's own settings cannot be changed from tipsim; allowed: "
                f"hydra/launcher={{{','.join(LAUNCHERS)}}}, hydra.launcher.<field> ({', '.join(LAUNCHER_FIELDS[:6])}, ...), "
                f"{', '.join(HYDRA_KEYS)}")
        return
    if "hydra" in parts:
        raise ConfigRefused(f"{key}: a key named 'hydra' is not allowed")
    if bare in GROUPS:
        allowed = ", ".join(group_options(bare))
        if key.startswith("~") or value in ("null", "None", "~", ""):
            shown = "(removed)" if key.startswith("~") else value or "''"
            raise ConfigRefused(f"{bare} = {shown}: a config group needs a name; allowed: {allowed}")
        choices = value.split(",") if multirun else [value]
        bad = [c for c in choices if not safe_name(c)]
        if bad:
            raise ConfigRefused(f"{bare} = {value}: not a config name (letters, digits, '_', '-', '.'); allowed: {allowed}")


def group_options(group: str) -> list[str]:
    """Names of the files of a config group in every config folder."""
    return sorted({p.stem for d in config_dirs() for p in (d / group).glob("*.yaml")})


def screen(name: str, args: list[str]) -> Screened:
    """Check the arguments of ``tipsim name`` before Hydra or the model is imported; raise ConfigRefused."""
    overrides: list[str] = []
    config_dir = None
    multirun = any(a in ("-m", "--multirun") for a in args)
    it = iter(args)
    for arg in it:
        opt, eq, inline = arg.partition("=")
        if arg.startswith("-"):
            if opt in OPTIONS_REFUSED:
                raise ConfigRefused(f"option {opt} is not supported: {OPTIONS_REFUSED[opt]}")
            if opt in OPTIONS_WITH_VALUE:
                value = inline if eq else next(it, None)
                if value is None:
                    raise ConfigRefused(f"option {opt} needs a value")
                if opt in ("--config-dir", "-cd"):
                    config_dir = Path(value).expanduser().resolve()
                    if not config_dir.is_dir():
                        raise ConfigRefused(f"--config-dir {value}: no such folder")
                continue
            if arg in OPTIONS_FLAG:
                continue
            raise ConfigRefused(f"unknown option {arg!r}; allowed: {', '.join(OPTIONS_FLAG + OPTIONS_WITH_VALUE)} "
                                "(and --help)")
        _check_override(arg, multirun)
        overrides.append(arg)
        key, _, value = arg.partition("=")
        if key == "hydra.sweep.dir" and multirun and "${" not in value:
            from .folders import check_out_dir  # Hydra creates it before any job: check it first

            check_out_dir(value, key, accept=lambda p: (p / "multirun.yaml").is_file())
    if name in NEEDS_FOLDER and not any(o.partition("=")[0].lstrip("+") == "out_dir" for o in overrides):
        raise ConfigRefused(f"give the results folder: tipsim {name} out_dir=DIR (or tipsim {name} DIR)")
    return Screened(overrides, config_dir, multirun)


# --------------------------------------------------------------------------------------------
# Gate 2: configuration files
# --------------------------------------------------------------------------------------------


def _package_header(text: str) -> str | None:
    m = re.search(r"^#\s*@package\s+(\S+)", text, re.MULTILINE)
    return m.group(1) if m else None


def _forbidden(node, path: str = "") -> str | None:
    """The first key path in a parsed YAML document naming Hydra or a Python object, else None."""
    if isinstance(node, dict):
        for k, v in node.items():
            key = str(k)
            here = f"{path}.{key}" if path else key
            words = re.split(r"[ ./:]+", key.strip("/"))
            if key in OBJECT_KEYS or "hydra" in words:
                return here
            if key == "defaults" and isinstance(v, list):
                for entry in v:
                    text = str(entry)
                    if "hydra" in text:
                        return f"defaults entry {text}"
            found = _forbidden(v, here)
            if found:
                return found
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found = _forbidden(v, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(node, str) and any(k in node for k in OBJECT_KEYS):
        return f"{path} (value {node!r})"
    return None


def check_config_file(path: Path, group: str) -> None:
    """Refuse a YAML file that configures Hydra or names a Python object (ConfigRefused)."""
    import yaml  # PyYAML (a dependency of OmegaConf); light to import

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = path.read_text(errors="replace")
    package = _package_header(text)
    where = f"{path}: "
    kind = f"{'an' if group[0] in 'aeiou' else 'a'} {group} file"
    if package and "hydra" in package:
        raise ConfigRefused(f"{where}'# @package {package}' is not allowed in {kind}; configuration files may "
                            "not configure Hydra")
    try:
        doc = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigRefused(f"{where}not valid YAML{line} ({getattr(exc, 'problem', None) or exc})") from None
    found = _forbidden(doc)
    if found:
        raise ConfigRefused(f"{where}key {found} is not allowed in {kind}: configuration files may not "
                            "configure Hydra or name Python objects (_target_)")


def scan_config_files(user_dir: Path | None) -> None:
    """Check every YAML file of the user's config folder and of the data groups of ``configs/``."""
    files: list[tuple[Path, str]] = []
    if user_dir is not None:
        for p in sorted(user_dir.rglob("*")):
            if p.suffix in (".yaml", ".yml") and p.is_file():
                rel = p.relative_to(user_dir)
                if rel.parts[0] == "hydra":
                    raise ConfigRefused(f"{p}: a hydra/ folder in --config-dir is not allowed (it would configure Hydra)")
                files.append((p, rel.parts[0] if len(rel.parts) > 1 else "configuration"))
    for group in DATA_GROUPS:
        files += [(p, group) for p in sorted((CONFIG_DIR / group).glob("*.y*ml"))]
    for path, group in files:
        check_config_file(path, group)


# --------------------------------------------------------------------------------------------
# Gate 3: Hydra's composition, validation, and the handlers
# --------------------------------------------------------------------------------------------


def register_schema() -> None:
    """Store the structured schema as ``tipsim_schema`` (``configs/config.yaml`` starts from it).

    Its ``interventions`` subtree accepts new keys, so an override such as
    ``interventions.departure_screening.intensity=0.8`` adds or tunes an intervention without
    ``+`` (each intervention's own fields are then checked against its schema).
    """
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    from .config import TipsimConfig

    node = OmegaConf.structured(TipsimConfig)
    OmegaConf.set_struct(node.interventions, False)
    ConfigStore.instance().store(name="tipsim_schema", node=node)


register_schema()  # cheap (no model import); also needed by callers that compose with Hydra's API directly


def load_config(overrides: list[str] | None = None):
    """Compose ``configs/config.yaml`` with ``overrides`` (``key=value`` strings) and validate it.

    Returns a :class:`sim.config.TipsimConfig`.
    """
    from hydra import compose, initialize_config_dir

    from .config import to_config

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides or []))
    return to_config(cfg)


def hydra_error_line(exc: Exception) -> str:
    """One line for an error raised by Hydra or OmegaConf while composing, naming the key and what is allowed."""
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    if isinstance(exc, MissingConfigException):
        missing = exc.missing_cfg_file or ""
        group, _, choice = missing.rpartition("/")
        if exc.options is not None and group:
            return f"{group} = {choice}: unknown {group} (no {group}/{choice}.yaml); allowed: {', '.join(exc.options)}"
        return str(exc).splitlines()[0]
    if isinstance(exc, OverrideParseException):
        return f"could not parse the overrides: {str(exc).splitlines()[0]} (quote values with spaces or commas)"
    cause = exc if isinstance(exc, OmegaConfBaseException) else exc.__cause__
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None) or ""
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and key:
            from .config import schema_keys

            allowed = schema_keys(key)
            return f"{key}: unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        msg = str(cause).splitlines()[0]
        return f"{key}: {msg}" if key else msg
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if first.startswith("Ambiguous value"):
        first += ": to sweep its values add -m; for a list write key=[a,b]"
    return first


def check_names(cfg) -> None:
    """Names that become parts of paths must be plain names (no '/', no '..')."""
    from .config import ConfigError

    for key, value in (("scenario.name", cfg.scenario.name), ("world.name", cfg.world.name)):
        if not safe_name(value):
            raise ConfigError(f"{key} = {value!r}: not a safe name (it names folders); use letters, digits, '_', '-', '.'")
    for value in cfg.scenarios:
        if not safe_name(value):
            raise ConfigError(f"scenarios: {value!r} is not a scenario name; use letters, digits, '_', '-', '.'")


def _fail(exc: Exception) -> None:
    print(f"tipsim: error: {exc}", file=sys.stderr)
    sys.exit(2)


def _hydra_command(func):
    """Wrap ``func(cfg: TipsimConfig, raw: DictConfig)`` as a Hydra app on ``configs/config.yaml``."""
    import hydra
    from omegaconf import DictConfig

    from .config import ConfigError, to_config

    @hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
    def app(raw: DictConfig) -> None:
        try:
            cfg = to_config(raw)
            check_names(cfg)
            func(cfg, raw)
            sys.stdout.flush()
        except ConfigError as exc:
            _fail(exc)
        except BrokenPipeError:  # caught here, before Hydra reports the job as failed
            _silence_stdout()

    return app


def _handler(name: str):
    module, _, func = COMMANDS[name].handler.partition(":")
    return getattr(import_module(module, __package__), func)


def _given(key: str) -> bool:
    """Whether the user set ``key`` on the command line of the running Hydra app."""
    from hydra.core.hydra_config import HydraConfig

    return any(o.split("=", 1)[0].lstrip("+~") == key for o in HydraConfig.get().overrides.task)


def _run(cfg, raw) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from .folders import check_out_dir
    from .run import simulate, write_run, yearly_summary

    out_dir = cfg.out_dir
    if HydraConfig.get().mode == RunMode.MULTIRUN and not _given("out_dir"):
        out_dir = HydraConfig.get().runtime.output_dir  # one folder per job: hydra.sweep.dir/<job number>
    check_out_dir(out_dir)
    result = simulate(cfg, progress=True)  # a bar on a terminal, log lines otherwise
    out = write_run(result, cfg, out_dir)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(yearly_summary(result.daily).to_string())
    m = result.manifest
    print(
        f"\n{m['people_created']:,} people created; wall time {m['wall_time_s']:.1f} s; "
        f"peak memory {m['peak_memory_mb']:.0f} MiB"
    )
    print(f"results written to {out}")


def _targets(cfg, raw) -> None:
    from .analysis.targets import target_table
    from .run import run_replicates

    dailies = run_replicates(cfg, cfg.replicates, cfg.workers, progress=True)
    table = target_table(dailies)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"scenario {cfg.scenario.name}, seed {cfg.seed}, replicates 0-{cfg.replicates - 1}")
    print(f"targets within tolerance: {int(table['within'].sum())}/{len(table)}")


def _docs(cfg, raw) -> None:
    from .config import ConfigError
    from .docs import write_docs

    docs = PACKAGE_DIR.parent / "docs"
    if not docs.is_dir():
        raise ConfigError(f"tipsim docs regenerates the docs/ folder of a source checkout; none at {docs}")
    for path in write_docs(cfg, docs):
        print(f"wrote {path}")


def _call_hydra(name: str, screened: Screened) -> None:
    """Run command ``name`` as a Hydra app; Hydra's composition errors become one line (exit 2)."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    func = _handler(name)
    full_error = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra raise instead of printing its multi-line report
    try:
        _hydra_command(func)()
    except (HydraException, OmegaConfBaseException) as exc:
        _fail(ConfigRefused(hydra_error_line(exc)))
    finally:
        if full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = full_error


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return code
    except BrokenPipeError:  # `tipsim ... | head`: the reader left; say nothing more
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush after a closed pipe goes nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _main(argv: list[str]) -> int:
    from .config import ConfigError

    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"tipsim: error: unknown command {name!r}; known: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    if any(a in ("-h", "--help") for a in rest):
        print(command_help(name))
        return 0
    if name in POSITIONAL and rest and "=" not in rest[0] and not rest[0].startswith("-"):
        rest[0] = f"{POSITIONAL[name]}='{rest[0]}'"  # `tipsim report DIR` means `tipsim report out_dir=DIR`
    try:
        screened = screen(name, rest)
        USER_CONFIG_DIRS[:] = [screened.config_dir] if screened.config_dir else []
        scan_config_files(screened.config_dir)
    except (ConfigRefused, ConfigError) as exc:
        _fail(exc)
    if name in WITHOUT_HYDRA:
        try:
            _handler(name)(screened.overrides, screened.config_dir)
        except ConfigError as exc:
            _fail(exc)
        return 0
    default = default_out_dir(name, screened.overrides, screened.multirun)
    if default:
        rest.append(default)
    sys.argv = [f"tipsim {name}", *rest]
    _call_hydra(name, screened)
    return 0
