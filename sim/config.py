"""Structured configuration: dataclasses backing the Hydra configs, and their validation.

The dataclasses here are the schema of ``configs/``: Hydra merges the YAML files and the
command-line overrides onto them, so a misspelt key or a wrong type fails at composition
time. :func:`validate` then checks every declared range (probabilities in [0, 1], non-negative
rates and capacities, date order, known countries and interventions) and raises one
:class:`ConfigError` naming the offending key and its allowed values before any work starts.

Units are given per field (see :mod:`sim.params`); time is in days, money in USD.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .draws import MAX_LEGS
from .params import (
    DAILY_RATE,
    DAYS,
    MAX_CONCENTRATION,
    MAX_DAYS,
    MULTIPLIER,
    POSITIVE_DAYS,
    PROBABILITY,
    SMALLEST_POSITIVE,
    iter_params,
    param,
)

COUNTRY_CODE = re.compile(r"[A-Z]{2}")
"""Country codes (ISO 3166 alpha-2) key the per-country parameter tables; the destination
countries themselves come from the world's locations (:attr:`sim.world.World.destination_countries`)."""

PLATFORMS = ("facebook", "instagram", "tiktok", "telegram", "job_site")
"""Online channels through which recruiters post job offers."""


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key and the allowed values."""


# Upper bounds of counts, sizes and money (see also sim.params: days, rates, multipliers).
MIN_REACH = 0.01
"""Fewest responders one recruiter reaches per day on average (one every hundred days); the
entry of recruiters divides unmet demand by it."""
MAX_REACH = 1000.0
"""Most responders one recruiter reaches per day (a full-time chat operator)."""
MAX_COMPOUND_PLACES = 100000.0
"""Most worker places in one compound (the largest reported compounds hold some ten thousand people)."""
MAX_MARKET_PLACES = 1e7
"""Most places for Indonesian workers in one country's compound sector (Indonesia has about 9 million migrant workers in all)."""
MAX_PEOPLE_PER_DAY = 1e6
"""Most people per day through one capacity or flow (repatriations, deportations, entries)."""
MAX_PEOPLE = 1e9
"""Most people in any count (cases, workers)."""
MAX_RANSOM_USD = 1e7
"""Largest median ransom per person (USD)."""


# --------------------------------------------------------------------------------------------
# Parameter groups
# --------------------------------------------------------------------------------------------


@dataclass
class PopulationParams:
    """Attributes of job-seekers who answer an online job offer (drawn once per person)."""

    male_share: float = param(0.7, "probability", "Share of responders who are men (descriptive attribute, reported in people.parquet).", bounds=PROBABILITY, plausible=(0.5, 0.85), source="assumed (press reports describe most victims as young men; no count published)")
    age_min: float = param(18.0, "years", "Youngest responder age (uniform age distribution).", bounds=(15, 70), plausible=(17, 21))
    age_max: float = param(45.0, "years", "Oldest responder age (uniform age distribution).", bounds=(15, 90), plausible=(35, 55))
    tertiary_share: float = param(0.2, "probability", "Share of responders with tertiary education; fake 'IT/customer-service' offers target them.", bounds=PROBABILITY, plausible=(0.1, 0.4))
    digital_exposure_mean: float = param(0.6, "index 0-1", "Mean digital exposure (Beta distribution); raises the chance that a held person or their family reports to the embassy, and that a knowing worker brings a case.", bounds=PROBABILITY, plausible=(0.4, 0.8))
    awareness_mean: float = param(0.3, "index 0-1", "Mean awareness of online-scam recruitment (Beta distribution); lowers acceptance of deceptive offers.", bounds=PROBABILITY, plausible=(0.1, 0.5))
    pressure_mean: float = param(0.6, "index 0-1", "Mean financial pressure (Beta distribution); raises acceptance of any offer.", bounds=PROBABILITY, plausible=(0.4, 0.8))
    attribute_concentration: float = param(4.0, "dimensionless", "Concentration a+b of the Beta distributions of the 0-1 attributes (higher = less spread).", bounds=(SMALLEST_POSITIVE, MAX_CONCENTRATION), plausible=(2, 10))


@dataclass
class RecruitmentParams:
    """Online recruitment: recruiters, reach, conversion and the trend to knowing migration."""

    initial_recruiters: int = param(200, "recruiters", "Recruiters active on the start date.", bounds=(0, 100000), plausible=(100, 500))
    platform_shares: dict[str, float] = param({"facebook": 0.35, "instagram": 0.15, "tiktok": 0.15, "telegram": 0.2, "job_site": 0.15}, "probability", "Share of recruiters using each platform (no public source gives channel shares).", bounds=PROBABILITY, source="assumed (data README: no source gives channel shares)")
    abroad_share: float = param(0.4, "probability", "Share of recruiters based abroad, outside Indonesian police jurisdiction.", bounds=PROBABILITY, plausible=(0.2, 0.6))
    reach_mean: float = param(1.2, "responders/day", "Mean responders a recruiter reaches per day when its compounds need workers.", bounds=(MIN_REACH, MAX_REACH), plausible=(0.3, 5), source="assumed (recruiters' reach exceeds demand in the baseline, so flows follow compound vacancies)")
    reach_log_sd: float = param(0.75, "log units", "Log-normal spread of recruiter reach across recruiters.", bounds=(0, 5), plausible=(0.3, 1.2))
    home_bias: float = param(0.6, "probability", "Share of a domestic recruiter's contacts made in its home province.", bounds=PROBABILITY, plausible=(0.3, 0.9))
    compounds_per_recruiter: int = param(2, "compounds", "Compounds a recruiter supplies (its links).", bounds=(1, 100), plausible=(1, 5))
    fill_days: float = param(30.0, "days", "Days within which recruiters aim to fill a vacancy; sets how strongly demand drives reach (at least a day: the model's step).", bounds=(1, MAX_DAYS), plausible=(14, 90))
    deliberation_days: float = param(7.0, "days", "Mean time from first contact to the decision (grooming).", bounds=POSITIVE_DAYS, plausible=(2, 21))
    preparation_days: float = param(14.0, "days", "Mean time from acceptance to departure (tickets, documents).", bounds=POSITIVE_DAYS, plausible=(5, 45))
    passport_days: float = param(10.0, "days", "Mean extra days for those who must first apply for a passport.", bounds=DAYS, plausible=(5, 30))
    wait_log_sd: float = param(0.5, "log units", "Log-normal spread of the waiting times above.", bounds=(0, 3), plausible=(0.2, 1.0))
    passport_needed_share: float = param(0.6, "probability", "Share of recruits without a passport who must apply for one (exposed to passport screening).", bounds=PROBABILITY, plausible=(0.3, 0.9))
    accept_logit_deceptive: float = param(0.3, "logit", "Baseline log-odds of accepting a deceptive (fake-job) offer.", bounds=(-20, 20), plausible=(-2, 2), source="assumed")
    accept_logit_disclosed: float = param(0.0, "logit", "Baseline log-odds of accepting a disclosed scam/gambling job offer.", bounds=(-20, 20), plausible=(-2, 2), source="assumed")
    beta_pressure: float = param(2.0, "logit per unit", "Effect of financial pressure on acceptance (centred at 0.5).", bounds=(-20, 20), plausible=(0.5, 4))
    beta_awareness: float = param(2.5, "logit per unit", "Effect of awareness on acceptance of deceptive offers (centred at 0.5).", bounds=(-20, 20), plausible=(0.5, 4))
    beta_tertiary: float = param(0.3, "logit", "Extra log-odds that a tertiary-educated responder accepts a deceptive 'IT job' offer.", bounds=(-20, 20), plausible=(-0.5, 1.0))
    disclosed_share_start: float = param(0.985, "probability", "Share of offers that disclose the scam/gambling work, early 2020 ('normalisation' trend start).", bounds=PROBABILITY, plausible=(0.8, 0.99), source="tuned (TPPO share 2020-2023)")
    disclosed_share_end: float = param(0.997, "probability", "Share of disclosed offers once normalisation has run its course.", bounds=PROBABILITY, plausible=(0.95, 0.999), source="tuned (TPPO share to Nov 2024)")
    disclosed_share_midpoint: str = param("2023-07-01", "date", "Midpoint of the logistic normalisation trend.", bounds=(0, 0), source="assumed")
    disclosed_share_width_days: float = param(180.0, "days", "Time scale of the logistic normalisation trend.", bounds=POSITIVE_DAYS, plausible=(60, 720), source="assumed")
    entry_speed: float = param(0.02, "1/day", "Rate at which unmet recruiting demand draws new recruiters in (market entry, per recruiter-equivalent of unmet demand).", bounds=DAILY_RATE, plausible=(0.005, 0.1))
    idle_exit_rate: float = param(0.005, "1/day", "Rate at which a recruiter with no demand for workers quits.", bounds=DAILY_RATE, plausible=(0.001, 0.02))
    lie_low_prob: float = param(0.3, "probability", "Chance that each recruiter of the same platform and province lies low after an arrest.", bounds=PROBABILITY, plausible=(0.1, 0.6))
    lie_low_days: float = param(30.0, "days", "How long a recruiter lies low.", bounds=DAYS, plausible=(7, 90))
    platform_switch_rate: float = param(0.05, "1/day", "Rate at which a recruiter leaves a platform whose ads are taken down, per unit takedown level.", bounds=DAILY_RATE, plausible=(0.01, 0.2))


@dataclass
class TravelParams:
    """Route choice, travel and checkpoint exposure."""

    beta_cost: float = param(0.01, "1/USD", "Route-choice disutility of cost.", bounds=(0, 1), plausible=(0.002, 0.03))
    beta_days: float = param(0.3, "1/day", "Route-choice disutility of travel time.", bounds=(0, 100), plausible=(0.05, 1.0))
    beta_risk: float = param(40.0, "1/probability", "Route-choice disutility of the interception risk recruiters perceive along a route.", bounds=(0, 10000), plausible=(5, 100))
    risk_learning_rate: float = param(0.05, "1/day", "Weight of today's interception rate in recruiters' perceived risk at a checkpoint (exponential smoothing).", bounds=PROBABILITY, plausible=(0.01, 0.2))
    return_days: float = param(2.0, "days", "Mean time for an intercepted person to return home.", bounds=POSITIVE_DAYS, plausible=(1, 7))
    visibility_voluntary: float = param(0.6, "multiplier", "Detection multiplier at checkpoints for someone who knows what they are going to (coached), relative to a deceived first-timer.", bounds=MULTIPLIER, plausible=(0.3, 1.0))
    visibility_repeat: float = param(0.4, "multiplier", "Detection multiplier for a repeat migrant, relative to a deceived first-timer.", bounds=MULTIPLIER, plausible=(0.2, 1.0))


@dataclass
class CompoundParams:
    """Scam and gambling compounds: size, growth, violence, ransom, resale and raid responses."""

    initial_count: dict[str, float] = param({"KH": 20, "MM": 4, "LA": 3}, "compounds", "Compounds employing Indonesians at the start date, by country.", bounds=(0, 10000), other_countries=0.0, source="assumed (Amnesty 2025 counts 53 compounds in Cambodia, targets.csv compounds_kh_2025)")
    capacity_mean: float = param(300.0, "workers", "Mean number of Indonesian worker places in a compound (log-normal).", bounds=(SMALLEST_POSITIVE, MAX_COMPOUND_PLACES), plausible=(100, 2000), source="tuned (KBRI cases 2020, WNI stock)")
    capacity_log_sd: float = param(0.6, "log units", "Log-normal spread of compound capacity.", bounds=(0, 5), plausible=(0.3, 1.0))
    initial_fill: float = param(0.9, "probability", "Share of places filled on the start date.", bounds=PROBABILITY, plausible=(0.3, 0.9), source="tuned (KBRI cases 2020)")
    initial_deceived_share: float = param(0.005, "probability", "Share of the initial workforce that was deceived (held from arrival).", bounds=PROBABILITY, plausible=(0.001, 0.05), source="tuned (KBRI cases 2020)")
    scam_share_initial: float = param(0.3, "probability", "Share of initial compounds in online scams (rest: online gambling).", bounds=PROBABILITY, plausible=(0.2, 0.4), source="KBRI 2020: 15 scam of 56 cases (targets.csv kbri_scam_cases_2020, kbri_cases_2020)")
    scam_share_new: float = param(0.95, "probability", "Share of newly opened compounds in online scams.", bounds=PROBABILITY, plausible=(0.7, 0.95), source="tuned (KBRI scam share 2024)")
    growth_rate: float = param(1.5, "1/year", "Capacity growth rate of a scam compound whose fill is above the threshold, before market saturation.", bounds=(0, 100), plausible=(0.3, 2.5), source="tuned (WNI stock 2023-2024)")
    growth_rate_gambling: float = param(0.8, "1/year", "Capacity growth rate of an online-gambling compound (Cambodia banned new online-gambling licences in 2019; the boom was in scams).", bounds=(0, 100), plausible=(0.0, 1.0), source="tuned (KBRI scam share 2024)")
    market_capacity: dict[str, float] = param({"KH": 180000.0, "MM": 15000.0, "LA": 10000.0}, "places", "Places for Indonesian workers a country's compound sector saturates at: growth and openings scale with (1 - capacity / market_capacity).", bounds=(SMALLEST_POSITIVE, MAX_MARKET_PLACES), other_countries=10000.0, source="tuned (KH: WNI stock 2024; MM, LA: ministry cumulative cases)")
    growth_fill_threshold: float = param(0.5, "probability", "Fill above which a compound expands.", bounds=PROBABILITY, plausible=(0.3, 0.9))
    opening_rate: dict[str, float] = param({"KH": 8.0, "MM": 2.0, "LA": 1.5}, "compounds/year", "Rate at which new compounds employing Indonesians open in an unsaturated market, by country.", bounds=(0, 3650), other_countries=0.0, source="assumed")
    violence_mean: float = param(0.5, "index 0-1", "Mean violence of a compound (Beta); lowers escape, raises exploitation of knowing workers.", bounds=PROBABILITY, plausible=(0.3, 0.7))
    violence_concentration: float = param(4.0, "dimensionless", "Concentration a+b of the Beta distribution of compound violence (higher = compounds more alike).", bounds=(SMALLEST_POSITIVE, MAX_CONCENTRATION), plausible=(2, 10))
    ransom_median_usd: float = param(2800.0, "USD", "Median ransom asked to leave a compound (log-normal).", bounds=(SMALLEST_POSITIVE, MAX_RANSOM_USD), plausible=(1000, 20000), source="IJM Cambodia US$2,800 (targets.csv ransom_cambodia)")
    ransom_log_sd: float = param(0.8, "log units", "Log-normal spread of ransom across compounds.", bounds=(0, 5), plausible=(0.4, 1.2), source="assumed (targets.csv ransom_cambodia range 1,000-20,000)")
    exploit_rate: float = param(0.00003, "1/day", "Hazard that a knowing worker becomes held (debt bondage, confiscated passport) at violence 0.5.", bounds=DAILY_RATE, plausible=(0.00001, 0.0002))
    contract_end_rate: float = param(0.0017, "1/day", "Hazard that a knowing (not held) worker leaves and goes home.", bounds=DAILY_RATE, plausible=(0.001, 0.006), source="tuned (WNI stock vs entries)")
    escape_rate: float = param(0.002, "1/day", "Hazard of escape for a held person at violence 0.5.", bounds=DAILY_RATE, plausible=(0.0005, 0.01))
    ransom_rate: float = param(0.0015, "1/day", "Hazard that a family pays the median ransom (scaled by median/ransom).", bounds=DAILY_RATE, plausible=(0.0003, 0.005))
    resale_rate: float = param(0.001, "1/day", "Hazard that a held person is sold to another compound.", bounds=DAILY_RATE, plausible=(0.0002, 0.004))
    resale_abroad_share: float = param(0.15, "probability", "Share of resales that cross into another destination country.", bounds=PROBABILITY, plausible=(0.05, 0.4))
    visa_run_rate: dict[str, float] = param({"KH": 0.001}, "1/day", "Hazard that a knowing worker makes a visa run (an exit and a re-entry into the country, counted as an entry), by country.", bounds=DAILY_RATE, plausible=(0.0, 0.004), other_countries=0.0, source="tuned (entries vs stock: entries include visa runs)")
    close_prob: float = param(0.33, "probability", "Chance a raided compound closes (otherwise it shrinks).", bounds=PROBABILITY, plausible=(0.2, 0.6), source="Amnesty 2025: more than 2/3 kept operating after raids (targets.csv compounds_kh_2025)")
    relocate_prob: float = param(0.6, "probability", "Chance a closed compound re-opens elsewhere with its remaining workers.", bounds=PROBABILITY, plausible=(0.3, 0.9))
    relocate_abroad_share: float = param(0.2, "probability", "Share of relocations that move to another country (displacement).", bounds=PROBABILITY, plausible=(0.05, 0.5))
    shrink_fraction: float = param(0.3, "fraction", "Capacity lost by a raided compound that stays open.", bounds=PROBABILITY, plausible=(0.1, 0.6))


@dataclass
class IndonesianPoliceParams:
    """Polri: arrests of recruiters within Indonesian jurisdiction."""

    arrest_rate: float = param(0.0006, "1/day", "Hazard that a recruiter based in Indonesia is arrested.", bounds=DAILY_RATE, plausible=(0.0001, 0.003), source="assumed (order of 126 TPPO police cases in 2020, targets.csv id_police_tppo_cases_2020)")
    abroad_arrest_rate: float = param(0.0, "1/day", "Hazard that a recruiter based abroad is arrested (0 without extradition / mutual legal assistance).", bounds=DAILY_RATE, plausible=(0.0, 0.001), source="events.csv: no Indonesia-Cambodia extradition treaty")


@dataclass
class ImmigrationParams:
    """Indonesian immigration (departure screening) and transit-state exit checks."""

    exit_detect: float = param(0.005, "probability", "Baseline chance that departure screening at an Indonesian hub stops a would-be victim (deceived first-timer).", bounds=PROBABILITY, plausible=(0.0, 0.05))
    transit_exit_detect: float = param(0.003, "probability", "Baseline chance that a transit state's exit check on the way to a destination stops a would-be victim.", bounds=PROBABILITY, plausible=(0.0, 0.03))
    entry_detect: float = param(0.003, "probability", "Baseline chance that destination entry immigration refuses a would-be victim.", bounds=PROBABILITY, plausible=(0.0, 0.03))
    exit_false_positive: float = param(0.00005, "probability", "Baseline chance that the exit check at a hub stops a legitimate traveller (counted as a false-positive stop).", bounds=PROBABILITY, plausible=(0.0, 0.001))
    passport_postpone: float = param(0.0, "probability", "Baseline chance a passport application by a would-be victim is postponed.", bounds=PROBABILITY, plausible=(0.0, 0.1))


@dataclass
class EmbassyParams:
    """Indonesian embassies (KBRI) in destination countries: case intake, shelter, repatriation."""

    family_report_rate: float = param(0.002, "1/day", "Hazard that a held person (or their family) reports to the embassy, at mean digital exposure.", bounds=DAILY_RATE, plausible=(0.0005, 0.01))
    worker_case_rate: float = param(0.000045, "1/day", "Hazard that a knowing worker brings a case (wages, documents, wanting out) and asks to go home, at full awareness.", bounds=DAILY_RATE, plausible=(0.00001, 0.0003), source="tuned (KBRI cases 2020 and 2024, TPPO share)")
    awareness_initial: float = param(0.06, "probability", "Knowing workers' awareness A of embassy help at the start: their case hazard is worker_case_rate times A, with A = 1 - (1 - initial)exp(-C/K) growing with the embassy cases C handled so far (word of mouth).", bounds=PROBABILITY, plausible=(0.05, 1.0), source="tuned (growth of KBRI cases 2020-2024, TPPO shares)")
    awareness_cases: float = param(6000.0, "cases", "Scale K of word of mouth: cases handled (all modelled embassies) until 63% of the awareness gap is closed.", bounds=(SMALLEST_POSITIVE, MAX_PEOPLE), plausible=(500, 20000), source="tuned (growth of KBRI cases 2020-2024)")
    case_prob_escaped: float = param(0.8, "probability", "Chance an escaped person goes to the embassy (a case) rather than home on their own.", bounds=PROBABILITY, plausible=(0.5, 1.0))
    case_prob_released: float = param(0.5, "probability", "Chance a released person goes to the embassy.", bounds=PROBABILITY, plausible=(0.2, 0.9))
    case_prob_deported: float = param(0.3, "probability", "Chance a deportee's documents go through the embassy (a case).", bounds=PROBABILITY, plausible=(0.2, 1.0))
    handover_days: float = param(3.0, "days", "Mean time from escape, rescue or release to reaching the embassy or going home.", bounds=POSITIVE_DAYS, plausible=(1, 10))
    processing_days: float = param(90.0, "days", "Mean shelter time before repatriation.", bounds=POSITIVE_DAYS, plausible=(30, 150), source="Little's law on Jan-Sep 2022: 166 in shelter / 442 repatriated in 9 months (targets.csv cambodia_cases_2022_jan_sep)")
    repatriation_capacity: float = param(40.0, "persons/day", "Most repatriations an embassy can arrange per day.", bounds=(0, MAX_PEOPLE_PER_DAY), plausible=(10, 100))
    tppo_prob_deceived: float = param(0.75, "probability", "Chance a deceived person's case is indicated as trafficking (TPPO).", bounds=PROBABILITY, plausible=(0.5, 0.95), source="tuned (TPPO shares)")
    tppo_prob_held: float = param(0.3, "probability", "Chance a knowing migrant who became held is indicated as trafficking.", bounds=PROBABILITY, plausible=(0.1, 0.6), source="tuned (TPPO shares)")
    tppo_prob_worker: float = param(0.02, "probability", "Chance a knowing worker's case (not held) is indicated as trafficking.", bounds=PROBABILITY, plausible=(0.0, 0.1))


@dataclass
class DestinationPoliceParams:
    """Police of the destination countries (Cambodia, Myanmar, Laos): raids, rescue, deportation."""

    raid_rate: dict[str, float] = param({"KH": 0.00005, "MM": 0.00005, "LA": 0.00005}, "1/day", "Hazard that a compound is raided, by country.", bounds=DAILY_RATE, other_countries=0.00005, source="tuned (KBRI cases 2020; baseline raids are rare outside crackdowns)")
    leak_prob: dict[str, float] = param({"KH": 0.5, "MM": 0.7, "LA": 0.7}, "probability", "Chance a raid is leaked in advance (corruption) and finds almost no one, by country.", bounds=PROBABILITY, other_countries=0.7, source="assumed (Cambodia Tier 3 in the US TIP report 2022-2025, events.csv)")
    find_prob: float = param(0.6, "probability", "Share of the workforce found by a raid that is not leaked.", bounds=PROBABILITY, plausible=(0.3, 0.9))
    leaked_find_prob: float = param(0.05, "probability", "Share of the workforce found by a leaked raid.", bounds=PROBABILITY, plausible=(0.0, 0.2))
    identify_prob: float = param(0.4, "probability", "Chance a held person found in a raid is identified as a victim (rescued) rather than detained as an offender.", bounds=PROBABILITY, plausible=(0.1, 0.8))
    identify_prob_worker: float = param(0.05, "probability", "Chance a knowing worker found in a raid is treated as a victim.", bounds=PROBABILITY, plausible=(0.0, 0.2))
    targeted_rescue_rate: float = param(0.01, "1/day", "Hazard that police locate and rescue a held person once the embassy has their case.", bounds=DAILY_RATE, plausible=(0.002, 0.05))
    deport_days: float = param(30.0, "days", "Mean immigration-detention time before deportation.", bounds=POSITIVE_DAYS, plausible=(7, 90))
    deport_capacity: float = param(200.0, "persons/day", "Most deportations of Indonesians a country carries out per day.", bounds=(0, MAX_PEOPLE_PER_DAY), plausible=(20, 500))


@dataclass
class MigrationParams:
    """Return and repeat migration, and flows outside the trafficking pipeline."""

    remigration_rate: float = param(0.0015, "1/day", "Hazard that a returnee who went knowingly sets out again (when compounds need workers).", bounds=DAILY_RATE, plausible=(0.0, 0.005), source="assumed (data README: no source gives a repeat-migration rate)")
    remigration_victim_factor: float = param(0.3, "multiplier", "Re-migration hazard of someone who was held, relative to a knowing returnee.", bounds=MULTIPLIER, plausible=(0.0, 1.0))
    remigration_intercepted_factor: float = param(1.0, "multiplier", "Re-migration hazard of someone intercepted before arrival, relative to a knowing returnee.", bounds=MULTIPLIER, plausible=(0.2, 2.0))
    background_entries_per_day: dict[str, float] = param({"KH": 25.0}, "entries/day", "Indonesian entries into a destination country outside the pipeline (tourists, business) in normal times, by country.", bounds=(0, MAX_PEOPLE_PER_DAY), plausible=(0, 100), other_countries=0.0, source="assumed (no source splits Indonesian arrivals by purpose)")


@dataclass
class ModelParams:
    """All model parameters, grouped by submodel."""

    population: PopulationParams = field(default_factory=PopulationParams)
    recruitment: RecruitmentParams = field(default_factory=RecruitmentParams)
    travel: TravelParams = field(default_factory=TravelParams)
    compounds: CompoundParams = field(default_factory=CompoundParams)
    indonesian_police: IndonesianPoliceParams = field(default_factory=IndonesianPoliceParams)
    immigration: ImmigrationParams = field(default_factory=ImmigrationParams)
    embassy: EmbassyParams = field(default_factory=EmbassyParams)
    destination_police: DestinationPoliceParams = field(default_factory=DestinationPoliceParams)
    migration: MigrationParams = field(default_factory=MigrationParams)


@dataclass
class WorldConfig:
    """Where the world's CSV files are. Relative paths are looked up in ``data_dir``."""

    name: str = "sea_2020"
    data_dir: str = ""
    """Folder of the CSV files; empty means the package's ``sim/data/world``."""
    locations: str = "locations.csv"
    routes: str = "routes.csv"
    closures: str = "closures.csv"
    countries: str = "countries.csv"
    """Names of the world's countries (``country, name``); optional: codes stand for names without it."""
    max_legs: int = 6
    """Longest itinerary (in legs) considered when enumerating routes (at most 64, the legs the random-number layout leaves room for)."""


@dataclass
class ScenarioMeta:
    """Name and description of the scenario; its interventions live under ``interventions``."""

    name: str = "baseline"
    description: str = ""
    reference_country: str = "KH"
    """The destination country whose embassy caseload a comparison reports and outside which
    arrivals count as displacement (a destination country of the world)."""


EXECUTORS = ("serial", "processes", "dask")


@dataclass
class ExecutorConfig:
    """Where the tasks of an ensemble run (``configs/executor/``)."""

    name: str = "processes"
    """serial, processes (local worker processes) or dask (a Dask cluster)."""
    address: str | None = None
    """dask only: address of a running scheduler (e.g. tcp://10.0.0.1:8786); None starts a LocalCluster."""
    timeout_s: float = 60.0
    """dask only: seconds to wait for the scheduler at ``address`` to answer, and then for its first worker."""


SWEEP_DESIGNS = ("lhs", "sobol", "halton")


@dataclass
class SweepConfig:
    """Space-filling design of ``tipsim sweep`` over declared parameter ranges (scipy.stats.qmc)."""

    design: str = "lhs"
    """lhs (Latin hypercube), sobol (scrambled Sobol'; n a power of 2) or halton."""
    n: int = 16
    """Design points; each runs the whole comparison (scenarios x replicates)."""
    params: list[str] = field(default_factory=list)
    """Parameters to vary over their declared plausible range: ``params.<group>.<name>`` or
    ``interventions.<key>.<field>``; empty = every scalar model parameter (``params.*``)."""


@dataclass
class TipsimConfig:
    """The top-level configuration of one run (``configs/config.yaml``)."""

    seed: int = 20200101
    replicate: int = 0
    start_date: str = "2020-01-01"
    end_date: str = "2025-12-31"
    out_dir: str = "results/${scenario.name}/${now:%Y-%m-%d_%H-%M-%S}"
    write_people: bool = False
    """Also write ``people.parquet``: one row per person ever created (attributes, final state)."""
    replicates: int = 20
    """Replicates (seeds) per scenario for ``tipsim targets`` and ``tipsim compare``; replicate r of every scenario shares its random streams."""
    scenarios: list[str] = field(default_factory=lambda: ["baseline"])
    """Scenarios run by ``tipsim compare`` (names of files in configs/scenario)."""
    workers: int | None = None
    """Worker processes for ensembles (default: the number of CPUs)."""
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    compare_start: str = "2024-01-01"
    """First day of the window over which ``tipsim compare`` sums outcomes (to end_date); the scenarios' interventions start 2024-01-01."""
    sweep: SweepConfig = field(default_factory=SweepConfig)
    """Design of ``tipsim sweep``."""
    world: WorldConfig = field(default_factory=WorldConfig)
    params: ModelParams = field(default_factory=ModelParams)
    scenario: ScenarioMeta = field(default_factory=ScenarioMeta)
    interventions: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""The one date format of configurations (YYYY-MM-DD)."""


def parse_date(value: str, key: str) -> dt.date:
    """Parse an ISO date (YYYY-MM-DD), or raise a ConfigError naming ``key``."""
    if isinstance(value, dt.date):
        return value
    try:
        if not ISO_DATE.fullmatch(str(value)):  # fromisoformat also takes 2020-W13-2, 20200324, ...
            raise ValueError
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key} = {value!r}: not a date; use YYYY-MM-DD") from None


def check_number(key: str, value: Any, bounds: tuple[float, float], unit: str) -> None:
    """Raise a ConfigError naming ``key`` unless ``value`` is a finite number within ``bounds``."""
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} = {value!r}: must be a number ({unit})")
    if not math.isfinite(value) or value < lo or value > hi:
        low = "> 0" if lo == SMALLEST_POSITIVE else f">= {lo:g}"
        if math.isfinite(hi):
            allowed = f"{low} and <= {hi:g}" if lo == SMALLEST_POSITIVE else f"within [{lo:g}, {hi:g}]"
        else:
            allowed = low
        raise ConfigError(f"{key} = {value!r}: must be {allowed} ({unit})")


def validate_params(params: ModelParams) -> None:
    """Check every declared parameter against its bounds; raise ConfigError on the first bad one."""
    for name, value, meta in iter_params(params):
        if meta["unit"] == "date":
            parse_date(value, f"params.{name}")
            continue
        if isinstance(value, dict):
            if "other_countries" in meta:  # a per-country table: keys are country codes
                for k in value:
                    if not COUNTRY_CODE.fullmatch(str(k)):
                        raise ConfigError(f"params.{name}.{k}: not a country code; use ISO 3166 alpha-2 codes such as KH")
            else:
                for k in value:
                    if k not in PLATFORMS:
                        raise ConfigError(f"params.{name}.{k}: unknown key; allowed: {', '.join(PLATFORMS)}")
                missing = [k for k in PLATFORMS if k not in value]
                if missing:
                    raise ConfigError(f"params.{name}: missing {', '.join(missing)}; needs all of {', '.join(PLATFORMS)}")
            for k, v in value.items():
                check_number(f"params.{name}.{k}", v, meta["bounds"], meta["unit"])
            continue
        check_number(f"params.{name}", value, meta["bounds"], meta["unit"])
    shares = params.recruitment.platform_shares
    if sum(shares.values()) <= 0:
        raise ConfigError("params.recruitment.platform_shares: must not all be zero")
    if sum(params.compounds.initial_count.values()) < 1:  # recruiters link to compounds from day 0
        raise ConfigError("params.compounds.initial_count: needs at least one compound on the start date (recruiters link to compounds from day 0)")
    pop = params.population
    if pop.age_max < pop.age_min:
        raise ConfigError(f"params.population.age_max = {pop.age_max}: must be >= age_min ({pop.age_min})")


def _check_int(key: str, value: Any, lo: int, hi: str | int | None = None, note: str = "") -> None:
    """A whole number >= lo and, when ``hi`` is given, <= hi (an int) or < 2**k (``hi`` = '2^k')."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} = {value!r}: must be a whole number")
    if isinstance(hi, str):
        top, allowed = 2 ** int(hi.split("^")[1]) - 1, f"within [{lo}, {hi})"
    elif hi is not None:
        top, allowed = hi, f">= {lo} and <= {hi}{note}"
    else:
        top, allowed = None, f">= {lo}{note}"
    if value < lo or (top is not None and value > top):
        raise ConfigError(f"{key} = {value}: must be {allowed}")


MAX_REPLICATES = 10000
"""Most replicates per scenario (a confidence interval's width falls as 1/sqrt(replicates): 10,000 is 1% of one replicate's spread)."""
MAX_WORKERS = 1024
"""Most worker processes of an ensemble."""
MAX_SWEEP_POINTS = 10000
"""Most design points of a sweep (each runs the whole comparison)."""


def validate(cfg: TipsimConfig) -> list:
    """Validate a whole run configuration (dates, parameters, interventions); returns the built interventions."""
    _check_int("seed", cfg.seed, 0, "2^63")
    _check_int("replicate", cfg.replicate, 0, "2^31")
    _check_int("replicates", cfg.replicates, 1, MAX_REPLICATES)
    if cfg.workers is not None:
        _check_int("workers", cfg.workers, 1, MAX_WORKERS, note=" (or null for the number of CPUs)")
    start = parse_date(cfg.start_date, "start_date")
    end = parse_date(cfg.end_date, "end_date")
    if end < start:
        raise ConfigError(f"end_date = {cfg.end_date}: must not be before start_date ({cfg.start_date})")
    if (end - start).days + 1 > 2**20:
        raise ConfigError(f"end_date = {cfg.end_date}: horizon longer than {2**20} days")
    if cfg.executor.name not in EXECUTORS:
        raise ConfigError(f"executor.name = {cfg.executor.name!r}: unknown executor; allowed: {', '.join(EXECUTORS)}")
    if not 0 < cfg.executor.timeout_s <= 86400:
        raise ConfigError(f"executor.timeout_s = {cfg.executor.timeout_s}: must be within (0, 86400] seconds")
    parse_date(cfg.compare_start, "compare_start")
    if cfg.sweep.design not in SWEEP_DESIGNS:
        raise ConfigError(f"sweep.design = {cfg.sweep.design!r}: unknown design; allowed: {', '.join(SWEEP_DESIGNS)}")
    _check_int("sweep.n", cfg.sweep.n, 1, MAX_SWEEP_POINTS)
    if not 1 <= cfg.world.max_legs <= MAX_LEGS:
        raise ConfigError(f"world.max_legs = {cfg.world.max_legs}: must be within [1, {MAX_LEGS}] (legs per itinerary the random-number layout holds)")
    validate_params(cfg.params)
    from .interventions import build_interventions  # late import: interventions need config

    return build_interventions(cfg.interventions, start, end)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def to_config(cfg: DictConfig | TipsimConfig | dict) -> TipsimConfig:
    """Turn a composed Hydra/OmegaConf config (or a plain dict) into a validated TipsimConfig.

    Unknown keys and wrong types are reported with the key's full name.
    """
    if isinstance(cfg, TipsimConfig):
        obj = cfg
    else:
        from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

        try:
            schema = OmegaConf.structured(TipsimConfig)
            # a plain container, so that keys added with '+' are checked against the schema too
            plain = OmegaConf.to_container(cfg, resolve=False) if isinstance(cfg, DictConfig) else dict(cfg)
            plain.pop("hydra", None)
            obj = OmegaConf.to_object(OmegaConf.merge(schema, plain))
        except OmegaConfBaseException as exc:
            key = getattr(exc, "full_key", None) or ""
            msg = str(exc).splitlines()[0]
            allowed = schema_keys(key) if isinstance(exc, (ConfigKeyError, ConfigAttributeError)) and key else None
            if allowed:
                raise ConfigError(f"{key}: unknown key; allowed: {', '.join(allowed)}") from None
            raise ConfigError(f"{key}: {msg}" if key else msg) from None
    validate(obj)
    return obj


def schema_keys(full_key: str) -> list[str] | None:
    """The keys the schema allows beside the last component of ``full_key`` (None inside free-form mappings)."""
    node = TipsimConfig
    for part in full_key.split(".")[:-1]:
        fields = {f.name: f for f in dataclasses.fields(node)}
        factory = fields[part].default_factory if part in fields else dataclasses.MISSING
        if factory is dataclasses.MISSING or not dataclasses.is_dataclass(factory):
            return None
        node = factory
    return [f.name for f in dataclasses.fields(node)]


def to_yaml(cfg: TipsimConfig) -> str:
    """The fully resolved configuration as YAML text."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg), resolve=True)


# --------------------------------------------------------------------------------------------
# Memory: refuse a run that cannot fit, before it starts
# --------------------------------------------------------------------------------------------


BASE_BYTES = 2**28
"""Memory of the simulator itself in one process (Python, numpy, numba, pandas, the world): 0.25 GiB."""
BYTES_PER_PERSON = 230
"""Memory per person ever created: the people table's 25 columns (66 bytes), the pools' row
and exit-target entries, and the slack of arrays that grow by doubling."""
BYTES_PER_TASK = 2000
"""Memory per ensemble task in the main process (its configuration view and its manifest entry)."""
BYTES_PER_REPLICATE_DAY = 160
"""Memory per replicate and day of the comparison tables (two scenarios' outcome columns at once)."""


def _horizon_days(cfg: TipsimConfig) -> int:
    return (parse_date(cfg.end_date, "end_date") - parse_date(cfg.start_date, "start_date")).days + 1


def _ratio(value: float, default: float) -> float:
    return value / default if default > 0 else (math.inf if value > 0 else 1.0)


def run_memory_terms(cfg: TipsimConfig) -> list[tuple[float, str, str]]:
    """Rough estimate of one run's memory, as ``(bytes, key, what)`` terms.

    * the initial population: ``sum(initial_count) x capacity_mean x initial_fill`` people;
    * the people created over the horizon: compounds at their largest size (per country the
      larger of ``market_capacity`` and the initial capacity) lose every worker at least at
      the smaller of the hazards of leaving of knowing workers (``contract_end_rate``) and of
      held people (``escape_rate + ransom_rate``), and each leaver is replaced by a recruit,
      who is at least one new person (a contact).

    An estimate, not a bound, meant to catch clear impossibilities only (it leaves out the
    contacts who decline, raids and interventions): for the default configuration it is
    0.77 million people (about 0.17 GiB) where a run creates about 0.66 million. Countries
    named by no table (``other_countries`` defaults) are not counted.
    Each term names the key that drives it most (the largest ratio to its default).
    """
    c, dc = cfg.params.compounds, CompoundParams()
    days, default_days = _horizon_days(cfg), _horizon_days(TipsimConfig())
    initial_people = sum(c.initial_count.values()) * c.capacity_mean * c.initial_fill
    drivers = {
        "params.compounds.initial_count": (sum(c.initial_count.values()), sum(dc.initial_count.values())),
        "params.compounds.capacity_mean": (c.capacity_mean, dc.capacity_mean),
        "params.compounds.initial_fill": (c.initial_fill, dc.initial_fill),
    }
    initial_key = max(drivers, key=lambda k: _ratio(*drivers[k]))
    market_default = {f.name: f for f in dataclasses.fields(CompoundParams)}["market_capacity"].metadata["other_countries"]

    def largest_capacity(cp: CompoundParams) -> tuple[float, float]:
        """Sum over named countries of the larger of market and initial capacity; and the initial part of it."""
        market, initial = 0.0, 0.0
        for k in set(cp.initial_count) | set(cp.market_capacity):
            m, i = cp.market_capacity.get(k, market_default), cp.initial_count.get(k, 0.0) * cp.capacity_mean
            market, initial = (market + m, initial) if m >= i else (market, initial + i)
        return market + initial, initial

    largest, initial_part = largest_capacity(c)
    leaving = min(c.contract_end_rate, c.escape_rate + c.ransom_rate)
    created = largest * leaving * days
    drivers = {
        "end_date": (days, default_days),
        initial_key if initial_part > largest / 2 else "params.compounds.market_capacity": (largest, largest_capacity(dc)[0]),
    }
    if c.contract_end_rate <= c.escape_rate + c.ransom_rate:
        drivers["params.compounds.contract_end_rate"] = (c.contract_end_rate, dc.contract_end_rate)
    else:
        drivers["params.compounds.escape_rate"] = (c.escape_rate, dc.escape_rate)
        drivers["params.compounds.ransom_rate"] = (c.ransom_rate, dc.ransom_rate)
    created_key = max(drivers, key=lambda k: _ratio(*drivers[k]))
    return [
        (initial_people * BYTES_PER_PERSON, initial_key,
         f"the initial population (initial_count x capacity_mean x initial_fill = {initial_people:.3g} people)"),
        (created * BYTES_PER_PERSON, created_key,
         f"the people created over {days} days (largest capacity {largest:.3g} x leaving hazards "
         f"{leaving:.3g}/day x days = {created:.3g} people)"),
    ]


def machine_memory() -> int:
    """Physical memory of this machine, in bytes."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def parallel_runs(cfg: TipsimConfig, tasks: int) -> int:
    """Runs of an ensemble held in this machine's memory at once: 1 serially, none on a remote
    Dask scheduler, else one per worker process (``workers``, default the CPU count)."""
    if cfg.executor.name == "serial":
        return 1
    if cfg.executor.name == "dask" and cfg.executor.address:
        return 0
    return max(1, min(cfg.workers or os.cpu_count() or 1, tasks))


def check_memory(cfg: TipsimConfig, runs_at_once: int = 1, tasks: int = 0, available: int | None = None) -> None:
    """Refuse, with one ConfigError naming the key that drives it, a run (or an ensemble of
    ``tasks`` tasks, ``runs_at_once`` of them in parallel) whose estimated memory
    (:func:`run_memory_terms`) exceeds the machine's physical memory (``available`` bytes)."""
    available = machine_memory() if available is None else available
    terms = [(b * runs_at_once, key, what) for b, key, what in run_memory_terms(cfg)]
    terms.append((BASE_BYTES * max(runs_at_once, 1), "end_date", "the simulator itself"))
    if tasks:
        days = _horizon_days(cfg)
        terms.append((tasks * BYTES_PER_TASK + cfg.replicates * days * BYTES_PER_REPLICATE_DAY, "replicates",
                      f"the ensemble's {tasks} tasks and its tables ({cfg.replicates} replicates x {days} days)"))
    total = sum(b for b, _, _ in terms)
    if total <= available:
        return
    size, key, what = max(terms)
    value = _dotted(cfg, key)
    parallel = f", {runs_at_once} runs at once" if runs_at_once > 1 and key != "replicates" else ""
    raise ConfigError(
        f"{key} = {value!r}: needs an estimated {total / 2**30:.3g} GiB of memory, mostly for {what}{parallel}; "
        f"this machine has {available / 2**30:.3g} GiB"
    )


def _dotted(obj: Any, key: str) -> Any:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj
