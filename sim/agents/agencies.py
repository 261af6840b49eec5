"""Enforcement agencies: ``mesa.Agent`` subclasses that act on recruiters, travellers and compounds.

* :class:`IndonesianPolice` — arrests recruiters within Indonesian jurisdiction (those based
  abroad only through extradition or joint investigations).
* :class:`BorderControl` — the immigration and border police at every checkpoint: Indonesian
  departure screening at hubs and passport postponement, transit states' exit checks, the
  destination countries' entry immigration; also stops legitimate travellers (false positives).
* :class:`Embassy` — one per destination country (KBRI): opens cases (reports, escapes,
  rescues, releases, deportees), assesses whether a case is trafficking (TPPO), shelters and
  repatriates, with a daily capacity.
* :class:`DestinationPolice` — one per destination country: raids compounds (some leak through
  corruption), rescues identified victims, detains and deports the others, and rescues people
  whose case the embassy holds.

What they can do on a given day is set by the day's :class:`~sim.levers.Levers` (baseline
parameters changed by interventions); every random decision uses the run's keyed streams.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from .. import draws, portable
from ..agents.compound import SCAM


class IndonesianPolice(mesa.Agent):
    """Polri: arrests recruiters based in Indonesia (and abroad, when a mechanism allows)."""

    def arrest_recruiters(self, day: int, levers) -> np.ndarray:
        """Draw today's arrests among active recruiters; returns the arrested slots."""
        rec = self.model.recruiters
        slots = rec.active_slots
        if not len(slots):
            return slots
        rate = np.where(rec.abroad[slots], float(levers.arrest_abroad), float(levers.arrest_domestic))
        u = self.model.streams.uniform(draws.ARREST, rec.key[slots], day)
        arrested = slots[u < 1.0 - portable.exp(-rate)]
        rec.select(arrested).do("arrest", day)
        rec.lie_low_after(arrested, day)
        return arrested


class BorderControl(mesa.Agent):
    """Immigration and border police of every country at their checkpoints.

    Indonesian immigration screens departures at hubs (and postpones passports); transit
    states check exits towards destinations; destination immigration checks entries. Each
    check stops a would-be migrant with the location's ``exit_detect`` / ``entry_detect``
    lever times the person's visibility, and stops legitimate travellers at hubs with the
    ``exit_false_positive`` lever.
    """

    def visibility(self, rows: np.ndarray) -> np.ndarray:
        """Detection multiplier: 1 for a deceived first-timer, less for knowing or repeat migrants."""
        pop, t = self.model.population, self.model.params.travel
        vis = np.where(pop.voluntary[rows], t.visibility_voluntary, 1.0)
        return vis * np.where(pop.episode[rows] > 1, t.visibility_repeat, 1.0)

    def itinerary_checks(self, rows: np.ndarray, edges: np.ndarray, transition: np.ndarray, levers) -> tuple[np.ndarray, np.ndarray]:
        """Every check along each traveller's itinerary, in the order met.

        Args:
            edges: travellers x legs route indices (-1 padded).
            transition: per traveller (a column), the transition count keying their draws.

        Returns:
            ``(stops, checked)``, travellers x (2 * legs): column ``2j`` is the exit check of
            leg j (at its start), ``2j+1`` its entry check (at its end).
        """
        w, m = self.model.world, self.model
        valid = edges >= 0
        e = np.where(valid, edges, 0)
        vis = self.visibility(rows)[:, None]
        p_exit = np.where(valid & w.route_exit_check[e], np.minimum(levers.exit_detect[w.route_from[e]] * vis, 1.0), 0.0)
        p_entry = np.where(valid & w.route_entry_check[e], np.minimum(levers.entry_detect[w.route_to[e]] * vis, 1.0), 0.0)
        key = m.population.key[rows][:, None, None]
        occasion = draws.CHECKS_DRAW.occasion(transition=transition[..., None], leg=np.arange(edges.shape[1])[:, None], side=np.arange(2))
        u = m.streams.uniform(draws.CHECKS_DRAW, key, occasion)  # [..., 0] exit, [..., 1] entry
        stops = np.empty((len(rows), 2 * edges.shape[1]), dtype=bool)
        stops[:, 0::2] = u[..., 0] < p_exit
        stops[:, 1::2] = u[..., 1] < p_entry
        checked = np.empty_like(stops)
        checked[:, 0::2], checked[:, 1::2] = p_exit > 0, p_entry > 0
        return stops, checked

    def false_positives(self, day: int, levers, traffic_factor: float) -> np.ndarray:
        """Legitimate travellers stopped today at each hub (per location)."""
        w = self.model.world
        hubs = w.hubs
        out = np.zeros(len(w.ids), dtype=np.int64)
        if len(hubs):
            mean = w.travellers_per_day[hubs] * traffic_factor * levers.exit_false_positive[hubs]
            out[hubs] = self.model.streams.poisson(draws.FALSE_POSITIVE, mean, day, hubs)
        return out

    def postpone_passports(self, rows: np.ndarray, levers) -> np.ndarray:
        """Which of ``rows`` (first-timers applying for a passport) have it postponed."""
        pop = self.model.population
        p = levers.passport_postpone[pop.origin[rows]] * self.visibility(rows)
        u = self.model.streams.uniform(draws.PASSPORT_SCREEN, pop.key[rows], pop.episode[rows])
        return u < p


class Embassy(mesa.Agent):
    """An Indonesian embassy (KBRI) in destination ``country``: cases, shelter, repatriation."""

    def __init__(self, model, country: int):
        super().__init__(model)
        self.country = country

    def open_cases(self, rows: np.ndarray, day: int) -> None:
        """Open a case for each of ``rows`` without one this episode; assess TPPO; count."""
        m = self.model
        pop = m.population
        rows = rows[~pop.case_open[rows]]
        if not len(rows):
            return
        pop.set(rows, case_open=True)
        e = m.params.embassy
        deceived = ~pop.voluntary[rows]
        held = pop.held[rows]
        p_tppo = np.where(deceived, e.tppo_prob_deceived, np.where(held, e.tppo_prob_held, e.tppo_prob_worker))
        tppo = m.streams.uniform(draws.TPPO, pop.key[rows], pop.episode[rows]) < p_tppo
        comp = pop.compound[rows]
        scam = np.where(comp >= 0, m.compounds.cols["sector"][np.maximum(comp, 0)] == SCAM, False)
        m.record.cases(self.country, len(rows), int(scam.sum()), int(tppo.sum()))

    def repatriation_hazard(self, levers) -> float:
        """Daily hazard of leaving the shelter for home (1/day)."""
        return levers.repatriation_speed[self.country] / self.model.params.embassy.processing_days

    def repatriation_capacity(self, levers) -> int:
        """Most repatriations today."""
        return int(levers.repatriation_capacity[self.country])


class DestinationPolice(mesa.Agent):
    """Police of destination ``country``: raids, rescues, detention and deportation."""

    def __init__(self, model, country: int):
        super().__init__(model)
        self.country = country

    def choose_raids(self, day: int, levers) -> tuple[np.ndarray, np.ndarray]:
        """Compounds raided today, and whether each raid leaked."""
        comp = self.model.compounds
        slots = np.flatnonzero(comp.open & (comp.country == self.country))
        if not len(slots):
            return slots, np.zeros(0, dtype=bool)
        s = self.model.streams
        p_raid = 1.0 - math.exp(-levers.raid_rate[self.country])
        raided = slots[s.uniform(draws.RAID, comp.key[slots], day) < p_raid]
        leaked = s.uniform(draws.RAID_LEAK, comp.key[raided], day) < levers.leak_prob[self.country]
        return raided, leaked

    def sort_found(self, rows: np.ndarray, leaked: np.ndarray, levers) -> tuple[np.ndarray, np.ndarray]:
        """Of the people in raided compounds: who is found, and who of them is identified as a victim."""
        m = self.model
        pop = m.population
        dp = m.params.destination_police
        s = m.streams
        occasion = pop.transitions[rows]
        find = np.where(leaked, dp.leaked_find_prob, levers.find_prob[self.country])
        found = s.uniform(draws.RAID_FIND, pop.key[rows], occasion) < find
        p_id = np.where(pop.held[rows], levers.identify_prob[self.country], dp.identify_prob_worker)
        identified = s.uniform(draws.RAID_IDENTIFY, pop.key[rows], occasion) < p_id
        return found, found & identified

    def deport_hazard(self, levers) -> float:
        """Daily hazard of deportation from detention (1/day)."""
        return levers.deport_speed[self.country] / self.model.params.destination_police.deport_days

    def deport_capacity(self, levers) -> int:
        """Most deportations today."""
        return int(levers.deport_capacity[self.country])
