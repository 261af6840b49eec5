"""Leaving the compounds and going home: escape, rescue, release, detention, shelter, return.

* ESCAPED, RESCUED and RELEASED people reach help after a hand-over time (log-normal, mean
  ``handover_days``). Rescued people always become embassy cases; escaped and released ones
  go to the embassy with ``case_prob_escaped`` / ``case_prob_released``, else home on their own.
* Detained people get an embassy case (travel documents) with ``case_prob_deported`` and
  are deported with hazard ``deport_speed / deport_days`` (1/day), at most
  ``deport_capacity`` a day (the most overdue first: whose threshold was crossed earliest).
* Shelter cases are repatriated with hazard ``repatriation_speed / processing_days``, at most
  ``repatriation_capacity`` a day.
"""

from __future__ import annotations

import numpy as np

from .. import draws
from ..agents.agencies import DestinationPolice, Embassy
from ..lifecycle import HomeReason, State


def detention_hazards(m, today) -> np.ndarray:
    """Per destination country, today's deportation hazard (1/day)."""
    return np.array(m.agents_by_type[DestinationPolice].map("deport_hazard", today.levers)).reshape(-1, 1)


def shelter_hazards(m, today) -> np.ndarray:
    """Per destination country, today's repatriation hazard (1/day)."""
    return np.array(m.agents_by_type[Embassy].map("repatriation_hazard", today.levers)).reshape(-1, 1)


def open_cases(m, rows: np.ndarray, groups, day: int) -> None:
    """Embassy cases for ``rows``, each at the embassy of their destination country."""
    embassies = m.embassies
    if np.ndim(groups) == 0:
        embassies[int(groups)].open_cases(rows, day)
        return
    for g in np.unique(groups):
        embassies[int(g)].open_cases(rows[groups == g], day)


def _handover(m, day: int, rows: np.ndarray) -> np.ndarray:
    pop = m.population
    e = m.params.embassy
    return day + m.streams.lognormal_days(draws.HANDOVER, e.handover_days, 0.5, pop.key[rows], pop.transitions[rows])


def to_escaped(m, day: int, rows: np.ndarray, groups) -> None:
    m.record.add("escaped", len(rows))
    m.exits.move(rows, State.ESCAPED, group=groups, timer=_handover(m, day, rows))


def to_rescued(m, day: int, rows: np.ndarray, groups) -> None:
    m.record.add("rescued", len(rows))
    m.exits.move(rows, State.RESCUED, group=groups, timer=_handover(m, day, rows))


def to_released(m, day: int, rows: np.ndarray, groups, dumped: bool) -> None:
    m.record.add("dumped" if dumped else "ransomed", len(rows))
    m.exits.move(rows, State.RELEASED, group=groups, timer=_handover(m, day, rows))


def to_detention(m, day: int, rows: np.ndarray, groups) -> None:
    pop = m.population
    groups = np.broadcast_to(groups, rows.shape)
    documented = m.streams.uniform(draws.DEPORTEE_CASE, pop.key[rows], pop.transitions[rows]) < m.params.embassy.case_prob_deported
    open_cases(m, rows[documented], groups[documented], day)
    m.exits.move(rows, State.DETAINED, group=groups)


def to_shelter(m, day: int, rows: np.ndarray, groups) -> None:
    open_cases(m, rows, groups, day)
    m.exits.move(rows, State.SHELTER, group=groups)


def go_home(m, rows: np.ndarray, reason: HomeReason) -> None:
    """Back in Indonesia: the episode ends; the person may migrate again later."""
    if not len(rows):
        return
    m.population.set(rows, home_reason=int(reason), path=-1, location=-1)
    m.exits.move(rows, State.HOME, compound=-1)


def handovers(m, today) -> None:
    """Escaped, rescued and released people reach the embassy, or go home on their own."""
    e, s, pop, day = m.params.embassy, m.streams, m.population, today.day
    prob = {State.ESCAPED: e.case_prob_escaped, State.RESCUED: 1.0, State.RELEASED: e.case_prob_released}
    for state, p in prob.items():
        for _, rows, groups in m.exits.due(state, ordered=False):
            to_embassy = s.uniform(draws.SEEK_EMBASSY, pop.key[rows], pop.transitions[rows]) < p
            to_shelter(m, day, rows[to_embassy], groups[to_embassy])
            alone = rows[~to_embassy]
            m.record.add("self_returned", len(alone))
            go_home(m, alone, HomeReason.SELF_RETURN)


def _within_capacity(groups: np.ndarray, capacity: list[int]) -> np.ndarray:
    """Mask of the first ``capacity[g]`` rows of each group (rows are in waiting order)."""
    keep = np.zeros(len(groups), dtype=bool)
    for g in np.unique(groups):
        keep[np.flatnonzero(groups == g)[: capacity[int(g)]]] = True
    return keep


def deportations(m, today) -> None:
    """Deportations from detention, within each country's daily capacity."""
    for _, rows, groups in m.exits.due(State.DETAINED):
        capacity = m.agents_by_type[DestinationPolice].map("deport_capacity", today.levers)
        rows = rows[_within_capacity(groups, capacity)]
        m.record.add("deported", len(rows))
        go_home(m, rows, HomeReason.DEPORTED)


def repatriations(m, today) -> None:
    """Repatriations from embassy shelters, within each embassy's daily capacity."""
    for _, rows, groups in m.exits.due(State.SHELTER):
        capacity = m.agents_by_type[Embassy].map("repatriation_capacity", today.levers)
        rows = rows[_within_capacity(groups, capacity)]
        m.record.add("repatriated", len(rows))
        go_home(m, rows, HomeReason.REPATRIATED)
