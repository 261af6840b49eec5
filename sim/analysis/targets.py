"""Public figures the baseline must reproduce, and how each maps onto model outputs.

``sim/data/targets.csv`` is a copy of the sourced figures (with their sources and reliability
grades). :data:`TARGETS` says, for the figures the baseline is checked against, which model
quantity corresponds to each and within what tolerance it must lie (docs/calibration.md):

* KBRI Phnom Penh cases are reports, not victims: the model counts new embassy cases in
  Cambodia (``embassy_cases_KH``), which it generates through an explicit reporting process.
* The Foreign Ministry's cumulative online-scam cases count all countries, including some a
  world may not cover. The model's cumulative cases at its embassies are compared with the
  ministry figure times the share of the world's destination countries in the ministry's
  breakdown of 31 Mar 2024 (``kemlu_cum_2024_03``): 68.9% for Cambodia, Myanmar and Laos
  (1,914 + 332 + 305 of 3,703). "Online-scam cases" include online
  gambling (Kemenko Polhukam's 2023 breakdown: 544 gambling + 842 scam).
* WNI in Cambodia is calibrated to stay-permit holders (~73,700 late 2023; >131,000 in 2024),
  not to the seed paper's 166,000, which is most likely entries in a year (data README).
* Entries count every crossing into Cambodia: migrants' arrivals, visa-run re-entries and
  other Indonesian visitors.
* Soekarno-Hatta stops are the people stopped at its departure immigration: would-be
  migrants intercepted there plus legitimate travellers stopped (false positives).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from ..config import ConfigError

KEMLU_CASES_BY_COUNTRY_2024_03 = {"KH": 1914, "PH": 680, "TH": 364, "MM": 332, "LA": 305, "MY": 68, "VN": 36}
KEMLU_CASES_TOTAL_2024_03 = 3703
"""The ministry's breakdown of its 3,703 cumulative cases by country, 31 Mar 2024 (targets.csv
``kemlu_cum_2024_03``, note column)."""


def modelled_share_of_kemlu_cases(daily: pd.DataFrame) -> float:
    """Share of the ministry's cases in the destination countries of the run's world (those with
    ``embassy_cases_<country>`` columns): 0.689 for Cambodia, Myanmar and Laos."""
    covered = [c for c in KEMLU_CASES_BY_COUNTRY_2024_03 if f"embassy_cases_{c}" in daily.columns]
    return sum(KEMLU_CASES_BY_COUNTRY_2024_03[c] for c in covered) / KEMLU_CASES_TOTAL_2024_03


MODELLED_SHARE = "modelled share"
"""Marks a target whose observed value is scaled by :func:`modelled_share_of_kemlu_cases` of the run's world."""


def load_targets() -> pd.DataFrame:
    """The sourced public figures shipped with the package (``sim/data/targets.csv``)."""
    with resources.files("sim").joinpath("data/targets.csv").open() as f:
        return pd.read_csv(f)


@dataclass(frozen=True)
class Target:
    """One public figure and the model quantity it is compared with.

    ``kind`` is ``sum`` (flows summed over the period), ``end`` (a stock on ``end``) or
    ``share`` (sum of ``column`` over sum of ``denominator`` in the period). ``tolerance`` is
    ``("factor", 2)`` for within x2, ``("relative", 0.35)`` for within +-35%, or
    ``("absolute", 0.1)`` for within +-0.1.
    """

    id: str
    column: str
    kind: str
    start: str
    end: str
    tolerance: tuple[str, float]
    denominator: str | None = None
    scale: float | str = 1.0  # observed value is multiplied by this (or by the world's MODELLED_SHARE) before comparing
    note: str = ""

    def model_value(self, daily: pd.DataFrame) -> float:
        """The model's value for this target from one run's daily table."""
        dates = daily["date"]
        first, last = dates.iloc[0], dates.iloc[-1]
        lo, hi = pd.Timestamp(self.start), pd.Timestamp(self.end)
        if lo < first or hi > last:
            raise ConfigError(
                f"target {self.id}: period {self.start}..{self.end} lies outside the run horizon "
                f"{first.date()}..{last.date()}; set start_date/end_date to cover it"
            )
        period = (dates >= lo) & (dates <= hi)
        if self.kind == "end":
            return float(daily.loc[dates == hi, self.column].iloc[0])
        total = float(daily.loc[period, self.column].sum())
        if self.kind == "share":
            denom = float(daily.loc[period, self.denominator].sum())
            return total / denom if denom > 0 else float("nan")
        return total

    def scale_for(self, daily: pd.DataFrame) -> float:
        """The factor on the observed value, for a run with this daily table."""
        return modelled_share_of_kemlu_cases(daily) if self.scale == MODELLED_SHARE else float(self.scale)

    def bounds(self, observed: float, scale: float = 1.0) -> tuple[float, float]:
        """Lowest and highest model value counted as within tolerance (of ``observed x scale``)."""
        kind, x = self.tolerance
        v = observed * scale
        if kind == "factor":
            return v / x, v * x
        if kind == "relative":
            return v * (1 - x), v * (1 + x)
        return v - x, v + x


TARGETS: tuple[Target, ...] = (
    Target("kbri_cases_2020", "embassy_cases_KH", "sum", "2020-01-01", "2020-12-31", ("factor", 2)),
    Target("kbri_cases_2024", "embassy_cases_KH", "sum", "2024-01-01", "2024-12-31", ("factor", 2)),
    Target("kbri_scam_share_2024", "embassy_cases_scam_KH", "share", "2024-01-01", "2024-12-31", ("absolute", 0.1),
           denominator="embassy_cases_KH"),
    Target("wni_permits_2023", "wni_in_KH", "end", "2023-12-31", "2023-12-31", ("relative", 0.35)),
    Target("wni_permits_2024", "wni_in_KH", "end", "2024-12-31", "2024-12-31", ("relative", 0.35)),
    Target("wni_entries_2024_jan_sep", "entries_KH", "sum", "2024-01-01", "2024-09-30", ("relative", 0.35)),
    Target("kemlu_cum_2023_12", "embassy_cases_region", "sum", "2020-01-01", "2023-12-31", ("factor", 2),
           scale=MODELLED_SHARE, note="observed x the modelled countries' share (0.689 for KH, MM, LA)"),
    Target("kemlu_cum_2024_11", "embassy_cases_region", "sum", "2020-01-01", "2024-11-30", ("factor", 2),
           scale=MODELLED_SHARE, note="observed x the modelled countries' share (0.689 for KH, MM, LA)"),
    Target("tppo_share_2020_2023", "tppo_victims_identified", "share", "2020-01-01", "2023-12-31", ("absolute", 0.1),
           denominator="embassy_cases_region"),
    Target("tppo_share_2020_2024_11", "tppo_victims_identified", "share", "2020-01-01", "2024-11-30", ("absolute", 0.1),
           denominator="embassy_cases_region"),
    Target("soetta_stops_2024", "stops_hub_cgk", "sum", "2024-01-01", "2024-09-15", ("factor", 2)),
    Target("id_tourists_kh_2021", "entries_KH", "sum", "2021-01-01", "2021-12-31", ("factor", 2),
           note="Covid collapse of travel"),
    Target("id_tourists_kh_2022", "entries_KH", "sum", "2022-01-01", "2022-12-31", ("factor", 2),
           note="reopening"),
)


def target_table(dailies: list[pd.DataFrame], targets=TARGETS) -> pd.DataFrame:
    """Observed value, model median and 5-95% range over runs, and whether within tolerance."""
    observed = load_targets().set_index("id")["value"]
    rows = []
    for t in targets:
        if t.column not in dailies[0] or (t.denominator and t.denominator not in dailies[0]):
            continue  # a figure about a country this world does not have
        values = np.array([t.model_value(d) for d in dailies])
        obs = float(observed[t.id])
        scale = t.scale_for(dailies[0])
        lo, hi = t.bounds(obs, scale)
        med = float(np.nanmedian(values))
        rows.append({
            "target": t.id,
            "observed": obs,
            "compared_with": obs * scale,
            "model_median": med,
            "model_p5": float(np.nanpercentile(values, 5)),
            "model_p95": float(np.nanpercentile(values, 95)),
            "tolerance": {"factor": "x{:g}", "relative": "+-{:.0%}", "absolute": "+-{:g}"}[t.tolerance[0]].format(t.tolerance[1]),
            "within": bool(lo <= med <= hi),
        })
    return pd.DataFrame(rows)
