"""MigrantPopulation: migrants as a structure of numpy arrays, one row per person.

Rows are created lazily, when a person first answers a job offer (or, for the people already
in compounds on the start date, at initialisation), so memory and time follow the people in
the pipeline, not Indonesia's population. A row is never deleted: a person's state changes.

People in a non-absorbing state also sit in a compact *pool* for that state (and, for states
at a destination, that country), which stores the thresholds of the state's exits
(:mod:`sim.lifecycle`) contiguously. A day's work on a state is then a vectorised compare of
those thresholds with the state's clocks, and moving people between states costs O(moved)
(tombstone plus append; these two per-slot loops are compiled with numba). No Python loop over
people anywhere.
"""

from __future__ import annotations

import numba
import numpy as np

from .agents.table import column_views
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
    "has_passport": np.dtype(np.bool_),  # holds a passport (set on first departure; initial population: yes)
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


MANAGED = frozenset({"state", "group", "pos", "compound", "transitions", "state_day"})
"""Columns kept by :meth:`MigrantPopulation.enter` (a person's state, pool slot, compound and CRN occasion counter)."""

_NONE = np.empty(0, dtype=np.int64)


def _positions_by_label(labels: np.ndarray):
    """Yield ``(label, positions of that label)`` per distinct label, in label order, positions
    ascending (one stable sort instead of a mask per label)."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    cuts = (np.flatnonzero(ordered[1:] != ordered[:-1]) + 1).tolist()
    for start, end in zip([0, *cuts], [*cuts, len(order)]):
        yield int(ordered[start]), order[start:end]


@numba.njit(cache=True)
def _tombstone(pool_rows, pool_targets, pos, rows):
    """Mark the pool slots of ``rows`` dead: row -1, every threshold +inf (never due)."""
    for r in rows:
        slot = pos[r]
        pool_rows[slot] = -1
        pool_targets[:, slot] = np.inf


@numba.njit(cache=True)
def _place(pool_rows, pool_targets, newest_low, pos, rows, targets, start):
    """Put ``rows`` with their exit thresholds (``targets[i, j]``) in the pool slots from
    ``start`` on, record each row's slot in ``pos``, and lower ``newest_low[j]`` to the lowest
    new threshold of exit j."""
    for i in range(len(rows)):
        slot = start + i
        pool_rows[slot] = rows[i]
        pos[rows[i]] = slot
        for j in range(targets.shape[1]):
            pool_targets[j, slot] = targets[i, j]
            newest_low[j] = min(newest_low[j], targets[i, j])


class Pool:
    """The people in one (state, group), with the thresholds of the state's exits.

    Thresholds are stored exit-major (``targets[j, i]`` for exit j of member i) so that the
    daily check of each exit is a compare over one contiguous array. Leaving members become
    tombstones (row -1, thresholds +inf, never due) and the pool is compacted when more than
    a quarter of it is dead, so a removal costs O(1) per person (amortised).
    """

    def __init__(self, state: State, group: int, n_exits: int, capacity: int = 1024):
        self.state = state
        self.group = group
        self.n = 0  # slots used, tombstones included
        self.live = 0  # members
        self.rows = np.empty(capacity, dtype=np.int64)
        self.targets = np.empty((n_exits, capacity), dtype=np.float64)
        # what the last check saw, to skip an exit when nothing can have become due since:
        self.checked_clock = np.full(n_exits, np.nan)  # the exit's clock at the last check
        self.newest_low = np.full(n_exits, np.inf)  # lowest threshold added since the last check
        self.had_hits = np.ones(n_exits, dtype=bool)  # the last check found someone due

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > len(self.rows):
            cap = max(need, 2 * len(self.rows))
            self.rows = np.resize(self.rows, cap)
            grown = np.empty((self.targets.shape[0], cap))
            grown[:, : self.n] = self.targets[:, : self.n]
            self.targets = grown

    @property
    def members(self) -> np.ndarray:
        """Rows of the people in this pool (a copy)."""
        rows = self.rows[: self.n]
        return rows[rows >= 0]

    def due(self, clock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions whose earliest exit is due (threshold <= clock) and that exit's index.

        When several exits are due the same day the first in :data:`~sim.lifecycle.EXITS`
        order wins.
        """
        if self.live == 0:
            return _NONE, _NONE
        # an exit can have new due members only if its clock moved, a low threshold was added, or
        # members found due last time are still here (capacity-limited exits)
        check = ((clock != self.checked_clock) | (self.newest_low <= clock) | self.had_hits).tolist()
        n = self.n
        hits = [np.flatnonzero(self.targets[j, :n] <= clock[j]) if check[j] else _NONE for j in range(len(check))]
        sizes = [len(h) for h in hits]
        self.checked_clock[:] = clock
        self.newest_low.fill(np.inf)
        self.had_hits[:] = sizes
        exits_hit = [j for j, size in enumerate(sizes) if size]
        if len(exits_hit) <= 1:
            j = exits_hit[0] if exits_hit else 0
            return hits[j], np.full(sizes[j], j, dtype=np.int64)
        pos = np.concatenate(hits)
        which = np.repeat(np.arange(len(hits)), sizes)
        pos, first = np.unique(pos, return_index=True)  # concatenated in exit order: keep the earliest exit
        return pos, which[first]


class MigrantPopulation:
    """All people ever contacted: columns in :data:`COLUMNS` (each also a property, ``pop.<column>``,
    viewing the rows in use), plus per-state pools."""

    def __init__(self, capacity: int = 65536):
        self.n = 0
        self.cols = {name: np.zeros(capacity, dtype=dt) for name, dt in COLUMNS.items()}
        self.pools: dict[tuple[int, int], Pool] = {}
        self._pools_by_state: dict[int, list[Pool]] = {}
        self._compound_counts = np.zeros((3, 64), dtype=np.int64)  # rows 1: occupying, 2: on their way

    @property
    def headcount(self) -> np.ndarray:
        """People occupying each compound slot (WORKING or EXPLOITED there)."""
        return self._compound_counts[1]

    @property
    def pipeline(self) -> np.ndarray:
        """People on their way to each compound slot (RECRUITED or IN_TRANSIT for it)."""
        return self._compound_counts[2]

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

    # -- writing columns ---------------------------------------------------------------------

    def set(self, rows: np.ndarray, **values) -> None:
        """Set columns of ``rows`` (each value a scalar or one per row).

        The columns that follow a person's place in the life cycle (:data:`MANAGED`) change
        only through :meth:`enter`, which keeps pools and compound counts consistent.
        """
        for name, v in values.items():
            if name in MANAGED:
                raise ValueError(f"column {name!r} changes only when a person moves (MigrantPopulation.enter)")
            self.cols[name][rows] = v

    def increment(self, rows: np.ndarray, name: str, by: int = 1) -> None:
        """Add ``by`` to column ``name`` of ``rows`` (unique rows)."""
        if name in MANAGED:
            raise ValueError(f"column {name!r} changes only when a person moves (MigrantPopulation.enter)")
        self.cols[name][rows] += by

    # -- pools ------------------------------------------------------------------------------

    def pool(self, state: State, group: int = 0) -> Pool:
        """The pool of (state, group), created on first use."""
        key = (int(state), int(group))
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = Pool(State(state), int(group), len(EXITS[State(state)]))
            same = self._pools_by_state.setdefault(key[0], [])
            same.append(pool)
            same.sort(key=lambda p: p.group)
        return pool

    def pools_of(self, state: State) -> list[Pool]:
        """Every pool (one per group, in group order) of ``state``."""
        return self._pools_by_state.get(int(state), [])

    def _leave_pools(self, rows: np.ndarray) -> int | None:
        """Take ``rows`` out of their pools; returns their common state, or None if they differ."""
        state = self.cols["state"][rows]
        group = self.cols["group"][rows]
        first = int(state[0])
        same_state = state.min() == state.max()
        if same_state and group.min() == group.max():
            if not _NOT_IN_POOL[first + 1]:
                self._remove(self.pools[(first, int(group[0]))], rows)
            return first
        code = state.astype(np.int64) * 256 + group
        for c, at in _positions_by_label(code):
            s, g = divmod(c, 256)
            if not _NOT_IN_POOL[s + 1]:
                self._remove(self.pools[(s, g)], rows[at])
        return first if same_state else None

    def _remove(self, pool: Pool, rows: np.ndarray) -> None:
        """Remove ``rows`` from ``pool`` (tombstones); compact when over a quarter of the slots are dead."""
        _tombstone(pool.rows, pool.targets, self.cols["pos"], rows)
        pool.live -= len(rows)
        if pool.n > 4096 and 4 * (pool.n - pool.live) > pool.n:  # over a quarter dead: compact
            keep = pool.rows[: pool.n] >= 0
            pool.rows[: pool.live] = pool.rows[: pool.n][keep]
            pool.targets[:, : pool.live] = pool.targets[:, : pool.n][:, keep]
            pool.n = pool.live
            self.cols["pos"][pool.rows[: pool.n]] = np.arange(pool.n)

    def _count_places(self, rows: np.ndarray, role, sign: int) -> None:
        """Add ``sign`` to the compound counts of ``rows`` with ``role`` (scalar, or per row; 0 = none)."""
        comp = self.cols["compound"][rows]
        if isinstance(role, np.ndarray):
            sel = (role > 0) & (comp >= 0)
            comp, role = comp[sel], role[sel]
        elif role == 0:
            return
        else:
            comp = comp[comp >= 0]
        if not len(comp):
            return
        counts = self._compound_counts
        top = int(comp.max())
        if top >= counts.shape[1]:  # more compounds than columns: widen
            grown = np.zeros((3, max(2 * counts.shape[1], top + 1)), dtype=np.int64)
            grown[:, : counts.shape[1]] = counts
            self._compound_counts = counts = grown
        flat = counts.reshape(-1)  # a view: row ``role``, column ``compound``
        flat += sign * np.bincount(role * counts.shape[1] + comp, minlength=flat.size)

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
        c = self.cols
        old = self._leave_pools(rows)
        # places held in a compound: released in the old state's role, taken in the new one's
        # (one role for all when they share a state; nothing changes if neither role nor compound does)
        old_role = _ROLE[c["state"][rows] + 1] if old is None else _ROLE[old + 1]
        new_role = _ROLE[int(state) + 1]
        recount = compound is not None or isinstance(old_role, np.ndarray) or old_role != new_role
        if recount:
            self._count_places(rows, old_role, -1)
            if compound is not None:
                c["compound"][rows] = compound
        c["state"][rows] = int(state)
        if state not in AT_DESTINATION:
            group = 0
        c["group"][rows] = group
        c["state_day"][rows] = day
        c["transitions"][rows] += 1
        if recount:
            self._count_places(rows, new_role, +1)
        if state in ABSORBING:
            return
        if not isinstance(group, np.ndarray):
            self._append(self.pool(state, int(group)), rows, targets)
        elif group.min() == group.max():
            self._append(self.pool(state, int(group[0])), rows, targets)
        else:
            for g, at in _positions_by_label(group):
                self._append(self.pool(state, g), rows[at], targets[at])

    def _append(self, pool: Pool, rows: np.ndarray, targets: np.ndarray) -> None:
        k = len(rows)
        pool._reserve(k)
        _place(pool.rows, pool.targets, pool.newest_low, self.cols["pos"], rows, targets, pool.n)
        pool.n += k
        pool.live += k

    # -- queries ----------------------------------------------------------------------------

    def count(self, state: State, group: int | None = None) -> int:
        """Number of people in ``state`` (optionally only in destination-country ``group``)."""
        if State(state) in ABSORBING:
            return int(np.count_nonzero(self.state == int(state)))
        return sum(p.live for p in self.pools_of(state) if group is None or p.group == group)

    def state_counts(self) -> np.ndarray:
        """People per state (index = State value), from the state column."""
        return np.bincount(self.state.astype(np.int64), minlength=len(State))


column_views(MigrantPopulation, COLUMNS)
