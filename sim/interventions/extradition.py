"""Extradition / mutual legal assistance: recruiters and bosses abroad become prosecutable."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention
from .registry import register


@dataclass
class ExtraditionParams(Delivery):
    cost_per_year_usd: float = param(200000.0, "USD/year", "Cost of delivery at full intensity (treaty negotiation and case handling); no published costing.", bounds=(0, 1e12), plausible=(50000, 800000), source="assumed (order of magnitude)")
    arrest_rate_abroad: float = param(0.0005, "1/day", "Hazard, at full intensity, that a recruiter based abroad is arrested and surrendered.", bounds=(0, 1), plausible=(0.0001, 0.002))
    deterrence: float = param(0.2, "fraction", "Relative reduction of new recruiters entering, at full intensity.", bounds=PROBABILITY, plausible=(0.0, 0.5))


@register
class Extradition(Intervention):
    """An extradition treaty or working mutual legal assistance between Indonesia and Cambodia.

    Mechanism: adds an arrest hazard for recruiters based abroad (otherwise out of reach) and
    deters market entry of new recruiters. Source: no extradition treaty exists; only UNCAC
    art. 44 or ASEAN MLA (events.csv); effect sizes assumed.
    """

    name = "extradition"
    Params = ExtraditionParams

    def apply(self, levers, level: float) -> None:
        levers.add_rate("arrest_abroad", self.params.arrest_rate_abroad * level)
        levers.scale("recruiter_entry", 1.0 - self.params.deterrence * level)
