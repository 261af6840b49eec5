"""Visa screening: entry-visa scrutiny of Indonesian job-seekers at destination entry points."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import PROBABILITY, param
from .base import Delivery, Intervention, eligibility
from .registry import register


@dataclass
class VisaScreeningParams(Delivery):
    cost_per_year_usd: float = param(500000.0, "USD/year", "Cost of delivery at full intensity (vetting staff at the entry points); no published costing.", bounds=(0, 1e12), plausible=(125000, 2e+06), source="assumed (order of magnitude)")
    entry_points: list[str] = eligibility(["kh_pnh", "kh_kos"], "Entry checkpoints (location ids of kind 'transit' or 'border') that vet arrivals; default: Cambodia's airports.")
    sensitivity: float = param(0.3, "probability", "Chance that vetting at full intensity (return ticket, stated purpose, sponsor) refuses a would-be victim.", bounds=PROBABILITY, plausible=(0.05, 0.6))


@register
class VisaScreening(Intervention):
    """Visas on arrival and e-visas of Indonesian job-seekers are vetted at the chosen entry points.

    Mechanism: raises the entry-check detection lever there; refused travellers are sent home
    (intercepted). Because only the chosen points vet, recruiters learn to route through land
    borders (Poipet, Bavet) and other entry points. Sources: all 446 victims of Jan-Aug 2022
    entered on tourist visas (targets.csv cambodia_victims_2022_jan_aug); sensitivity assumed.
    """

    name = "visa_screening"
    Params = VisaScreeningParams

    def bind(self, world) -> None:
        self.where = self._locations(world, self.params.entry_points, "entry_points", ("transit", "border"))

    def apply(self, levers, level: float) -> None:
        levers.add_chance("entry_detect", self.params.sensitivity * level, self.where)
