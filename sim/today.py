"""What the rules of one day share: an explicit, typed context made by the schedule.

The schedule (:meth:`sim.model.TraffickingModel.step`) creates one :class:`Today` at the start
of each day with what every rule may read (the date, the day's levers, access to each
destination, embassy awareness) and stores in it what a rule produces for later rules (the
recruiters' supply). No rule leaves attributes on the model for another to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .levers import Levers


@dataclass(frozen=True)
class Supply:
    """What recruiters make today (produced by :func:`sim.rules.recruitment.recruiter_dynamics`).

    Attributes:
        responders: responders/day each recruiter slot reaches today (0 when inactive).
        per_link: per recruiter slot and compound link, the part made for that compound.
    """

    responders: np.ndarray
    per_link: np.ndarray


@dataclass
class Today:
    """The context of one simulated day.

    Attributes:
        day: run day (0 = start date).
        levers: the day's policy levers (baseline changed by the active interventions).
        access: per destination country, the best share of normal traffic that can reach it (closures).
        awareness: knowing workers' awareness of embassy help, 0-1 (word of mouth of past cases).
        supply: recruiters' supply, set by the recruitment rule before contacts are made.
    """

    day: int
    levers: Levers
    access: np.ndarray
    awareness: float
    supply: Supply | None = None
