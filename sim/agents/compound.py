"""Compounds: online-scam and online-gambling compounds that employ and hold Indonesians.

Each compound is a ``mesa.Agent`` at a destination location with a sector (scam or
gambling), a capacity (places for Indonesian workers), a violence level (raises the
exploitation of knowing workers, lowers escape) and a ransom it asks to let a held person go.
Behaviours:

* **demand** — it wants its vacancies (capacity minus occupants and people on their way)
  filled, and asks its recruiters for responders (:meth:`Compounds.desired_responders`);
* **growth** — a compound that is full enough expands; new compounds open at a per-country
  rate (the sector's growth);
* **raid response** — a raided compound closes or shrinks; a closing compound may relocate,
  in the same country or abroad (displacement), taking its remaining workers along.

Ransom release and resale of held people are hazards of the people (see
:mod:`sim.rules.exploitation`) that use the compound's ransom and location.
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy import special

from .. import draws, portable
from ..params import per_country
from ..rng import person_key, weighted_choice
from .table import AgentTable, column

COMPOUND_KIND = 251
"""Slot of the person-key 'origin' field that marks compound keys."""

SCAM, GAMBLING = 1, 0

SCHEMA = {
    "key": np.dtype(np.uint64),
    "country": np.dtype(np.int8),  # destination-country slot (World.destination_countries)
    "location": np.dtype(np.int16),  # World location index
    "sector": np.dtype(np.int8),  # SCAM or GAMBLING
    "capacity": np.dtype(np.float64),  # places for Indonesian workers
    "violence": np.dtype(np.float64),  # 0-1
    "ransom": np.dtype(np.float64),  # USD asked to release a held person
    "open": np.dtype(np.bool_),
    "opened": np.dtype(np.int32),  # run day opened (-1: open at start)
    "closed": np.dtype(np.int32),  # run day closed (-1: open)
    "successor": np.dtype(np.int32),  # slot it relocated to, -1 if none
    "raids": np.dtype(np.int16),
}


class Compound(mesa.Agent):
    """One compound (attributes live in ``model.compounds``)."""

    key = column("compounds")
    country = column("compounds")
    location = column("compounds")
    sector = column("compounds")
    capacity = column("compounds")
    violence = column("compounds")
    ransom = column("compounds")
    open = column("compounds")
    opened = column("compounds")
    closed = column("compounds")
    successor = column("compounds")
    raids = column("compounds")

    def __init__(self, model, slot: int):
        super().__init__(model)
        self.slot = slot

    def respond_to_raid(self, day: int, levers) -> int:
        """After a raid: close (and maybe relocate) or shrink.

        Returns the slot the remaining workers move to: this compound's own slot if it stays
        open, the new compound's slot if it relocates, or -1 if it closes for good.
        """
        m = self.model
        p = m.params.compounds
        self.raids += 1
        s = m.streams
        occasion = self.raids
        closes = s.uniform(draws.COMPOUND_CLOSE, self.key, occasion)[0] < levers.close_prob[self.country]
        if not closes:
            self.capacity = self.capacity * (1.0 - p.shrink_fraction)
            return self.slot
        self.open = False
        self.closed = day
        if s.uniform(draws.COMPOUND_RELOCATE, self.key, occasion)[0] >= p.relocate_prob:
            return -1
        abroad = s.uniform(draws.COMPOUND_ABROAD, self.key, occasion)[0] < levers.relocate_abroad_share[self.country]
        others = [c for c in range(len(m.countries)) if c != self.country]
        country = self.country
        if abroad and others:
            pick = s.uniform(draws.COMPOUND_ABROAD_COUNTRY, self.key, occasion)[0]
            country = others[min(int(pick * len(others)), len(others) - 1)]
        new = m.compounds.create(day, country, 1, parent=self)[0]
        self.successor = new
        return new


class Compounds(AgentTable, schema=SCHEMA):
    """The compound table and the vectorised daily behaviours of compounds."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self._created_today = (0, -2)

    def create(self, day: int, country: int, n: int, parent: Compound | None = None) -> list[int]:
        """Open ``n`` compounds in ``country`` on ``day``; a relocation inherits its parent's traits."""
        m = self.model
        p = m.params.compounds
        count, last = self._created_today
        first = count if last == day else 0
        self._created_today = (first + n, day)
        keys = person_key(np.full(n, day), COMPOUND_KIND, first + np.arange(n))
        s = m.streams
        dests = m.world.destinations[m.world.dest_country == country]
        w = m.world.weight[dests]
        w = w if w.sum() > 0 else np.ones(len(dests))
        location = dests[weighted_choice(w, s.uniform(draws.COMPOUND_LOCATION, keys))]
        if parent is not None:
            sector = np.full(n, parent.sector)
            capacity = np.full(n, parent.capacity * (1.0 - p.shrink_fraction))
            violence = np.full(n, parent.violence)
            ransom = np.full(n, parent.ransom)
        else:
            share = p.scam_share_initial if day < 0 else p.scam_share_new
            sector = np.where(s.uniform(draws.COMPOUND_SECTOR, keys) < share, SCAM, GAMBLING)
            sd = p.capacity_log_sd
            capacity = p.capacity_mean * portable.exp(sd * s.normal(draws.COMPOUND_CAPACITY, keys) - 0.5 * sd**2)
            conc = p.violence_concentration
            a, b = p.violence_mean * conc, (1.0 - p.violence_mean) * conc
            violence = special.betaincinv(a, b, s.uniform(draws.COMPOUND_VIOLENCE, keys))
            ransom = p.ransom_median_usd * portable.exp(p.ransom_log_sd * s.normal(draws.COMPOUND_RANSOM, keys))
        slots = []
        for i in range(n):
            slot = self.append(
                key=keys[i], country=country, location=location[i], sector=sector[i], capacity=capacity[i],
                violence=violence[i], ransom=ransom[i], open=True, opened=day, closed=-1, successor=-1, raids=0,
            )
            Compound(m, slot)
            slots.append(slot)
        return slots

    @property
    def agents(self):
        """The compounds as a Mesa AgentSet (in slot order)."""
        return self.model.agents_by_type[Compound]

    def respond_to_raids(self, raided: np.ndarray, day: int, levers) -> list[int]:
        """Each raided compound's response (:meth:`Compound.respond_to_raid`), in slot order."""
        wanted = set(raided.tolist())
        return self.agents.select(lambda c: c.slot in wanted).map("respond_to_raid", day, levers)

    def vacancies(self) -> np.ndarray:
        """Open places per compound slot: capacity minus occupants minus people on their way."""
        pop = self.model.population
        n = self.n
        head = pop.headcount[:n] if len(pop.headcount) >= n else np.pad(pop.headcount, (0, n - len(pop.headcount)))
        pipe = pop.pipeline[:n] if len(pop.pipeline) >= n else np.pad(pop.pipeline, (0, n - len(pop.pipeline)))
        return np.where(self.open, np.maximum(self.capacity - head - pipe, 0.0), 0.0)

    def occupancy(self) -> np.ndarray:
        """Occupants per compound slot."""
        head = self.model.population.headcount
        n = self.n
        return head[:n] if len(head) >= n else np.pad(head, (0, n - len(head)))

    def desired_responders(self, access: np.ndarray, conversion: float) -> np.ndarray:
        """Responders/day each compound needs to fill its vacancies within ``fill_days``.

        Args:
            access: per country, the share of normal traffic that can reach it today (closures).
            conversion: recruiters' running share of deciding responders who become recruits.
        """
        fill_days = self.model.params.recruitment.fill_days
        return self.vacancies() * access[self.country] / (fill_days * max(conversion, 0.02))

    def headroom(self) -> np.ndarray:
        """Per country, 1 - open capacity / market capacity (0 when saturated)."""
        p = self.model.params.compounds
        countries = self.model.countries
        cap = np.bincount(self.country[self.open], weights=self.capacity[self.open], minlength=len(countries))
        market = per_country(p, "market_capacity", countries)
        return np.clip(1.0 - cap / market, 0.0, 1.0)

    def grow(self, day: int) -> None:
        """Compounds above the fill threshold expand and new compounds open, both slowing as
        the country's sector approaches its market capacity (logistic growth)."""
        m = self.model
        p = m.params.compounds
        headroom = self.headroom()
        occ = self.occupancy()
        full = self.open & (occ >= p.growth_fill_threshold * self.capacity)
        rate = np.where(self.sector == SCAM, p.growth_rate, p.growth_rate_gambling) / 365.0 * headroom[self.country]
        self.cols["capacity"][: self.n] *= np.where(full, portable.exp(rate), 1.0)
        rates = per_country(p, "opening_rate", m.countries) / 365.0 * headroom
        counts = m.streams.poisson(draws.COMPOUND_OPENINGS, rates, day, np.arange(len(m.countries)))
        for c in np.flatnonzero(counts):
            self.create(day, int(c), int(counts[c]))
