"""Online recruitment: recruiter dynamics, contacts, decisions, preparation and departure.

Submodel (per day):

1. *Recruiter dynamics* — police arrests (and peers lying low), platform switching under
   takedowns, compounds' demand split over their recruiters, market entry and exit.
2. *Contacts* — recruiter r reaches ``lam_r`` responders/day, spread over origin provinces
   (home bias for recruiters based in Indonesia); the responders in origin p on day d are
   ``N ~ Poisson(sum_r lam_r w_rp)``; the k-th is person (d, p, k) and is assigned to a
   recruiter in proportion to ``lam_r w_rp``. Each gets attributes from their own key.
3. *Decision* after a deliberation time — the offer is disclosed (knowing migration) with the
   normalisation share ``v(t)``, else deceptive. Acceptance is logistic in financial pressure
   (and, for deceptive offers, awareness and tertiary education), times the
   ``deceptive_acceptance`` lever; an accepting person may take a legal job instead
   (``legal_channel`` lever). Recruits are assigned a compound among their recruiter's links,
   in proportion to what the recruiter supplies each compound today.
4. *Preparation* — a waiting time, plus a passport application for first-timers who need one
   (exposed to passport postponement); travel waits while the destination is closed.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .. import draws
from ..config import parse_date
from ..lifecycle import State
from ..rng import person_key, weighted_choice
from ..today import Supply
from . import travel


_QUANTILE_GRID = np.linspace(0.0, 1.0, 4097)


def beta_quantile_table(mean: float, concentration: float) -> np.ndarray:
    """Quantiles of Beta(mean * c, (1 - mean) * c) on a uniform grid (interpolated per draw)."""
    return special.betaincinv(mean * concentration, (1.0 - mean) * concentration, _QUANTILE_GRID)


class AttributeSampler:
    """Draws new people's attributes, each from the person's own key (so the same in every scenario).

    The 0-1 attributes are Beta-distributed with the configured means; quantiles come from a
    4,097-point table per attribute (error below 1e-4), much faster than inverting per person.
    """

    def __init__(self, pp):
        self.pp = pp
        self.tables = {mean: beta_quantile_table(mean, pp.attribute_concentration)
                       for mean in (pp.digital_exposure_mean, pp.awareness_mean, pp.pressure_mean)}

    def _beta(self, mean: float, u: np.ndarray) -> np.ndarray:
        return np.interp(u, _QUANTILE_GRID, self.tables[mean]).astype(np.float32)

    def draw(self, streams, keys: np.ndarray, origin: np.ndarray) -> dict[str, np.ndarray]:
        """Column values of new people with CRN ``keys`` from ``origin`` slots."""
        pp = self.pp
        u = streams.uniforms(draws.ATTRIBUTES, keys, 0)  # male, age, tertiary, digital, awareness, pressure
        return {
            "key": keys,
            "origin": origin,
            "male": u[:, 0] < pp.male_share,
            "age": (pp.age_min + u[:, 1] * (pp.age_max - pp.age_min)).astype(np.float32),
            "tertiary": u[:, 2] < pp.tertiary_share,
            "digital": self._beta(pp.digital_exposure_mean, u[:, 3]),
            "awareness": self._beta(pp.awareness_mean, u[:, 4]),
            "pressure": self._beta(pp.pressure_mean, u[:, 5]),
            "location": np.full(len(keys), -1),
            "episode": np.ones(len(keys)),
        }


def disclosed_share(m, day: int) -> float:
    """Share of offers that disclose the scam/gambling work on ``day`` (logistic normalisation trend)."""
    p = m.params.recruitment
    mid = (parse_date(p.disclosed_share_midpoint, "params.recruitment.disclosed_share_midpoint") - m.start_date).days
    x = (day - mid) / p.disclosed_share_width_days
    return p.disclosed_share_start + (p.disclosed_share_end - p.disclosed_share_start) * special.expit(x)


def recruiter_dynamics(m, today) -> Supply:
    """Arrests, lying low, platform switching, demand and supply, market entry and exit.

    Returns today's supply of responders by recruiter (and by compound link).
    """
    levers, rec, record, day = today.levers, m.recruiters, m.record, today.day
    arrested = m.indonesian_police.arrest_recruiters(day, levers)
    record.add("recruiters_arrested", len(arrested))
    record.add("recruiters_arrested_abroad", int(rec.abroad[arrested].sum()))
    record.add("platform_switches", rec.switch_platforms(day, levers))
    desired = m.compounds.desired_responders(today.access, rec.conversion)
    open_mask = m.compounds.open
    rec.relink(day, desired, open_mask)
    lam, link_supply, unmet = rec.supply(day, levers, desired)
    entered, quit_ = rec.enter_and_exit(day, levers, lam, unmet, open_mask)
    record.add("recruiters_entered", entered)
    record.add("recruiters_quit", quit_)
    active = rec.active[: len(lam)]
    return Supply(lam * active, link_supply * active[:, None])


def new_contacts(m, today) -> None:
    """Today's responders to online offers: new people in state CONTACTED."""
    lam, day = today.supply.responders, today.day
    if not len(lam):
        return
    weights = m.recruiters.contact_weights(lam)  # recruiters x origins
    per_origin = weights.sum(axis=0)
    counts = m.streams.poisson(draws.CONTACTS, per_origin, day, np.arange(len(per_origin)))
    total = int(counts.sum())
    if total == 0:
        return
    origin = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    keys = person_key(np.full(total, day), origin, k)
    # each responder's recruiter: inverse CDF of that origin's recruiter weights, all origins at once
    # (each origin's cumulative weights are shifted into its own interval [p, p + 1) of one sorted array)
    cum = np.minimum(np.cumsum(weights, axis=0) / np.maximum(per_origin, 1e-300), 1.0)
    cum[-1] = 1.0  # exactly, so that the shifted blocks stay sorted
    position = (cum + np.arange(len(per_origin))).T.ravel()
    u = m.streams.uniform(draws.CONTACT_RECRUITER, keys)
    recruiter = np.searchsorted(position, origin + u, side="right") - origin * len(lam)
    recruiter = np.clip(recruiter, 0, len(lam) - 1)
    rows = m.population.create(**m.attributes.draw(m.streams, keys, origin), recruiter=recruiter)
    r = m.params.recruitment
    wait = m.streams.lognormal_days(draws.DELIBERATION, r.deliberation_days, r.wait_log_sd, keys)
    m.exits.move(rows, State.CONTACTED, timer=day + wait)
    m.record.add("contacts", total)


def acceptance(m, rows: np.ndarray, disclosed: np.ndarray, levers) -> np.ndarray:
    """Chance that each person accepts their offer (deceptive or disclosed)."""
    pop, r = m.population, m.params.recruitment
    pressure = pop.pressure[rows] - 0.5
    base = np.where(disclosed, r.accept_logit_disclosed, r.accept_logit_deceptive)
    logit = base + r.beta_pressure * pressure
    deceptive_terms = -r.beta_awareness * (pop.awareness[rows] - 0.5) + r.beta_tertiary * pop.tertiary[rows]
    logit = logit + np.where(disclosed, 0.0, deceptive_terms)
    p = special.expit(logit)
    return np.where(disclosed, p, p * levers.deceptive_acceptance[pop.origin[rows]])


def decisions(m, today) -> None:
    """People whose deliberation ended decide: decline, take a legal job, or accept."""
    pop, s, levers, day = m.population, m.streams, today.levers, today.day
    for _, rows, _ in m.exits.due(State.CONTACTED, ordered=False):
        keys, episode = pop.key[rows], pop.episode[rows]
        rec_slot = pop.recruiter[rows]
        alive = m.recruiters.active[rec_slot]
        u = s.uniforms(draws.DECISION, keys, episode)  # offer disclosed, accepts, takes a legal job
        disclosed = u[:, 0] < disclosed_share(m, day)
        accept = alive & (u[:, 1] < acceptance(m, rows, disclosed, levers))
        legal = accept & (u[:, 2] < levers.legal_channel[pop.origin[rows]])
        go = accept & ~legal
        compound = choose_compound(m, rows[go], rec_slot[go], today.supply)
        placed = np.zeros(len(rows), dtype=bool)
        placed[np.flatnonzero(go)[compound >= 0]] = True
        m.exits.move(rows[~accept | (go & ~placed)], State.DECLINED)
        m.exits.move(rows[legal], State.LEGAL)
        recruits = rows[placed]
        pop.set(recruits, voluntary=disclosed[placed])
        to_recruited(m, day, recruits, compound[compound >= 0])
        m.record.add("declined", int((~accept | (go & ~placed)).sum()))
        m.record.add("legal_jobs", int(legal.sum()))
        m.record.add("recruited_deceived", int((~disclosed[placed]).sum()))
        m.recruiters.learn_conversion(placed.mean())


def choose_compound(m, rows: np.ndarray, recruiter: np.ndarray, supply: Supply) -> np.ndarray:
    """A compound for each recruit among their recruiter's links (weighted by today's supply); -1 if none open."""
    if not len(rows):
        return np.empty(0, dtype=np.int64)
    link_supply = supply.per_link
    links = m.recruiters.links[recruiter]
    comp = m.compounds
    usable = (links >= 0) & comp.open[np.maximum(links, 0)]
    w = np.where(usable, link_supply[recruiter] if len(link_supply) else 0.0, 0.0)
    fallback = np.where(usable, comp.capacity[np.maximum(links, 0)], 0.0)  # supply may be zero today
    w = np.where(w.sum(axis=1, keepdims=True) > 0, w, fallback)
    total = w.sum(axis=1)
    pick = weighted_choice(w, m.streams.uniform(draws.CHOOSE_COMPOUND, m.population.key[rows], m.population.transitions[rows]))
    return np.where(total > 0, links[np.arange(len(rows)), pick], -1)


def to_recruited(m, day: int, rows: np.ndarray, compound: np.ndarray) -> None:
    """Recruits prepare to leave: departure after preparation (and a passport, if needed)."""
    if not len(rows):
        return
    r, s, pop = m.params.recruitment, m.streams, m.population
    keys, episode = pop.key[rows], pop.episode[rows]
    wait = s.lognormal_days(draws.PREPARATION, r.preparation_days, r.wait_log_sd, keys, episode)
    passport = needs_passport(m, rows)
    wait = wait + np.where(passport, s.lognormal_days(draws.PASSPORT_WAIT, r.passport_days, r.wait_log_sd, keys, episode), 0)
    m.exits.move(rows, State.RECRUITED, compound=compound, timer=day + wait)
    m.record.add("recruited", len(rows))


def needs_passport(m, rows: np.ndarray) -> np.ndarray:
    """Recruits without a passport: a share of those who never set out (one draw per person, the
    same whenever asked; someone whose passport was postponed still needs one next time)."""
    pop = m.population
    u = m.streams.uniform(draws.PASSPORT_NEEDED, pop.key[rows])
    return ~pop.has_passport[rows] & (u < m.params.recruitment.passport_needed_share)


def departures(m, today) -> None:
    """Prepared recruits leave home, unless their passport was postponed or borders are closed."""
    pop, s, day = m.population, m.streams, today.day
    for _, rows, _ in m.exits.due(State.RECRUITED, ordered=False):
        applied = needs_passport(m, rows)
        postponed = np.zeros(len(rows), dtype=bool)
        if applied.any():
            postponed[applied] = m.border.postpone_passports(rows[applied], today.levers)
        travel.intercept(m, day, rows[postponed], "passport_postponed")
        rows = rows[~postponed]
        country = m.compounds.country[pop.compound[rows]]
        can_go = s.uniform(draws.TRAVEL_POSSIBLE, pop.key[rows], pop.transitions[rows]) < today.access[country]
        waiting = rows[~can_go]
        m.exits.move(waiting, State.RECRUITED, timer=np.full(len(waiting), day + 7))
        travel.start_itinerary(m, today, rows[can_go])
