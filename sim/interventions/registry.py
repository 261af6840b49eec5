"""The registry of intervention classes, by name."""

from __future__ import annotations

REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make an intervention available under ``cls.name``."""
    REGISTRY[cls.name] = cls
    return cls
