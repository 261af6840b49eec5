"""Daily outputs: the column schema (meaning, unit) and the recorder that fills it.

Flows are counts of events during the day (persons/day unless stated); stocks are counts at
the end of the day. Columns are preallocated for the whole horizon as int64 (float64 for
money), so recording costs nothing per person. ``docs/outputs.md`` is generated from
:data:`COLUMNS` (``tipsim docs``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .lifecycle import AT_DESTINATION, State

FLOW, STOCK, MONEY = "flow", "stock", "money"

# name -> (kind, unit, meaning)
COLUMNS: dict[str, tuple[str, str, str]] = {
    "contacts": (FLOW, "persons/day", "People who answered an online job offer (new rows, first contact)."),
    "recruited": (FLOW, "persons/day", "Offers accepted (first-time and repeat migrants setting out)."),
    "recruited_deceived": (FLOW, "persons/day", "Accepted offers that were deceptive (fake jobs)."),
    "declined": (FLOW, "persons/day", "Offers turned down (or lapsed because the recruiter was gone)."),
    "legal_jobs": (FLOW, "persons/day", "Would-be recruits who took a legal job abroad through a safe channel."),
    "departures": (FLOW, "persons/day", "People who set out from their province on an itinerary."),
    "intercepted": (FLOW, "persons/day", "Would-be migrants stopped before reaching a compound (checkpoints and passport postponement)."),
    "intercepted_exit_indonesia": (FLOW, "persons/day", "Stopped by Indonesian departure screening at a hub."),
    "intercepted_transit": (FLOW, "persons/day", "Stopped by a transit state's exit check."),
    "intercepted_entry": (FLOW, "persons/day", "Refused by destination entry immigration."),
    "passport_postponed": (FLOW, "persons/day", "Recruits whose passport issuance was postponed (they stay home)."),
    "false_positive_stops": (FLOW, "persons/day", "Legitimate travellers stopped by departure screening."),
    "in_transit": (STOCK, "persons", "People travelling along an itinerary."),
    "arrivals_compound": (FLOW, "persons/day", "Arrivals at a compound (all destination countries)."),
    "displacement": (FLOW, "persons/day", "Arrivals at compounds outside the scenario's reference country (scenario.reference_country; displacement outcome)."),
    "new_victims": (FLOW, "persons/day", "People who became held in a compound: deceived arrivals plus knowing workers who became held."),
    "new_victims_deceived": (FLOW, "persons/day", "Deceived arrivals (held from arrival)."),
    "exploited": (STOCK, "persons", "People held in compounds (all destination countries)."),
    "working": (STOCK, "persons", "Knowing workers in compounds who are not held (all countries)."),
    "person_days_exploited": (FLOW, "person-days/day", "Person-days spent held today (the end-of-day held stock times one day)."),
    "escaped": (FLOW, "persons/day", "Escapes from compounds."),
    "rescued": (FLOW, "persons/day", "Rescues (raids plus targeted rescues after a report)."),
    "rescued_targeted": (FLOW, "persons/day", "Targeted rescues of people whose case the embassy held."),
    "ransomed": (FLOW, "persons/day", "Held people released after a ransom was paid."),
    "dumped": (FLOW, "persons/day", "Workers and held people turned out by compounds (mass release, closures)."),
    "resold": (FLOW, "persons/day", "Held people sold to another compound."),
    "resold_abroad": (FLOW, "persons/day", "Resales into another destination country (displacement)."),
    "left_compound": (FLOW, "persons/day", "Knowing workers who left at the end of their work and went home."),
    "detained": (FLOW, "persons/day", "People detained as offenders after a raid."),
    "detained_stock": (STOCK, "persons", "People in immigration detention awaiting deportation."),
    "deported": (FLOW, "persons/day", "Deportations to Indonesia."),
    "in_shelter": (STOCK, "persons", "Embassy cases in the shelter awaiting repatriation."),
    "repatriated": (FLOW, "persons/day", "Repatriations arranged by an embassy."),
    "self_returned": (FLOW, "persons/day", "Escaped or released people who went home without the embassy."),
    "remigrations": (FLOW, "persons/day", "Returnees who set out again (repeat migration)."),
    "embassy_cases": (FLOW, "cases/day", "New cases at the Indonesian embassy in the scenario's reference country (scenario.reference_country; KBRI Phnom Penh by default)."),
    "embassy_cases_scam": (FLOW, "cases/day", "New cases at the reference country's embassy from online-scam compounds (rest: online gambling)."),
    "embassy_cases_tppo": (FLOW, "cases/day", "New cases at the reference country's embassy indicated as trafficking (TPPO) victims."),
    "embassy_cases_region": (FLOW, "cases/day", "New cases at the Indonesian embassies of all modelled destinations (Cambodia, Myanmar, Laos)."),
    "embassy_cases_scam_region": (FLOW, "cases/day", "New online-scam-compound cases at all modelled embassies."),
    "tppo_victims_identified": (FLOW, "cases/day", "New cases at all modelled embassies indicated as trafficking (TPPO) victims."),
    "recruiters_active": (STOCK, "recruiters", "Active recruiters."),
    "recruiters_lying_low": (STOCK, "recruiters", "Active recruiters lying low after an arrest nearby."),
    "recruiters_arrested": (FLOW, "recruiters/day", "Recruiters arrested."),
    "recruiters_arrested_abroad": (FLOW, "recruiters/day", "Recruiters based abroad arrested (extradition, joint investigation)."),
    "recruiters_entered": (FLOW, "recruiters/day", "New recruiters entering the market."),
    "recruiters_quit": (FLOW, "recruiters/day", "Recruiters quitting for lack of demand."),
    "platform_switches": (FLOW, "recruiters/day", "Recruiters moving to another platform under takedowns."),
    "compounds_active": (STOCK, "compounds", "Open compounds (all countries)."),
    "compounds_opened": (FLOW, "compounds/day", "New compounds opening (not relocations)."),
    "compounds_raided": (FLOW, "compounds/day", "Raids on compounds."),
    "compounds_closed": (FLOW, "compounds/day", "Raided compounds that closed."),
    "compounds_relocated": (FLOW, "compounds/day", "Closed compounds re-opening elsewhere."),
    "compounds_relocated_abroad": (FLOW, "compounds/day", "Relocations into another country (displacement)."),
    "intervention_cost_usd": (MONEY, "USD/day", "Cost of all interventions delivered today."),
}


PER_COUNTRY: dict[str, tuple[str, str, str]] = {
    "arrivals_compound_{c}": (FLOW, "persons/day", "Arrivals at compounds in {name}."),
    "exploited_{c}": (STOCK, "persons", "People held in compounds in {name}."),
    "working_{c}": (STOCK, "persons", "Knowing workers in compounds in {name} who are not held."),
    "embassy_cases_{c}": (FLOW, "cases/day", "New cases at the Indonesian embassy in {name}."),
    "embassy_cases_scam_{c}": (FLOW, "cases/day", "New cases at the Indonesian embassy in {name} from online-scam compounds (rest: online gambling)."),
    "embassy_cases_tppo_{c}": (FLOW, "cases/day", "New cases at the Indonesian embassy in {name} indicated as trafficking (TPPO) victims."),
    "wni_in_{c}": (STOCK, "persons", "Indonesians of the pipeline in {name}: in compounds, escaped, rescued, released, detained or in the embassy shelter."),
    "entries_{c}": (FLOW, "entries/day", "All Indonesian entries into {name}: migrants' arrivals, visa-run re-entries and other visitors."),
    "entries_migrants_{c}": (FLOW, "entries/day", "Migrants' crossings into {name} on their itinerary."),
    "entries_visa_runs_{c}": (FLOW, "entries/day", "Re-entries into {name} of knowing workers after a visa run."),
    "entries_background_{c}": (FLOW, "entries/day", "Other Indonesian visitors to {name} (tourists, business) outside the pipeline."),
    "compounds_active_{c}": (STOCK, "compounds", "Open compounds in {name}."),
    "capacity_{c}": (STOCK, "places", "Places for Indonesian workers in open compounds in {name}."),
}
"""Columns generated for every destination country of the world: ``{c}`` is its code, ``{name}`` its name."""


def country_columns(countries: tuple[str, ...], names: dict[str, str] | None = None) -> dict[str, tuple[str, str, str]]:
    """The per-country columns of :data:`PER_COUNTRY` for ``countries`` (codes, in world order)."""
    names = names or {}
    return {
        pattern.format(c=c): (kind, unit, meaning.format(name=names.get(c, c)))
        for pattern, (kind, unit, meaning) in PER_COUNTRY.items()
        for c in countries
    }


def hub_columns(hub_ids: list[str]) -> dict[str, tuple[str, str, str]]:
    """Per-hub displacement and screening columns."""
    out = {}
    for h in hub_ids:
        out[f"departures_via_{h}"] = (FLOW, "persons/day", f"Migrants who passed exit immigration at {h}.")
        out[f"stops_{h}"] = (FLOW, "persons/day", f"People stopped at {h}: intercepted migrants plus false positives.")
    return out


def cost_columns(keys: list[str]) -> dict[str, tuple[str, str, str]]:
    """Per-intervention cost columns."""
    return {f"cost_{k}": (MONEY, "USD/day", f"Cost of intervention '{k}' delivered today.") for k in keys}


class Recorder:
    """Preallocated daily columns; rules add flows to today's row, the model sets stocks."""

    def __init__(self, n_days: int, columns: dict[str, tuple[str, str, str]], countries: tuple[str, ...] = (),
                 reference: int = 0):
        self.columns = columns
        self.countries = countries
        self.reference = reference  # slot of the reference country in ``countries``
        self.day = 0
        self.data = {
            name: np.zeros(n_days, dtype=np.float64 if kind == MONEY else np.int64)
            for name, (kind, _, _) in columns.items()
        }

    @classmethod
    def for_model(cls, m) -> Recorder:
        """The recorder of a model: the fixed columns, one set per destination country, per hub
        and per intervention, with the interventions' costs (which follow from their schedule alone)."""
        w = m.world
        columns = {
            **COLUMNS,
            **country_columns(w.destination_countries, w.country_names),
            **hub_columns([w.ids[h] for h in w.hubs]),
            **cost_columns([iv.key for iv in m.interventions]),
        }
        rec = cls(m.n_days, columns, w.destination_countries, m.reference_country)
        for iv in m.interventions:
            rec.data[f"cost_{iv.key}"][:] = iv.daily_cost
        if m.interventions:
            rec.data["intervention_cost_usd"][:] = np.sum([iv.daily_cost for iv in m.interventions], axis=0)
        return rec

    def add(self, name: str, n) -> None:
        """Add ``n`` events to today's flow ``name``."""
        self.data[name][self.day] += n

    def set(self, name: str, value) -> None:
        """Set today's stock ``name``."""
        self.data[name][self.day] = value

    def add_per_country(self, pattern: str, counts) -> None:
        """Add ``counts[c]`` (one per destination-country slot) to today's ``pattern.format(c=code)``."""
        for code, n in zip(self.countries, counts):
            self.data[pattern.format(c=code)][self.day] += n

    def cases(self, country: int, n: int, scam: int, tppo: int) -> None:
        """Record new embassy cases in destination-country slot ``country``."""
        self.add("embassy_cases_region", n)
        self.add("embassy_cases_scam_region", scam)
        self.add("tppo_victims_identified", tppo)
        code = self.countries[country]
        self.add(f"embassy_cases_{code}", n)
        self.add(f"embassy_cases_scam_{code}", scam)
        self.add(f"embassy_cases_tppo_{code}", tppo)
        if country == self.reference:
            self.add("embassy_cases", n)
            self.add("embassy_cases_scam", scam)
            self.add("embassy_cases_tppo", tppo)

    def arrivals(self, counts: np.ndarray) -> None:
        """Record today's arrivals at compounds, ``counts[c]`` per destination-country slot."""
        self.add("arrivals_compound", int(counts.sum()))
        self.add_per_country("arrivals_compound_{c}", counts)
        self.add("displacement", int(counts.sum() - counts[self.reference]))

    def frame(self, dates: pd.DatetimeIndex) -> pd.DataFrame:
        """The daily table of the first ``len(dates)`` days: one row per day, ``date`` first.

        ``dates`` are the simulated days from the start date; rows of later days (still zero
        in the preallocated columns, or holding only scheduled intervention costs) are left out.
        """
        df = pd.DataFrame({name: column[: len(dates)] for name, column in self.data.items()})
        df.insert(0, "date", dates)
        return df


def record_stocks(m, today) -> None:
    """End-of-day stocks: people by state and country, recruiters, compounds."""
    pop, rec, day = m.population, m.record, today.day
    countries = m.countries
    exploited = [pop.count(State.EXPLOITED, g) for g in range(len(countries))]
    working = [pop.count(State.WORKING, g) for g in range(len(countries))]
    rec.set("exploited", sum(exploited))
    rec.set("person_days_exploited", sum(exploited))
    rec.set("working", sum(working))
    comp = m.compounds
    for g, code in enumerate(countries):
        rec.set(f"exploited_{code}", exploited[g])
        rec.set(f"working_{code}", working[g])
        rec.set(f"wni_in_{code}", sum(pop.count(s, g) for s in AT_DESTINATION))
        here = comp.open & (comp.country == g)
        rec.set(f"compounds_active_{code}", int(here.sum()))
        rec.set(f"capacity_{code}", int(round(comp.capacity[here].sum())))
    rec.set("in_transit", pop.count(State.IN_TRANSIT))
    rec.set("detained_stock", pop.count(State.DETAINED))
    rec.set("in_shelter", pop.count(State.SHELTER))
    rec.set("recruiters_active", len(m.recruiters.agents))
    rec.set("recruiters_lying_low", int((m.recruiters.active & (m.recruiters.low_until > day)).sum()))
    rec.set("compounds_active", int(comp.open.sum()))
