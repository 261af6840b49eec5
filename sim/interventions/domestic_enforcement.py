"""Domestic enforcement: an Indonesian police task force against trafficking recruiters."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import param
from .base import Delivery, Intervention
from .registry import register


@dataclass
class DomesticEnforcementParams(Delivery):
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
