"""Intervention = eligibility x mechanism x delivery (docs/interventions.md; docs/ODD.md, section 7.15).

* **Delivery** (:class:`Delivery`, shared by all): ``start``/``end`` dates, ``delay_days``
  before the effect begins, linear ``ramp_days``, ``intensity`` (or coverage) in [0, 1], an
  optional piecewise-linear time ``profile`` multiplying the intensity (every multiplier times
  the intensity must lie within [0, 1], so the delivered level stays a coverage), a ``half_life_days``
  with which the effect fades after ``end`` (trained skills, awareness), and
  ``cost_per_year_usd`` accrued while it is delivered, in proportion to intensity.
* **Eligibility**: which hubs, checkpoints, provinces, platforms or countries it acts on
  (fields of each intervention's parameters, checked against the world).
* **Mechanism**: :meth:`Intervention.apply` changes the day's :class:`~sim.levers.Levers`
  through their combinators only; it never touches people, agents or outputs.

An intervention whose level is zero on a day is not applied at all, so an intervention with
intensity 0, or with a window outside the horizon, leaves a run bit-identical.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from .. import portable
from ..config import ConfigError, check_number, parse_date
from ..params import DAYS, MAX_MULTIPLIER, PROBABILITY, USD, iter_params, param


def eligibility(default: list[str], doc: str):
    """A list field naming who or where an intervention acts (locations, provinces, platforms, countries)."""
    return field(default_factory=lambda: list(default), metadata={"doc": doc})


@dataclass
class Delivery:
    """How an intervention is delivered over time (fields common to all interventions)."""

    type: str = ""
    """Registered intervention name; defaults to the key under ``interventions``."""
    start: str = "2024-01-01"
    end: str | None = None
    """Last day of delivery (inclusive); None = until the end of the horizon."""
    profile: list[Any] = field(default_factory=list)
    """Optional ``[[date, multiplier], ...]``: piecewise-linear multiplier on intensity; every
    multiplier times ``intensity`` must lie within [0, 1] (the delivered level is a coverage)."""
    intensity: float = param(1.0, "0-1", "Intensity or coverage of delivery.", bounds=PROBABILITY)
    ramp_days: float = param(0.0, "days", "Days over which the effect ramps up linearly from zero.", bounds=DAYS)
    delay_days: float = param(0.0, "days", "Days from start until the effect begins (e.g. training takes effect).", bounds=DAYS)
    half_life_days: float = param(0.0, "days", "Half-life with which the effect fades after end (0 = stops at once; 36500 = a century, for practical purposes permanent).", bounds=(0, 36500))
    cost_per_year_usd: float = param(0.0, "USD/year", "Cost of delivery at full intensity, per year.", bounds=USD)


class Intervention:
    """Base class. Subclasses set ``name``, ``Params`` (a Delivery subclass) and ``apply``."""

    name: ClassVar[str]
    Params: ClassVar[type[Delivery]]

    def __init__(self, key: str, params: Delivery, horizon_start: dt.date, n_days: int):
        self.key = key
        self.params = params
        self.levels, self.daily_cost = delivery_schedule(params, horizon_start, n_days, key)

    def bind(self, world) -> None:
        """Resolve eligibility (location, province, platform names) against the world."""

    def apply(self, levers, level: float) -> None:  # pragma: no cover - abstract
        """Change today's levers for an effect of strength ``level`` (> 0)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The intervention as recorded in the run manifest."""
        return {"key": self.key, "type": self.name, **dataclasses.asdict(self.params)}

    # helpers for eligibility lists -----------------------------------------------------------

    def _locations(self, world, names: list[str], field_name: str, kinds: tuple[str, ...]) -> np.ndarray:
        return np.array(
            [world.location_slot(n, f"interventions.{self.key}.{field_name}", kinds) for n in names], dtype=np.int64
        )

    def _countries(self, world, names: list[str]) -> list[int]:
        """Destination-country slots named in ``names`` (checked against the world's destination countries)."""
        check_choices(self.key, "countries", names, world.destination_countries)
        return [world.destination_countries.index(c) for c in names]

    def _origins(self, world, names: list[str]) -> np.ndarray:
        """Origin slots named in ``names`` (all origins if empty)."""
        if not names:
            return np.arange(len(world.origins))
        loc = self._locations(world, names, "provinces", ("origin",))
        return np.searchsorted(world.origins, loc)


def delivery_schedule(p: Delivery, horizon_start: dt.date, n_days: int, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Daily effect level (0..1) and daily cost (USD) of a delivery over the run horizon.

    Computed on a time axis that also covers a window lying partly or wholly outside the
    horizon, so an effect that started earlier (or is still fading) is right on day 0.
    """
    start = (parse_date(p.start, f"interventions.{key}.start") - horizon_start).days
    if p.end is None:  # open-ended: delivered to the end of the horizon (or not at all if it starts later)
        end = max(n_days - 1, start)
    else:
        end = (parse_date(p.end, f"interventions.{key}.end") - horizon_start).days
    if end < start:
        raise ConfigError(f"interventions.{key}.end = {p.end}: must not be before start ({p.start})")
    lo = min(0, start)
    t = np.arange(lo, max(n_days - 1, end) + 1, dtype=float)
    profile = np.ones(len(t))
    if p.profile:
        pts = []
        for i, item in enumerate(p.profile):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise ConfigError(f"interventions.{key}.profile[{i}] = {item!r}: must be [date, multiplier]")
            d = (parse_date(item[0], f"interventions.{key}.profile[{i}]") - horizon_start).days
            check_number(f"interventions.{key}.profile[{i}]", item[1], (0.0, MAX_MULTIPLIER), "multiplier")
            if p.intensity * item[1] > 1.0:
                raise ConfigError(
                    f"interventions.{key}.profile[{i}] = {list(item)!r}: multiplier {item[1]:g} x intensity "
                    f"{p.intensity:g} = {p.intensity * item[1]:g}; the delivered level must stay within [0, 1] "
                    f"(use a multiplier <= {1.0 / p.intensity:g})"
                )
            pts.append((d, float(item[1])))
        pts.sort()
        profile = np.interp(t, [d for d, _ in pts], [m for _, m in pts])
    delivered = (t >= start) & (t <= end)
    effect_start = start + p.delay_days
    if p.ramp_days > 0:
        ramp = np.clip((t - effect_start + 1) / p.ramp_days, 0.0, 1.0)
    else:
        ramp = (t >= effect_start).astype(float)
    level = np.where(delivered, p.intensity * profile * ramp, 0.0)
    if p.half_life_days > 0:
        after = t > end
        level[after] = level[end - lo] * portable.power(0.5, (t[after] - end) / p.half_life_days)
    cost = np.where(delivered, p.cost_per_year_usd / 365.0 * p.intensity * profile, 0.0)
    return level[-lo : n_days - lo], cost[-lo : n_days - lo]


def parse_params(cls: type[Intervention], key: str, spec: dict[str, Any]) -> Delivery:
    """Build and range-check an intervention's parameters; errors name ``interventions.<key>.<field>``."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(cls.Params), spec)
        params = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        sub = getattr(exc, "full_key", "") or ""
        msg = str(exc).splitlines()[0]
        if isinstance(exc, (ConfigKeyError, ConfigAttributeError)):
            msg += "; allowed: " + ", ".join(f.name for f in dataclasses.fields(cls.Params))
        raise ConfigError(f"interventions.{key}.{sub}: {msg}" if sub else f"interventions.{key}: {msg}") from None
    for name, value, meta in iter_params(params):
        values = value.items() if isinstance(value, dict) else [("", value)]
        for sub, v in values:
            check_number(f"interventions.{key}.{name}{'.' + sub if sub else ''}", v, meta["bounds"], meta["unit"])
    return params


def check_choices(key: str, field_name: str, values: list[str], allowed: tuple[str, ...]) -> None:
    """Every entry of ``values`` must be in ``allowed``."""
    for v in values:
        if v not in allowed:
            raise ConfigError(f"interventions.{key}.{field_name} = {v!r}: unknown; allowed: {', '.join(allowed)}")
