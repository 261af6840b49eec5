"""Domestic enforcement: an Indonesian police task force against trafficking recruiters."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import param
from .base import Delivery, Intervention
from .registry import register


@dataclass
class DomesticEnforcementParams(Delivery):
    cost_per_year_usd: float = param(3000000.0, "USD/year", "Cost of delivery at full intensity (a police task force); no published costing.", bounds=(0, 1e12), plausible=(750000, 1.2e+07), source="assumed (order of magnitude)")
    arrest_gain: float = param(1.0, "multiplier", "Relative increase, at full intensity, of the arrest hazard of recruiters based in Indonesia.", bounds=(0, 100), plausible=(0.3, 3.0))


@register
class DomesticEnforcement(Intervention):
    """A police task force against recruiters in Indonesia (e.g. Satgas TPPO).

    Mechanism: multiplies the arrest hazard of recruiters based in Indonesia; those based
    abroad stay out of reach. Arrested recruiters are replaced by market entry when demand
    persists. Source: Satgas TPPO formed 5 Jun 2023 (events.csv); effect assumed.
    """

    name = "domestic_enforcement"
    Params = DomesticEnforcementParams

    def apply(self, levers, level: float) -> None:
        levers.scale("arrest_domestic", 1.0 + self.params.arrest_gain * level)
