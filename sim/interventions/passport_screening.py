"""Passport screening: postponement of passport issuance for suspected non-procedural migrants."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class PassportScreeningParams(Delivery):
    cost_per_year_usd: float = param(1000000.0, "USD/year", "Cost of delivery at full intensity (interviews at passport offices); no published costing.", bounds=(0, 1e12), plausible=(250000, 4e+06), source="assumed (order of magnitude)")
    provinces: list[str] = eligibility([], "Origin provinces (location ids of kind 'origin') whose offices screen; empty = all.")
    sensitivity: float = param(0.2, "probability", "Chance that a would-be victim applying for a passport is postponed, at full intensity.", bounds=PROBABILITY, plausible=(0.02, 0.5))


@register
class PassportScreening(Intervention):
    """Immigration offices postpone passports of applicants profiled as non-procedural migrants.

    Mechanism: raises the passport-postponement lever in the chosen provinces; a postponed
    recruit cannot leave and goes home (counted as ``passport_postponed``). Only recruits who
    still need a passport are exposed. Source: 2,433 postponements Jan-Nov 2024 nationally
    (targets.csv passport_postponed_2024); sensitivity assumed.
    """

    name = "passport_screening"
    Params = PassportScreeningParams

    def bind(self, world) -> None:
        self.where = self._origins(world, self.params.provinces)

    def apply(self, levers, level: float) -> None:
        levers.add_chance("passport_postpone", self.params.sensitivity * level, self.where)
