"""Declaring model parameters: one place for unit, plausible range and source.

Every numeric model parameter is a dataclass field made with :func:`param`, which stores its
unit, documentation, the range accepted at validation, the plausible range reported in the
ODD parameter table, and its source (a citation, ``"assumed"`` or ``"tuned"``). The
validator (:mod:`sim.config`) and the parameter-table generator (:mod:`sim.docs`) both read
this metadata, so code, checks and documentation cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

PROBABILITY = (0.0, 1.0)
SMALLEST_POSITIVE = 1e-12
"""Lower bound of a parameter that must be > 0 (reported as "> 0")."""

# Every parameter has a finite upper bound: generous (far above any plausible value) but
# physical, so that an extreme value is refused at load time instead of overflowing a count.
MAX_DAYS = 3650.0
"""Longest duration, time scale or delay: ten years (longer than any horizon studied)."""
MAX_RATE = 1.0
"""Highest hazard (1/day): an event a day on average; the model steps in days."""
MAX_MULTIPLIER = 100.0
"""Highest relative change or multiplier (100 times the baseline)."""
MAX_USD = 1e12
"""Highest amount of money (USD): a trillion."""
MAX_CONCENTRATION = 1000.0
"""Highest concentration a+b of a Beta distribution (spread below 0.016 at mean 0.5)."""

DAILY_RATE = (0.0, MAX_RATE)
DAYS = (0.0, MAX_DAYS)
POSITIVE_DAYS = (SMALLEST_POSITIVE, MAX_DAYS)
MULTIPLIER = (0.0, MAX_MULTIPLIER)
USD = (0.0, MAX_USD)


def param(
    default: Any,
    unit: str,
    doc: str,
    *,
    bounds: tuple[float, float],
    plausible: tuple[float, float] | None = None,
    source: str = "assumed",
    other_countries: float | None = None,
) -> Any:
    """A model parameter with its metadata.

    Args:
        default: default value (scalar, or a dict/list of scalars sharing unit and bounds).
        unit: physical unit, e.g. ``"1/day"``, ``"USD"``, ``"probability"``.
        doc: one-sentence meaning, including the mechanism that uses it.
        bounds: values outside ``[lo, hi]`` are rejected at load time; both finite (a
            per-country or per-platform table shares the bounds of its parameter).
        plausible: the range a sensitivity analysis should cover (defaults to ``bounds``).
        source: public source, or ``"assumed"`` / ``"tuned (...)"`` when none exists.
        other_countries: for a per-country table (a dict keyed by destination country), the
            value of every destination country of the world that the table does not name.
    """
    meta = {
        "unit": unit,
        "doc": doc,
        "bounds": bounds,
        "plausible": plausible if plausible is not None else bounds,
        "source": source,
    }
    if other_countries is not None:
        meta["other_countries"] = other_countries
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def per_country(group: Any, name: str, countries: tuple[str, ...]) -> "np.ndarray":
    """The per-country table ``group.<name>`` as an array over ``countries`` (the world's
    destination countries, in order); a country the table omits takes the parameter's
    declared ``other_countries`` value."""
    import numpy as np

    table = getattr(group, name)
    default = {f.name: f for f in dataclasses.fields(group)}[name].metadata["other_countries"]
    return np.array([float(table.get(c, default)) for c in countries], dtype=float)


def iter_params(obj: Any, prefix: str = ""):
    """Yield ``(dotted_name, value, metadata)`` for every declared parameter under ``obj``."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from iter_params(value, name + ".")
        elif "unit" in f.metadata:
            yield name, value, f.metadata
