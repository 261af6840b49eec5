"""Initialisation: the compounds, the people already in them, and the recruiters on the start date.

On the start date each destination country has ``initial_count`` compounds; each is filled to
``initial_fill`` of its capacity with Indonesians (keys ``(day -1, country, k)``), a share
``initial_deceived_share`` of whom were deceived and are held, the rest knowing workers.
``initial_recruiters`` recruiters are linked to compounds in proportion to capacity.
"""

from __future__ import annotations

import numpy as np

from ..config import COUNTRIES
from ..lifecycle import State
from ..rng import person_key
from .recruitment import draw_attributes


def populate(m) -> None:
    p = m.params
    comp, pop, s = m.compounds, m.population, m.streams
    for c, code in enumerate(COUNTRIES):
        n = int(p.compounds.initial_count[code])
        if n:
            comp.create(-1, c, n)
    for c in range(len(COUNTRIES)):
        slots = np.flatnonzero(comp.country == c)
        if not len(slots):
            continue
        size = np.floor(comp.capacity[slots] * p.compounds.initial_fill + 0.5).astype(np.int64)
        total = int(size.sum())
        if total == 0:
            continue
        keys = person_key(np.full(total, -1), c, np.arange(total))
        home = np.searchsorted(np.cumsum(m.world.origin_weight), s.uniform("initial_origin", keys), side="right")
        attrs = draw_attributes(m, keys, np.minimum(home, len(m.world.origins) - 1))
        rows = pop.create(**attrs)
        compound = np.repeat(slots, size)
        pop.cols["location"][rows] = comp.location[compound]
        deceived = s.uniform("initial_deceived", keys) < p.compounds.initial_deceived_share
        pop.cols["voluntary"][rows] = ~deceived
        pop.cols["has_passport"][rows] = True
        pop.cols["held"][rows] = deceived
        pop.cols["times_trafficked"][rows] = deceived
        m.move(rows[~deceived], State.WORKING, group=c, compound=compound[~deceived])
        m.move(rows[deceived], State.EXPLOITED, group=c, compound=compound[deceived])
    m.recruiters.create(-1, int(p.recruitment.initial_recruiters), comp.capacity * comp.open)
    m.supply = (np.zeros(m.recruiters.n), np.zeros((m.recruiters.n, m.recruiters.links.shape[1])))
