"""The migrant life cycle: states, and the competing exits out of each state.

A person's time in a state ends at the first of its exits. *Timer* exits fire on a day fixed
when the state is entered (a waiting or travel time); *hazard* exits fire when the cumulative
hazard of that exit, accumulated day by day since entry, crosses a threshold E ~ Exp(1)
drawn once at entry from the person's own stream (:mod:`sim.rng`). When several exits are due the same day, the first in the
order listed here wins.
"""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    """Where a person is in the trafficking pipeline."""

    CONTACTED = 0  # answered an online job offer; deciding
    DECLINED = 1  # turned the offer down (absorbing)
    LEGAL = 2  # took a legal job abroad through a safe channel instead (absorbing)
    RECRUITED = 3  # accepted; preparing documents and tickets
    IN_TRANSIT = 4  # travelling along an itinerary
    INTERCEPTED = 5  # stopped at a checkpoint; returning home
    WORKING = 6  # in a compound, came knowingly and not (yet) held
    EXPLOITED = 7  # held in a compound against their will
    ESCAPED = 8  # escaped from a compound
    RESCUED = 9  # rescued (raid or targeted rescue), identified as a victim
    RELEASED = 10  # released after a ransom, or dumped by a compound
    DETAINED = 11  # in immigration detention after a raid, awaiting deportation
    SHELTER = 12  # an embassy case in the shelter, awaiting repatriation
    HOME = 13  # back in Indonesia; may migrate again


TIMER, HAZARD = "timer", "hazard"

EXITS: dict[State, tuple[tuple[str, str], ...]] = {
    State.CONTACTED: (("decide", TIMER),),
    State.RECRUITED: (("depart", TIMER),),
    State.IN_TRANSIT: (("arrive", TIMER),),
    State.INTERCEPTED: (("return", TIMER),),
    State.WORKING: (("leave", HAZARD), ("held", HAZARD), ("case", HAZARD), ("dumped", HAZARD)),
    State.EXPLOITED: (
        ("escape", HAZARD),
        ("ransom", HAZARD),
        ("resale", HAZARD),
        ("report", HAZARD),
        ("rescue", HAZARD),
        ("dumped", HAZARD),
    ),
    State.ESCAPED: (("handover", TIMER),),
    State.RESCUED: (("handover", TIMER),),
    State.RELEASED: (("handover", TIMER),),
    State.DETAINED: (("deport", HAZARD),),
    State.SHELTER: (("repatriate", HAZARD),),
    State.HOME: (("remigrate", HAZARD),),
}
"""Exits of every non-absorbing state, in tie-breaking order."""

ABSORBING = frozenset({State.DECLINED, State.LEGAL})

AT_DESTINATION = frozenset(
    {State.WORKING, State.EXPLOITED, State.ESCAPED, State.RESCUED, State.RELEASED, State.DETAINED, State.SHELTER}
)
"""States of people in a destination country; their pools are kept per country."""


class HomeReason(IntEnum):
    """Why a person is at home (for repeat migration and the people table)."""

    NONE = 0
    INTERCEPTED = 1
    LEFT = 2  # left a compound at the end of work, on their own
    REPATRIATED = 3
    DEPORTED = 4
    SELF_RETURN = 5  # escaped or released and went home without the embassy
