"""ASEAN coordination: transit-state checks and ASEANAPOL joint operations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import PROBABILITY, param
from .base import Delivery, Intervention
from .registry import register


@dataclass
class AseanCoordinationParams(Delivery):
    cost_per_year_usd: float = param(1000000.0, "USD/year", "Cost of delivery at full intensity (transit checks and joint operations); no published costing.", bounds=(0, 1e12), plausible=(250000, 4e+06), source="assumed (order of magnitude)")
    transit_sensitivity: float = param(0.1, "probability", "Extra chance, at full intensity, that a transit state's exit check stops a would-be victim.", bounds=PROBABILITY, plausible=(0.02, 0.3))
    joint_raid_rate: float = param(0.0005, "1/day", "Extra raid hazard per compound from ASEANAPOL joint operations, at full intensity.", bounds=(0, 1), plausible=(0.0001, 0.002))


@register
class AseanCoordination(Intervention):
    """ASEAN-level coordination (ACTIP, Labuan Bajo declaration, ASEANAPOL).

    Mechanism: exit checks in transit states (Malaysia, Singapore, Thailand, Viet Nam) stop
    more would-be victims on their way to destinations, and joint operations add raids in
    every destination country. Sources: ACTIP 2015; Leaders' Declaration on trafficking
    caused by the abuse of technology, 10-11 May 2023 (events.csv); effects assumed.
    """

    name = "asean_coordination"
    Params = AseanCoordinationParams

    def bind(self, world) -> None:
        abroad = (world.location_dest_country < 0) & (world.country != "ID")
        self.where = np.flatnonzero(abroad & np.isin(world.kind, ("transit", "border")))

    def apply(self, levers, level: float) -> None:
        levers.add_chance("exit_detect", self.params.transit_sensitivity * level, self.where)
        levers.add_rate("raid_rate", self.params.joint_raid_rate * level)
