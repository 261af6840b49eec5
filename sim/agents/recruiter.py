"""Recruiters: online recruiters who supply compounds with workers.

Each recruiter is a ``mesa.Agent`` with a platform, a base (an Indonesian province, or abroad
and so outside Indonesian jurisdiction), a daily reach (responders per day when its compounds
need workers) and links to the compounds it supplies. Behaviours:

* **reach follows demand** — a recruiter works only as hard as its compounds' vacancies ask
  (:meth:`Recruiters.supply`);
* **adaptation** — after an arrest, peers on the same platform and in the same province lie
  low for a while; recruiters leave platforms whose ads are taken down;
* **market entry and exit** — unmet demand draws new recruiters in (so arrested ones are
  replaced at a rate set by demand); recruiters with no demand quit.

Attributes are array-backed (:mod:`sim.agents.table`); decisions draw from the run's
counter-based streams keyed by the recruiter's key and the day.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from .. import draws, portable
from ..config import PLATFORMS
from ..rng import person_key, weighted_choice
from .table import AgentTable, column

RECRUITER_KIND = 250
"""Slot of the person-key 'origin' field that marks recruiter keys."""

SCHEMA = {
    "key": np.dtype(np.uint64),
    "platform": np.dtype(np.int8),  # index into config.PLATFORMS
    "abroad": np.dtype(np.bool_),  # based outside Indonesia
    "home": np.dtype(np.int16),  # origin slot of a domestic recruiter, -1 abroad
    "reach": np.dtype(np.float64),  # responders/day at full demand
    "low_until": np.dtype(np.int32),  # lies low until this day (exclusive)
    "active": np.dtype(np.bool_),
    "entered": np.dtype(np.int32),  # run day of entry (-1: present at start)
    "left": np.dtype(np.int32),  # run day of arrest or exit (-1: still active)
    "arrested": np.dtype(np.bool_),
}


class Recruiter(mesa.Agent):
    """One recruiter (attributes live in ``model.recruiters``)."""

    key = column("recruiters")
    platform = column("recruiters")
    abroad = column("recruiters")
    home = column("recruiters")
    reach = column("recruiters")
    low_until = column("recruiters")
    active = column("recruiters")
    entered = column("recruiters")
    left = column("recruiters")
    arrested = column("recruiters")

    def __init__(self, model, slot: int):
        super().__init__(model)
        self.slot = slot

    def arrest(self, day: int) -> None:
        """Arrested by the police: stops recruiting and leaves the model."""
        self.arrested = True
        self._leave(day)

    def quit(self, day: int) -> None:
        """Leaves the market for lack of demand."""
        self._leave(day)

    def _leave(self, day: int) -> None:
        self.active = False
        self.left = day
        self.remove()

    def switch_platform(self, platform: int) -> None:
        """Moves its ads to another platform."""
        self.platform = platform


class Recruiters(AgentTable, schema=SCHEMA):
    """The recruiter table: columns of every recruiter ever active, their compound links,
    and the vectorised daily behaviours."""

    def __init__(self, model, n_links: int):
        super().__init__()
        self.model = model
        self.links = np.full((len(self.cols["key"]), n_links), -1, dtype=np.int64)
        self._created_today = (0, -2)  # (count, day) for CRN keys of entrants
        self.conversion = 0.5
        """Recruiters' running estimate of the share of deciding responders who become recruits."""

    # -- creation ---------------------------------------------------------------------------

    def create(self, day: int, n: int, link_weights: np.ndarray) -> None:
        """Create ``n`` recruiters on ``day`` (-1 = start), linked to compounds drawn by ``link_weights``."""
        if n <= 0:
            return
        m = self.model
        p = m.params.recruitment
        count, last = self._created_today
        first = count if last == day else 0
        self._created_today = (first + n, day)
        keys = person_key(np.full(n, day), RECRUITER_KIND, first + np.arange(n))
        s = m.streams
        shares = np.array([p.platform_shares[q] for q in PLATFORMS])
        platform = weighted_choice(shares, s.uniform(draws.RECRUITER_PLATFORM, keys))
        abroad = s.uniform(draws.RECRUITER_ABROAD, keys) < p.abroad_share
        home = np.where(abroad, -1, weighted_choice(m.world.origin_weight, s.uniform(draws.RECRUITER_HOME, keys)))
        reach = p.reach_mean * portable.exp(p.reach_log_sd * s.normal(draws.RECRUITER_REACH, keys) - 0.5 * p.reach_log_sd**2)
        links = self._draw_links(keys, link_weights, 0)
        for i in range(n):
            slot = self.append(
                key=keys[i], platform=platform[i], abroad=abroad[i], home=home[i],
                reach=reach[i], low_until=-1, active=True, entered=day, left=-1,
            )
            if slot >= len(self.links):
                grown = np.full((2 * len(self.links), self.links.shape[1]), -1, dtype=np.int64)
                grown[: len(self.links)] = self.links
                self.links = grown
            self.links[slot] = links[i]
            Recruiter(m, slot)

    def _draw_links(self, keys: np.ndarray, weights: np.ndarray, occasion: int) -> np.ndarray:
        """Compounds each recruiter supplies, drawn without replacement by ``weights``.

        ``occasion`` distinguishes the recruiter's successive link draws (0 on entry, the day + 1
        when relinking), so each draw has its own random numbers.
        """
        n_links = self.links.shape[1]
        out = np.full((len(keys), n_links), -1, dtype=np.int64)
        w = np.asarray(weights, dtype=float)
        if w.sum() <= 0:
            return out
        compounds = np.arange(len(w))[None, :]
        for j in range(min(n_links, int((w > 0).sum()))):
            # Gumbel-top-k: independent keyed uniforms per (recruiter, occasion, link slot, compound)
            at = draws.RECRUITER_LINK.occasion(draw=np.int64(occasion), link=j, compound=compounds)
            u = self.model.streams.uniform(draws.RECRUITER_LINK, keys[:, None], at)
            gumbel = -portable.log(-portable.log(np.maximum(u, 1e-300)))
            score = np.where(w > 0, portable.log(np.maximum(w, 1e-300)) + gumbel, -np.inf)
            for prev in range(j):
                score[np.arange(len(keys)), out[:, prev]] = -np.inf
            out[:, j] = score.argmax(axis=1)
        return out

    # -- daily behaviours -------------------------------------------------------------------

    @property
    def agents(self):
        """The active recruiters as a Mesa AgentSet (arrested and quitting ones leave the model)."""
        return self.model.agents_by_type.get(Recruiter, mesa.agent.AgentSet([], random=self.model.random))

    def select(self, slots: np.ndarray):
        """The active recruiters in ``slots``, as an AgentSet (in slot order); no scan when ``slots`` is empty."""
        if not len(slots):
            return mesa.agent.AgentSet([], random=self.model.random)
        wanted = set(slots.tolist())
        return self.agents.select(lambda r: r.slot in wanted)

    @property
    def active_slots(self) -> np.ndarray:
        return np.flatnonzero(self.active)

    def learn_conversion(self, share_recruited: float) -> None:
        """Update the running share of deciding responders who become recruits (exponential smoothing, weight 0.02)."""
        self.conversion += 0.02 * (share_recruited - self.conversion)

    def relink(self, day: int, weights: np.ndarray, open_mask: np.ndarray) -> None:
        """Recruiters whose compounds have all closed link to open compounds with demand."""
        slots = self.active_slots
        if not len(slots):
            return
        links = self.links[slots]
        alive = (links >= 0) & open_mask[np.maximum(links, 0)]
        orphan = slots[~alive.any(axis=1)]
        if len(orphan):
            self.links[orphan] = self._draw_links(self.key[orphan], np.where(open_mask, weights, 0.0), day + 1)

    def effective_reach(self, day: int, levers) -> np.ndarray:
        """Responders/day each recruiter could reach today (0 when inactive or lying low)."""
        n = self.n
        if n == 0:
            return np.zeros(0)
        reach = self.reach * levers.platform_reach[self.platform]
        return np.where(self.active & (self.low_until <= day), reach, 0.0)

    def supply(self, day: int, levers, desired: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split each compound's desired responders/day among its recruiters.

        Args:
            desired: per compound slot, responders/day needed to fill its vacancies.

        Returns:
            ``(lam, link_supply, unmet)``: responders/day each recruiter makes; per recruiter
            and link, the part made for that compound; per compound, desired minus supplied.
        """
        eff = self.effective_reach(day, levers)
        links = self.links[: self.n]
        valid = (links >= 0) & (eff[:, None] > 0)
        comp = np.where(valid, links, 0)
        weight = np.where(valid, eff[:, None], 0.0)
        total_weight = np.bincount(comp[valid], weights=weight[valid], minlength=len(desired))
        share = np.where(valid, weight / np.maximum(total_weight[comp], 1e-300), 0.0)
        asked = np.where(valid, desired[comp] * share, 0.0)  # responders/day asked of r for c
        asked_total = asked.sum(axis=1)
        fill = np.minimum(1.0, eff / np.maximum(asked_total, 1e-300))
        link_supply = asked * fill[:, None]
        lam = link_supply.sum(axis=1)
        supplied = np.bincount(comp[valid], weights=link_supply[valid], minlength=len(desired))
        unmet = np.maximum(desired - supplied, 0.0)
        return lam, link_supply, unmet

    def contact_weights(self, lam: np.ndarray) -> np.ndarray:
        """Responders/day of each recruiter in each origin province (recruiters x origins)."""
        p = self.model.params.recruitment
        w = self.model.world.origin_weight
        home = self.home[: len(lam)]
        out = np.outer(lam * np.where(home >= 0, 1.0 - p.home_bias, 1.0), w)
        dom = np.flatnonzero(home >= 0)
        out[dom, home[dom]] += lam[dom] * p.home_bias
        return out

    def lie_low_after(self, arrested: np.ndarray, day: int) -> None:
        """Peers (same platform and province) of arrested recruiters may lie low."""
        p = self.model.params.recruitment
        slots = self.active_slots
        if not len(arrested) or not len(slots):
            return
        peer = np.zeros(len(slots), dtype=bool)
        for a in arrested:
            peer |= (self.platform[slots] == self.platform[a]) & (self.home[slots] == self.home[a])
        u = self.model.streams.uniform(draws.LIE_LOW, self.key[slots], day)
        low = slots[peer & (u < p.lie_low_prob)]
        self.cols["low_until"][low] = np.maximum(self.low_until[low], day + int(round(p.lie_low_days)))

    def switch_platforms(self, day: int, levers) -> int:
        """Recruiters under takedown pressure move to another platform; returns how many."""
        p = self.model.params.recruitment
        slots = self.active_slots
        pressure = levers.platform_pressure[self.platform[slots]]
        if not len(slots) or not pressure.any():
            return 0
        prob = 1.0 - portable.exp(-p.platform_switch_rate * pressure)
        s = self.model.streams
        movers = slots[s.uniform(draws.PLATFORM_SWITCH, self.key[slots], day) < prob]
        if not len(movers):
            return 0
        shares = np.array([p.platform_shares[q] for q in PLATFORMS]) * (1.0 - levers.platform_pressure)
        u = s.uniform(draws.PLATFORM_CHOICE, self.key[movers], day)
        w = np.broadcast_to(shares, (len(movers), len(shares))).copy()
        w[np.arange(len(movers)), self.platform[movers]] = 0.0  # a new platform, not the current one
        can = w.sum(axis=1) > 0
        choice = dict(zip(movers[can].tolist(), weighted_choice(w[can], u[can]).tolist()))
        self.select(np.array(list(choice), dtype=np.int64)).do(lambda r: r.switch_platform(choice[r.slot]))
        return len(movers)

    def enter_and_exit(self, day: int, levers, lam: np.ndarray, unmet: np.ndarray, open_mask: np.ndarray) -> tuple[int, int]:
        """Market entry drawn by unmet demand; idle recruiters quit. Returns (entered, quit)."""
        p = self.model.params.recruitment
        s = self.model.streams
        rate = p.entry_speed * float(levers.recruiter_entry) * unmet.sum() / p.reach_mean
        n_new = int(s.poisson(draws.RECRUITER_ENTRY, rate, day)[0])
        slots = self.active_slots
        slots = slots[slots < len(lam)]  # recruiters who entered after ``lam`` was computed are not idle
        idle = slots[(lam[slots] < 0.05 * self.reach[slots]) & (self.low_until[slots] <= day)]
        quit_p = 1.0 - math.exp(-p.idle_exit_rate)
        leaving = idle[s.uniform(draws.RECRUITER_QUIT, self.key[idle], day) < quit_p]
        self.select(leaving).do("quit", day)
        self.create(day, n_new, np.where(open_mask, unmet, 0.0))
        return n_new, len(leaving)
