"""Destination crackdown: a nationwide campaign against scam compounds."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class DestinationCrackdownParams(Delivery):
    cost_per_year_usd: float = param(2000000.0, "USD/year", "Cost of delivery at full intensity (support to raids, shelters and deportation); no published costing.", bounds=(0, 1e12), plausible=(500000, 8e+06), source="assumed (order of magnitude)")
    countries: list[str] = eligibility(["KH"], "Countries cracking down.")
    raid_rate: float = param(0.002, "1/day", "Extra raid hazard per compound at full intensity.", bounds=(0, 1), plausible=(0.0005, 0.01))
    leak_reduction: float = param(0.3, "fraction", "Relative reduction of leaked raids at full intensity.", bounds=PROBABILITY, plausible=(0.0, 0.6))
    release_rate: float = param(0.0005, "1/day", "Hazard, at full intensity, that compounds dump workers to avoid raids (mass release).", bounds=(0, 1), plausible=(0.0002, 0.005))
    close_gain: float = param(0.3, "probability", "Extra chance, at full intensity, that a raided compound closes.", bounds=PROBABILITY, plausible=(0.1, 0.6))
    relocate_abroad: float = param(0.5, "probability", "Extra chance, at full intensity, that a closing compound relocates abroad (Myanmar, Laos).", bounds=PROBABILITY, plausible=(0.2, 0.8))
    deport_capacity_gain: float = param(2.0, "multiplier", "Relative increase of deportation capacity at full intensity.", bounds=(0, 100), plausible=(0.5, 5.0))


@register
class DestinationCrackdown(Intervention):
    """A nationwide crackdown on scam compounds (Cambodia 2022, and from 27 Jun 2025).

    Mechanism: many more (and fewer leaked) raids, compounds dumping workers, more raided
    compounds closing and relocating abroad (displacement to Myanmar and Laos), and more
    deportation capacity. Sources: Cambodian crackdowns of 2022 (2,982 foreigners deported,
    targets.csv kh_deported_scam_2022) and from 27 Jun 2025 (events.csv; AP, AFP); effect sizes assumed.
    """

    name = "destination_crackdown"
    Params = DestinationCrackdownParams

    def bind(self, world) -> None:
        self.where = self._countries(world, self.params.countries)

    def apply(self, levers, level: float) -> None:
        p = self.params
        levers.add_rate("raid_rate", p.raid_rate * level, self.where)
        levers.scale("leak_prob", 1.0 - p.leak_reduction * level, self.where)
        levers.add_rate("release_rate", p.release_rate * level, self.where)
        levers.add_chance("close_prob", p.close_gain * level, self.where)
        levers.add_chance("relocate_abroad_share", p.relocate_abroad * level, self.where)
        levers.scale("deport_capacity", 1.0 + p.deport_capacity_gain * level, self.where)
