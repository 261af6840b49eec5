"""Joint law-enforcement training: capacity building of destination police."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class JointTrainingParams(Delivery):
    cost_per_year_usd: float = param(300000.0, "USD/year", "Cost of delivery at full intensity (courses, trainers and travel); no published costing.", bounds=(0, 1e12), plausible=(75000, 1.2e+06), source="assumed (order of magnitude)")
    countries: list[str] = eligibility(["KH"], "Destination countries whose police are trained.")
    delay_days: float = param(180.0, "days", "Days from the start of training until skills are applied.", bounds=(0, 3650), plausible=(60, 365))
    half_life_days: float = param(365.0, "days", "Half-life of trained skills after the programme ends (no refresher).", bounds=(0, 36500), plausible=(180, 1095))
    identification_gain: float = param(0.3, "probability", "Extra chance, at full intensity, that a held person found in a raid is identified as a victim.", bounds=PROBABILITY, plausible=(0.1, 0.5))
    find_gain: float = param(0.15, "probability", "Extra chance, at full intensity, that a raid finds a worker.", bounds=PROBABILITY, plausible=(0.05, 0.3))
    raid_rate_gain: float = param(0.5, "multiplier", "Relative increase of the raid rate at full intensity.", bounds=(0, 100), plausible=(0.0, 1.5))
    leak_reduction: float = param(0.2, "fraction", "Relative reduction of leaked raids at full intensity.", bounds=PROBABILITY, plausible=(0.0, 0.5))


@register
class JointTraining(Intervention):
    """Indonesian-Cambodian capacity building for police (victim identification, investigation).

    Mechanism: after ``delay_days``, raises the chance that raids find workers and identify
    held people as victims (rescued instead of detained), raises the raid rate and lowers
    leaks; after the programme the skills fade with ``half_life_days`` unless refreshed (a
    later instance). Sources: MoU on capacity building 21 Aug 2023, training offered 11-15
    Jun 2024, joint forum on victim identification 7-8 Nov 2024 (events.csv); effect sizes assumed.
    """

    name = "joint_training"
    Params = JointTrainingParams

    def bind(self, world) -> None:
        self.where = self._countries(world, self.params.countries)

    def apply(self, levers, level: float) -> None:
        p = self.params
        levers.add_chance("identify_prob", p.identification_gain * level, self.where)
        levers.add_chance("find_prob", p.find_gain * level, self.where)
        levers.scale("raid_rate", 1.0 + p.raid_rate_gain * level, self.where)
        levers.scale("leak_prob", 1.0 - p.leak_reduction * level, self.where)
