"""MigrantPopulation: pools, moves, due exits and compound counts under arbitrary move sequences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.lifecycle import ABSORBING, AT_DESTINATION, EXITS, State
from sim.population import MigrantPopulation
from tests.invariants import assert_population_consistent

STATES = list(State)


def _new(pop: MigrantPopulation, n: int) -> np.ndarray:
    return pop.create(key=np.arange(pop.n, pop.n + n, dtype=np.uint64))


def _targets(state: State, n: int, rng: np.random.Generator) -> np.ndarray | None:
    if state in ABSORBING:
        return None
    return rng.uniform(0, 10, size=(n, len(EXITS[state])))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 200),
    moves=st.lists(
        st.tuples(st.integers(0, len(State) - 1), st.integers(0, 2), st.integers(-1, 5), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=40,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_move_sequences_keep_every_person_in_exactly_one_state(n, moves, seed):
    """No person is lost or duplicated, whatever sequence of moves (states, groups, compounds), and each
    person's state, group, compound, entry day and transition count are those of the moves made
    (tracked here independently of the population)."""
    rng = np.random.default_rng(seed)
    pop = MigrantPopulation(capacity=16)
    # the moves as this test made them, one entry per person
    expect = {"state": [], "group": [], "compound": [], "state_day": [], "transitions": []}

    def created(k: int, day: int) -> np.ndarray:
        fresh = _new(pop, k)
        pop.enter(fresh, State.CONTACTED, day, _targets(State.CONTACTED, k, rng))
        for name, value in (("state", int(State.CONTACTED)), ("group", 0), ("compound", -1), ("state_day", day),
                            ("transitions", 1)):
            expect[name].extend([value] * k)
        return fresh

    created(n, 0)
    for day, (s, group, compound, share) in enumerate(moves, start=1):
        if rng.random() < 0.2:  # lazily created newcomers
            created(int(rng.integers(1, 30)), day)
        movable = np.flatnonzero(~np.isin(pop.state, [int(a) for a in ABSORBING]))
        if not len(movable):
            break
        pick = movable[rng.random(len(movable)) < max(share, 1.0 / len(movable))]
        if not len(pick):
            continue
        state = State(s)
        groups = rng.integers(0, 3, len(pick)) if state in AT_DESTINATION and rng.random() < 0.5 else group
        pop.enter(pick, state, day, _targets(state, len(pick), rng), group=groups, compound=compound)
        arrays = {k: np.asarray(v) for k, v in expect.items()}
        arrays["state"][pick] = int(state)
        arrays["group"][pick] = groups if state in AT_DESTINATION else 0
        arrays["compound"][pick] = compound
        arrays["state_day"][pick] = day
        arrays["transitions"][pick] += 1
        expect = {k: v.tolist() for k, v in arrays.items()}
        assert_population_consistent(pop, n_compounds=6)
    assert pop.n == len(expect["state"])
    for name, values in expect.items():
        np.testing.assert_array_equal(getattr(pop, name), values, err_msg=name)


def test_due_returns_crossed_thresholds_with_the_first_exit_winning_ties():
    pop = MigrantPopulation()
    rows = _new(pop, 4)
    # EXPLOITED has six exits; thresholds per person (rows) and exit (columns)
    t = np.full((4, 6), 10.0)
    t[0, 2] = 1.0  # person 0: resale due
    t[1, 0] = t[1, 4] = 1.0  # person 1: escape and rescue due the same day -> escape (listed first)
    t[3, 5] = 1.0  # person 3: dumped due
    pop.enter(rows, State.EXPLOITED, 0, t, group=1)
    pool = pop.pool(State.EXPLOITED, 1)
    pos, which = pool.due(np.full(6, 1.0))
    due = dict(zip(pool.rows[pos].tolist(), which.tolist()))
    assert due == {0: 2, 1: 0, 3: 5}
    pos, _ = pool.due(np.full(6, 0.5))
    assert len(pos) == 0


def test_compound_counts_follow_places_taken_and_promised():
    pop = MigrantPopulation()
    rows = _new(pop, 10)
    pop.enter(rows[:6], State.RECRUITED, 0, np.zeros((6, 1)), compound=3)  # promised places
    pop.enter(rows[6:], State.WORKING, 0, np.zeros((4, 4)), group=0, compound=1)  # occupied places
    assert pop.pipeline[3] == 6 and pop.headcount[1] == 4
    pop.enter(rows[:2], State.WORKING, 1, np.zeros((2, 4)), group=0)  # arrive at compound 3
    assert pop.pipeline[3] == 4 and pop.headcount[3] == 2
    pop.enter(rows[6:8], State.HOME, 2, np.zeros((2, 1)), compound=-1)
    assert pop.headcount[1] == 2
    pop.enter(rows[2:4], State.EXPLOITED, 3, np.zeros((2, 6)), group=0, compound=40)  # beyond current width
    assert pop.headcount[40] == 2 and pop.pipeline[3] == 2
    assert_population_consistent(pop)


def test_pools_compact_when_mostly_tombstones():
    pop = MigrantPopulation()
    rows = _new(pop, 10_000)
    pop.enter(rows, State.HOME, 0, np.arange(10_000, dtype=float).reshape(-1, 1))
    pool = pop.pool(State.HOME)
    pop.enter(rows[:6_000], State.DECLINED, 1)
    assert pool.live == 4_000 and pool.n == 4_000  # compacted once more than a quarter were dead
    pos, _ = pool.due(np.array([6_500.0]))
    assert sorted(pool.rows[pos].tolist()) == list(range(6_000, 6_501))
    assert_population_consistent(pop)


def test_the_invariant_check_reads_the_count_widths_and_catches_a_wrong_count():
    """Regression (issue 12 item 11): more compounds than the count arrays are wide (compounds nobody
    has entered yet) is consistent; a count that disagrees with the people is caught at any slot."""
    pop = MigrantPopulation()
    rows = _new(pop, 5)
    pop.enter(rows, State.WORKING, 0, np.zeros((5, 4)), group=0, compound=3)
    width = len(pop.headcount)
    assert_population_consistent(pop, n_compounds=width + 16)  # 16 empty compounds beyond the arrays' width
    pop.enter(rows[:2], State.RECRUITED, 1, np.zeros((2, 1)), compound=width + 10)  # promised beyond the width
    assert len(pop.pipeline) > width + 10
    assert_population_consistent(pop, n_compounds=width + 16)
    for counts, slot in ((pop.headcount, 3), (pop.pipeline, width + 10), (pop.headcount, width + 12)):
        counts[slot] += 1  # the properties are views of the population's arrays
        with pytest.raises(AssertionError, match="compound counts differ"):
            assert_population_consistent(pop, n_compounds=width + 16)
        counts[slot] -= 1
    assert_population_consistent(pop, n_compounds=width + 16)
