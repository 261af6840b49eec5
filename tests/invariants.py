"""Invariant checks shared by the population and model tests."""

from __future__ import annotations

import numpy as np

from sim.lifecycle import ABSORBING, State
from sim.population import OCCUPYING, PIPELINE


def assert_population_consistent(pop, n_compounds: int | None = None) -> None:
    """Every person is in exactly one state, every non-absorbing one in exactly the right pool,
    and the per-compound head and pipeline counts match the people."""
    state = pop.state
    assert (state >= 0).all(), "a created person has no state"
    counts = np.bincount(state.astype(np.int64), minlength=len(State))
    seen = np.zeros(pop.n, dtype=np.int64)
    for (s, g), pool in pop.pools.items():
        rows = pool.members
        assert pool.live == len(rows)
        assert (state[rows] == s).all(), f"pool {State(s).name}/{g} holds people in another state"
        assert (pop.group[rows] == g).all()
        assert (pool.rows[pop.pos[rows]] == rows).all(), "position index out of date"
        seen[rows] += 1
    non_absorbing = ~np.isin(state, [int(s) for s in ABSORBING])
    assert (seen[non_absorbing] == 1).all(), "a person is in no pool or in several"
    assert (seen[~non_absorbing] == 0).all(), "an absorbed person is still in a pool"
    for s in State:
        if s not in ABSORBING:
            assert pop.count(s) == counts[s]
    comp = pop.compound
    for states, counts_by_compound in ((OCCUPYING, pop.headcount), (PIPELINE, pop.pipeline)):
        assert (counts_by_compound >= 0).all()
        sel = np.isin(state, [int(s) for s in states]) & (comp >= 0)
        # widths are read, never assumed: the population's count arrays grow on demand and may be
        # narrower than the number of compounds (compounds nobody has entered yet) or wider
        width = max(len(counts_by_compound), n_compounds or 0, int(comp[sel].max()) + 1 if sel.any() else 0)
        expected = np.bincount(comp[sel], minlength=width)
        actual = np.zeros(width, dtype=np.int64)
        actual[: len(counts_by_compound)] = counts_by_compound
        wrong = np.flatnonzero(actual != expected)
        assert not len(wrong), f"compound counts differ from the people at slots {wrong[:10].tolist()}"
