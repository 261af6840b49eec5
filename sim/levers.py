"""Policy levers: the quantities agencies act with, and the only thing interventions change.

Each day the model starts from the baseline levers (set by the agencies' parameters) and lets
every active intervention adjust them through three combinators, so that several
interventions touching the same lever compose predictably, whatever their order:

* :meth:`Levers.add_chance` — for probabilities of an independent event (detection at a
  checkpoint, identification of a victim, taking a legal job):
  ``p = 1 - (1 - p_base) * prod_i (1 - p_i)``; two screenings of 30% each stop 51%.
* :meth:`Levers.scale` — for multipliers and rates: ``x = x_base * prod_i m_i``; two
  campaigns each lowering acceptance by 20% give 0.8 * 0.8 = 0.64.
* :meth:`Levers.add_rate` — for hazards that start at zero (arrests abroad, mass release):
  ``h = h_base + sum_i h_i`` (competing independent causes add).

All three commute, so the combined value does not depend on the order of interventions.
Units: probabilities are per check or per person; rates are per day.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .config import PLATFORMS, ModelParams
from .params import per_country

LEVER_DOCS: dict[str, str] = {
    "exit_detect": "per location: chance an exit check on a leg leaving it stops a would-be victim (deceived first-timer)",
    "exit_false_positive": "per location: chance an exit check stops a legitimate traveller",
    "entry_detect": "per location: chance the entry check at it refuses a would-be victim",
    "passport_postpone": "per origin: chance a would-be victim's passport application is postponed",
    "deceptive_acceptance": "per origin: multiplier on the chance to accept a deceptive offer",
    "legal_channel": "per origin: chance that someone accepting an offer takes a legal job abroad instead",
    "platform_reach": "per platform: multiplier on recruiters' reach (ad takedowns)",
    "platform_pressure": "per platform: takedown pressure 0-1 that pushes recruiters to switch platform",
    "arrest_domestic": "1/day: hazard that a recruiter based in Indonesia is arrested",
    "arrest_abroad": "1/day: hazard that a recruiter based abroad is arrested",
    "recruiter_entry": "multiplier on the rate at which new recruiters enter",
    "raid_rate": "per country, 1/day: hazard that a compound is raided",
    "leak_prob": "per country: chance a raid leaks",
    "find_prob": "per country: share of a compound's workforce found by a raid that did not leak",
    "identify_prob": "per country: chance a held person found in a raid is identified as a victim",
    "targeted_rescue_rate": "per country, 1/day: hazard of rescue once the embassy has a held person's case",
    "release_rate": "per country, 1/day: hazard that compounds dump workers (mass release in a crackdown)",
    "close_prob": "per country: chance a raided compound closes",
    "relocate_abroad_share": "per country: share of relocating compounds that move to another country",
    "repatriation_speed": "per country: multiplier on the embassy's repatriation hazard",
    "repatriation_capacity": "per country, persons/day: most repatriations per day",
    "deport_speed": "per country: multiplier on the deportation hazard",
    "deport_capacity": "per country, persons/day: most deportations per day",
    "report_rate": "per country: multiplier on the hazards that a held person (or their family) reports to the embassy and that a knowing worker brings a case",
}


@dataclass
class Levers:
    """Effective lever values for one day (see :data:`LEVER_DOCS` for meanings and units)."""

    exit_detect: np.ndarray
    exit_false_positive: np.ndarray
    entry_detect: np.ndarray
    passport_postpone: np.ndarray
    deceptive_acceptance: np.ndarray
    legal_channel: np.ndarray
    platform_reach: np.ndarray
    platform_pressure: np.ndarray
    arrest_domestic: np.ndarray
    arrest_abroad: np.ndarray
    recruiter_entry: np.ndarray
    raid_rate: np.ndarray
    leak_prob: np.ndarray
    find_prob: np.ndarray
    identify_prob: np.ndarray
    targeted_rescue_rate: np.ndarray
    release_rate: np.ndarray
    close_prob: np.ndarray
    relocate_abroad_share: np.ndarray
    repatriation_speed: np.ndarray
    repatriation_capacity: np.ndarray
    deport_speed: np.ndarray
    deport_capacity: np.ndarray
    report_rate: np.ndarray

    @classmethod
    def baseline(cls, params: ModelParams, world) -> Levers:
        """The levers set by the agencies' own parameters (no intervention)."""
        n_loc = len(world.ids)
        kind, country = world.kind, world.country
        destination_country = world.location_dest_country >= 0
        im = params.immigration
        exit_detect = np.zeros(n_loc)
        exit_detect[kind == "hub"] = im.exit_detect
        abroad_passable = np.isin(kind, ("transit", "border")) & ~destination_country & (country != "ID")
        exit_detect[abroad_passable] = im.transit_exit_detect
        entry_detect = np.zeros(n_loc)
        entry_detect[destination_country & np.isin(kind, ("transit", "border"))] = im.entry_detect
        exit_fp = np.where(kind == "hub", im.exit_false_positive, 0.0)
        n_origin = len(world.origins)
        dp = params.destination_police
        em = params.embassy
        countries = world.destination_countries
        full = lambda v: np.full(len(countries), float(v))  # noqa: E731
        return cls(
            exit_detect=exit_detect,
            exit_false_positive=exit_fp,
            entry_detect=entry_detect,
            passport_postpone=np.full(n_origin, im.passport_postpone),
            deceptive_acceptance=np.ones(n_origin),
            legal_channel=np.zeros(n_origin),
            platform_reach=np.ones(len(PLATFORMS)),
            platform_pressure=np.zeros(len(PLATFORMS)),
            arrest_domestic=np.array(params.indonesian_police.arrest_rate),
            arrest_abroad=np.array(params.indonesian_police.abroad_arrest_rate),
            recruiter_entry=np.array(1.0),
            raid_rate=per_country(dp, "raid_rate", countries),
            leak_prob=per_country(dp, "leak_prob", countries),
            find_prob=full(dp.find_prob),
            identify_prob=full(dp.identify_prob),
            targeted_rescue_rate=full(dp.targeted_rescue_rate),
            release_rate=np.zeros(len(countries)),
            close_prob=full(params.compounds.close_prob),
            relocate_abroad_share=full(params.compounds.relocate_abroad_share),
            repatriation_speed=np.ones(len(countries)),
            repatriation_capacity=full(em.repatriation_capacity),
            deport_speed=np.ones(len(countries)),
            deport_capacity=full(dp.deport_capacity),
            report_rate=np.ones(len(countries)),
        )

    def copy(self) -> Levers:
        """An independent copy (arrays copied)."""
        return Levers(**{f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)})

    # -- combinators ------------------------------------------------------------------------

    def add_chance(self, name: str, p, where=Ellipsis) -> None:
        """Combine an independent chance ``p`` into probability lever ``name`` at ``where``."""
        arr = getattr(self, name)
        arr[where] = 1.0 - (1.0 - arr[where]) * (1.0 - np.clip(p, 0.0, 1.0))

    def scale(self, name: str, factor, where=Ellipsis) -> None:
        """Multiply lever ``name`` at ``where`` by ``factor`` (>= 0)."""
        arr = getattr(self, name)
        arr[where] = arr[where] * np.maximum(factor, 0.0)

    def add_rate(self, name: str, rate, where=Ellipsis) -> None:
        """Add a non-negative hazard ``rate`` (1/day) to lever ``name`` at ``where``."""
        arr = getattr(self, name)
        arr[where] = arr[where] + np.maximum(rate, 0.0)

    def cap_probabilities(self) -> None:
        """Keep every probability lever within [0, 1] after scaling."""
        for name in ("leak_prob", "find_prob", "identify_prob", "close_prob", "relocate_abroad_share",
                     "exit_detect", "entry_detect", "exit_false_positive", "passport_postpone", "legal_channel",
                     "platform_pressure"):
            np.clip(getattr(self, name), 0.0, 1.0, out=getattr(self, name))


class LeverSchedule:
    """Each day's levers: the baseline changed by every intervention active that day.

    Args:
        base: the levers set by the agencies' own parameters.
        interventions: the run's interventions (bound to the world).
        n_days: days in the horizon.
    """

    def __init__(self, base: Levers, interventions: list, n_days: int):
        self.base = base
        self.interventions = interventions
        self.levels = np.array([iv.levels for iv in interventions]).reshape(len(interventions), n_days)
        """Delivery level of each intervention (rows) on each day (columns), 0-1."""
        self._last: tuple[np.ndarray, Levers] | None = None

    def for_day(self, day: int) -> Levers:
        """Today's levers (the baseline object itself when nothing is active; reused while no level changes)."""
        levels = self.levels[:, day]
        if not levels.any():
            return self.base
        if self._last is not None and np.array_equal(levels, self._last[0]):
            return self._last[1]
        levers = self.base.copy()
        for iv, level in zip(self.interventions, levels):
            if level > 0:
                iv.apply(levers, level)
        levers.cap_probabilities()
        self._last = (levels.copy(), levers)
        return levers
