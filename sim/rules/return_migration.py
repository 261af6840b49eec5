"""Return and repeat migration: people at home may set out again.

The hazard of setting out again (1/day) is ``remigration_rate`` times the capacity-weighted
share of destinations reachable today (closures), times a person multiplier fixed on return:
1 for a knowing migrant, ``remigration_victim_factor`` for someone who was held,
``remigration_intercepted_factor`` for someone stopped on the way. Repeat migrants go
knowingly (they know what the work is), contact a recruiter themselves (one of today's
active recruiters, weighted by the responders it is recruiting today) and are assigned a
compound like any recruit.
No source gives a repeat-migration rate (data README); the rate is an assumption.
"""

from __future__ import annotations

import numpy as np

from .. import draws
from ..lifecycle import HomeReason, State
from ..rng import weighted_choice
from . import recruitment


def home_hazards(m, today) -> np.ndarray:
    """Today's re-migration hazard (1/day); one row per group, only group 0 is used."""
    comp = m.compounds
    cap = comp.capacity * comp.open
    reach = float((cap * today.access[comp.country]).sum() / cap.sum()) if cap.sum() > 0 else 0.0
    return np.full((len(m.countries), 1), m.params.migration.remigration_rate * reach)


def home_multipliers(m, rows, compound) -> np.ndarray:
    """Per person, the multiplier on re-migration: lower for someone who was held, other for someone intercepted."""
    mp = m.params.migration
    pop = m.population
    factor = np.where(pop.held[rows], mp.remigration_victim_factor, 1.0)
    factor = np.where(pop.home_reason[rows] == int(HomeReason.INTERCEPTED), mp.remigration_intercepted_factor, factor)
    return factor.reshape(-1, 1)


def remigration(m, today) -> None:
    """Returnees who set out again: a new episode, knowingly, through an active recruiter."""
    pop, s = m.population, m.streams
    for _, rows, _ in m.exits.due(State.HOME, ordered=False):
        lam = today.supply.responders
        if not len(lam) or lam.sum() <= 0:
            m.exits.move(rows, State.HOME)  # nobody recruiting today: stay, re-armed
            continue
        recruiter = weighted_choice(lam, s.uniform(draws.REMIGRANT_RECRUITER, pop.key[rows], pop.episode[rows] + 1))
        compound = recruitment.choose_compound(m, rows, recruiter, today.supply)
        go = compound >= 0
        m.exits.move(rows[~go], State.HOME)  # no compound to go to: stay, re-armed
        rows, recruiter, compound = rows[go], recruiter[go], compound[go]
        pop.increment(rows, "episode")
        pop.set(rows, voluntary=True, held=False, case_open=False, recruiter=recruiter)
        m.record.add("remigrations", len(rows))
        recruitment.to_recruited(m, today.day, rows, compound)
