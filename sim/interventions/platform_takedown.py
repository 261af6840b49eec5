"""Platform takedown: removal of fake job ads on chosen platforms."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import PLATFORMS
from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility, check_choices
from .registry import register


@dataclass
class PlatformTakedownParams(Delivery):
    cost_per_year_usd: float = param(300000.0, "USD/year", "Cost of delivery at full intensity (monitoring and takedown requests); no published costing.", bounds=(0, 1e12), plausible=(75000, 1.2e+06), source="assumed (order of magnitude)")
    platforms: list[str] = eligibility(["facebook"], "Platforms whose ads are taken down.")
    effect: float = param(0.5, "fraction", "Share of recruiters' reach removed on those platforms at full intensity.", bounds=PROBABILITY, plausible=(0.1, 0.9))


@register
class PlatformTakedown(Intervention):
    """Platforms (or the ministry) take down fake job ads.

    Mechanism: lowers the reach of recruiters on the targeted platforms and puts pressure on
    them that makes them switch to other platforms over time (displacement between
    platforms). Source: online-gambling task force ordered 18 Apr 2024 (events.csv); effect assumed.
    """

    name = "platform_takedown"
    Params = PlatformTakedownParams

    def bind(self, world) -> None:
        check_choices(self.key, "platforms", self.params.platforms, PLATFORMS)
        self.where = [PLATFORMS.index(p) for p in self.params.platforms]

    def apply(self, levers, level: float) -> None:
        levers.scale("platform_reach", 1.0 - self.params.effect * level, self.where)
        levers.add_chance("platform_pressure", self.params.effect * level, self.where)
