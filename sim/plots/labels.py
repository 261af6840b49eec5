"""Names and units of what the figures show: scenarios, outcomes, daily columns, swept levers.

A *series* (:class:`Series`) is what a time-axis figure plots: a daily output column
(``docs/outputs.md``), a headline outcome of the comparison (a sum of columns,
:data:`sim.analysis.compare.OUTCOMES`), or ``a+b`` (a sum of columns), optionally
accumulated from the start of the horizon.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pandas as pd

from ..analysis.compare import COST_PER_VICTIM, OUTCOMES
from ..config import ConfigError
from ..outputs import COLUMNS, FLOW, MONEY, PER_COUNTRY, STOCK

OUTCOME_LABELS = {
    "victims": "Victims",
    "person_days_exploited": "Person-days exploited",
    "embassy_cases": "Embassy cases (reference country)",
    "rescued": "Rescued",
    "repatriated": "Repatriated",
    "recruiters_arrested": "Recruiters arrested",
    "false_positive_stops": "Legitimate travellers stopped",
    "displacement": "Arrivals outside the reference country",
    "cost_usd": "Intervention cost",
    COST_PER_VICTIM: "Cost per victim averted",
}
"""Display names of the comparison outcomes."""

COLUMN_LABELS = {
    "contacts": "Contacted",
    "recruited": "Recruited",
    "in_transit": "In transit",
    "exploited": "Held in compounds",
    "new_victims": "New victims",
    "embassy_cases": "Embassy cases (reference country)",
    "embassy_cases_region": "Embassy cases (all destinations)",
    "displacement": "Arrivals outside the reference country",
    "stops_hub_cgk": "Stops at Soekarno-Hatta",
    "repatriated": "Repatriated",
    "rescued": "Rescued",
    "escaped": "Escaped",
}

COUNTRY_COLUMN_LABELS = {
    "arrivals_compound_{c}": "Arrivals in {name}",
    "exploited_{c}": "Held in compounds in {name}",
    "working_{c}": "Knowing workers in {name}",
    "embassy_cases_{c}": "Embassy cases in {name}",
    "embassy_cases_scam_{c}": "Scam-compound embassy cases in {name}",
    "embassy_cases_tppo_{c}": "TPPO embassy cases in {name}",
    "wni_in_{c}": "Indonesians in {name}",
    "entries_{c}": "Indonesian entries into {name}",
    "entries_migrants_{c}": "Migrants' entries into {name}",
    "entries_visa_runs_{c}": "Visa-run re-entries into {name}",
    "entries_background_{c}": "Other Indonesian visitors to {name}",
    "compounds_active_{c}": "Open compounds in {name}",
    "capacity_{c}": "Compound places in {name}",
}
"""Labels of the per-country columns (:data:`sim.outputs.PER_COUNTRY`), for any country code."""

@functools.cache
def country_names() -> dict[str, str]:
    """Country names of the shipped world's ``countries.csv`` (figures are drawn from saved results,
    without a world at hand); an unknown code is shown as itself."""
    from ..world import PACKAGE_WORLD_DIR

    table = pd.read_csv(PACKAGE_WORLD_DIR / "countries.csv", dtype=str, keep_default_na=False)
    return dict(zip(table["country"].str.strip(), table["name"].str.strip()))


def _country_column(column: str) -> tuple[str, str] | None:
    """``(pattern, country code)`` if ``column`` is a per-country column (``exploited_PH``), else None."""
    for pattern in PER_COUNTRY:
        prefix = pattern[: -len("{c}")]
        if column.startswith(prefix) and re.fullmatch(r"[A-Z]{2}", column[len(prefix):]):
            return pattern, column[len(prefix):]
    return None


def scenario_label(name: str) -> str:
    """``departure_screening`` -> ``departure screening``."""
    return name.replace("_", " ")


def outcome_label(name: str) -> str:
    """Display name of a comparison outcome."""
    return OUTCOME_LABELS.get(name, name.replace("_", " ").capitalize())


def outcome_unit(name: str) -> str:
    """Unit of a comparison outcome (``persons``, ``USD``, ``USD/victim``, ...)."""
    if name == COST_PER_VICTIM:
        return "USD/victim"
    return OUTCOMES[name].unit


def column_info(column: str) -> tuple[str, str]:
    """``(kind, unit per day)`` of a daily output column, e.g. ``("flow", "persons/day")``."""
    if column in COLUMNS:
        kind, unit, _ = COLUMNS[column]
        return kind, unit
    per_country = _country_column(column)
    if per_country is not None:
        kind, unit, _ = PER_COUNTRY[per_country[0]]
        return kind, unit
    if column.startswith(("departures_via_", "stops_")):
        return FLOW, "persons/day"
    if column.startswith("cost_"):
        return MONEY, "USD/day"
    raise ConfigError(f"{column!r}: not a daily output column (docs/outputs.md) nor a comparison outcome "
                      f"({', '.join(OUTCOMES)})")


def column_label(column: str) -> str:
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    per_country = _country_column(column)
    if per_country is not None:
        pattern, code = per_country
        return COUNTRY_COLUMN_LABELS[pattern].format(name=country_names().get(code, code))
    if column in OUTCOMES:
        return outcome_label(column)
    return column.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Series:
    """A quantity over time: the sum of daily ``columns``, optionally accumulated from the horizon start."""

    name: str
    columns: tuple[str, ...]
    kind: str
    """``flow`` (summed per period), ``stock`` (value at the end of each period) or ``money`` (summed)."""
    base_unit: str
    """Unit of one event (``persons``, ``cases``, ``USD``); flows are shown per period."""
    label: str
    cumulative: bool = False

    @property
    def key(self) -> str:
        """Unique name of the series (file names, CSV): ``name`` or ``name_cumulative``."""
        return f"{self.name}_cumulative" if self.cumulative else self.name

    def unit(self, period: str) -> str:
        """Axis unit: ``persons/month`` for flows, ``persons`` for stocks and cumulative sums."""
        if self.kind == STOCK or self.cumulative:
            return self.base_unit
        return f"{self.base_unit}/{period}"

    def axis_label(self, period: str, unit: str | None = None, wrap: int = 34) -> str:
        """``label (unit)``, on two lines when longer than ``wrap`` characters; ``unit`` replaces the default."""
        what = f"{self.label}, cumulative" if self.cumulative else self.label
        unit = unit or self.unit(period)
        sep = "\n" if len(what) + len(unit) + 3 > wrap else " "
        return f"{what}{sep}({unit})"


def series(name: str, cumulative: bool = False, label: str | None = None) -> Series:
    """The :class:`Series` called ``name``: a comparison outcome, a daily column, or ``col_a+col_b``."""
    if isinstance(name, Series):
        return name
    if name in OUTCOMES:
        o = OUTCOMES[name]
        kind = MONEY if o.unit.startswith("USD") else FLOW
        return Series(name, tuple(o.columns), kind, o.unit, label or outcome_label(name), cumulative)
    columns = tuple(c.strip() for c in name.split("+"))
    kinds, units = zip(*(column_info(c) for c in columns))
    if len(set(kinds)) > 1 or len(set(units)) > 1:
        raise ConfigError(f"series {name!r}: columns of different kinds or units cannot be added ({', '.join(units)})")
    kind = kinds[0]
    if cumulative and kind == STOCK:
        raise ConfigError(f"series {name!r}: a stock cannot be accumulated over time")
    base = re.sub(r"/day$", "", units[0])
    text = label or " + ".join(column_label(c) for c in columns)
    return Series(name, columns, kind, base, text, cumulative)


def lever_label(key: str) -> str:
    """Axis label of a swept setting, with its unit: ``interventions.departure_screening.intensity``
    -> ``departure screening: intensity (0-1)``."""
    unit = lever_unit(key)
    parts = key.split(".")
    if parts[0] == "interventions" and len(parts) >= 3:
        text = f"{scenario_label(parts[1])}: {'.'.join(parts[2:]).replace('_', ' ')}"
    elif parts[0] == "params" and len(parts) >= 3:
        text = f"{parts[-2].replace('_', ' ')}: {parts[-1].replace('_', ' ')}"
    else:
        text = key.replace("_", " ")
    return f"{text} ({unit})" if unit else text


def lever_unit(key: str) -> str:
    """Declared unit of a model parameter or intervention field (empty if unknown)."""
    from ..params import iter_params

    parts = key.split(".")
    try:
        if parts[0] == "params":
            from ..config import ModelParams

            for name, _, meta in iter_params(ModelParams()):
                if name == ".".join(parts[1:]):
                    return meta["unit"]
        elif parts[0] == "interventions" and len(parts) >= 3:
            from ..interventions import REGISTRY, Delivery

            cls = REGISTRY.get(parts[1])
            params = cls.Params() if cls is not None else Delivery()
            for name, _, meta in iter_params(params):
                if name == ".".join(parts[2:]):
                    return meta["unit"]
    except Exception:  # pragma: no cover - a label must never stop a figure
        return ""
    return ""
