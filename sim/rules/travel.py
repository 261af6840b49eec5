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
* *Arrival* — knowing migrants start WORKING, deceived ones are held (EXPLOITED) at once. If
  their compound closed meanwhile they go to its successor, or to the open compound of that
  country with most vacancies, or, if none is open there, of any country.
"""

from __future__ import annotations

import numpy as np

from ..config import COUNTRIES
from ..lifecycle import AT_DESTINATION, HomeReason, State
from . import exits


def path_log_factor(m, day: int) -> np.ndarray:
    """log of the share of normal traffic that can use each itinerary today."""
    row = m.travel_factor[day]
    cache = m.__dict__.setdefault("_path_factor_cache", {})
    key = row.tobytes()
    out = cache.get(key)
    if out is None:
        with np.errstate(divide="ignore"):
            out = cache[key] = m.world.paths.countries @ np.log(row)
    return out


def destination_access(m, day: int) -> np.ndarray:
    """Per destination country, the best share of normal traffic that can reach it today."""
    w = m.world
    best = np.exp(path_log_factor(m, day))
    dest_country = w.dest_country[w.paths.od % len(w.destinations)]
    out = np.zeros(len(COUNTRIES))
    np.maximum.at(out, dest_country, best)
    return out


def choose_paths(m, rows: np.ndarray, day: int) -> np.ndarray:
    """An itinerary for each traveller to their compound's location (one keyed uniform each)."""
    w, t, pop = m.world, m.params.travel, m.population
    paths = w.paths
    static = m.__dict__.get("_path_static_utility")
    if static is None:  # cost and time do not change during a run
        static = m._path_static_utility = -t.beta_cost * paths.cost_usd - t.beta_days * paths.days
    risk = paths.leg_incidence @ m.route_risk  # learnt interception risk summed over each itinerary's legs
    util = static - t.beta_risk * risk + path_log_factor(m, day)
    # softmax within each origin-destination pair, cumulated into "od + cumulative share"
    start, blocks, block = paths.od_start, paths.block_start, paths.block_of_path
    top = np.maximum.reduceat(util, blocks)
    with np.errstate(invalid="ignore"):  # -inf - -inf (every itinerary of a pair closed) -> nan -> 0
        expu = np.exp(util - top[block])
    expu[np.isnan(expu)] = 0.0
    totals = np.add.reduceat(expu, blocks)
    share = np.where(totals[block] > 0, expu / np.where(totals > 0, totals, 1.0)[block], 1.0 / paths.block_size[block])
    cs = np.cumsum(share)
    cum = cs - (cs[blocks] - share[blocks])[block]
    cum[blocks + paths.block_size - 1] = 1.0
    position = paths.od + cum
    dest_slot = np.searchsorted(w.destinations, m.compounds.location[pop.compound[rows]])
    od = pop.origin[rows].astype(np.int64) * len(w.destinations) + dest_slot
    u = m.streams.uniform("route", pop.key[rows], pop.transitions[rows])
    chosen = np.searchsorted(position, od + u, side="right")
    return np.clip(chosen, start[od], start[od + 1] - 1)


def start_itinerary(m, day: int, rows: np.ndarray) -> None:
    """Travellers set out: choose an itinerary, resolve its legs and checks, travel."""
    if not len(rows):
        return
    w, pop, levers = m.world, m.population, m.levers
    path = choose_paths(m, rows, day)
    pop.cols["path"][rows] = path
    pop.cols["location"][rows] = w.origins[pop.origin[rows]]
    pop.cols["has_passport"][rows] = True  # whoever sets out has (or has just obtained) a passport
    m.record.add("departures", len(rows))
    edges = w.paths.edges[path]  # travellers x legs, -1 padded
    valid = edges >= 0
    e = np.where(valid, edges, 0)
    n_legs = valid.sum(axis=1)
    key = pop.key[rows][:, None]
    occasion = pop.transitions[rows].astype(np.int64)[:, None] * 64 + np.arange(edges.shape[1])
    days = np.where(valid, m.streams.lognormal_days("leg_time", w.route_days_mean[e], w.route_log_sd[e], key, occasion), 0)
    checks, has_check = m.border.itinerary_checks(rows, edges, occasion, levers)
    src, dst = w.route_from[e], w.route_to[e]
    stopped = checks.any(axis=1)
    first = np.where(stopped, checks.argmax(axis=1), 2 * n_legs)  # index of the stopping check
    leg = first // 2  # leg of the stop (n_legs: arrived)
    # route learning: every check met up to the stop is an attempt on that leg
    met = np.arange(2 * edges.shape[1])[None, :] <= first[:, None]
    attempted = met & has_check
    np.add.at(m.edge_attempts, np.repeat(e, 2, axis=1)[attempted], 1)
    np.add.at(m.edge_stops, e[np.arange(len(rows)), np.minimum(leg, edges.shape[1] - 1)][stopped], 1)
    # leaving Indonesia through a hub: a departure via that hub (displacement outcome)
    passed = np.arange(edges.shape[1])[None, :] < leg[:, None]
    passed |= (np.arange(edges.shape[1])[None, :] == leg[:, None]) & (first % 2 == 1)[:, None]
    leaving = valid & passed & (w.country[src] == "ID") & (w.country[dst] != "ID")
    _record_per_hub(m, "departures_via_", src[leaving])
    # route flows (for flow diagrams): travellers who travel each leg (up to a stop at its entry check)
    m.route_flows[m.year_index[day]] += np.bincount(e[valid & passed], minlength=m.route_flows.shape[1])
    # time of the outcome: days travelled before the stopping check (or the whole journey)
    cum = np.cumsum(days, axis=1)
    before = np.where(first % 2 == 0, leg, leg + 1)  # legs completed before the check
    elapsed = np.where(before > 0, cum[np.arange(len(rows)), np.maximum(before - 1, 0)], 0)
    pop.cols["stop_check"][rows] = first
    m.move(rows, State.IN_TRANSIT, timer=day + elapsed)


def _record_per_hub(m, prefix: str, hubs: np.ndarray) -> None:
    """Add one event per entry of ``hubs`` (location indices of hubs) to the per-hub columns ``prefix<hub id>``."""
    if len(hubs):
        counts = np.bincount(hubs, minlength=len(m.world.ids))
        for hub in np.flatnonzero(counts):
            m.record.add(prefix + m.world.ids[hub], int(counts[hub]))


def journeys(m, day: int) -> None:
    """Today's journey outcomes: stops at checkpoints and arrivals; then returns home."""
    w, pop = m.world, m.population
    for _, rows, _ in m.due(State.IN_TRANSIT, ordered=False):
        path, first = pop.path[rows], pop.stop_check[rows].astype(np.int64)
        n_legs = w.paths.n_legs[path]
        arrived = first >= 2 * n_legs
        leg = first // 2
        edges = w.paths.edges[path]
        # entries into Cambodia along the way (the crossing is within a day of the outcome)
        e = np.where(edges >= 0, edges, 0)
        crossed = (np.arange(edges.shape[1])[None, :] < np.where(arrived, n_legs, leg)[:, None]) & (edges >= 0)
        into_kh = crossed & (w.country[w.route_to[e]] == "KH") & (w.country[w.route_from[e]] != "KH")
        m.record.add("entries_cambodia_migrants", int(into_kh.sum()))
        stop = ~arrived
        if stop.any():
            rows_s = rows[stop]
            edge = edges[stop][np.arange(len(rows_s)), leg[stop]]
            at_exit = first[stop] % 2 == 0  # the exit check at the start of the leg
            node = np.where(at_exit, w.route_from[edge], w.route_to[edge])
            in_id = w.country[node] == "ID"
            column = np.where(at_exit, np.where(in_id, "intercepted_exit_indonesia", "intercepted_transit"), "intercepted_entry")
            intercept(m, day, rows_s, node, column)
        arrive_compound(m, day, rows[arrived])
    for _, rows, _ in m.due(State.INTERCEPTED, ordered=False):
        exits.go_home(m, day, rows, HomeReason.INTERCEPTED)


def intercept(m, day: int, rows: np.ndarray, nodes: np.ndarray, column) -> None:
    """Stopped travellers are turned back: INTERCEPTED, then home after the return trip."""
    w = m.world
    m.record.add("intercepted", len(rows))
    column = np.broadcast_to(np.asarray(column), rows.shape)
    for name in np.unique(column):
        m.record.add(str(name), int((column == name).sum()))
    _record_per_hub(m, "stops_", nodes[w.kind[nodes] == "hub"])
    pop = m.population
    pop.cols["location"][rows] = nodes
    back = m.streams.lognormal_days("return_trip", m.params.travel.return_days, 0.5, pop.key[rows], pop.transitions[rows])
    m.move(rows, State.INTERCEPTED, timer=day + back)


def learn_route_risk(m) -> None:
    """Recruiters update the interception rate they expect on each leg (exponential smoothing)."""
    seen = m.edge_attempts > 0
    if seen.any():
        a = m.params.travel.risk_learning_rate
        rate = m.edge_stops[seen] / m.edge_attempts[seen]
        m.route_risk[seen] += a * (rate - m.route_risk[seen])
    m.edge_attempts[:] = 0
    m.edge_stops[:] = 0


def arrive_compound(m, day: int, rows: np.ndarray) -> None:
    """Arrival at the compound: knowing migrants work, deceived ones are held at once."""
    if not len(rows):
        return
    pop, comp = m.population, m.compounds
    target = current_compound(m, pop.compound[rows])
    lost = target < 0
    exits.go_home(m, day, rows[lost], HomeReason.SELF_RETURN)
    rows, target = rows[~lost], target[~lost]
    country = comp.country[target].astype(np.int64)
    pop.cols["location"][rows] = comp.location[target]
    voluntary = pop.voluntary[rows]
    m.record.add("arrivals_compound", len(rows))
    for g, n in enumerate(np.bincount(country, minlength=len(COUNTRIES))):
        m.record.add(f"arrivals_compound_{COUNTRIES[g]}", int(n))
    m.move(rows[voluntary], State.WORKING, group=country[voluntary], compound=target[voluntary])
    held = rows[~voluntary]
    pop.cols["held"][held] = True
    pop.cols["times_trafficked"][held] += 1
    m.move(held, State.EXPLOITED, group=country[~voluntary], compound=target[~voluntary])
    m.record.add("new_victims", len(held))
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


def people_in_country(m, country: int) -> int:
    """Pipeline people in destination ``country`` (slot): in a compound, escaped, rescued, released,
    detained or in the embassy shelter there. Travellers are counted on arrival (their crossing into
    the country is at most a day earlier, since itineraries end at the compound)."""
    return sum(m.population.count(s, country) for s in AT_DESTINATION)


def other_crossings(m, day: int) -> None:
    """Entries into Cambodia outside itineraries (visa runs, other visitors) and false-positive stops."""
    s, p, rec, w = m.streams, m.params, m.record, m.world
    kh = COUNTRIES.index("KH")
    working_kh = m.population.count(State.WORKING, kh)
    visa = int(s.poisson("visa_runs", p.compounds.visa_run_rate * working_kh, day)[0])
    kh_factor = m.travel_factor[day, w.country_index["KH"]] if "KH" in w.country_index else 0.0
    background = int(s.poisson("background_entries", p.migration.background_entries_per_day * kh_factor, day)[0])
    rec.add("entries_visa_runs", visa)
    rec.add("entries_background", background)
    migrants = rec.data["entries_cambodia_migrants"][day]
    rec.add("entries_cambodia", migrants + visa + background)
    abroad = [w.country_index[c] for c in w.countries if c != "ID"]
    traffic = float(m.travel_factor[day, abroad].mean()) if abroad else 1.0
    fp = m.border.false_positives(day, m.levers, traffic)
    rec.add("false_positive_stops", int(fp.sum()))
    _record_per_hub(m, "stops_", np.repeat(np.arange(len(fp)), fp))
