"""TraffickingModel: the Mesa model that owns the clock, the agents and the daily schedule.

One step is one calendar day. The day reads top to bottom in :meth:`TraffickingModel.step`;
each line is one call into :mod:`sim.rules` or an agent set. Migrants are array-backed
(:mod:`sim.population`); recruiters, compounds and agencies are ``mesa.Agent`` objects.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from .agents.agencies import BorderControl, DestinationPolice, Embassy, IndonesianPolice
from .agents.compound import Compounds
from .agents.recruiter import Recruiters
from .config import COUNTRIES, ConfigError, TipsimConfig, parse_date, validate
from .levers import Levers
from .lifecycle import EXITS, State
from .outputs import COLUMNS, Recorder, cost_columns, hub_columns
from .population import MigrantPopulation
from .rng import Streams
from .rules import exits, exploitation, initial, recruitment, return_migration, travel
from .world import World

HAZARDS = {
    State.WORKING: exploitation.working_hazards,
    State.EXPLOITED: exploitation.exploited_hazards,
    State.DETAINED: exits.detention_hazards,
    State.SHELTER: exits.shelter_hazards,
    State.HOME: return_migration.home_hazards,
}
"""Per state with hazard exits: today's hazard of each exit (1/day), per destination group."""

MULTIPLIERS = {
    State.WORKING: exploitation.working_multipliers,
    State.EXPLOITED: exploitation.exploited_multipliers,
    State.DETAINED: None,
    State.SHELTER: None,
    State.HOME: return_migration.home_multipliers,
}
"""Per state with hazard exits: each person's multiplier on each exit's hazard, set on entry
(None: 1 for everyone)."""

_THRESHOLD_STREAM = {state: f"exit_{state.name.lower()}" for state in HAZARDS}
"""Stream of the Exp(1) exit thresholds of each hazard state."""
_THRESHOLD_OCCASION = {state: 16 + np.arange(len(EXITS[state])) for state in HAZARDS}
"""Occasion of exit j's threshold, less 16 x the person's transition count before the move."""


class TraffickingModel(mesa.Model):
    """The trafficking pipeline from online recruitment to compounds and back, one day a step.

    Args:
        cfg: a validated run configuration.
        world: a loaded world (loaded from ``cfg.world`` when omitted).
    """

    def __init__(self, cfg: TipsimConfig, world: World | None = None):
        interventions = validate(cfg)
        streams = Streams(cfg.seed, cfg.replicate)
        super().__init__(rng=streams.generator("mesa"))
        self.streams = streams
        self.cfg = cfg
        self.params = cfg.params
        self.world = world if world is not None else World(cfg.world)
        self.start_date = parse_date(cfg.start_date, "start_date")
        self.end_date = parse_date(cfg.end_date, "end_date")
        self.n_days = (self.end_date - self.start_date).days + 1
        self.dates = pd.date_range(self.start_date, periods=self.n_days, freq="D")
        self.day = 0
        w = self.world
        self.world_has_destination = np.array([(w.dest_country == c).any() for c in range(len(COUNTRIES))])
        self._check_world_fits_params()

        self.travel_factor = w.travel_factors(self.start_date, self.n_days)
        self.interventions = interventions
        for iv in self.interventions:
            iv.bind(w)
        self.base_levers = Levers.baseline(self.params, w)
        self.levers = self.base_levers

        self.population = MigrantPopulation()
        self.recruiters = Recruiters(self, self.params.recruitment.compounds_per_recruiter)
        self.compounds = Compounds(self)
        self.indonesian_police = IndonesianPolice(self)
        self.border = BorderControl(self)
        self.embassies = [Embassy(self, c) for c in range(len(COUNTRIES))]
        self.destination_police = [DestinationPolice(self, c) for c in range(len(COUNTRIES))]

        hubs = [w.ids[h] for h in w.hubs]
        self.record = Recorder(
            self.n_days, {**COLUMNS, **hub_columns(hubs), **cost_columns([iv.key for iv in self.interventions])}
        )
        self._schedule_interventions()
        self.clocks: dict[tuple[int, int], np.ndarray] = {}
        self.route_risk = np.zeros(len(w.route_from))  # interception rate recruiters expect per leg
        self.edge_attempts = np.zeros(len(w.route_from), dtype=np.int64)  # checks per leg today (reset daily)
        self.edge_stops = np.zeros(len(w.route_from), dtype=np.int64)  # stops per leg today (reset daily)
        years = self.dates.year.to_numpy()
        self.years = np.unique(years)
        self.year_index = np.searchsorted(self.years, years)  # run day -> row of route_flows
        self.route_flows = np.zeros((len(self.years), len(w.route_from)), dtype=np.int64)  # travellers per year and route
        self.conversion = 0.5  # recruiters' running estimate of the share of deciding responders who become recruits
        initial.populate(self)

    def _check_world_fits_params(self) -> None:
        p = self.params.compounds
        for c, code in enumerate(COUNTRIES):
            if not self.world_has_destination[c] and (p.initial_count[code] > 0 or p.opening_rate[code] > 0):
                raise ConfigError(
                    f"params.compounds.initial_count.{code} / opening_rate.{code}: must be 0, the world "
                    f"'{self.world.name}' has no destination in {code}"
                )

    # -- the day --------------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one day."""
        day = self.day
        self.record.day = day
        self.levers = self.levers_for(day)
        self.access = travel.destination_access(self, day)
        self.awareness = exploitation.embassy_awareness(self)
        self.advance_clocks(day)
        exploitation.compound_growth(self, day)
        recruitment.recruiter_dynamics(self, day)
        recruitment.new_contacts(self, day)
        recruitment.decisions(self, day)
        recruitment.departures(self, day)
        travel.journeys(self, day)
        travel.learn_route_risk(self)
        exploitation.compound_life(self, day)
        exploitation.raids(self, day)
        exits.handovers(self, day)
        exits.deportations(self, day)
        exits.repatriations(self, day)
        return_migration.remigration(self, day)
        travel.other_crossings(self, day)
        self.record_stocks(day)
        self.day += 1
        self.running = self.day < self.n_days

    def run(self, progress: bool = False) -> pd.DataFrame:
        """Run to the end of the horizon and return the daily table."""
        from tqdm import tqdm

        with tqdm(total=self.n_days, unit="day", disable=not progress, mininterval=0.5) as bar:
            while self.running:
                self.step()
                bar.update(1)
        return self.daily()

    def daily(self) -> pd.DataFrame:
        """The daily outputs recorded so far."""
        return self.record.frame(self.dates)

    def route_table(self) -> pd.DataFrame:
        """Travellers per year and route (one row each): who travelled each leg, by the year they set out."""
        w = self.world
        year, route = np.meshgrid(self.years, np.arange(len(w.route_from)), indexing="ij")
        return pd.DataFrame({
            "year": year.ravel(),
            "from": np.asarray(w.ids)[w.route_from][route.ravel()],
            "to": np.asarray(w.ids)[w.route_to][route.ravel()],
            "mode": w.route_mode[route.ravel()],
            "travellers": self.route_flows.ravel(),
        })

    # -- levers and clocks ----------------------------------------------------------------

    def _schedule_interventions(self) -> None:
        """Delivery levels (interventions x days) and the cost columns, which follow from the schedule alone."""
        self._levels = np.array([iv.levels for iv in self.interventions]).reshape(len(self.interventions), self.n_days)
        for iv in self.interventions:
            self.record.data[f"cost_{iv.key}"][:] = iv.daily_cost
        if self.interventions:
            self.record.data["intervention_cost_usd"][:] = np.sum([iv.daily_cost for iv in self.interventions], axis=0)
        self._levers_cache: tuple[np.ndarray, Levers] | None = None

    def levers_for(self, day: int) -> Levers:
        """Today's levers: the baseline changed by every intervention active today (reused while no level changes)."""
        levels = self._levels[:, day]
        if not levels.any():
            return self.base_levers
        if self._levers_cache is not None and np.array_equal(levels, self._levers_cache[0]):
            return self._levers_cache[1]
        levers = self.base_levers.copy()
        for iv, level in zip(self.interventions, levels):
            if level > 0:
                iv.apply(levers, level)
        levers.cap_probabilities()
        self._levers_cache = (levels.copy(), levers)
        return levers

    def clock(self, state: State) -> np.ndarray:
        """Clocks of ``state`` per destination group (row) and exit (column): cumulative hazard
        of each hazard exit; today's day for timer exits."""
        c = self.clocks.get(state)
        if c is None:
            c = self.clocks[int(state)] = np.zeros((len(COUNTRIES), len(EXITS[state])))
        if state not in HAZARDS:
            c[:] = self.day
        return c

    def advance_clocks(self, day: int) -> None:
        """Add today's hazards (1/day x 1 day) to every hazard clock."""
        for state, hazards in HAZARDS.items():
            self.clock(state)[:] += hazards(self)

    # -- moving people ----------------------------------------------------------------------

    def move(self, rows: np.ndarray, state: State, group=0, compound=None, timer=None) -> None:
        """Move ``rows`` into ``state`` (destination-country ``group``, scalar or per row) and arm its exits.

        Timer states take ``timer`` (the exit day per row); hazard states draw one threshold
        E ~ Exp(1) per exit from the person's own stream, keyed by their transition count.
        ``compound`` assigns a new compound slot (scalar or per row; None keeps the current one).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        if state in HAZARDS:
            targets = self.arm(rows, state, group, compound)
        elif state in EXITS:
            targets = np.asarray(timer, dtype=float).reshape(-1, 1)
        else:  # absorbing
            targets = None
        self.population.enter(rows, state, self.day, targets, group=group, compound=compound)

    def arm(self, rows: np.ndarray, state: State, group, compound) -> np.ndarray:
        """Thresholds of each exit of hazard ``state`` for ``rows`` (see :meth:`move`): the
        group's clock plus E / multiplier, +inf where the multiplier is 0 (an exit closed to them)."""
        pop = self.population
        # one threshold per exit, keyed by (person, transition count, exit)
        occasion = pop.cols["transitions"][rows][:, None] * 16 + _THRESHOLD_OCCASION[state]
        e = self.streams.exponential(_THRESHOLD_STREAM[state], pop.cols["key"][rows][:, None], occasion)
        multipliers = MULTIPLIERS[state]
        if multipliers is not None:
            if compound is None:
                compound = pop.cols["compound"][rows]
            elif not isinstance(compound, np.ndarray):
                compound = np.full(len(rows), compound)
            mult = multipliers(self, rows, compound)
            e = np.divide(e, mult, out=np.full(e.shape, np.inf), where=mult > 0)
        return self.clock(state)[group] + e

    def due(self, state: State, ordered: bool = True):
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

    # -- outputs ----------------------------------------------------------------------------

    def record_stocks(self, day: int) -> None:
        """End-of-day stocks."""
        pop, rec = self.population, self.record
        exploited = [pop.count(State.EXPLOITED, g) for g in range(len(COUNTRIES))]
        working = [pop.count(State.WORKING, g) for g in range(len(COUNTRIES))]
        rec.set("exploited", sum(exploited))
        rec.set("person_days_exploited", sum(exploited))
        rec.set("working", sum(working))
        for g, code in enumerate(COUNTRIES):
            rec.set(f"exploited_{code}", exploited[g])
        rec.set("working_KH", working[COUNTRIES.index("KH")])
        rec.set("in_transit", pop.count(State.IN_TRANSIT))
        rec.set("detained_stock", pop.count(State.DETAINED))
        rec.set("in_shelter", pop.count(State.SHELTER))
        rec.set("wni_in_cambodia", travel.people_in_country(self, COUNTRIES.index("KH")))
        rec_table = self.recruiters
        active = rec_table.active
        rec.set("recruiters_active", int(active.sum()))
        rec.set("recruiters_lying_low", int((active & (rec_table.low_until > day)).sum()))
        comp = self.compounds
        kh = comp.country == COUNTRIES.index("KH")
        rec.set("compounds_active", int(comp.open.sum()))
        rec.set("compounds_active_KH", int((comp.open & kh).sum()))
        rec.set("capacity_KH", int(round(comp.capacity[comp.open & kh].sum())))
