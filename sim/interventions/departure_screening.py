"""Departure screening: exit-immigration profiling of would-be victims at Indonesian hubs."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class DepartureScreeningParams(Delivery):
    cost_per_year_usd: float = param(2000000.0, "USD/year", "Cost of delivery at full intensity (officers and profiling at the screening hubs); no published costing.", bounds=(0, 1e12), plausible=(500000, 8e+06), source="assumed (order of magnitude)")
    hubs: list[str] = eligibility([], "Hubs (location ids of kind 'hub') that screen; empty = all hubs.")
    sensitivity: float = param(0.3, "probability", "Chance that screening at full intensity stops a would-be victim (deceived first-timer) passing the hub.", bounds=PROBABILITY, plausible=(0.05, 0.6))
    false_positive_rate: float = param(0.0003, "probability", "Chance that screening at full intensity stops a legitimate traveller.", bounds=PROBABILITY, plausible=(0.00005, 0.002))


@register
class DepartureScreening(Intervention):
    """Exit-immigration officers profile departing Indonesians at the chosen hubs.

    Mechanism: raises the exit-check detection lever at those hubs (combined as an
    independent chance) and their false-positive lever; detection of a person also scales
    with their visibility (knowing and repeat migrants are coached and less visible).
    Recruiters learn interception rates per checkpoint and re-route through other hubs and
    transit countries (displacement; :mod:`sim.rules.travel`).
    Sources: Soekarno-Hatta stops 2,474 Jan-mid-Sep 2024 (targets.csv soetta_stops_2024);
    sensitivity and false-positive rate assumed.
    """

    name = "departure_screening"
    Params = DepartureScreeningParams

    def bind(self, world) -> None:
        hubs = self.params.hubs or [world.ids[h] for h in world.hubs]
        self.where = self._locations(world, hubs, "hubs", ("hub",))

    def apply(self, levers, level: float) -> None:
        levers.add_chance("exit_detect", self.params.sensitivity * level, self.where)
        levers.add_chance("exit_false_positive", self.params.false_positive_rate * level, self.where)
