"""Immigration attaché at the embassy: faster case handling, documents and repatriation."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class ImmigrationAttacheParams(Delivery):
    cost_per_year_usd: float = param(150000.0, "USD/year", "Cost of delivery at full intensity (one attache posted abroad with support); no published costing.", bounds=(0, 1e12), plausible=(37500, 600000), source="assumed (order of magnitude)")
    countries: list[str] = eligibility(["KH"], "Countries whose Indonesian embassy gets an attaché.")
    processing_speedup: float = param(1.0, "multiplier", "Relative increase, at full intensity, of the repatriation and deportation-document hazards.", bounds=(0, 100), plausible=(0.3, 2.0))
    capacity_gain: float = param(0.5, "multiplier", "Relative increase, at full intensity, of the most repatriations per day.", bounds=(0, 100), plausible=(0.2, 1.0))
    report_gain: float = param(0.2, "multiplier", "Relative increase, at full intensity, of reports reaching the embassy (a known focal point).", bounds=(0, 100), plausible=(0.0, 0.5))


@register
class ImmigrationAttache(Intervention):
    """An Indonesian immigration attaché posted at KBRI Phnom Penh.

    Mechanism: speeds up shelter processing and repatriation (and the travel documents that
    deportation waits for), raises repatriation capacity and makes reporting easier. Source:
    recommended at the 1st bilateral immigration meeting 13 Mar 2024 and planned after the
    2nd on 19 May 2025 (events.csv); effects assumed.
    """

    name = "immigration_attache"
    Params = ImmigrationAttacheParams

    def bind(self, world) -> None:
        self.where = self._countries(world, self.params.countries)

    def apply(self, levers, level: float) -> None:
        p = self.params
        levers.scale("repatriation_speed", 1.0 + p.processing_speedup * level, self.where)
        levers.scale("deport_speed", 1.0 + p.processing_speedup * level, self.where)
        levers.scale("repatriation_capacity", 1.0 + p.capacity_gain * level, self.where)
        levers.scale("report_rate", 1.0 + p.report_gain * level, self.where)
