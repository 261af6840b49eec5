"""Daily outputs: the column schema (meaning, unit) and the recorder that fills it.

Flows are counts of events during the day (persons/day unless stated); stocks are counts at
the end of the day. Columns are preallocated for the whole horizon as int64 (float64 for
money), so recording costs nothing per person. ``docs/outputs.md`` is generated from
:data:`COLUMNS` (``tipsim docs``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import COUNTRIES

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
    "arrivals_compound_KH": (FLOW, "persons/day", "Arrivals at compounds in Cambodia."),
    "arrivals_compound_MM": (FLOW, "persons/day", "Arrivals at compounds in Myanmar (displacement outcome)."),
    "arrivals_compound_LA": (FLOW, "persons/day", "Arrivals at compounds in Laos (displacement outcome)."),
    "new_victims": (FLOW, "persons/day", "People who became held in a compound: deceived arrivals plus knowing workers who became held."),
    "new_victims_deceived": (FLOW, "persons/day", "Deceived arrivals (held from arrival)."),
    "exploited": (STOCK, "persons", "People held in compounds (all destination countries)."),
    "exploited_KH": (STOCK, "persons", "People held in compounds in Cambodia."),
    "exploited_MM": (STOCK, "persons", "People held in compounds in Myanmar."),
    "exploited_LA": (STOCK, "persons", "People held in compounds in Laos."),
    "working": (STOCK, "persons", "Knowing workers in compounds who are not held (all countries)."),
    "working_KH": (STOCK, "persons", "Knowing workers in compounds in Cambodia."),
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
    "embassy_cases": (FLOW, "cases/day", "New cases at KBRI Phnom Penh (Cambodia)."),
    "embassy_cases_scam": (FLOW, "cases/day", "New KBRI Phnom Penh cases from online-scam compounds (rest: online gambling)."),
    "embassy_cases_tppo": (FLOW, "cases/day", "New KBRI Phnom Penh cases indicated as trafficking (TPPO) victims."),
    "embassy_cases_region": (FLOW, "cases/day", "New cases at the Indonesian embassies of all modelled destinations (Cambodia, Myanmar, Laos)."),
    "embassy_cases_scam_region": (FLOW, "cases/day", "New online-scam-compound cases at all modelled embassies."),
    "tppo_victims_identified": (FLOW, "cases/day", "New cases at all modelled embassies indicated as trafficking (TPPO) victims."),
    "wni_in_cambodia": (STOCK, "persons", "Indonesians of the pipeline in Cambodia: in compounds, escaped, rescued, released, detained or in the embassy shelter."),
    "entries_cambodia": (FLOW, "entries/day", "All Indonesian entries into Cambodia: migrants' arrivals, visa-run re-entries and other visitors."),
    "entries_cambodia_migrants": (FLOW, "entries/day", "Migrants' crossings into Cambodia on their itinerary."),
    "entries_visa_runs": (FLOW, "entries/day", "Re-entries of knowing workers after a visa run."),
    "entries_background": (FLOW, "entries/day", "Other Indonesian visitors (tourists, business) outside the pipeline."),
    "recruiters_active": (STOCK, "recruiters", "Active recruiters."),
    "recruiters_lying_low": (STOCK, "recruiters", "Active recruiters lying low after an arrest nearby."),
    "recruiters_arrested": (FLOW, "recruiters/day", "Recruiters arrested."),
    "recruiters_arrested_abroad": (FLOW, "recruiters/day", "Recruiters based abroad arrested (extradition, joint investigation)."),
    "recruiters_entered": (FLOW, "recruiters/day", "New recruiters entering the market."),
    "recruiters_quit": (FLOW, "recruiters/day", "Recruiters quitting for lack of demand."),
    "platform_switches": (FLOW, "recruiters/day", "Recruiters moving to another platform under takedowns."),
    "compounds_active": (STOCK, "compounds", "Open compounds (all countries)."),
    "compounds_active_KH": (STOCK, "compounds", "Open compounds in Cambodia."),
    "compounds_opened": (FLOW, "compounds/day", "New compounds opening (not relocations)."),
    "compounds_raided": (FLOW, "compounds/day", "Raids on compounds."),
    "compounds_closed": (FLOW, "compounds/day", "Raided compounds that closed."),
    "compounds_relocated": (FLOW, "compounds/day", "Closed compounds re-opening elsewhere."),
    "compounds_relocated_abroad": (FLOW, "compounds/day", "Relocations into another country (displacement)."),
    "capacity_KH": (STOCK, "places", "Places for Indonesian workers in open compounds in Cambodia."),
    "intervention_cost_usd": (MONEY, "USD/day", "Cost of all interventions delivered today."),
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

    def __init__(self, n_days: int, columns: dict[str, tuple[str, str, str]]):
        self.columns = columns
        self.day = 0
        self.data = {
            name: np.zeros(n_days, dtype=np.float64 if kind == MONEY else np.int64)
            for name, (kind, _, _) in columns.items()
        }

    def add(self, name: str, n) -> None:
        """Add ``n`` events to today's flow ``name``."""
        self.data[name][self.day] += n

    def set(self, name: str, value) -> None:
        """Set today's stock ``name``."""
        self.data[name][self.day] = value

    def cases(self, country: int, n: int, scam: int, tppo: int) -> None:
        """Record new embassy cases in destination ``country`` (slot in COUNTRIES)."""
        self.add("embassy_cases_region", n)
        self.add("embassy_cases_scam_region", scam)
        self.add("tppo_victims_identified", tppo)
        if COUNTRIES[country] == "KH":
            self.add("embassy_cases", n)
            self.add("embassy_cases_scam", scam)
            self.add("embassy_cases_tppo", tppo)

    def frame(self, dates: pd.DatetimeIndex) -> pd.DataFrame:
        """The daily table: one row per day, ``date`` first."""
        df = pd.DataFrame(self.data)
        df.insert(0, "date", dates)
        return df
