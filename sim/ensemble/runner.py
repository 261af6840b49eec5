"""Running ensembles: resume what is done, run the rest on an executor, record, build the tables.

A run of one or more ensemble folders (one for ``tipsim compare``, one per design point for
``tipsim sweep``) goes:

1. lock each folder, delete temporary files left by a killed writer, and check every
   expected part (:func:`sim.ensemble.store.check_part`): complete parts are kept (their
   tasks are skipped), truncated or corrupted ones are deleted and re-run, and a part of
   another configuration stops the run with an error;
2. write the resolved scenario configurations and the manifest, then run the missing
   tasks on the executor (all folders' tasks in one pool), recording each task's status,
   timing, host and memory in the manifest as it finishes (rewritten atomically, at most
   every :data:`FLUSH_S` seconds and at the end);
3. when every task of a folder is done, build its combined tables
   (:mod:`sim.ensemble.tables`). A task that fails is recorded with its error; the other
   tasks go on, and running the same command again resumes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from ..config import ConfigError, to_yaml
from ..run import git_commit, package_versions
from . import store
from .executors import make_executor
from .plan import Ensemble
from .progress import Progress, default_mode
from .tables import TABLES, build_tables
from .tasks import Task, code_version, fingerprint, run_task

FLUSH_S = 2.0
"""Longest time (s) between manifest rewrites while tasks finish."""

FORMAT = "tipsim-ensemble/1"

SEED_RULE = ("replicate r of every scenario runs with SeedSequence(seed, spawn_key=(r,)); "
             "streams and per-person draws are derived from it (common random numbers)")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Summary:
    """What one run of an ensemble folder did."""

    out_dir: Path
    total: int
    found_done: int = 0
    ran: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(task label, error) of the tasks that failed in this run."""
    corrupt: list[tuple[str, str]] = field(default_factory=list)
    """(task label, reason) of parts found corrupt and re-run."""
    comparison: pd.DataFrame | None = None
    """The comparison table, when every task is done."""

    @property
    def complete(self) -> bool:
        return self.comparison is not None


class Book:
    """The manifest of one ensemble folder, kept in step with its parts."""

    def __init__(self, ensemble: Ensemble):
        self.ensemble = ensemble
        self.tasks = ensemble.tasks
        self.summary = Summary(ensemble.out_dir, len(self.tasks))
        self.previous = store.read_manifest(ensemble.out_dir) or {}
        old = {t["label"]: t for t in self.previous.get("tasks", [])}
        store.remove_temporaries(ensemble.out_dir)
        self.entries: dict[str, dict] = {}
        for task in self.tasks:
            recorded = old.get(task.label, {})
            sha256 = recorded.get("sha256") if recorded.get("status") == "done" else None
            state, reason = store.check_part(task.path, task.identity, task.rows, sha256)
            if state == "foreign":
                raise ConfigError(f"{task.path}: {reason}; use a new out_dir (or the same settings to resume)")
            entry = {"label": task.label, "scenario": task.scenario, "replicate": task.replicate,
                     "seed": task.cfg.seed, "part": str(task.path.relative_to(ensemble.out_dir)), "status": "pending"}
            if state == "ok":
                entry = {**entry, **recorded, "status": "done", "sha256": sha256 or store.digest(task.path)}
                self.summary.found_done += 1
            elif state == "corrupt":
                task.path.unlink()
                entry["note"] = f"part was corrupt ({reason}); re-run"
                self.summary.corrupt.append((task.label, reason))
            self.entries[task.label] = entry
        self.flushed = 0.0

    @property
    def pending(self) -> list[Task]:
        return [t for t in self.tasks if self.entries[t.label]["status"] != "done"]

    def start(self, executor: dict) -> None:
        """Write the scenario configs and the manifest of a new session."""
        e = self.ensemble
        for name, cfg in e.configs.items():
            store.write_text(e.out_dir / "config" / f"{name}.yaml", to_yaml(cfg))
        self.session = {"started_utc": _now(), "executor": executor, "found_done": self.summary.found_done,
                        "corrupt_rerun": [label for label, _ in self.summary.corrupt]}
        self.t0 = time.perf_counter()
        self.flush(status="running", force=True)

    def record(self, task: Task, report: dict | None, error: BaseException | None) -> None:
        """Note a finished task (its report) or a failed one (its error)."""
        entry = self.entries[task.label]
        entry["finished_utc"] = _now()
        if error is None:
            entry.update(report, status="done")
            entry.pop("error", None)
            self.summary.ran += 1
        else:
            message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            entry.update(status="failed", error=message)
            self.summary.failed.append((task.label, message))
        self.flush(status="running")

    def finish(self) -> None:
        """Build the combined tables if every task is done; write the final manifest."""
        out = self.ensemble.out_dir
        if self.pending:
            for name in TABLES:  # tables of an earlier, different task set would not match the manifest
                (out / name).unlink(missing_ok=True)
            self.flush(status="incomplete", force=True)
            return
        tables = build_tables(self.ensemble)
        for name, frame in tables.items():
            store.write_table(out / name, frame)
        self.summary.comparison = tables["comparison.csv"]
        self.flush(status="complete", force=True)

    def flush(self, status: str, force: bool = False) -> None:
        """Rewrite the manifest (throttled unless ``force``)."""
        if not force and time.monotonic() - self.flushed < FLUSH_S:
            return
        self.flushed = time.monotonic()
        e, cfg = self.ensemble, self.ensemble.cfg
        session = {**self.session, "ran": self.summary.ran, "failed": len(self.summary.failed),
                   "wall_s": round(time.perf_counter() - self.t0, 3)}
        if status != "running":
            session["finished_utc"] = _now()
        sessions = [*self.previous.get("sessions", []), session]
        done = [t for t in self.entries.values() if t["status"] == "done"]
        manifest = {
            "format": FORMAT,
            "status": status,
            "out_dir": str(e.out_dir),
            "reference": e.reference,
            "scenarios": {name: {"fingerprint": fingerprint(c), "config": f"config/{name}.yaml"}
                          for name, c in e.configs.items()},
            "replicates": cfg.replicates,
            "compare_window": [cfg.compare_start, cfg.end_date],
            "seeds": {"seed": cfg.seed, "replicates": list(range(cfg.replicates)), "rule": SEED_RULE},
            "overrides": e.overrides,
            "sweep": e.sweep,
            "config": OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True),
            "code_version": code_version(),
            "git_commit": git_commit(),
            "versions": package_versions(),
            "executor": self.session["executor"],
            "timings": {
                "first_started_utc": sessions[0]["started_utc"],
                "last_updated_utc": _now(),
                "sessions_wall_s": round(sum(s.get("wall_s", 0.0) for s in sessions), 3),
                "task_wall_s_total": round(sum(t.get("wall_s", 0.0) for t in done), 3),
            },
            "counts": {"tasks": len(self.entries), "done": len(done),
                       "failed": sum(t["status"] == "failed" for t in self.entries.values())},
            "sessions": sessions,
            "tasks": list(self.entries.values()),
            "tables": list(TABLES) if status == "complete" else [],
        }
        store.write_json(e.out_dir / store.MANIFEST, manifest)


def run_ensembles(ensembles: list[Ensemble], task_fn: Callable[[Task], dict] = run_task,
                  progress: str | None = None) -> list[Summary]:
    """Run every ensemble's missing tasks on the executor of the first one's configuration.

    Args:
        ensembles: planned folders (:func:`sim.ensemble.plan.plan`), all with the same executor settings.
        task_fn: runs one task and returns its report (:func:`sim.ensemble.tasks.run_task`).
        progress: ``bar``, ``log`` or ``quiet`` (default: a bar on a terminal, log lines otherwise).
    """
    cfg = ensembles[0].cfg
    with ExitStack() as stack:
        for e in ensembles:
            stack.enter_context(store.locked(e.out_dir))
        books = [Book(e) for e in ensembles]
        pending = [(b, t) for b in books for t in b.pending]
        total = sum(b.summary.total for b in books)
        executor = make_executor(cfg.executor, cfg.workers, len(pending)) if pending else None
        with executor or nullcontext(), Progress(total, progress or default_mode(), done=total - len(pending)) as bar:
            described = executor.describe() if executor else {"name": "none", "note": "all tasks were done"}
            for b in books:
                b.start(described)
            try:
                if executor is not None:
                    for i, report, error in executor.map_unordered(task_fn, [t for _, t in pending]):
                        book, task = pending[i]
                        book.record(task, report, error)
                        detail = f" in {report['wall_s']:.1f} s" if error is None else f": {book.entries[task.label]['error']}"
                        bar.update(task.label, error is None, detail)
            finally:
                for b in books:
                    b.finish()
    return [b.summary for b in books]
