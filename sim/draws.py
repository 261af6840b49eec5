"""Every stochastic decision of the model, declared once: its stream, what keys it, its occasions.

A draw is a value of the counter-based generator (:mod:`sim.rng`) at (stream, entity, occasion).
Common random numbers hold only if no two decisions share a stream and no two occasions of one
decision collide, so both are declared here and checked:

* each :class:`Draw` names its stream (unique: :func:`declare` refuses a second use of a
  name), the kind of entity whose key it is drawn with (a person, a recruiter, a compound, or
  the day for aggregate draws), its distribution and how many values it takes per occasion;
* its occasion is built by a :class:`Layout` from named fields in mixed radix (e.g.
  ``transition x 64 + leg``); every field but the first has a declared size, and a value
  outside it raises instead of silently reusing another occasion's numbers. Strides
  (exits per state, legs per itinerary, columns per draw) therefore come from the
  declarations, and a world whose longest itinerary exceeds :data:`MAX_LEGS` is refused at load.

Rules call ``model.streams.uniform(draws.ROUTE, keys, occasion)``; the stream names are those
the model has always used, so declaring them changed no random number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lifecycle import EXITS, HAZARD, State

PERSON, RECRUITER, COMPOUND, DAY, RUN = "person", "recruiter", "compound", "day", "run"
ENTITY_KINDS = (PERSON, RECRUITER, COMPOUND, DAY, RUN)
"""What an entity key can be: a person/recruiter/compound key (:func:`sim.rng.person_key`), a
run day (aggregate draws, one per day), or nothing (the run's set-up generator)."""

UNIFORM, EXPONENTIAL, NORMAL, POISSON, LOGNORMAL_DAYS, GENERATOR = (
    "uniform", "exponential", "normal", "poisson", "lognormal_days", "generator")

MAX_COLUMNS = 16
"""Uniforms a draw may take per occasion (:meth:`sim.rng.Streams.uniforms` strides by 16)."""
MAX_EXITS = 16
"""Exits a hazard state may have (thresholds stride by 16 per transition)."""
MAX_LEGS = 64
"""Legs an itinerary may have (leg times and checks stride by 64 per transition)."""
MAX_LINKS = 2**12
"""Compound links a recruiter may have (link draws stride by 2^12 x 2^20 per occasion)."""
MAX_COMPOUNDS = 2**20
"""Compounds a run may create (link draws give each compound its own occasion)."""


class LayoutError(ValueError):
    """An occasion field is outside its declared size (its numbers would collide with another's)."""


@dataclass(frozen=True)
class Layout:
    """An occasion number built from named fields in mixed radix.

    ``Layout(("transition", None), ("leg", 64))`` gives ``transition * 64 + leg`` and refuses a
    leg outside [0, 64). The first field is unbounded (it must stay below 2^64 / the product of
    the other sizes, which the fields used here do by many orders of magnitude).
    """

    fields: tuple[tuple[str, int | None], ...]

    def __post_init__(self):
        if any(size is None for _, size in self.fields[1:]):
            raise ValueError(f"{self.fields}: only the first field of a layout may be unbounded")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def occasion(self, **values):
        """The occasion for the given field values (scalars or broadcastable integer arrays)."""
        if set(values) != set(self.names):
            raise TypeError(f"occasion needs fields {', '.join(self.names)}; got {', '.join(values)}")
        (first, _), *rest = self.fields
        occ = values[first]
        for name, size in rest:
            v = values[name]
            if isinstance(v, np.ndarray):
                low, high = (int(v.min()), int(v.max())) if v.size else (0, 0)
            else:
                low = high = int(v)
            if low < 0 or high >= size:
                raise LayoutError(f"occasion field '{name}' = {high if high >= size else low}: must be within [0, {size})")
            occ = occ * size + v
        return occ


ONE = Layout((("occasion", None),))
"""A single occasion field (0 unless stated)."""


@dataclass(frozen=True)
class Draw:
    """One declared stochastic decision (see the module docstring)."""

    stream: str
    keyed_by: str
    distribution: str
    layout: Layout
    doc: str
    columns: int = 1

    def occasion(self, **values):
        return self.layout.occasion(**values)


REGISTRY: dict[str, Draw] = {}
"""Every declared draw by stream name."""


def declare(stream: str, keyed_by: str, distribution: str, doc: str, layout: Layout = ONE, columns: int = 1) -> Draw:
    """Declare a draw; refuses a stream name already declared, an unknown entity kind, or too many columns."""
    if stream in REGISTRY:
        raise ValueError(f"stream {stream!r} is declared twice; every decision needs its own stream")
    if keyed_by not in ENTITY_KINDS:
        raise ValueError(f"stream {stream!r}: keyed_by = {keyed_by!r}; allowed: {', '.join(ENTITY_KINDS)}")
    if not 1 <= columns <= MAX_COLUMNS:
        raise ValueError(f"stream {stream!r}: columns = {columns}; allowed: 1..{MAX_COLUMNS}")
    draw = REGISTRY[stream] = Draw(stream, keyed_by, distribution, layout, doc, columns)
    return draw


TRANSITION = Layout((("transition", None),))
EPISODE = Layout((("episode", None),))
BY_DAY = Layout((("day", None),))
LEGS = Layout((("transition", None), ("leg", MAX_LEGS)))
CHECKS = Layout((("transition", None), ("leg", MAX_LEGS), ("side", 2)))
THRESHOLDS = Layout((("transition", None), ("exit", MAX_EXITS)))

# -- the run ---------------------------------------------------------------------------------
MESA = declare("mesa", RUN, GENERATOR, "Mesa's own generator (model.rng); no model rule draws from it.")

# -- people: attributes and recruitment --------------------------------------------------------
ATTRIBUTES = declare("attributes", PERSON, UNIFORM, "A new person's attributes: male, age, tertiary, digital exposure, awareness, pressure.", columns=6)
CONTACTS = declare("contacts", DAY, POISSON, "Responders to online offers in an origin today (occasion: origin slot).", Layout((("origin", None),)))
CONTACT_RECRUITER = declare("contact_recruiter", PERSON, UNIFORM, "Which recruiter reached a new responder.")
DELIBERATION = declare("deliberation", PERSON, LOGNORMAL_DAYS, "Days from first contact to the decision.")
DECISION = declare("decision", PERSON, UNIFORM, "Offer disclosed?, accepts?, takes a legal job? (one column each).", EPISODE, columns=3)
CHOOSE_COMPOUND = declare("choose_compound", PERSON, UNIFORM, "Which of the recruiter's compounds a recruit is sent to.", TRANSITION)
PREPARATION = declare("preparation", PERSON, LOGNORMAL_DAYS, "Days from acceptance to departure.", EPISODE)
PASSPORT_WAIT = declare("passport_wait", PERSON, LOGNORMAL_DAYS, "Extra days to obtain a passport.", EPISODE)
PASSPORT_NEEDED = declare("passport_needed", PERSON, UNIFORM, "Whether a person without a passport must apply for one (the same whenever asked).")
PASSPORT_SCREEN = declare("passport_screen", PERSON, UNIFORM, "Whether a passport application is postponed.", EPISODE)
REMIGRANT_RECRUITER = declare("remigrant_recruiter", PERSON, UNIFORM, "Which active recruiter a returnee setting out again contacts (occasion: the new episode).", EPISODE)
INITIAL_ORIGIN = declare("initial_origin", PERSON, UNIFORM, "Origin province of a person in a compound on the start date.")
INITIAL_DECEIVED = declare("initial_deceived", PERSON, UNIFORM, "Whether a person in a compound on the start date was deceived.")

# -- travel --------------------------------------------------------------------------------------
TRAVEL_POSSIBLE = declare("travel_possible", PERSON, UNIFORM, "Whether a prepared recruit can travel while borders are partly closed.", TRANSITION)
ROUTE = declare("route", PERSON, UNIFORM, "Which itinerary a traveller takes (inverse CDF of the route-choice logit).", TRANSITION)
LEG_TIME = declare("leg_time", PERSON, LOGNORMAL_DAYS, "Days each leg of an itinerary takes.", LEGS)
CHECKS_DRAW = declare("checks", PERSON, UNIFORM, "Whether the exit (side 0) and entry (side 1) check of each leg stops the traveller.", CHECKS)
RETURN_TRIP = declare("return_trip", PERSON, LOGNORMAL_DAYS, "Days an intercepted person takes to get home.", TRANSITION)
VISA_RUNS = declare("visa_runs", DAY, POISSON, "Visa runs (exit and re-entry) of knowing workers today (occasion: destination-country slot).", Layout((("country", None),)))
BACKGROUND_ENTRIES = declare("background_entries", DAY, POISSON, "Other Indonesian visitors entering a destination country today (occasion: destination-country slot).", Layout((("country", None),)))
FALSE_POSITIVE = declare("false_positive", DAY, POISSON, "Legitimate travellers stopped at a hub today (occasion: the hub's location index).", Layout((("location", None),)))

# -- compounds and life in them --------------------------------------------------------------------
RESALE_ABROAD = declare("resale_abroad", PERSON, UNIFORM, "Whether a resale crosses into another country.", TRANSITION)
RESALE_COUNTRY = declare("resale_country", PERSON, UNIFORM, "Which other country a resale abroad goes to.", TRANSITION)
RESALE_COMPOUND = declare("resale_compound", PERSON, UNIFORM, "Which compound buys a resold person.", TRANSITION)
COMPOUND_LOCATION = declare("compound_location", COMPOUND, UNIFORM, "Where in its country a new compound opens.")
COMPOUND_SECTOR = declare("compound_sector", COMPOUND, UNIFORM, "Whether a new compound runs online scams or online gambling.")
COMPOUND_CAPACITY = declare("compound_capacity", COMPOUND, NORMAL, "A new compound's capacity (log-normal).")
COMPOUND_VIOLENCE = declare("compound_violence", COMPOUND, UNIFORM, "A new compound's violence (Beta, by inversion).")
COMPOUND_RANSOM = declare("compound_ransom", COMPOUND, NORMAL, "The ransom a new compound asks (log-normal).")
COMPOUND_OPENINGS = declare("compound_openings", DAY, POISSON, "New compounds opening in a country today (occasion: destination-country slot).", Layout((("country", None),)))
RAID = declare("raid", COMPOUND, UNIFORM, "Whether a compound is raided today.", BY_DAY)
RAID_LEAK = declare("raid_leak", COMPOUND, UNIFORM, "Whether today's raid on a compound leaked.", BY_DAY)
RAID_FIND = declare("raid_find", PERSON, UNIFORM, "Whether a raid finds a person.", TRANSITION)
RAID_IDENTIFY = declare("raid_identify", PERSON, UNIFORM, "Whether a person found in a raid is identified as a victim.", TRANSITION)
RAIDS_SO_FAR = Layout((("raid", None),))
COMPOUND_CLOSE = declare("compound_close", COMPOUND, UNIFORM, "Whether a raided compound closes (occasion: its raid count).", RAIDS_SO_FAR)
COMPOUND_RELOCATE = declare("compound_relocate", COMPOUND, UNIFORM, "Whether a closing compound re-opens elsewhere.", RAIDS_SO_FAR)
COMPOUND_ABROAD = declare("compound_abroad", COMPOUND, UNIFORM, "Whether a relocation goes abroad.", RAIDS_SO_FAR)
COMPOUND_ABROAD_COUNTRY = declare("compound_abroad_country", COMPOUND, UNIFORM, "Which country a relocation abroad goes to.", RAIDS_SO_FAR)

# -- leaving the compounds ---------------------------------------------------------------------------
HANDOVER = declare("handover", PERSON, LOGNORMAL_DAYS, "Days from escape, rescue or release to reaching help or going home.", TRANSITION)
DEPORTEE_CASE = declare("deportee_case", PERSON, UNIFORM, "Whether a deportee's documents go through the embassy (a case).", TRANSITION)
SEEK_EMBASSY = declare("seek_embassy", PERSON, UNIFORM, "Whether an escaped, rescued or released person goes to the embassy.", TRANSITION)
TPPO = declare("tppo", PERSON, UNIFORM, "Whether an embassy case is indicated as trafficking (TPPO).", EPISODE)

# -- recruiters --------------------------------------------------------------------------------------
RECRUITER_PLATFORM = declare("recruiter_platform", RECRUITER, UNIFORM, "A new recruiter's platform.")
RECRUITER_ABROAD = declare("recruiter_abroad", RECRUITER, UNIFORM, "Whether a new recruiter is based abroad.")
RECRUITER_HOME = declare("recruiter_home", RECRUITER, UNIFORM, "A domestic recruiter's home province.")
RECRUITER_REACH = declare("recruiter_reach", RECRUITER, NORMAL, "A new recruiter's reach (log-normal).")
RECRUITER_LINK = declare(
    "recruiter_link", RECRUITER, UNIFORM,
    "Gumbel-top-k choice of a recruiter's compounds: one uniform per (link draw, link slot, compound).",
    Layout((("draw", None), ("link", MAX_LINKS), ("compound", MAX_COMPOUNDS))),
)
ARREST = declare("arrest", RECRUITER, UNIFORM, "Whether a recruiter is arrested today.", BY_DAY)
LIE_LOW = declare("lie_low", RECRUITER, UNIFORM, "Whether a peer of an arrested recruiter lies low.", BY_DAY)
PLATFORM_SWITCH = declare("platform_switch", RECRUITER, UNIFORM, "Whether a recruiter under takedown pressure switches platform today.", BY_DAY)
PLATFORM_CHOICE = declare("platform_choice", RECRUITER, UNIFORM, "Which platform a switching recruiter moves to.", BY_DAY)
RECRUITER_ENTRY = declare("recruiter_entry", DAY, POISSON, "New recruiters entering the market today.")
RECRUITER_QUIT = declare("recruiter_quit", RECRUITER, UNIFORM, "Whether an idle recruiter quits today.", BY_DAY)

# -- exit thresholds, one stream per hazard state -----------------------------------------------------------
for _state, _exits in EXITS.items():
    if len(_exits) > MAX_EXITS:
        raise ValueError(f"{_state.name} has {len(_exits)} exits; thresholds leave room for {MAX_EXITS}")
EXIT_THRESHOLDS: dict[State, Draw] = {
    state: declare(f"exit_{state.name.lower()}", PERSON, EXPONENTIAL,
                   f"Exp(1) thresholds of the exits of {state.name} (occasion: transition count after entry x 16 + exit).",
                   THRESHOLDS)
    for state, exits in EXITS.items() if {kind for _, kind in exits} == {HAZARD}
}


def exit_threshold(state: State) -> Draw:
    """The threshold draw of hazard state ``state``."""
    return EXIT_THRESHOLDS[state]
