"""A naive per-agent Mesa 3.5 model of the core migrant life cycle: docking check and the old speed baseline.

The honest speed baseline is the competent model of the same subset (:mod:`competent_mesa`),
which shares this module's subset configuration, day-0 cohort and exit hazards.

The *core migrant life cycle* is the destination side of the pipeline for a fixed cohort of
Indonesians placed in compounds on day 0 and followed for 365 days from 2024-01-01 (no border
closures then)::

    WORKING  --leave-->  HOME                      EXPLOITED --escape-->  ESCAPED
    WORKING  --held--->  EXPLOITED                 EXPLOITED --ransom-->  RELEASED
    WORKING  --case--->  SHELTER                   EXPLOITED --resale-->  EXPLOITED (another compound)
    WORKING  --dumped->  RELEASED                  EXPLOITED --report-->  EXPLOITED (case open)
    ESCAPED / RESCUED / RELEASED --handover--> SHELTER or HOME   EXPLOITED --rescue-->  RESCUED
    SHELTER  --repatriate (daily capacity)--> HOME EXPLOITED --dumped-->  RELEASED

Everything else is switched off in the engine's configuration (:func:`subset_overrides`): no
recruitment (no recruiter on the start date, and nobody enters the market), no raids, no compound growth or openings, no re-migration, no interventions,
full embassy awareness.

:class:`NaiveModel` is the textbook way to write this in Mesa: one :class:`Migrant`
(``mesa.Agent``) per person, ``model.agents.shuffle_do("step")`` once a day, and in each
step the agent draws, exit by exit in the engine's tie-breaking order
(:data:`sim.lifecycle.EXITS`), a Bernoulli transition with ``p = 1 - exp(-hazard)`` from the
model's seeded :class:`numpy.random.Generator` (``model.rng``). Hazards and per-person
multipliers are the engine's (see :mod:`sim.rules.exploitation`, :mod:`sim.rules.exits`),
re-implemented here from the parameters:

* WORKING: leave ``contract_end_rate``; held ``exploit_rate x violence / 0.5``; case
  ``worker_case_rate x awareness x digital / digital_mean``; dumped ``release_rate`` (0 without
  interventions).
* EXPLOITED: escape ``escape_rate x (1 - violence) / 0.5``; ransom ``ransom_rate x
  ransom_median / ransom``; resale ``resale_rate`` (to another open compound drawn by
  vacancies + 1, in another country with ``resale_abroad_share``); report
  ``family_report_rate x digital / digital_mean`` while no case is open, then rescue
  ``targeted_rescue_rate`` once it is; dumped ``release_rate``.
* ESCAPED / RESCUED / RELEASED: after a hand-over time (log-normal, mean ``handover_days``,
  log-sd 0.5, rounded stochastically to whole days) go to the embassy (SHELTER, a case) with
  ``case_prob_escaped`` / 1 / ``case_prob_released``, else home on their own.
* SHELTER: repatriation hazard ``1 / processing_days``; people whose draw fired queue, and at
  most ``repatriation_capacity`` a day per embassy go home, longest-waiting first.

A person who enters a state today makes no draw for that state until tomorrow (as in the
engine, whose thresholds are armed after today's clocks advanced), except a hand-over time
of 0 days, which completes the same day (the engine's hand-overs run after compound life).
People at HOME are removed from the model (re-migration is off). The cohort (state,
compound, digital exposure, case flags) and the compounds (country, capacity, violence,
ransom) are copied from a :class:`sim.TraffickingModel` built with the same configuration,
so both implementations start identical; the naive model then uses only its own generator.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from functools import lru_cache

import mesa
import numpy as np

import sim
import sim.world
from sim.lifecycle import HomeReason, State
from sim.run import people_table

START_DATE, END_DATE = "2024-01-01", "2024-12-31"
SEED = 20240101
DECEIVED_SHARE = 0.3
"""Share of the cohort held (EXPLOITED) on day 0. The calibrated default (0.005) leaves the
EXPLOITED exits almost unused in a cohort of a few thousand, so the subset raises it to
exercise every exit; both implementations use the same value."""

SUBSET_STATES = (State.WORKING, State.EXPLOITED, State.ESCAPED, State.RESCUED, State.RELEASED, State.SHELTER, State.HOME)
HANDOVER = (State.ESCAPED, State.RESCUED, State.RELEASED)
FLOWS = ("left_compound", "new_victims", "escaped", "ransomed", "resold", "rescued", "dumped", "self_returned",
         "repatriated", "embassy_cases_region")
"""Daily event counts the naive model records, named as the engine's output columns."""
_F = {name: i for i, name in enumerate(FLOWS)}


# -------------------------------------------------------------------------------------------
# The subset's configuration (used by the engine side, and as the naive model's parameters)
# -------------------------------------------------------------------------------------------


def _switches(seed: int, deceived_share: float) -> list[str]:
    countries = sim.world.World(sim.load_config([]).world).destination_countries
    off = [f"params.destination_police.raid_rate.{c}=0" for c in countries]
    off += [f"params.compounds.opening_rate.{c}=0" for c in countries]
    return [
        f"seed={seed}",
        f"start_date={START_DATE}",
        f"end_date={END_DATE}",
        # `interventions={}` is a no-op merge in Hydra (the baseline's dated events stay);
        # deleting the node is what removes them.
        "~interventions",
        "params.embassy.awareness_initial=1.0",
        # no recruitment: no recruiter on the start date, and nobody enters the market
        "params.recruitment.initial_recruiters=0",
        "params.recruitment.entry_speed=0",
        "params.compounds.growth_rate=0",
        "params.compounds.growth_rate_gambling=0",
        "params.migration.remigration_rate=0",
        f"params.compounds.initial_deceived_share={deceived_share!r}",
        *off,
    ]


@lru_cache(maxsize=64)
def _capacity_scale(seed: int, deceived_share: float) -> float:
    """Sum over compounds of capacity / capacity_mean for ``seed`` (a probe model's draws)."""
    probe = sim.TraffickingModel(sim.load_config(_switches(seed, deceived_share) + ["params.compounds.capacity_mean=1000"]))
    return float(probe.compounds.capacity.sum() / 1000.0)


def subset_overrides(n: int, seed: int = SEED, deceived_share: float = DECEIVED_SHARE, extra: tuple[str, ...] = ()) -> list[str]:
    """Hydra overrides that turn the default configuration into the core-life-cycle subset with about ``n`` migrants.

    N is set through ``params.compounds.capacity_mean`` (with the default ``initial_count``
    20/4/3 compounds and ``initial_fill`` 0.9): compound capacities are ``capacity_mean`` times
    fixed per-seed log-normal factors, so a probe model gives their sum and the mean is scaled
    to hit ``n``; the cohort is then ``sum(round(capacity x fill))``, within a few dozen of
    ``n`` (read the actual number from the model or ``manifest["people_created"]``).
    """
    fill = 0.9
    mean = n / (fill * _capacity_scale(seed, deceived_share))
    return _switches(seed, deceived_share) + [f"params.compounds.initial_fill={fill}", f"params.compounds.capacity_mean={mean!r}", *extra]


def subset_config(n: int, seed: int = SEED, **kw) -> sim.TipsimConfig:
    """The composed, validated subset configuration (:func:`subset_overrides`)."""
    cfg = sim.load_config(subset_overrides(n, seed, **kw))
    assert not cfg.interventions, "the subset must run without interventions"
    return cfg


# -------------------------------------------------------------------------------------------
# What both per-agent Mesa models start from: exit hazards and the cohort
# -------------------------------------------------------------------------------------------

WORKING_EXITS = ("leave", "held", "case", "working_dumped")
EXPLOITED_EXITS = ("escape", "ransom", "resale", "report", "rescue", "dumped")
"""Exit names of WORKING and EXPLOITED in the engine's tie-breaking order (``sim.lifecycle.EXITS``;
the WORKING ``dumped`` exit is called ``working_dumped`` here so that every name is unique)."""


def exit_hazards(params, hazard_scale: dict[str, float] | None = None) -> dict[str, float]:
    """Base hazard (1/day) of each exit of the subset by name (:data:`WORKING_EXITS`,
    :data:`EXPLOITED_EXITS`, ``repatriate``), before per-person and per-compound multipliers.

    ``hazard_scale`` multiplies named exits (negative controls, e.g. ``{"escape": 2.0}``);
    an unknown name is an error. Mass release (``dumped``) is a lever only interventions
    raise: 0 in the subset.
    """
    c, e, dp = params.compounds, params.embassy, params.destination_police
    release_rate = 0.0
    base = {"leave": c.contract_end_rate, "held": c.exploit_rate, "case": e.worker_case_rate, "working_dumped": release_rate,
            "escape": c.escape_rate, "ransom": c.ransom_rate, "resale": c.resale_rate, "report": e.family_report_rate,
            "rescue": dp.targeted_rescue_rate, "dumped": release_rate}
    scale = dict.fromkeys([*base, "repatriate"], 1.0)
    for k, v in (hazard_scale or {}).items():
        if k not in scale:
            raise KeyError(f"unknown exit {k!r}; known: {', '.join(scale)}")
        scale[k] = v
    out = {k: rate * scale[k] for k, rate in base.items()}
    out["repatriate"] = scale["repatriate"] / e.processing_days
    return out


@dataclasses.dataclass(frozen=True)
class Cohort:
    """The subset's day 0: the people in compounds (one entry per person) and the compounds (one per slot)."""

    params: object  # the run's parameters (cfg.params)
    n_days: int
    n_countries: int
    state: np.ndarray  # int State code: WORKING or EXPLOITED
    compound: np.ndarray  # compound slot
    digital: np.ndarray  # digital exposure / population mean: the multiplier of the case and report hazards
    held: np.ndarray
    case_open: np.ndarray
    comp_country: np.ndarray  # country index of each compound
    comp_capacity: np.ndarray
    comp_violence: np.ndarray
    comp_ransom: np.ndarray  # USD
    comp_open: np.ndarray

    def headcount(self) -> np.ndarray:
        """People per compound slot (float, as capacities are)."""
        return np.bincount(self.compound, minlength=len(self.comp_country)).astype(np.float64)


def cohort(engine: sim.TraffickingModel) -> Cohort:
    """The cohort and compounds of a freshly built engine model (day 0, not stepped).

    People come from the people table (``sim.run.people_table``, the schema of
    ``people.parquet``); compounds from the model's compound table.
    """
    people = people_table(engine)
    inside = people["state"].isin([State.WORKING.name.lower(), State.EXPLOITED.name.lower()]).to_numpy()
    people = people[inside]
    p = engine.params
    comp = engine.compounds
    return Cohort(
        params=p,
        n_days=int(engine.n_days),
        n_countries=len(engine.countries),
        state=np.array([int(State[s.upper()]) for s in people["state"]], dtype=np.int64),
        compound=people["compound"].to_numpy(np.int64),
        digital=people["digital"].to_numpy() / max(p.population.digital_exposure_mean, 1e-9),
        held=people["held"].to_numpy(bool),
        case_open=people["case_open"].to_numpy(bool),
        comp_country=comp.country.astype(np.int64).copy(),
        comp_capacity=comp.capacity.copy(),
        comp_violence=comp.violence.copy(),
        comp_ransom=comp.ransom.copy(),
        comp_open=comp.open.copy(),
    )


# -------------------------------------------------------------------------------------------
# The naive model
# -------------------------------------------------------------------------------------------


class Migrant(mesa.Agent):
    """One migrant of the cohort."""

    def __init__(self, model: NaiveModel, state: State, compound: int, digital: float, held: bool, case_open: bool):
        super().__init__(model)
        self.state = state
        self.compound = compound
        self.country = int(model.comp_country[compound])
        self.digital = digital  # digital exposure / population mean (the multiplier)
        self.held = held
        self.case_open = case_open
        self.since = -1  # run day the current state was entered
        self.handover_day = -1
        self.queued = False  # in the embassy's repatriation queue

    # -- the day ------------------------------------------------------------------------------

    def step(self) -> None:
        m = self.model
        day = m.day
        if self.state == State.WORKING:
            self.working(m, day)
        elif self.state == State.EXPLOITED:
            self.exploited(m, day)
        if self.state in HANDOVER:
            if day >= self.handover_day:
                self.hand_over(m, day)
        elif self.state == State.SHELTER and self.since < day and not self.queued:
            if m.rng.random() < 1.0 - math.exp(-m.h_repatriate):
                self.queued = True
                m.queue[self.country].append(self)

    def working(self, m: NaiveModel, day: int) -> None:
        rng, h = m.rng, m.h_working
        c = self.compound
        if rng.random() < 1.0 - math.exp(-h[0]):  # leave: contract ended, goes home
            self.leave_compound(day)
            m.flows[day, _F["left_compound"]] += 1
            self.go_home(HomeReason.LEFT)
        elif rng.random() < 1.0 - math.exp(-h[1] * m.comp_violence[c] / 0.5):  # held
            self.held = True
            m.flows[day, _F["new_victims"]] += 1
            self.set_state(State.EXPLOITED, day)
        elif rng.random() < 1.0 - math.exp(-h[2] * m.awareness * self.digital):  # case
            self.leave_compound(day)
            self.to_shelter(day)
        elif rng.random() < 1.0 - math.exp(-h[3]):  # dumped
            self.leave_compound(day)
            m.flows[day, _F["dumped"]] += 1
            self.to_handover(State.RELEASED, day)

    def exploited(self, m: NaiveModel, day: int) -> None:
        rng, h = m.rng, m.h_exploited
        c = self.compound
        report = 0.0 if self.case_open else h[3] * self.digital
        rescue = h[4] if self.case_open else 0.0
        if rng.random() < 1.0 - math.exp(-h[0] * (1.0 - m.comp_violence[c]) / 0.5):  # escape
            self.leave_compound(day)
            m.flows[day, _F["escaped"]] += 1
            self.to_handover(State.ESCAPED, day)
        elif rng.random() < 1.0 - math.exp(-h[1] * m.ransom_median / m.comp_ransom[c]):  # ransom paid
            self.leave_compound(day)
            m.flows[day, _F["ransomed"]] += 1
            self.to_handover(State.RELEASED, day)
        elif rng.random() < 1.0 - math.exp(-h[2]):  # resale
            self.resell(m, day)
        elif rng.random() < 1.0 - math.exp(-report):  # report: the embassy opens a case
            m.open_case(self)
            self.since = day
        elif rng.random() < 1.0 - math.exp(-rescue):  # targeted rescue
            self.leave_compound(day)
            m.flows[day, _F["rescued"]] += 1
            self.to_handover(State.RESCUED, day)
        elif rng.random() < 1.0 - math.exp(-h[5]):  # dumped
            self.leave_compound(day)
            m.flows[day, _F["dumped"]] += 1
            self.to_handover(State.RELEASED, day)

    def resell(self, m: NaiveModel, day: int) -> None:
        """Sold to another open compound drawn by vacancies + 1, in another country with ``resale_abroad_share``."""
        rng, k = m.rng, m.n_countries
        country = self.country
        if rng.random() < m.resale_abroad_share:
            other = (country + 1 + min(int(rng.random() * (k - 1)), k - 2)) % k
            if m.comp_open[m.comp_country == other].any():
                country = other
        vac = np.maximum(m.comp_capacity - m.head, 0.0) * m.comp_open + m.comp_open
        w = np.where(m.comp_country == country, vac, 0.0)
        w[self.compound] = 0.0  # the buyer is another compound
        if w.sum() <= 0:  # no buyer: stays where they are
            return
        m.flows[day, _F["resold"]] += 1
        target = min(int(np.searchsorted(np.cumsum(w) / w.sum(), rng.random(), side="right")), len(w) - 1)
        m.head[self.compound] -= 1
        m.head[target] += 1
        self.compound, self.country = target, country
        self.since = day

    def hand_over(self, m: NaiveModel, day: int) -> None:
        p = {State.ESCAPED: m.case_prob_escaped, State.RESCUED: 1.0, State.RELEASED: m.case_prob_released}[self.state]
        if m.rng.random() < p:
            self.to_shelter(day)
        else:
            m.flows[day, _F["self_returned"]] += 1
            self.go_home(HomeReason.SELF_RETURN)

    # -- transitions --------------------------------------------------------------------------

    def set_state(self, state: State, day: int) -> None:
        counts = self.model.counts
        counts[self.state] -= 1
        counts[state] += 1
        self.state = state
        self.since = day

    def leave_compound(self, day: int) -> None:
        self.model.head[self.compound] -= 1
        self.model.left_day.append(day)

    def to_handover(self, state: State, day: int) -> None:
        self.set_state(state, day)
        self.handover_day = day + self.model.handover_days()
        if self.handover_day <= day:  # a 0-day hand-over completes today
            self.hand_over(self.model, day)

    def to_shelter(self, day: int) -> None:
        self.model.open_case(self)
        self.set_state(State.SHELTER, day)

    def go_home(self, reason: HomeReason) -> None:
        m = self.model
        m.counts[self.state] -= 1
        m.counts[State.HOME] += 1
        m.home_reasons[int(reason)] += 1
        self.state = State.HOME
        self.remove()  # no re-migration in the subset: the person leaves the model


class NaiveModel(mesa.Model):
    """The core migrant life cycle with one ``mesa.Agent`` per migrant.

    Args:
        engine: a freshly built :class:`sim.TraffickingModel` of the subset configuration
            (day 0, not stepped): the cohort and compounds are copied from it.
        rng: seed (or Generator) of this model's own random numbers.
        hazard_scale: multipliers on exit hazards by exit name (negative controls, e.g.
            ``{"escape": 2.0}``); empty for the faithful model.
    """

    def __init__(self, engine: sim.TraffickingModel, rng=None, hazard_scale: dict[str, float] | None = None):
        super().__init__(rng=rng)
        start = cohort(engine)
        p = start.params
        e = p.embassy
        h = exit_hazards(p, hazard_scale)
        self.h_working = tuple(h[name] for name in WORKING_EXITS)
        self.h_exploited = tuple(h[name] for name in EXPLOITED_EXITS)
        self.h_repatriate = h["repatriate"]
        self.capacity = int(e.repatriation_capacity)
        self.ransom_median = p.compounds.ransom_median_usd
        self.resale_abroad_share = p.compounds.resale_abroad_share
        self.case_prob_escaped, self.case_prob_released = e.case_prob_escaped, e.case_prob_released
        self.awareness_initial, self.awareness_cases = e.awareness_initial, e.awareness_cases
        self._handover_mu = math.log(e.handover_days) - 0.5 * 0.5**2

        self.n_countries = start.n_countries
        self.comp_country = start.comp_country.copy()
        self.comp_capacity = start.comp_capacity.copy()
        self.comp_violence = start.comp_violence.tolist()
        self.comp_ransom = start.comp_ransom.tolist()
        self.comp_open = start.comp_open.copy()
        self.n_people = len(start.state)
        self.head = start.headcount()
        for s, k, d, held, co in zip(start.state.tolist(), start.compound.tolist(), start.digital.tolist(),
                                     start.held.tolist(), start.case_open.tolist()):
            Migrant(self, State(s), k, d, held, co)

        self.day = 0
        self.n_days = start.n_days
        self.cases = 0
        self.awareness = 1.0
        self.queue = [deque() for _ in range(self.n_countries)]
        self.counts = np.bincount(start.state, minlength=len(State)).astype(np.int64)
        self.home_reasons = np.zeros(len(HomeReason), dtype=np.int64)
        self.left_day: list[int] = []
        self.history = np.zeros((self.n_days, len(State)), dtype=np.int64)
        self.flows = np.zeros((self.n_days, len(FLOWS)), dtype=np.int64)  # events per day (FLOWS)
        self.alive_start = np.zeros(self.n_days, dtype=np.int64)  # migrants not at home at the start of each day

    def handover_days(self) -> int:
        """Whole days: a log-normal time rounded stochastically (floor(x + u)), as the engine does."""
        return int(math.floor(self.rng.lognormal(self._handover_mu, 0.5) + self.rng.random()))

    def open_case(self, agent: Migrant) -> None:
        if not agent.case_open:
            agent.case_open = True
            self.cases += 1
            self.flows[self.day, _F["embassy_cases_region"]] += 1

    def step(self) -> None:
        self.awareness = 1.0 - (1.0 - self.awareness_initial) * math.exp(-self.cases / self.awareness_cases)
        self.alive_start[self.day] = len(self.agents)
        self.agents.shuffle_do("step")
        for queue in self.queue:  # repatriations within the embassy's daily capacity, longest waiting first
            for _ in range(min(self.capacity, len(queue))):
                queue.popleft().go_home(HomeReason.REPATRIATED)
                self.flows[self.day, _F["repatriated"]] += 1
        self.history[self.day] = self.counts
        self.day += 1
        self.running = self.day < self.n_days

    def run(self) -> NaiveModel:
        while self.running:
            self.step()
        return self


# -------------------------------------------------------------------------------------------
# The engine side, observed the same way
# -------------------------------------------------------------------------------------------


def engine_occupancy(cfg: sim.TipsimConfig) -> tuple[np.ndarray, np.ndarray, sim.TraffickingModel]:
    """Run the real engine on ``cfg`` day by day; return (people per state at the end of each day,
    people at home by :class:`~sim.lifecycle.HomeReason` at the end, the model)."""
    model = sim.TraffickingModel(cfg)
    history = np.zeros((model.n_days, len(State)), dtype=np.int64)
    while model.running:
        day = model.days_done
        model.step()
        history[day] = model.population.state_counts()
    pop = model.population
    home = pop.state == int(State.HOME)
    reasons = np.bincount(pop.home_reason[home].astype(np.int64), minlength=len(HomeReason))
    return history, reasons, model


def mesa_occupancy(cfg: sim.TipsimConfig, rng, hazard_scale: dict[str, float] | None = None, model: type = NaiveModel):
    """Run a per-agent Mesa model (:class:`NaiveModel`, or ``competent_mesa.CompetentModel``)
    on the cohort of ``cfg``; same outputs as :func:`engine_occupancy`: (state occupancy per
    day, home reasons, the model)."""
    agent_model = model(sim.TraffickingModel(cfg), rng=rng, hazard_scale=hazard_scale).run()
    return agent_model.history, agent_model.home_reasons, agent_model


def replace_seed(cfg: sim.TipsimConfig, seed: int) -> sim.TipsimConfig:
    return dataclasses.replace(cfg, seed=seed)


if __name__ == "__main__":  # a quick look: python benchmarks/naive_mesa.py [N]
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    cfg = subset_config(n)
    t = time.perf_counter()
    eh, er, em = engine_occupancy(cfg)
    te = time.perf_counter() - t
    t = time.perf_counter()
    nh, nr, nm = mesa_occupancy(cfg, rng=1)
    tn = time.perf_counter() - t
    print(f"N = {nm.n_people}; engine {te:.2f} s, naive {tn:.2f} s")
    for s in SUBSET_STATES:
        print(f"{s.name:<10} day 364: engine {eh[-1, s]:>7}  naive {nh[-1, s]:>7}")
    print("home reasons engine", dict(zip([r.name for r in HomeReason], er.tolist())))
    print("home reasons naive ", dict(zip([r.name for r in HomeReason], nr.tolist())))
