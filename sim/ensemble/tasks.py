"""Ensemble tasks: one task = one replicate of one scenario, run where an executor puts it.

Replicate r of every scenario runs with ``seed`` (the experiment seed) and ``replicate=r``;
the engine derives all its random streams from ``SeedSequence(seed, spawn_key=(r,))`` and
counter-based draws keyed by what creates each person (:mod:`sim.rng`), so task
(scenario, r) and (baseline, r) share their random numbers: the comparison is paired.

A task is self-contained (it carries its resolved configuration and the folder its parts go to),
so a worker needs neither Hydra nor the caller's state: it runs the simulation, writes its
two parts (daily table and route flows, :mod:`sim.ensemble.store`) atomically and returns a
small report.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..analysis.compare import source_columns
from ..config import TipsimConfig, parse_date
from ..run import peak_memory_mb, simulate
from .store import DAILY, ROUTES, part_path, write_part

NOT_RESULT_FIELDS = ("replicate", "replicates", "scenarios", "workers", "executor", "out_dir", "write_people",
                     "compare_start", "sweep")
"""Top-level config fields that do not change a task's daily table (left out of its fingerprint)."""

KEY_COLUMNS = ("scenario", "replicate", "seed")
"""Key columns of every part's rows (with ``date`` in the daily table): scenario and replicate come from the
part's path (the dataset's partitioning), ``seed`` is the part's first column."""


def expected_columns(table: str) -> dict[str, str]:
    """Columns every part of ``table`` must have, with the kind of their Arrow type (checked on resume)."""
    if table == DAILY:
        return {"seed": "int", "date": "timestamp", **{c: "number" for c in source_columns()}}
    return {"seed": "int", "year": "int", "from": "string", "to": "string", "mode": "string", "travellers": "number"}


def fingerprint(cfg: TipsimConfig) -> str:
    """Short hash of everything in ``cfg`` that determines a task's daily table, except the replicate."""
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_RESULT_FIELDS}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _source_digest() -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".csv") and "__pycache__" not in path.parts and "plots" not in path.relative_to(root).parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_CODE_VERSION = _source_digest()  # taken when this process imported the simulator


def code_version() -> str:
    """Hash of the simulator's source and data files (``sim/**/*.py``, ``*.csv``, except the plotting
    code ``sim/plots/``, which does not change results) as this process imported them.

    Part of every part's identity: parts made by other code are never mixed into an ensemble,
    and a worker running other code than the process that planned the ensemble refuses to
    run (e.g. a cluster node with another installed version, or files edited mid-run).
    """
    return _CODE_VERSION


def horizon_days(cfg: TipsimConfig) -> int:
    """Days in the run horizon (rows of a part)."""
    return (parse_date(cfg.end_date, "end_date") - parse_date(cfg.start_date, "start_date")).days + 1


@dataclass(frozen=True)
class Task:
    """One (scenario, replicate) run and where its part goes."""

    scenario: str
    replicate: int
    cfg: TipsimConfig
    """The scenario's resolved configuration with ``replicate`` set."""
    out_dir: Path
    """Absolute path of the ensemble folder the task writes into."""
    fingerprint: str
    """:func:`fingerprint` of ``cfg``."""
    code: str
    """:func:`code_version` of the caller that planned the task."""

    @property
    def label(self) -> str:
        return f"{self.scenario}/r{self.replicate}"

    @property
    def identity(self) -> dict:
        """What the part's metadata must say for it to count as this task's result."""
        return {"scenario": self.scenario, "replicate": self.replicate, "seed": self.cfg.seed,
                "fingerprint": self.fingerprint, "code": self.code}

    @property
    def rows(self) -> int:
        """Rows of the task's daily part (days of the horizon)."""
        return horizon_days(self.cfg)

    def path(self, table: str = DAILY) -> Path:
        """Where the task's part of ``table`` (:data:`~sim.ensemble.store.DAILY` or ``ROUTES``) goes."""
        return part_path(self.out_dir, table, self.scenario, self.replicate)


def run_task(task: Task) -> dict:
    """Simulate one task, write its parts; report wall time (s), host, pid, peak memory (MiB), part digests.

    Memory is released before returning (the run's objects are dropped and collected), so a
    worker process that runs many tasks stays at the footprint of one.
    """
    if code_version() != task.code:
        raise RuntimeError(f"this worker ({socket.gethostname()}) runs other tipsim code ({code_version()}) "
                           f"than the ensemble ({task.code}); install the same version everywhere")
    t0 = time.perf_counter()
    result = simulate(task.cfg, provenance=False)  # its manifest is not kept: no git lookup per task
    digests = {}
    for table, frame, key in ((ROUTES, result.routes, "routes_sha256"), (DAILY, result.daily, "sha256")):
        frame.insert(0, "seed", task.cfg.seed)
        digests[key] = write_part(task.path(table), frame, task.identity, table)
    del result, frame
    gc.collect()
    return {"wall_s": round(time.perf_counter() - t0, 3), "host": socket.gethostname(), "pid": os.getpid(),
            "peak_memory_mb": round(peak_memory_mb(), 1), **digests}
