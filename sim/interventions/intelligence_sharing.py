"""Intelligence sharing: data exchange between Indonesian and destination police and immigration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import PROBABILITY, param
from .base import Delivery, Intervention
from .registry import register


@dataclass
class IntelligenceSharingParams(Delivery):
    cost_per_year_usd: float = param(500000.0, "USD/year", "Cost of delivery at full intensity (liaison officers and data systems); no published costing.", bounds=(0, 1e12), plausible=(125000, 2e+06), source="assumed (order of magnitude)")
    recruiter_detection_gain: float = param(0.5, "multiplier", "Relative increase of the arrest hazard of recruiters in Indonesia, at full intensity.", bounds=(0, 100), plausible=(0.1, 1.5))
    checkpoint_detection: float = param(0.05, "probability", "Extra chance, at full intensity, that any exit or entry check stops a would-be victim (shared watch lists, document-fraud alerts).", bounds=PROBABILITY, plausible=(0.0, 0.2))
    rescue_speedup: float = param(1.0, "multiplier", "Relative increase, at full intensity, of the hazard that police locate a held person who asked for help.", bounds=(0, 100), plausible=(0.2, 3.0))


@register
class IntelligenceSharing(Intervention):
    """Police and immigration of Indonesia and the destination exchange intelligence.

    Mechanism: raises the arrest hazard of recruiters in Indonesia, adds a detection chance
    at every exit and entry check, and speeds up targeted rescues of people whose case the
    embassy holds. Sources: Jokowi-Hun Manet agreement to exchange intelligence 5 Mar 2024;
    bilateral immigration meetings 13 Mar 2024 and 19 May 2025 (events.csv); effects assumed.
    """

    name = "intelligence_sharing"
    Params = IntelligenceSharingParams

    def bind(self, world) -> None:
        passable = np.isin(world.kind, ("transit", "border"))
        self.exits = np.flatnonzero((world.kind == "hub") | (passable & (world.location_dest_country < 0)))
        self.entries = np.flatnonzero(passable & (world.location_dest_country >= 0))

    def apply(self, levers, level: float) -> None:
        p = self.params
        levers.scale("arrest_domestic", 1.0 + p.recruiter_detection_gain * level)
        levers.add_chance("exit_detect", p.checkpoint_detection * level, self.exits)
        levers.add_chance("entry_detect", p.checkpoint_detection * level, self.entries)
        levers.scale("targeted_rescue_rate", 1.0 + p.rescue_speedup * level)
