"""Planning an ensemble: each scenario's configuration and the task list, checked before any work.

Each scenario is composed from ``configs/`` exactly as ``tipsim run scenario=<name>`` would
be, with the command's overrides. An override of an intervention's field
(``interventions.<key>.<field>=...``, with or without Hydra's ``+``/``++`` prefix) applies to
the scenarios that contain intervention ``<key>`` and is left out for the others, so
``++interventions.departure_screening.intensity=0.8`` tunes the screening scenario without
adding screening to the baseline.

Everything here only reads: bad input (an unknown scenario, fewer than two scenarios, a
comparison window outside the horizon, scenarios whose seed or horizon differ, an
``out_dir`` holding another configuration's results) raises one :class:`ConfigError` before
any task runs and before anything is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import HydraException

from ..config import ConfigError, TipsimConfig, parse_date, to_config
from . import store
from .tasks import Task, code_version, fingerprint

PER_TASK = ("scenario",)
"""Overrides set per task by the ensemble itself (dropped from the user's overrides)."""


def config_dir() -> Path:
    """The ``configs/`` folder the CLI composes from."""
    from ..cli import CONFIG_DIR  # late import: sim.cli imports the ensemble commands

    return CONFIG_DIR


def known_scenarios() -> list[str]:
    """Names of the scenario configs (``configs/scenario/*.yaml`` and ``scenario/*.yaml`` of a ``--config-dir``)."""
    from ..cli import group_options

    return group_options("scenario")


def compose(overrides: list[str]) -> TipsimConfig:
    """Compose ``configs/config.yaml`` with ``overrides`` and validate it.

    Works both inside a running Hydra app (a CLI command, a multirun job) and outside one.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    try:
        if GlobalHydra.instance().is_initialized():
            raw = hydra_compose(config_name="config", overrides=overrides)
        else:
            with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
                raw = hydra_compose(config_name="config", overrides=overrides)
    except HydraException as exc:
        raise ConfigError(str(exc).split("\nConfig search path")[0].strip()) from None
    return to_config(raw)


def parse_overrides(overrides: list[str]) -> list[Override]:
    """Hydra's parse of ``key=value`` strings."""
    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except HydraException as exc:
            raise ConfigError(f"override {text!r}: {str(exc).splitlines()[0]}") from None
    return parsed


def override_key(text: str) -> str:
    """The key (or config group) an override sets, as Hydra parses it: ``+a.b=1``, ``++a.b=1``, ``~a.b`` -> ``a.b``."""
    return parse_overrides([text])[0].key_or_group


def _intervention_key(o: Override) -> str | None:
    parts = o.key_or_group.split(".")
    return parts[1] if parts[0] == "interventions" and len(parts) > 1 else None


def scenario_config(name: str, overrides: list[str]) -> TipsimConfig:
    """The resolved configuration of scenario ``name`` under the command's overrides."""
    parsed = parse_overrides(overrides)
    common = [o.input_line for o in parsed if o.key_or_group not in PER_TASK and _intervention_key(o) is None]
    base = [*common, f"scenario={name}"]
    cfg = compose(base)
    own = []
    for o in parsed:
        key = _intervention_key(o)
        if key is not None and key in cfg.interventions:
            own.append(o.input_line if o.type == OverrideType.DEL else "++" + o.input_line.lstrip("+"))
    return compose(base + own) if own else cfg


def swept_values(overrides: list[str]) -> dict[str, Any]:
    """``{key: value}`` of overrides (as a multirun job records the values it was given)."""
    return {o.key_or_group: o.value() for o in parse_overrides(overrides) if o.type != OverrideType.DEL}


def check_request(cfg: TipsimConfig) -> None:
    """Checks of the ensemble settings that ``sim.config.validate`` does not make."""
    known = known_scenarios()
    unknown = [s for s in cfg.scenarios if s not in known]
    if unknown:
        raise ConfigError(f"scenarios: unknown scenario {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    if len(set(cfg.scenarios)) != len(cfg.scenarios):
        raise ConfigError(f"scenarios = {list(cfg.scenarios)}: a scenario is listed twice")
    if len(cfg.scenarios) < 2:
        raise ConfigError(
            f"scenarios = {list(cfg.scenarios)}: a comparison needs the reference (first) and at least one "
            "other scenario, e.g. scenarios=[baseline,departure_screening]"
        )
    start, end = parse_date(cfg.start_date, "start_date"), parse_date(cfg.end_date, "end_date")
    window = parse_date(cfg.compare_start, "compare_start")
    if not start <= window <= end:
        raise ConfigError(f"compare_start = {cfg.compare_start}: must lie within the horizon {start} .. {end}")


@dataclass
class Ensemble:
    """One ensemble folder: the scenarios' configurations and its (scenario, replicate) tasks."""

    out_dir: Path
    cfg: TipsimConfig
    """The command's configuration (seed, replicates, scenarios, comparison window, executor)."""
    configs: dict[str, TipsimConfig]
    """Resolved configuration of each scenario, in the order of ``cfg.scenarios``."""
    overrides: list[str]
    sweep: dict[str, Any] = field(default_factory=dict)
    """Values this folder was given as one job of a sweep (empty outside sweeps)."""

    @property
    def reference(self) -> str:
        """The scenario the others are compared with: the first listed."""
        return self.cfg.scenarios[0]

    @cached_property
    def tasks(self) -> list[Task]:
        """Every (scenario, replicate) task, scenario-major."""
        out = []
        code = code_version()
        for name, cfg in self.configs.items():
            fp = fingerprint(cfg)
            for r in range(self.cfg.replicates):
                out.append(Task(name, r, dataclasses.replace(cfg, replicate=r), self.out_dir, fp, code))
        return out


def plan(cfg: TipsimConfig, overrides: list[str], out_dir: str | Path, sweep: dict[str, Any] | None = None) -> Ensemble:
    """Check the request and compose every scenario; reads only, writes nothing."""
    check_request(cfg)
    configs = {name: scenario_config(name, overrides) for name in cfg.scenarios}
    ref = configs[cfg.scenarios[0]]
    for name, c in configs.items():
        for key in ("seed", "start_date", "end_date"):
            if getattr(c, key) != getattr(ref, key):
                raise ConfigError(
                    f"scenario {name}: {key} = {getattr(c, key)} differs from {getattr(ref, key)} in "
                    f"{cfg.scenarios[0]}; paired scenarios must share seed and horizon"
                )
    out = Path(out_dir).resolve()
    ensemble = Ensemble(out, dataclasses.replace(cfg, out_dir=str(out)), configs, list(overrides), dict(sweep or {}))
    check_out_dir(ensemble)
    return ensemble


def check_out_dir(ensemble: Ensemble) -> None:
    """Refuse an ``out_dir`` whose manifest records other code or other configurations of the same scenarios."""
    manifest = store.read_manifest(ensemble.out_dir)
    if manifest is None:
        return
    if manifest.get("code_version") not in (None, code_version()):
        raise ConfigError(
            f"out_dir = {ensemble.out_dir}: its parts were made by other tipsim code (version "
            f"{manifest['code_version']}, now {code_version()}); use a new out_dir so results are not mixed"
        )
    recorded = {name: s["fingerprint"] for name, s in manifest.get("scenarios", {}).items()}
    for name, cfg in ensemble.configs.items():
        if name in recorded and recorded[name] != fingerprint(cfg):
            raise ConfigError(
                f"out_dir = {ensemble.out_dir}: holds results of scenario {name} under another configuration; "
                "use a new out_dir (or the same settings to resume)"
            )
