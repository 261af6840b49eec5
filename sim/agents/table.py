"""Array-backed attributes for Mesa agents.

Recruiters and compounds are ``mesa.Agent`` objects (they live in the model's AgentSets and
their behaviours are their methods), but their numeric attributes live in columns of an
:class:`AgentTable`, indexed by the agent's ``slot`` (creation order, never reused). The daily
rules read and write whole columns at once; an agent reads and writes its own row through
:class:`column` descriptors, so both views always agree.
"""

from __future__ import annotations

import numpy as np


def column_views(cls: type, names) -> None:
    """Give ``cls`` one read-only property per column name: ``obj.<name>`` is
    ``obj.cols[name][: obj.n]`` (a view of the rows in use)."""
    for name in names:
        if hasattr(cls, name):
            raise TypeError(f"{cls.__name__}.{name}: a column would hide an attribute of the same name")
        setattr(cls, name, property(lambda self, name=name: self.cols[name][: self.n], doc=f"column {name!r} (a view)"))


class AgentTable:
    """Columns of one agent class, one row per agent ever created (slot = row).

    Subclasses name their schema in the class statement (``class T(AgentTable, schema=S)``),
    which gives them a property per column (see :func:`column_views`).
    """

    schema: dict[str, np.dtype] = {}

    def __init_subclass__(cls, schema: dict[str, np.dtype] | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if schema is not None:
            cls.schema = schema
            column_views(cls, schema)

    def __init__(self, capacity: int = 256):
        self.n = 0
        self.cols = {name: np.zeros(capacity, dtype=dt) for name, dt in self.schema.items()}

    def append(self, **values) -> int:
        """Add one row with the given values (others zero); return its slot."""
        if self.n == len(self.cols[next(iter(self.cols))]):
            for name, arr in self.cols.items():
                grown = np.zeros(2 * len(arr), dtype=arr.dtype)
                grown[: self.n] = arr
                self.cols[name] = grown
        slot = self.n
        for name, v in values.items():
            self.cols[name][slot] = v
        self.n += 1
        return slot


class column:
    """Descriptor exposing ``model.<table>.cols[name][agent.slot]`` as an agent attribute."""

    def __init__(self, table: str):
        self.table = table

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(agent.model, self.table).cols[self.name][agent.slot].item()

    def __set__(self, agent, value):
        getattr(agent.model, self.table).cols[self.name][agent.slot] = value
