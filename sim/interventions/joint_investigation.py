"""Joint investigations: bilateral operations against recruiter networks spanning both countries."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class JointInvestigationParams(Delivery):
    cost_per_year_usd: float = param(500000.0, "USD/year", "Cost of delivery at full intensity (joint teams and travel); no published costing.", bounds=(0, 1e12), plausible=(125000, 2e+06), source="assumed (order of magnitude)")
    countries: list[str] = eligibility(["KH"], "Destination countries taking part.")
    domestic_arrest_gain: float = param(0.5, "multiplier", "Relative increase, at full intensity, of arrests of recruiters in Indonesia.", bounds=(0, 100), plausible=(0.2, 2.0))
    arrest_rate_abroad: float = param(0.0003, "1/day", "Hazard, at full intensity, that a recruiter abroad is arrested by the partner police.", bounds=(0, 1), plausible=(0.0001, 0.001))
    raid_rate_gain: float = param(0.5, "multiplier", "Relative increase, at full intensity, of raids on compounds the networks supply.", bounds=(0, 100), plausible=(0.2, 2.0))


@register
class JointInvestigation(Intervention):
    """Bilateral MoU-based joint investigations against recruitment networks.

    Mechanism: more arrests of recruiters at home, arrests of recruiters abroad by the
    partner police, and more raids in the partner country. Source: Indonesian police -
    Cambodian Interior Ministry MoU on transnational crime, 21 Aug 2023 (events.csv); effects assumed.
    """

    name = "joint_investigation"
    Params = JointInvestigationParams

    def bind(self, world) -> None:
        self.where = self._countries(world, self.params.countries)

    def apply(self, levers, level: float) -> None:
        p = self.params
        levers.scale("arrest_domestic", 1.0 + p.domestic_arrest_gain * level)
        levers.add_rate("arrest_abroad", p.arrest_rate_abroad * level)
        levers.scale("raid_rate", 1.0 + p.raid_rate_gain * level, self.where)
