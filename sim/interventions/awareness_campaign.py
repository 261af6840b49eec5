"""Awareness campaign: fewer people accept fake job offers in the targeted provinces."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class AwarenessCampaignParams(Delivery):
    cost_per_year_usd: float = param(2000000.0, "USD/year", "Cost of delivery at full intensity (media and community outreach); no published costing.", bounds=(0, 1e12), plausible=(500000, 8e+06), source="assumed (order of magnitude)")
    provinces: list[str] = eligibility([], "Origin provinces (location ids of kind 'origin') targeted; empty = all.")
    effect: float = param(0.3, "fraction", "Relative reduction, at full intensity, of the chance to accept a deceptive offer.", bounds=PROBABILITY, plausible=(0.05, 0.5))
    half_life_days: float = param(180.0, "days", "Half-life of the effect after the campaign ends.", bounds=(0, 36500), plausible=(90, 730))


@register
class AwarenessCampaign(Intervention):
    """Public awareness of fake online job offers (safe-migration messaging).

    Mechanism: multiplies the acceptance of deceptive offers in the targeted provinces by
    ``1 - effect * level``; disclosed offers (knowing migration) are not affected. The effect
    fades after the campaign. Effect size assumed.
    """

    name = "awareness_campaign"
    Params = AwarenessCampaignParams

    def bind(self, world) -> None:
        self.where = self._origins(world, self.params.provinces)

    def apply(self, levers, level: float) -> None:
        levers.scale("deceptive_acceptance", 1.0 - self.params.effect * level, self.where)
