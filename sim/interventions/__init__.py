"""Policy interventions: registered classes, built from the ``interventions`` config section.

Each entry of ``interventions`` is keyed by an instance name; its ``type`` (default: the key)
names a registered intervention. See :mod:`sim.interventions.base` for the framework and
``docs/interventions.md`` for each intervention's mechanism, parameters and sources.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..config import ConfigError
from . import (  # noqa: F401  (imports register the classes)
    asean_coordination,
    awareness_campaign,
    departure_screening,
    destination_crackdown,
    domestic_enforcement,
    extradition,
    immigration_attache,
    intelligence_sharing,
    joint_investigation,
    joint_training,
    passport_screening,
    platform_takedown,
    safe_migration_channel,
    visa_screening,
)
from .base import Delivery, Intervention, parse_params
from .registry import REGISTRY

__all__ = ["REGISTRY", "Delivery", "Intervention", "build_interventions"]


def build_interventions(spec: dict[str, Any] | None, start: dt.date, end: dt.date) -> list[Intervention]:
    """Build the interventions of a run from the ``interventions`` config section.

    Raises a ConfigError naming the key for an unknown type (listing the known ones), an
    unknown or mistyped field, a value out of range, or a bad date.
    """
    n_days = (end - start).days + 1
    out = []
    for key, entry in (spec or {}).items():
        if entry is None:  # removed by an override (interventions.X=null)
            continue
        if not isinstance(entry, dict) and not hasattr(entry, "items"):
            raise ConfigError(f"interventions.{key} = {entry!r}: must be a mapping of intervention fields")
        entry = dict(entry)
        kind = entry.get("type") or key
        if kind not in REGISTRY:
            raise ConfigError(
                f"interventions.{key}.type = {kind!r}: unknown intervention; known: {', '.join(sorted(REGISTRY))}"
            )
        cls = REGISTRY[kind]
        entry["type"] = kind
        params = parse_params(cls, key, entry)
        out.append(cls(key, params, start, n_days))
    return out
