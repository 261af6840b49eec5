"""The experiments of the paper: each is a list of tipsim commands (run, then figures).

``tipsim experiment out_dir=results/experiments/E2`` runs experiment E2 (the last component
of ``out_dir`` names the experiment) into that folder; ``make experiments`` runs them all.
Each experiment's README in ``experiments/`` shows the same commands (a test keeps them in
step), its question, expected runtime and figures.

Settings given with the command (``replicates=20``, ``workers=4``, ``executor=serial``,
``seed=7``, ...) replace the experiment's own in its run commands, e.g. for a quick smaller
version. An experiment may declare settings of its own (:attr:`Experiment.settings`, e.g.
E3's ``levels=0,0.5,1``, the intensities of its grid), which fill placeholders of its
commands. ``tipsim experiment`` does not compose a configuration itself (its arguments go to
the commands it runs), so comma lists such as ``levels=0,1`` or
``++interventions.joint_training.intensity=0,1`` reach the sweep as they are.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from ..interventions import REGISTRY

E2_SCENARIOS = ("baseline", *REGISTRY)
"""The baseline and one scenario per registered intervention (``configs/scenario/<name>.yaml``, each
from 2024-01-01), in registry order: a new intervention joins E2 without an edit here."""

E3_LEVELS = "0,0.25,0.5,0.75,1"
"""Intensities of departure screening and of joint training in the E3 grid (5 x 5 jobs)."""

E3_DROP = ("extradition", "intelligence_sharing", "awareness_campaign", "safe_migration_channel")
"""Interventions removed from the ``combined`` scenario in E3, leaving departure screening and joint training."""

RUN_COMMANDS = ("compare", "sweep")
"""Commands whose settings the user's overrides replace."""


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    question: str
    steps: tuple[tuple[str, ...], ...]
    """tipsim commands (without ``tipsim``); ``{out}`` is replaced by the experiment's folder."""
    tasks: int
    """Simulation tasks (full-horizon runs) of the default settings."""
    figures: tuple[str, ...]
    settings: dict[str, str] = field(default_factory=dict)
    """The experiment's own settings (name -> default), each filling the placeholder ``{name}`` of its steps;
    ``name=value`` given with ``tipsim experiment`` replaces the default."""

    def commands(self, out: str, extra: list[str] | tuple[str, ...] = ()) -> list[list[str]]:
        """The commands with ``{out}`` and the :attr:`settings` filled in and ``extra`` overrides replacing the
        experiment's own settings."""
        values = {**self.settings, "out": str(out)}
        overrides = []
        for e in extra:
            key, eq, value = e.partition("=")
            if eq and key in self.settings:
                values[key] = value
            else:
                overrides.append(e)
        cmds = []
        for step in self.steps:
            args = list(step)
            for name, value in values.items():
                args = [a.replace("{" + name + "}", value) for a in args]
            if args[0] in RUN_COMMANDS:
                args = merge_overrides(args, overrides)
            cmds.append(args)
        return cmds

    def shell(self, out: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
        """The commands as a user types them."""
        return ["tipsim " + " ".join(shlex.quote(a) for a in cmd) for cmd in self.commands(out, extra)]


def _key(arg: str) -> str | None:
    """The key an override sets (Hydra's parse: ``+``, ``++`` and ``~`` prefixes are not part of it); None for a
    command name or a flag such as ``-m``."""
    from ..ensemble.plan import override_key

    if arg.startswith("-") or ("=" not in arg and not arg.startswith("~")):
        return None
    return override_key(arg)


def merge_overrides(args: list[str], extra: list[str]) -> list[str]:
    """``args`` with every override of ``extra`` replacing the one of the same key (or appended)."""
    out = list(args)
    for e in extra:
        key = _key(e)
        hits = [i for i, a in enumerate(out) if key is not None and _key(a) == key]
        if hits:
            out[hits[0]] = e
            for i in reversed(hits[1:]):
                del out[i]
        else:
            out.append(e)
    return out


DEFAULT_ROOT = "results/experiments"

EXPERIMENTS: dict[str, Experiment] = {
    "E1": Experiment(
        "E1", "Baseline (what happened) vs no_policy vs public figures",
        "Does the calibrated baseline - the model with the real, dated 2022-2025 policy events - reproduce the public "
        "record (embassy cases, Indonesians in Cambodia, entries, screening stops), and what did the 2023-2025 policies "
        "change compared with a world without them?",
        (("compare", "scenarios=[no_policy,baseline]", "replicates=100", "compare_start=2023-01-01", "out_dir={out}"),
         ("figures", "out_dir={out}")),
        tasks=2 * 100,
        figures=("fan_* (with the public figures)", "forest", "cost_effectiveness", "stock_flow", "route_flow_baseline"),
    ),
    "E2": Experiment(
        "E2", "Each intervention alone from 2024, 200 replicates",
        "Which single intervention, added to what happened from 2024-01-01 at its default intensity, averts most "
        "victims over 2024-2025, at what cost, with which side effects (false-positive stops, displacement to "
        "Myanmar and Laos)?",
        (("compare", f"scenarios=[{','.join(E2_SCENARIOS)}]", "replicates=200", "out_dir={out}"),
         ("figures", "out_dir={out}")),
        tasks=len(E2_SCENARIOS) * 200,
        figures=("forest", "cost_effectiveness", "fan_* (small multiples)", "stock_flow", "route_flow_<scenario>"),
    ),
    "E3": Experiment(
        "E3", "Screening x joint training sweep",
        "How do departure screening at the Indonesian hubs and joint training of Cambodian police combine: is their "
        "joint effect on victims more or less than the sum of their parts, and what do they cost in false-positive "
        "stops and displacement?",
        (("compare", "-m", "hydra.sweep.dir={out}", "scenarios=[baseline,combined]", "scenario=combined",
          *(f"~interventions.{k}" for k in E3_DROP), "replicates=20",
          "++interventions.departure_screening.intensity={levels}",
          "++interventions.joint_training.intensity={levels}"),
         ("collect", "out_dir={out}"),
         ("figures", "out_dir={out}")),
        tasks=len(E3_LEVELS.split(",")) ** 2 * 2 * 20,
        figures=("sweep_heatmap_combined",),
        settings={"levels": E3_LEVELS},
    ),
    "E4": Experiment(
        "E4", "Combined portfolio with displacement",
        "Does the combined portfolio (departure screening, joint training, extradition, intelligence sharing, an "
        "awareness campaign and a safe migration channel, each at intensity 0.5 from 2024-01-01) reduce victims, or "
        "does it displace recruitment and trafficking to other hubs, routes and to Myanmar and Laos?",
        (("compare", "scenarios=[baseline,combined]", "replicates=100", "out_dir={out}"),
         ("figures", "out_dir={out}")),
        tasks=2 * 100,
        figures=("route_flow_combined", "forest", "fan_displacement", "fan_victims", "stock_flow",
                 "cost_effectiveness"),
    ),
}
"""The experiments, by name."""


def default_out(name: str) -> str:
    return f"{DEFAULT_ROOT}/{name}"


def resolve(out_dir: str) -> tuple[str, str]:
    """``(experiment name, results folder)`` of ``out_dir``: its last component names the experiment; a bare
    name (``E2``) means :func:`default_out` (``results/experiments/E2``)."""
    from pathlib import Path

    out = Path(out_dir)
    if out.name in EXPERIMENTS and str(out) == out.name:
        return out.name, default_out(out.name)
    return out.name, str(out)
