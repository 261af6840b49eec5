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

from ..lifecycle import HomeReason, State


def detention_hazards(m) -> np.ndarray:
    """Per destination country, today's deportation hazard (1/day)."""
    return np.array([[police.deport_hazard(m.levers)] for police in m.destination_police])


def shelter_hazards(m) -> np.ndarray:
    """Per destination country, today's repatriation hazard (1/day)."""
    return np.array([[embassy.repatriation_hazard(m.levers)] for embassy in m.embassies])


def open_cases(m, rows: np.ndarray, groups, day: int) -> None:
    """Embassy cases for ``rows``, each at the embassy of their destination country."""
    if np.ndim(groups) == 0:
        m.embassies[int(groups)].open_cases(rows, day)
        return
    for g in np.unique(groups):
        m.embassies[int(g)].open_cases(rows[groups == g], day)


def _handover(m, day: int, rows: np.ndarray) -> np.ndarray:
    pop = m.population
    e = m.params.embassy
    return day + m.streams.lognormal_days("handover", e.handover_days, 0.5, pop.key[rows], pop.transitions[rows])


def to_escaped(m, day: int, rows: np.ndarray, groups) -> None:
    m.record.add("escaped", len(rows))
    m.move(rows, State.ESCAPED, group=groups, timer=_handover(m, day, rows))


def to_rescued(m, day: int, rows: np.ndarray, groups) -> None:
    m.record.add("rescued", len(rows))
    m.move(rows, State.RESCUED, group=groups, timer=_handover(m, day, rows))


def to_released(m, day: int, rows: np.ndarray, groups, dumped: bool) -> None:
    m.record.add("dumped" if dumped else "ransomed", len(rows))
    m.move(rows, State.RELEASED, group=groups, timer=_handover(m, day, rows))


def to_detention(m, day: int, rows: np.ndarray, groups) -> None:
    pop = m.population
    groups = np.broadcast_to(groups, rows.shape)
    documented = m.streams.uniform("deportee_case", pop.key[rows], pop.transitions[rows]) < m.params.embassy.case_prob_deported
    open_cases(m, rows[documented], groups[documented], day)
    m.move(rows, State.DETAINED, group=groups)


def to_shelter(m, day: int, rows: np.ndarray, groups) -> None:
    open_cases(m, rows, groups, day)
    m.move(rows, State.SHELTER, group=groups)


def go_home(m, day: int, rows: np.ndarray, reason: HomeReason) -> None:
    """Back in Indonesia: the episode ends; the person may migrate again later."""
    if not len(rows):
        return
    pop = m.population
    pop.cols["home_reason"][rows] = int(reason)
    pop.cols["path"][rows] = -1
    pop.cols["location"][rows] = -1
    m.move(rows, State.HOME, compound=-1)


def handovers(m, day: int) -> None:
    """Escaped, rescued and released people reach the embassy, or go home on their own."""
    e, s, pop = m.params.embassy, m.streams, m.population
    prob = {State.ESCAPED: e.case_prob_escaped, State.RESCUED: 1.0, State.RELEASED: e.case_prob_released}
    for state, p in prob.items():
        for _, rows, groups in m.due(state, ordered=False):
            to_embassy = s.uniform("seek_embassy", pop.key[rows], pop.transitions[rows]) < p
            to_shelter(m, day, rows[to_embassy], groups[to_embassy])
            alone = rows[~to_embassy]
            m.record.add("self_returned", len(alone))
            go_home(m, day, alone, HomeReason.SELF_RETURN)


def _within_capacity(groups: np.ndarray, capacity: list[int]) -> np.ndarray:
    """Mask of the first ``capacity[g]`` rows of each group (rows are in waiting order)."""
    keep = np.zeros(len(groups), dtype=bool)
    for g in np.unique(groups):
        keep[np.flatnonzero(groups == g)[: capacity[int(g)]]] = True
    return keep


def deportations(m, day: int) -> None:
    """Deportations from detention, within each country's daily capacity."""
    for _, rows, groups in m.due(State.DETAINED):
        rows = rows[_within_capacity(groups, [p.deport_capacity(m.levers) for p in m.destination_police])]
        m.record.add("deported", len(rows))
        go_home(m, day, rows, HomeReason.DEPORTED)


def repatriations(m, day: int) -> None:
    """Repatriations from embassy shelters, within each embassy's daily capacity."""
    for _, rows, groups in m.due(State.SHELTER):
        rows = rows[_within_capacity(groups, [e.repatriation_capacity(m.levers) for e in m.embassies])]
        m.record.add("repatriated", len(rows))
        go_home(m, day, rows, HomeReason.REPATRIATED)
