"""Safe migration channel: transparent legal labour migration as an alternative."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class SafeMigrationChannelParams(Delivery):
    cost_per_year_usd: float = param(5000000.0, "USD/year", "Cost of delivery at full intensity (placement services and subsidies); no published costing.", bounds=(0, 1e12), plausible=(1.25e+06, 2e+07), source="assumed (order of magnitude)")
    provinces: list[str] = eligibility([], "Origin provinces (location ids of kind 'origin') with the channel; empty = all.")
    uptake: float = param(0.15, "probability", "Chance, at full intensity, that someone about to accept an offer takes a legal job abroad instead.", bounds=PROBABILITY, plausible=(0.05, 0.4))


@register
class SafeMigrationChannel(Intervention):
    """Transparent legal labour migration (placement through the official channel).

    Mechanism: at the decision, a share of would-be recruits (deceived or knowing) take a
    legal job instead (state LEGAL). Uptake assumed.
    """

    name = "safe_migration_channel"
    Params = SafeMigrationChannelParams

    def bind(self, world) -> None:
        self.where = self._origins(world, self.params.provinces)

    def apply(self, levers, level: float) -> None:
        levers.add_chance("legal_channel", self.params.uptake * level, self.where)
