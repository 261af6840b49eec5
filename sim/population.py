"""MigrantPopulation: migrants as a structure of numpy arrays, one row per person.

Rows are created lazily, when a person first answers a job offer (or, for the people already
in compounds on the start date, at initialisation), so memory and time follow the people in
the pipeline, not Indonesia's population. A row is never deleted: a person's state changes.

People in a non-absorbing state also sit in a compact *pool* for that state (and, for states
at a destination, that country), which stores the thresholds of the state's exits
(:mod:`sim.lifecycle`) contiguously. A day's work on a state is then a vectorised compare of
those thresholds with the state's clocks, and moving people between states is an O(moved)
swap-remove plus append. No Python loop over people anywhere.
"""

from __future__ import annotations

import numpy as np

from .lifecycle import ABSORBING, AT_DESTINATION, EXITS, State

OCCUPYING = (State.WORKING, State.EXPLOITED)
"""States in which a person takes up a place in their compound."""
PIPELINE = (State.RECRUITED, State.IN_TRANSIT)
"""States in which a person is on the way to their compound (a place promised)."""

_ROLE = np.zeros(len(State) + 1, dtype=np.int64)  # indexed by state + 1 (state -1: not placed yet)
_ROLE[[int(s) + 1 for s in OCCUPYING]] = 1
_ROLE[[int(s) + 1 for s in PIPELINE]] = 2
_NOT_IN_POOL = np.zeros(len(State) + 1, dtype=bool)
_NOT_IN_POOL[0] = True
_NOT_IN_POOL[[int(s) + 1 for s in ABSORBING]] = True

COLUMNS: dict[str, np.dtype] = {
    "key": np.dtype(np.uint64),  # CRN key: what created the person (rng.person_key)
    "origin": np.dtype(np.int16),  # origin slot (index into World.origins)
    "male": np.dtype(np.bool_),
    "age": np.dtype(np.float32),  # years, at first contact
    "tertiary": np.dtype(np.bool_),  # tertiary education
    "digital": np.dtype(np.float32),  # digital exposure, 0-1
    "awareness": np.dtype(np.float32),  # awareness of scam recruitment, 0-1
    "pressure": np.dtype(np.float32),  # financial pressure, 0-1
    "voluntary": np.dtype(np.bool_),  # went knowingly in the current episode
    "held": np.dtype(np.bool_),  # was held (exploited) in the current episode
    "case_open": np.dtype(np.bool_),  # has an embassy case in the current episode
    "state": np.dtype(np.int8),
    "group": np.dtype(np.int8),  # destination-country slot for states at a destination, else 0
    "pos": np.dtype(np.int32),  # position in the pool of (state, group)
    "location": np.dtype(np.int16),  # current location index (World), -1 at home
    "compound": np.dtype(np.int32),  # compound slot, -1 if none
    "recruiter": np.dtype(np.int32),  # recruiter slot, -1 if none
    "path": np.dtype(np.int32),  # itinerary (PathTable row), -1 if none
    "stop_check": np.dtype(np.int8),  # check where the journey ends: 2*leg (+1 entry side); 2*legs = arrival
    "episode": np.dtype(np.int16),  # migrations started (1 = first)
    "times_trafficked": np.dtype(np.int16),  # episodes in which the person was held
    "transitions": np.dtype(np.int32),  # state changes so far: the CRN occasion counter
    "state_day": np.dtype(np.int32),  # run day the current state was entered
    "home_reason": np.dtype(np.int8),  # HomeReason of the last return
}


class Pool:
    """The people in one (state, group), with the thresholds of the state's exits."""

    def __init__(self, state: State, group: int, n_exits: int, capacity: int = 1024):
        self.state = state
        self.group = group
        self.n = 0
        self.rows = np.empty(capacity, dtype=np.int64)
        self.targets = np.empty((capacity, n_exits), dtype=np.float64)

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self.rows):
            cap = max(need, 2 * len(self.rows))
            self.rows = np.resize(self.rows, cap)
            grown = np.empty((cap, self.targets.shape[1]))
            grown[: self.n] = self.targets[: self.n]
            self.targets = grown

    @property
    def members(self) -> np.ndarray:
        """Rows of the people in this pool (a view; do not keep across moves)."""
        return self.rows[: self.n]

    def due(self, clock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions whose earliest exit is due (threshold <= clock) and that exit's index."""
        if self.n == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        hit = self.targets[: self.n] <= clock
        if hit.shape[1] == 1:
            pos = np.flatnonzero(hit[:, 0])
            return pos, np.zeros(len(pos), np.int64)
        pos = np.flatnonzero(hit.any(axis=1))
        return pos, hit[pos].argmax(axis=1)


class MigrantPopulation:
    """All people ever contacted: columns in :data:`COLUMNS`, plus per-state pools."""

    def __init__(self, capacity: int = 65536):
        self.n = 0
        self.cols = {name: np.zeros(capacity, dtype=dt) for name, dt in COLUMNS.items()}
        self.pools: dict[tuple[int, int], Pool] = {}
        self._compound_counts = np.zeros((3, 64), dtype=np.int64)  # rows 1: occupying, 2: on their way

    @property
    def headcount(self) -> np.ndarray:
        """People occupying each compound slot (WORKING or EXPLOITED there)."""
        return self._compound_counts[1]

    @property
    def pipeline(self) -> np.ndarray:
        """People on their way to each compound slot (RECRUITED or IN_TRANSIT for it)."""
        return self._compound_counts[2]

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    # -- creation ---------------------------------------------------------------------------

    def create(self, **values: np.ndarray) -> np.ndarray:
        """Append people with the given column values (others zero); returns their rows.

        New people are in no pool yet: callers place them with :meth:`enter`.
        """
        k = len(values["key"])
        if self.n + k > len(self.cols["key"]):
            cap = max(self.n + k, 2 * len(self.cols["key"]))
            for name, arr in self.cols.items():
                grown = np.zeros(cap, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                self.cols[name] = grown
        rows = np.arange(self.n, self.n + k)
        for name, v in values.items():
            self.cols[name][rows] = v
        self.cols["compound"][rows] = -1
        self.cols["recruiter"][rows] = values.get("recruiter", -1)
        self.cols["path"][rows] = -1
        self.cols["state"][rows] = -1
        self.n += k
        return rows

    # -- pools ------------------------------------------------------------------------------

    def pool(self, state: State, group: int = 0) -> Pool:
        """The pool of (state, group), created on first use."""
        key = (int(state), int(group))
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = Pool(State(state), int(group), len(EXITS[State(state)]))
        return pool

    def pools_of(self, state: State) -> list[Pool]:
        """Every pool (one per group) of ``state``."""
        return [p for (s, _), p in sorted(self.pools.items()) if s == int(state)]

    def _leave_pools(self, rows: np.ndarray) -> None:
        state = self.cols["state"][rows]
        group = self.cols["group"][rows]
        if (state == state[0]).all() and (group == group[0]).all():
            if not _NOT_IN_POOL[state[0] + 1]:
                self._swap_remove(self.pools[(int(state[0]), int(group[0]))], rows)
            return
        code = state.astype(np.int64) * 256 + group
        for c in np.unique(code):
            s, g = divmod(int(c), 256)
            if not _NOT_IN_POOL[s + 1]:
                self._swap_remove(self.pools[(s, g)], rows[code == c])

    def _swap_remove(self, pool: Pool, rows: np.ndarray) -> None:
        """Remove ``rows`` from ``pool``: the last members fill the holes (O(removed))."""
        positions = self.cols["pos"][rows]
        new_n = pool.n - len(positions)
        holes = positions[positions < new_n]
        keep_tail = np.ones(pool.n - new_n, dtype=bool)
        keep_tail[positions[positions >= new_n] - new_n] = False
        movers = np.flatnonzero(keep_tail) + new_n
        pool.rows[holes] = pool.rows[movers]
        pool.targets[holes] = pool.targets[movers]
        self.cols["pos"][pool.rows[holes]] = holes
        pool.n = new_n

    def _count_compounds(self, rows: np.ndarray, sign: int) -> None:
        """Add (sign=+1) or remove (-1) ``rows`` from the per-compound head and pipeline counts."""
        comp = self.cols["compound"][rows]
        role = _ROLE[self.cols["state"][rows] + 1]
        sel = (role > 0) & (comp >= 0)
        if not sel.any():
            return
        comp, role = comp[sel], role[sel]
        counts = self._compound_counts
        top = int(comp.max())
        if top >= counts.shape[1]:
            grown = np.zeros((3, max(2 * counts.shape[1], top + 1)), dtype=np.int64)
            grown[:, : counts.shape[1]] = counts
            self._compound_counts = counts = grown
        width = counts.shape[1]
        counts += sign * np.bincount(role * width + comp, minlength=3 * width).reshape(3, width)

    def enter(
        self,
        rows: np.ndarray,
        state: State,
        day: int,
        targets: np.ndarray | None = None,
        group=0,
        compound: np.ndarray | int | None = None,
    ) -> None:
        """Move ``rows`` (unique) into ``state`` (and destination-country ``group``, scalar or per row) on ``day``.

        ``targets`` holds, per row, the threshold of each exit of the new state (shape
        ``(len(rows), n_exits)``); absorbing states take none. ``compound`` assigns a new
        compound slot (-1 for none); None keeps the current one. Every move counts as a
        transition (the CRN occasion counter), and keeps the per-compound head and pipeline
        counts up to date.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        state = State(state)
        self._leave_pools(rows)
        self._count_compounds(rows, -1)
        c = self.cols
        if compound is not None:
            c["compound"][rows] = compound
        c["state"][rows] = int(state)
        groups = np.broadcast_to(np.asarray(group) if state in AT_DESTINATION else 0, rows.shape)
        c["group"][rows] = groups
        c["state_day"][rows] = day
        c["transitions"][rows] += 1
        self._count_compounds(rows, +1)
        if state in ABSORBING:
            return
        if (groups == groups[0]).all():
            self._append(self.pool(state, int(groups[0])), rows, targets)
        else:
            for g in np.unique(groups):
                sel = groups == g
                self._append(self.pool(state, int(g)), rows[sel], targets[sel])

    def _append(self, pool: Pool, rows: np.ndarray, targets: np.ndarray) -> None:
        k = len(rows)
        pool._reserve(k)
        pool.rows[pool.n : pool.n + k] = rows
        pool.targets[pool.n : pool.n + k] = targets
        self.cols["pos"][rows] = np.arange(pool.n, pool.n + k)
        pool.n += k

    # -- queries ----------------------------------------------------------------------------

    def count(self, state: State, group: int | None = None) -> int:
        """Number of people in ``state`` (optionally only in destination-country ``group``)."""
        if State(state) in ABSORBING:
            return int(np.count_nonzero(self.state == int(state)))
        return sum(p.n for p in self.pools_of(state) if group is None or p.group == group)

    def state_counts(self) -> np.ndarray:
        """People per state (index = State value), from the state column."""
        return np.bincount(self.state.astype(np.int64), minlength=len(State))
