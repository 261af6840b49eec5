"""A competent per-agent Mesa 3.5 model of the core migrant life cycle: the honest speed baseline.

Same subset, same cohort and same hazards as :mod:`naive_mesa` (read its docstring for the
states and exits); what differs is how the per-agent model is written. This is how a Mesa
developer who cares about speed, but keeps one ``mesa.Agent`` per migrant, would write it:

* **One uniform per agent-day.** When an agent enters a hazard state (WORKING, EXPLOITED,
  SHELTER) it computes its exit probability for a day once, ``p = 1 - exp(-H)`` with ``H``
  the sum of its exit hazards, and the cumulative probabilities ``p x (h_1 + ... + h_j) / H``
  of its exits in the engine's order. Each day it draws one ``u ~ U(0, 1)``; ``u < p`` means
  it leaves, and the exit is the first whose cumulative probability exceeds ``u`` (so exit
  ``j`` is taken with probability ``p x h_j / H``: for hazards constant over the day this is
  exactly the competing-risks law of the first exit, which is also what the engine's Exp(1)
  thresholds give; the naive model's exit-by-exit Bernoulli draws only approximate it).
  Hand-over states draw their time once on entry and then only compare the day.
* **Hazards recomputed only when they change.** The per-compound factors (violence, ransom)
  are tabulated per compound once; an agent's probabilities are recomputed when its inputs
  change: on entering a state, on resale (new compound) and when a case opens (report ->
  rescue). The only time-varying hazard is the WORKING case hazard, which follows the
  embassy awareness; the model bumps an *awareness epoch* when awareness changes and a
  WORKING agent re-arms lazily when its epoch is stale. (In the subset awareness is 1 from
  day 0, so this never fires; it keeps the model faithful outside the subset.) No ``exp`` is
  evaluated per agent-day.
* **Mesa's own machinery.** Agents are stepped with ``model.agents.do("step")`` and draw from
  the model's seeded ``model.random`` (Mesa's :class:`random.Random`, seeded from ``rng``);
  a scalar draw from it costs a fraction of a scalar ``numpy.random.Generator`` call.
* **No daily shuffle.** Agents interact within a day only through (a) the embassies'
  repatriation queues, served in queueing order within a daily capacity, and (b) the resale
  buyer's weights (vacancies + 1). For (a), the people who queue on the same day in the same
  country are exchangeable: whichever of them goes first, the counts of who is home, why, and
  when are the same in distribution, and nothing recorded depends on their identity. For (b),
  the order within a day shifts the weights only by the moves made earlier that day (a
  handful of people against compounds of hundreds), the same kind of within-day convention
  the engine makes by processing exits in a fixed order. Neither needs a random order, so
  the model does not pay ``shuffle`` (a Python-level permutation of every agent) each day.
  The docking tests (``tests/test_docking.py``) check the result against the engine.

Counts per state, flows per day and home reasons are kept incrementally, as in the naive
model. People at HOME leave the model (no re-migration in the subset).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from itertools import accumulate

import mesa
import numpy as np

from naive_mesa import EXPLOITED_EXITS, FLOWS, WORKING_EXITS, cohort, exit_hazards
from sim.lifecycle import HomeReason, State

_F = {name: i for i, name in enumerate(FLOWS)}
_WORKING = State.WORKING


class Migrant(mesa.Agent):
    """One migrant: state, compound, exit probabilities for a day (set on entering the state)."""

    def __init__(self, model: CompetentModel, state: State, compound: int, digital: float, case_open: bool):
        super().__init__(model)
        self.state = state
        self.compound = compound
        self.country = model.comp_country[compound]
        self.digital = digital  # digital exposure / population mean (multiplier of case and report hazards)
        self.case_open = case_open
        self.p_exit = 0.0  # probability of leaving the current state today (0: nothing to draw)
        self.cum: list[float] = []  # cumulative exit probabilities in exit order; the last is p_exit
        self.epoch = -1  # awareness epoch of the WORKING probabilities
        self.handover_day = -1  # day a hand-over ends (ESCAPED, RESCUED, RELEASED); -1 otherwise
        if state == State.WORKING:
            self.arm_working(model)
        else:
            self.arm_exploited(model)

    # -- the day ------------------------------------------------------------------------------

    def step(self) -> None:
        """A hand-over waits for its day; otherwise one uniform against today's exit probabilities."""
        m = self.model
        if self.handover_day >= 0:
            if m.day >= self.handover_day:
                self.hand_over(m)
            return
        if self.state is _WORKING and self.epoch != m.epoch:
            self.arm_working(m)
        if self.p_exit > 0.0:
            u = m.random.random()
            if u < self.p_exit:
                EXIT_ACTIONS[self.state][bisect_right(self.cum, u)](self, m)

    # -- exit probabilities -------------------------------------------------------------------

    def arm(self, hazards: tuple[float, ...]) -> None:
        """Set today's exit probabilities from the exits' hazards (1/day), in exit order."""
        acc = list(accumulate(hazards))
        total = acc[-1]
        if total <= 0.0:
            self.p_exit, self.cum = 0.0, []
            return
        p = -math.expm1(-total)
        # exact p from the last open exit on, so u < p always finds an exit and never a closed (0-hazard) one
        self.cum = [p if a == total else p * (a / total) for a in acc]
        self.p_exit = p

    def arm_working(self, m: CompetentModel) -> None:
        h = m.h
        self.arm((h["leave"], m.held_h[self.compound], h["case"] * m.awareness * self.digital, h["working_dumped"]))
        self.epoch = m.epoch

    def arm_exploited(self, m: CompetentModel) -> None:
        h, c = m.h, self.compound
        report, rescue = (0.0, h["rescue"]) if self.case_open else (h["report"] * self.digital, 0.0)
        self.arm((m.escape_h[c], m.ransom_h[c], h["resale"], report, rescue, h["dumped"]))

    # -- exits (in the order of naive_mesa.WORKING_EXITS / EXPLOITED_EXITS) ---------------------

    def leave(self, m: CompetentModel) -> None:
        self.leave_compound(m, "left_compound")
        self.go_home(m, HomeReason.LEFT)

    def held(self, m: CompetentModel) -> None:
        m.today[_F["new_victims"]] += 1
        self.set_state(m, State.EXPLOITED)
        self.arm_exploited(m)

    def worker_case(self, m: CompetentModel) -> None:
        self.leave_compound(m)
        self.to_shelter(m)

    def dumped(self, m: CompetentModel) -> None:
        self.leave_compound(m, "dumped")
        self.to_handover(m, State.RELEASED)

    def escape(self, m: CompetentModel) -> None:
        self.leave_compound(m, "escaped")
        self.to_handover(m, State.ESCAPED)

    def ransom(self, m: CompetentModel) -> None:
        self.leave_compound(m, "ransomed")
        self.to_handover(m, State.RELEASED)

    def resale(self, m: CompetentModel) -> None:
        """Sold to another open compound drawn by vacancies + 1, in another country with ``resale_abroad_share``."""
        r, k, country = m.random, m.n_countries, self.country
        if r.random() < m.resale_abroad_share:
            other = (country + 1 + min(int(r.random() * (k - 1)), k - 2)) % k
            if m.slots_in[other]:
                country = other
        slots = [s for s in m.slots_in[country] if s != self.compound]  # the buyer is another compound
        if not slots:  # no buyer: stays where they are
            return
        (target,) = r.choices(slots, weights=[max(m.comp_capacity[s] - m.head[s], 0.0) + 1.0 for s in slots])
        m.today[_F["resold"]] += 1
        m.head[self.compound] -= 1
        m.head[target] += 1
        self.compound, self.country = target, country
        self.arm_exploited(m)

    def report(self, m: CompetentModel) -> None:
        """The family reports: the embassy opens a case; now awaiting a targeted rescue."""
        m.open_case(self)
        self.arm_exploited(m)

    def rescue(self, m: CompetentModel) -> None:
        self.leave_compound(m, "rescued")
        self.to_handover(m, State.RESCUED)

    def repatriate(self, m: CompetentModel) -> None:
        """The shelter's paperwork is done: queue for the embassy's daily repatriation capacity."""
        self.p_exit, self.cum = 0.0, []
        m.queue[self.country].append(self)

    def hand_over(self, m: CompetentModel) -> None:
        """Reach the embassy (a case, SHELTER) or go home alone."""
        self.handover_day = -1
        if m.random.random() < m.case_prob[self.state]:
            self.to_shelter(m)
        else:
            m.today[_F["self_returned"]] += 1
            self.go_home(m, HomeReason.SELF_RETURN)

    # -- transitions --------------------------------------------------------------------------

    def set_state(self, m: CompetentModel, state: State) -> None:
        m.counts[self.state] -= 1
        m.counts[state] += 1
        self.state = state

    def leave_compound(self, m: CompetentModel, flow: str | None = None) -> None:
        m.head[self.compound] -= 1
        if flow is not None:
            m.today[_F[flow]] += 1

    def to_handover(self, m: CompetentModel, state: State) -> None:
        """Hand-over time: log-normal, rounded stochastically to whole days; 0 days completes today."""
        self.set_state(m, state)
        self.p_exit, self.cum = 0.0, []
        days = math.floor(m.random.lognormvariate(m.handover_mu, 0.5) + m.random.random())
        if days <= 0:
            self.hand_over(m)
        else:
            self.handover_day = m.day + days

    def to_shelter(self, m: CompetentModel) -> None:
        m.open_case(self)
        self.set_state(m, State.SHELTER)
        self.p_exit = m.p_repatriate
        self.cum = [m.p_repatriate]

    def go_home(self, m: CompetentModel, reason: HomeReason) -> None:
        m.counts[self.state] -= 1
        m.counts[State.HOME] += 1
        m.home_reasons[reason] += 1
        self.state = State.HOME
        self.remove()  # no re-migration in the subset: the person leaves the model


EXIT_ACTIONS = {
    State.WORKING: (Migrant.leave, Migrant.held, Migrant.worker_case, Migrant.dumped),
    State.EXPLOITED: (Migrant.escape, Migrant.ransom, Migrant.resale, Migrant.report, Migrant.rescue, Migrant.dumped),
    State.SHELTER: (Migrant.repatriate,),
}
"""What each exit of a hazard state does, in the order of its cumulative probabilities."""
assert len(EXIT_ACTIONS[State.WORKING]) == len(WORKING_EXITS) and len(EXIT_ACTIONS[State.EXPLOITED]) == len(EXPLOITED_EXITS)


class CompetentModel(mesa.Model):
    """The core migrant life cycle with one ``mesa.Agent`` per migrant, written for speed.

    Args:
        engine: a freshly built :class:`sim.TraffickingModel` of the subset configuration
            (day 0, not stepped): the cohort and compounds are copied from it
            (:func:`naive_mesa.cohort`).
        rng: seed of this model's own random numbers (``model.random``).
        hazard_scale: multipliers on exit hazards by exit name (negative controls, e.g.
            ``{"escape": 2.0}``; names as :func:`naive_mesa.exit_hazards`).
    """

    def __init__(self, engine, rng=None, hazard_scale: dict[str, float] | None = None):
        super().__init__(rng=rng)
        start = cohort(engine)
        p = start.params
        c, e = p.compounds, p.embassy
        self.h = exit_hazards(p, hazard_scale)
        self.p_repatriate = -math.expm1(-self.h["repatriate"])
        self.capacity = int(e.repatriation_capacity)
        self.resale_abroad_share = c.resale_abroad_share
        self.case_prob = {State.ESCAPED: e.case_prob_escaped, State.RESCUED: 1.0, State.RELEASED: e.case_prob_released}
        self.awareness_initial, self.awareness_cases = e.awareness_initial, e.awareness_cases
        self.handover_mu = math.log(e.handover_days) - 0.5 * 0.5**2

        # per-compound tables (compounds neither open, close nor change in the subset)
        self.n_countries = start.n_countries
        self.comp_country = start.comp_country.tolist()
        self.comp_capacity = start.comp_capacity.tolist()
        violence, ransom = start.comp_violence, start.comp_ransom
        self.held_h = (self.h["held"] * violence / 0.5).tolist()
        self.escape_h = (self.h["escape"] * (1.0 - violence) / 0.5).tolist()
        self.ransom_h = (self.h["ransom"] * c.ransom_median_usd / ransom).tolist()
        self.slots_in = [np.flatnonzero(start.comp_open & (start.comp_country == k)).tolist() for k in range(self.n_countries)]
        self.head = start.headcount().tolist()

        self.day = 0
        self.n_days = start.n_days
        self.cases = 0
        self.awareness = self._awareness()
        self.epoch = 0  # bumped whenever awareness changes
        self.queue = [deque() for _ in range(self.n_countries)]
        self.counts = np.bincount(start.state, minlength=len(State)).tolist()
        self.home_reasons = np.zeros(len(HomeReason), dtype=np.int64)
        self.history = np.zeros((self.n_days, len(State)), dtype=np.int64)
        self.flows = np.zeros((self.n_days, len(FLOWS)), dtype=np.int64)  # events per day (FLOWS)
        self.today = [0] * len(FLOWS)
        self.alive_start = np.zeros(self.n_days, dtype=np.int64)  # migrants not at home at the start of each day

        self.n_people = len(start.state)
        for s, k, d, co in zip(start.state.tolist(), start.compound.tolist(), start.digital.tolist(), start.case_open.tolist()):
            Migrant(self, State(s), k, d, co)

    def _awareness(self) -> float:
        """Knowing workers' awareness of embassy help, from the cases opened before today (as the engine)."""
        return 1.0 - (1.0 - self.awareness_initial) * math.exp(-self.cases / self.awareness_cases)

    def open_case(self, agent: Migrant) -> None:
        if not agent.case_open:
            agent.case_open = True
            self.cases += 1
            self.today[_F["embassy_cases_region"]] += 1

    def step(self) -> None:
        awareness = self._awareness()
        if awareness != self.awareness:
            self.awareness, self.epoch = awareness, self.epoch + 1
        self.alive_start[self.day] = len(self.agents)
        self.agents.do("step")
        for queue in self.queue:  # repatriations within the embassy's daily capacity, longest waiting first
            for _ in range(min(self.capacity, len(queue))):
                queue.popleft().go_home(self, HomeReason.REPATRIATED)
                self.today[_F["repatriated"]] += 1
        self.history[self.day] = self.counts
        self.flows[self.day] = self.today
        self.today = [0] * len(FLOWS)
        self.day += 1
        self.running = self.day < self.n_days

    def run(self) -> CompetentModel:
        while self.running:
            self.step()
        return self
