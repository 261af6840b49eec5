"""Policy interventions: registered classes, built from the ``interventions`` config section.

Every module of this package other than the framework (``base``, ``registry``) defines one
intervention and is imported here, so a new intervention is one new file with a
``@register``-ed class (``docs/extending.md``).

Each entry of ``interventions`` is keyed by an instance name; its ``type`` (default: the key)
names a registered intervention. See :mod:`sim.interventions.base` for the framework and
``docs/interventions.md`` for each intervention's mechanism, parameters and sources.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import importlib
import pkgutil

from ..config import ConfigError

FRAMEWORK = ("base", "registry")
"""Modules of this package that are the framework; every other module is one intervention."""

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in FRAMEWORK:
        importlib.import_module(f"{__name__}.{_module}")  # registers its class (@register)

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
