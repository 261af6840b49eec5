"""The competing-exit engine: when people leave their state, and moving them into the next.

A person's time in a state ends at the first of the state's exits (:data:`sim.lifecycle.EXITS`,
which declares each exit a *timer* or a *hazard*; this engine reads that declaration and
nothing else decides it):

* a **timer** state's single exit fires on a day fixed when the state is entered (``timer``);
* a **hazard** state draws, on entry, one threshold ``E ~ Exp(1)`` per exit from the
  person's own stream, keyed by their transition count (:mod:`sim.rng`), divided by the
  person's multiplier on that exit. Each day every group's *clock* of each exit grows by
  that day's hazard (1/day x 1 day); an exit fires when its clock passes the threshold.

So random numbers are drawn only at transitions, and a scenario that raises a hazard makes
the same person's exit come earlier, never moves it to someone else. The hazards and
multipliers of each hazard state come from the rules (:class:`ExitRates`, registered in
:data:`sim.rules.EXIT_RATES`); ties on one day go to the first exit in declaration order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import draws
from .lifecycle import EXITS, HAZARD, TIMER, State


@dataclass(frozen=True)
class ExitRates:
    """How fast the exits of one hazard state fire.

    Attributes:
        hazards: ``hazards(model, today)`` -> array (destination groups x exits) of today's
            hazard of each exit, 1/day.
        multipliers: ``multipliers(model, rows, compound)`` -> array (rows x exits) of each
            person's multiplier on each exit's hazard, fixed on entry (0 closes the exit to
            them); None means 1 for everyone.
    """

    hazards: Callable
    multipliers: Callable | None = None


def exit_kind(state: State) -> str | None:
    """TIMER or HAZARD for a state with exits (one kind for all its exits), None if absorbing."""
    exits = EXITS.get(state)
    if exits is None:
        return None
    kinds = {kind for _, kind in exits}
    if len(kinds) != 1:
        raise ValueError(f"{state.name}: exits mix timers and hazards ({exits}); the engine needs one kind per state")
    return kinds.pop()


_KIND = {state: exit_kind(state) for state in State}
"""TIMER, HAZARD or None (absorbing) for every state, as declared in :data:`~sim.lifecycle.EXITS`."""


class ExitEngine:
    """Clocks and thresholds of every state, the daily due check, and the one way to move people.

    Args:
        model: the model (handed to the rate functions, which read its agents and parameters).
        rates: the rates of every hazard state (must match :data:`~sim.lifecycle.EXITS`).
        n_groups: destination groups (countries) whose clocks run separately.
    """

    def __init__(self, model, rates: dict[State, ExitRates], n_groups: int):
        hazard_states = {s for s, kind in _KIND.items() if kind == HAZARD}
        if set(rates) != hazard_states:
            raise ValueError(
                f"exit rates given for {sorted(s.name for s in rates)}, but the hazard states of "
                f"lifecycle.EXITS are {sorted(s.name for s in hazard_states)}"
            )
        self.model = model
        self.population = model.population
        self.streams = model.streams
        self.rates = rates
        self.n_groups = n_groups
        self.day = 0
        self.clocks = {s: np.zeros((n_groups, len(EXITS[s]))) for s in EXITS}

    # -- the clock ---------------------------------------------------------------------------

    def begin_day(self, today) -> None:
        """Start ``today``: timer clocks show the day; hazard clocks add today's hazards."""
        self.day = today.day
        for state, clock in self.clocks.items():
            if state in self.rates:
                clock += self.rates[state].hazards(self.model, today)
            else:
                clock[:] = self.day

    def clock(self, state: State) -> np.ndarray:
        """Clocks of ``state`` per destination group (row) and exit (column)."""
        c = self.clocks[state]
        if state not in self.rates:
            c[:] = self.day
        return c

    # -- moving people ---------------------------------------------------------------------------

    def move(self, rows: np.ndarray, state: State, group=0, compound=None, timer=None) -> None:
        """Move ``rows`` into ``state`` (destination-country ``group``, scalar or per row) and arm its exits.

        Timer states take ``timer`` (the exit day per row); hazard states draw their
        thresholds. ``compound`` assigns a new compound slot (scalar or per row; None keeps
        the current one).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        kind = _KIND[state]
        if kind == HAZARD:
            targets = self._arm(rows, state, group, compound)
        elif kind == TIMER:
            targets = np.asarray(timer, dtype=float).reshape(-1, 1)
        else:  # absorbing
            targets = None
        self.population.enter(rows, state, self.day, targets, group=group, compound=compound)

    def _arm(self, rows: np.ndarray, state: State, group, compound) -> np.ndarray:
        """Thresholds of each exit of hazard ``state`` for ``rows``: the group's clock plus
        E / multiplier, +inf where the multiplier is 0 (an exit closed to them)."""
        pop = self.population
        # one threshold per exit, keyed by (person, transition count after this move, exit)
        occasion = draws.THRESHOLDS.occasion(transition=pop.transitions[rows][:, None] + 1, exit=np.arange(len(EXITS[state])))
        e = self.streams.exponential(draws.exit_threshold(state), pop.key[rows][:, None], occasion)
        multipliers = self.rates[state].multipliers
        if multipliers is not None:
            if compound is None:
                compound = pop.compound[rows]
            elif not isinstance(compound, np.ndarray):
                compound = np.full(len(rows), compound)
            mult = multipliers(self.model, rows, compound)
            e = np.divide(e, mult, out=np.full(e.shape, np.inf), where=mult > 0)
        return self.clock(state)[group] + e

    def due(self, state: State, ordered: bool = True) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``(exit_name, rows, groups)`` for today's due exits of ``state`` (all groups).

        With ``ordered``, rows are sorted by how early their threshold was crossed (earliest
        first), for exits served with a daily capacity.
        """
        names = [n for n, _ in EXITS[state]]
        clocks = self.clock(state)
        found = []
        for pool in self.population.pools_of(state):
            pos, which = pool.due(clocks[pool.group])
            if len(pos):
                slack = pool.targets[which, pos] - clocks[pool.group, which] if ordered else None
                found.append((pool.rows[pos], which, np.full(len(pos), pool.group), slack))
        if not found:
            return
        if len(found) == 1:
            rows, which, groups, slack = found[0]
        else:
            rows, which, groups, slack = (np.concatenate(x) if x[0] is not None else None for x in zip(*found))
        if ordered:
            order = np.argsort(slack, kind="stable")
            rows, which, groups = rows[order], which[order], groups[order]
        if len(names) == 1:
            yield names[0], rows, groups
            return
        for j, name in enumerate(names):
            sel = which == j
            if sel.any():
                yield name, rows[sel], groups[sel]
