"""Travel: route choice, itineraries, checkpoints, arrival at compounds, other border crossings.

Submodel:

* *Route choice* at departure, among all itineraries from the origin to the compound's
  location (:class:`~sim.world.PathTable`): multinomial logit with utility
  ``-b_cost cost - b_days days - b_risk risk + log(travel factor)``, where ``risk`` is the sum
  over the itinerary's legs of the interception rate recruiters have learnt for each leg
  (exponential smoothing of each day's stops / checks) and the travel factor is the product of the
  closure factors of the countries crossed. One uniform per person (inverse CDF), so a
  scenario that changes route utilities re-routes the same people smoothly.
* *Itinerary* — resolved when the traveller sets out (event-driven: travel takes days, and
  the levers of the departure day apply to all of its checks): each leg takes a log-normal
  time (the route's mean and spread) in whole days; the exit check of a leg comes at its
  start, the entry check at its end; the first check that stops the traveller ends the
  journey there, on the day the traveller reaches it. Each check stops a person with the
  ``exit_detect``/``entry_detect`` lever of that location times their visibility (1 for a
  deceived first-timer; less for knowing and repeat migrants, who are coached).
* *Interception* — one path for everyone stopped before a compound (:func:`intercept`): a
  checkpoint stop turns the traveller back (INTERCEPTED, home after the return trip); a
  postponed passport application stops a recruit before they leave, at home.
* *Arrival* — knowing migrants start WORKING, deceived ones are held (EXPLOITED) at once. If
  their compound closed meanwhile they go to its successor, or to the open compound of that
  country with most vacancies, or, if none is open there, of any country.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import draws, portable
from ..lifecycle import HomeReason, State
from . import exits
from ..params import per_country
from .exploitation import become_held


class RouteMemory:
    """What the run keeps about routes: the interception risk recruiters have learnt per leg,
    today's checks and stops per leg, travellers per year and leg, and the parts of route
    utilities that do not change during a run."""

    def __init__(self, m):
        w, t = m.world, m.params.travel
        n_routes = len(w.route_from)
        self.model = m
        self.risk = np.zeros(n_routes)  # interception rate recruiters expect per leg
        self.attempts = np.zeros(n_routes, dtype=np.int64)  # checks per leg today (reset daily)
        self.stops = np.zeros(n_routes, dtype=np.int64)  # stops per leg today (reset daily)
        years = m.dates.year.to_numpy()
        self.years = np.unique(years)
        self.year_index = np.searchsorted(self.years, years)  # run day -> row of flows
        self.flows = np.zeros((len(self.years), n_routes), dtype=np.int64)  # travellers per year and route
        self.static_utility = -t.beta_cost * w.paths.cost_usd - t.beta_days * w.paths.days
        self._log_factor: dict[bytes, np.ndarray] = {}

    def log_factor(self, day: int) -> np.ndarray:
        """log of the share of normal traffic that can use each itinerary on ``day`` (per closure pattern)."""
        row = self.model.travel_factor[day]
        key = row.tobytes()
        out = self._log_factor.get(key)
        if out is None:
            with np.errstate(divide="ignore"):
                # a sum per itinerary over the countries it crosses (not a BLAS product: its order varies by CPU)
                out = self._log_factor[key] = np.where(self.model.world.paths.countries, portable.log(row), 0.0).sum(axis=1)
        return out

    def learn_risk(self) -> None:
        """Recruiters update the interception rate they expect on each leg (exponential smoothing of today's stops / checks)."""
        seen = self.attempts > 0
        if seen.any():
            a = self.model.params.travel.risk_learning_rate
            rate = self.stops[seen] / self.attempts[seen]
            self.risk[seen] += a * (rate - self.risk[seen])
        self.attempts[:] = 0
        self.stops[:] = 0

    def table(self) -> pd.DataFrame:
        """Travellers per year and route (one row each): who travelled each leg, by the year they set out."""
        w = self.model.world
        year, route = np.meshgrid(self.years, np.arange(len(w.route_from)), indexing="ij")
        return pd.DataFrame({
            "year": year.ravel(),
            "from": np.asarray(w.ids)[w.route_from][route.ravel()],
            "to": np.asarray(w.ids)[w.route_to][route.ravel()],
            "mode": w.route_mode[route.ravel()],
            "travellers": self.flows.ravel(),
        })


def destination_access(m, day: int) -> np.ndarray:
    """Per destination country, the best share of normal traffic that can reach it today."""
    w = m.world
    best = portable.exp(m.routes.log_factor(day))
    dest_country = w.dest_country[w.paths.od % len(w.destinations)]
    out = np.zeros(len(m.countries))
    np.maximum.at(out, dest_country, best)
    return out


def choose_paths(m, rows: np.ndarray, today) -> np.ndarray:
    """An itinerary for each traveller to their compound's location (one keyed uniform each)."""
    w, t, pop = m.world, m.params.travel, m.population
    paths = w.paths
    risk = paths.leg_incidence @ m.routes.risk  # learnt interception risk summed over each itinerary's legs
    util = m.routes.static_utility - t.beta_risk * risk + m.routes.log_factor(today.day)
    # softmax within each origin-destination pair, cumulated into "od + cumulative share"
    start, blocks, block = paths.od_start, paths.block_start, paths.block_of_path
    top = np.maximum.reduceat(util, blocks)
    with np.errstate(invalid="ignore"):  # -inf - -inf (every itinerary of a pair closed) -> nan -> 0
        expu = portable.exp(util - top[block])
    expu[np.isnan(expu)] = 0.0
    totals = np.add.reduceat(expu, blocks)
    share = np.where(totals[block] > 0, expu / np.where(totals > 0, totals, 1.0)[block], 1.0 / paths.block_size[block])
    cs = np.cumsum(share)
    cum = cs - (cs[blocks] - share[blocks])[block]
    cum[blocks + paths.block_size - 1] = 1.0
    position = paths.od + cum
    dest_slot = np.searchsorted(w.destinations, m.compounds.location[pop.compound[rows]])
    od = pop.origin[rows].astype(np.int64) * len(w.destinations) + dest_slot
    u = m.streams.uniform(draws.ROUTE, pop.key[rows], pop.transitions[rows])
    chosen = np.searchsorted(position, od + u, side="right")
    return np.clip(chosen, start[od], start[od + 1] - 1)


def start_itinerary(m, today, rows: np.ndarray) -> None:
    """Travellers set out: choose an itinerary, resolve its legs and checks, travel."""
    if not len(rows):
        return
    w, pop, day = m.world, m.population, today.day
    path = choose_paths(m, rows, today)
    # whoever sets out has (or has just obtained) a passport
    pop.set(rows, path=path, location=w.origins[pop.origin[rows]], has_passport=True)
    m.record.add("departures", len(rows))
    edges = w.paths.edges[path]  # travellers x legs, -1 padded
    valid = edges >= 0
    e = np.where(valid, edges, 0)
    n_legs = valid.sum(axis=1)
    key = pop.key[rows][:, None]
    transition = pop.transitions[rows].astype(np.int64)[:, None]
    legs = np.arange(edges.shape[1])
    occasion = draws.LEG_TIME.occasion(transition=transition, leg=legs)
    days = np.where(valid, m.streams.lognormal_days(draws.LEG_TIME, w.route_days_mean[e], w.route_log_sd[e], key, occasion), 0)
    checks, has_check = m.border.itinerary_checks(rows, edges, transition, today.levers)
    src, dst = w.route_from[e], w.route_to[e]
    stopped = checks.any(axis=1)
    first = np.where(stopped, checks.argmax(axis=1), 2 * n_legs)  # index of the stopping check
    leg = first // 2  # leg of the stop (n_legs: arrived)
    # route learning: every check met up to the stop is an attempt on that leg
    met = np.arange(2 * edges.shape[1])[None, :] <= first[:, None]
    attempted = met & has_check
    routes = m.routes
    np.add.at(routes.attempts, np.repeat(e, 2, axis=1)[attempted], 1)
    np.add.at(routes.stops, e[np.arange(len(rows)), np.minimum(leg, edges.shape[1] - 1)][stopped], 1)
    # leaving Indonesia through a hub: a departure via that hub (displacement outcome)
    passed = legs[None, :] < leg[:, None]
    passed |= (legs[None, :] == leg[:, None]) & (first % 2 == 1)[:, None]
    leaving = valid & passed & (w.country[src] == "ID") & (w.country[dst] != "ID")
    _record_per_hub(m, "departures_via_", src[leaving])
    # route flows (for flow diagrams): travellers who travel each leg (up to a stop at its entry check)
    routes.flows[routes.year_index[day]] += np.bincount(e[valid & passed], minlength=routes.flows.shape[1])
    # time of the outcome: days travelled before the stopping check (or the whole journey)
    cum = np.cumsum(days, axis=1)
    before = np.where(first % 2 == 0, leg, leg + 1)  # legs completed before the check
    elapsed = np.where(before > 0, cum[np.arange(len(rows)), np.maximum(before - 1, 0)], 0)
    pop.set(rows, stop_check=first)
    m.exits.move(rows, State.IN_TRANSIT, timer=day + elapsed)


def _record_per_hub(m, prefix: str, hubs: np.ndarray) -> None:
    """Add one event per entry of ``hubs`` (location indices of hubs) to the per-hub columns ``prefix<hub id>``."""
    if len(hubs):
        counts = np.bincount(hubs, minlength=len(m.world.ids))
        for hub in np.flatnonzero(counts):
            m.record.add(prefix + m.world.ids[hub], int(counts[hub]))


def journeys(m, today) -> None:
    """Today's journey outcomes: stops at checkpoints and arrivals; then returns home."""
    w, pop, day = m.world, m.population, today.day
    for _, rows, _ in m.exits.due(State.IN_TRANSIT, ordered=False):
        path, first = pop.path[rows], pop.stop_check[rows].astype(np.int64)
        n_legs = w.paths.n_legs[path]
        arrived = first >= 2 * n_legs
        leg = first // 2
        edges = w.paths.edges[path]
        # entries into destination countries along the way (the crossing is within a day of the outcome)
        e = np.where(edges >= 0, edges, 0)
        crossed = (np.arange(edges.shape[1])[None, :] < np.where(arrived, n_legs, leg)[:, None]) & (edges >= 0)
        into, out_of = w.location_dest_country[w.route_to[e]], w.location_dest_country[w.route_from[e]]
        entering = crossed & (into >= 0) & (into != out_of)
        m.record.add_per_country("entries_migrants_{c}", np.bincount(into[entering], minlength=len(m.countries)))
        stop = ~arrived
        if stop.any():
            rows_s = rows[stop]
            edge = edges[stop][np.arange(len(rows_s)), leg[stop]]
            at_exit = first[stop] % 2 == 0  # the exit check at the start of the leg
            node = np.where(at_exit, w.route_from[edge], w.route_to[edge])
            in_id = w.country[node] == "ID"
            column = np.where(at_exit, np.where(in_id, "intercepted_exit_indonesia", "intercepted_transit"), "intercepted_entry")
            intercept(m, day, rows_s, column, node)
        arrive_compound(m, day, rows[arrived])
    for _, rows, _ in m.exits.due(State.INTERCEPTED, ordered=False):
        exits.go_home(m, rows, HomeReason.INTERCEPTED)


def intercept(m, day: int, rows: np.ndarray, column, nodes: np.ndarray | None = None) -> None:
    """Would-be migrants stopped before reaching a compound: the one place interceptions are kept.

    ``column`` names the kind of stop (scalar or per row: ``intercepted_exit_indonesia``,
    ``intercepted_transit``, ``intercepted_entry`` or ``passport_postponed``). Travellers
    stopped at a checkpoint (``nodes``, their location) are turned back: INTERCEPTED, then home
    after the return trip. A recruit whose passport is postponed (``nodes`` None) never left:
    they are home at once.
    """
    if not len(rows):
        return
    m.record.add("intercepted", len(rows))
    column = np.broadcast_to(np.asarray(column), rows.shape)
    for name in np.unique(column):
        m.record.add(str(name), int((column == name).sum()))
    if nodes is None:
        exits.go_home(m, rows, HomeReason.INTERCEPTED)
        return
    w, pop = m.world, m.population
    _record_per_hub(m, "stops_", nodes[w.kind[nodes] == "hub"])
    pop.set(rows, location=nodes)
    back = m.streams.lognormal_days(draws.RETURN_TRIP, m.params.travel.return_days, 0.5, pop.key[rows], pop.transitions[rows])
    m.exits.move(rows, State.INTERCEPTED, timer=day + back)


def arrive_compound(m, day: int, rows: np.ndarray) -> None:
    """Arrival at the compound: knowing migrants work, deceived ones are held at once."""
    if not len(rows):
        return
    pop, comp = m.population, m.compounds
    target = current_compound(m, pop.compound[rows])
    lost = target < 0
    exits.go_home(m, rows[lost], HomeReason.SELF_RETURN)
    rows, target = rows[~lost], target[~lost]
    country = comp.country[target].astype(np.int64)
    pop.set(rows, location=comp.location[target])
    voluntary = pop.voluntary[rows]
    m.record.arrivals(np.bincount(country, minlength=len(m.countries)))
    m.exits.move(rows[voluntary], State.WORKING, group=country[voluntary], compound=target[voluntary])
    held = rows[~voluntary]
    become_held(m, held, country[~voluntary], compound=target[~voluntary])
    m.record.add("new_victims_deceived", len(held))


def current_compound(m, slots: np.ndarray) -> np.ndarray:
    """The open compound behind each slot: itself, its (chain of) successor, or the open
    compound of its country with most vacancies; -1 if no compound is open anywhere."""
    comp = m.compounds
    out = slots.copy()
    for _ in range(64):
        moved = ~comp.open[out] & (comp.successor[out] >= 0)
        if not moved.any():
            break
        out[moved] = comp.successor[out[moved]]
    closed = ~comp.open[out]
    if closed.any():
        vac = comp.vacancies() + comp.open * 1e-9
        for c in np.unique(comp.country[out[closed]]):
            sel = closed & (comp.country[out] == c)
            candidates = np.where(comp.open & (comp.country == c), vac, -1.0)
            if candidates.max() < 0:
                candidates = np.where(comp.open, vac, -1.0)
            out[sel] = int(candidates.argmax()) if candidates.max() >= 0 else -1
    return out


def other_crossings(m, today) -> None:
    """Entries into destination countries outside itineraries (visa runs, other visitors), and
    false-positive stops at hubs."""
    s, p, rec, w, day = m.streams, m.params, m.record, m.world, today.day
    countries = m.countries
    visa_rate = per_country(p.compounds, "visa_run_rate", countries)
    visitors = per_country(p.migration, "background_entries_per_day", countries)
    open_share = m.travel_factor[day, [w.country_index[c] for c in countries]]
    for g, code in enumerate(countries):
        working = m.population.count(State.WORKING, g)
        visa = int(s.poisson(draws.VISA_RUNS, visa_rate[g] * working, day, g)[0])
        background = int(s.poisson(draws.BACKGROUND_ENTRIES, visitors[g] * open_share[g], day, g)[0])
        rec.add(f"entries_visa_runs_{code}", visa)
        rec.add(f"entries_background_{code}", background)
        rec.add(f"entries_{code}", rec.data[f"entries_migrants_{code}"][day] + visa + background)
    abroad = [w.country_index[c] for c in w.countries if c != "ID"]
    traffic = float(m.travel_factor[day, abroad].mean()) if abroad else 1.0
    fp = m.border.false_positives(day, today.levers, traffic)
    rec.add("false_positive_stops", int(fp.sum()))
    _record_per_hub(m, "stops_", np.repeat(np.arange(len(fp)), fp))
