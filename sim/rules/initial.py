"""Initialisation: the compounds, the people already in them, and the recruiters on the start date.

On the start date each destination country has ``initial_count`` compounds; each is filled to
``initial_fill`` of its capacity with Indonesians (keys ``(day -1, country, k)``), a share
``initial_deceived_share`` of whom were deceived and are held, the rest knowing workers.
``initial_recruiters`` recruiters are linked to compounds in proportion to capacity.
"""

from __future__ import annotations

import numpy as np

from .. import draws
from ..lifecycle import State
from ..params import per_country
from ..rng import person_key, weighted_choice
from .exploitation import become_held


def populate(m) -> None:
    """Create the start date's compounds, the people in them, and the recruiters linked to them."""
    p = m.params
    comp, pop, s = m.compounds, m.population, m.streams
    initial_count = per_country(p.compounds, "initial_count", m.countries)
    for c in range(len(m.countries)):
        n = int(initial_count[c])
        if n:
            comp.create(-1, c, n)
    for c in range(len(m.countries)):
        slots = np.flatnonzero(comp.country == c)
        if not len(slots):
            continue
        size = np.floor(comp.capacity[slots] * p.compounds.initial_fill + 0.5).astype(np.int64)
        total = int(size.sum())
        if total == 0:
            continue
        keys = person_key(np.full(total, -1), c, np.arange(total))
        home = weighted_choice(m.world.origin_weight, s.uniform(draws.INITIAL_ORIGIN, keys))
        rows = pop.create(**m.attributes.draw(s, keys, home))
        compound = np.repeat(slots, size)
        deceived = s.uniform(draws.INITIAL_DECEIVED, keys) < p.compounds.initial_deceived_share
        pop.set(rows, location=comp.location[compound], voluntary=~deceived, has_passport=True)
        m.exits.move(rows[~deceived], State.WORKING, group=c, compound=compound[~deceived])
        become_held(m, rows[deceived], c, compound=compound[deceived], new_victims=False)
    m.recruiters.create(-1, int(p.recruitment.initial_recruiters), comp.capacity * comp.open)
