"""Running ensembles: resume what is done, run the rest on an executor, record, build the tables.

A run of one or more ensemble folders (one for ``tipsim compare``, one per design point for
``tipsim sweep``) goes:

1. lock each folder and check every expected part of every task, daily table and route
   flows (:func:`sim.ensemble.store.check_part`, whether or not the manifest recorded
   them): a task whose parts are complete is kept (skipped), a truncated, damaged or
   renamed-column part is deleted and its task re-run, and a part of another configuration
   stops the run with an error;
2. write the resolved scenario configurations and the manifest, then run the missing
   tasks on the executor (all folders' tasks in one pool), recording each task's status,
   timing, host and memory in the manifest as it finishes (rewritten atomically, at most
   every :data:`FLUSH_S` seconds and at the end);
3. when every task of a folder is done, build its combined tables
   (:mod:`sim.ensemble.tables`). A task that fails is recorded with its error; the other
   tasks go on, then :class:`EnsembleFailed` is raised with the first failure (running the
   same command again resumes). The lock file is removed whatever happens.

SIGINT (Ctrl-C) and SIGTERM stop the run in an orderly way (:mod:`sim.ensemble.signals`): the
executor is left first (local workers are stopped: queued tasks never start, running ones are
cut short and leave no file; :mod:`sim.ensemble.executors`), then each manifest is written with
the tasks that finished, the lock is removed, and :class:`~sim.ensemble.signals.Interrupted` is
raised. Running the same command again resumes, and gives the same tables as an uninterrupted run.

The git commit and package versions are looked up once per call of :func:`run_ensembles`.
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from ..config import ConfigError, check_memory, parallel_runs, to_yaml
from ..run import git_commit, package_versions
from . import store
from .store import DAILY, ROUTES
from .executors import make_executor
from .plan import Ensemble
from .progress import Progress, default_mode
from .signals import Interrupted, stop_on_signals
from .tables import TABLES, build_tables
from .tasks import Task, code_version, expected_columns, fingerprint, run_task

FLUSH_S = 2.0
"""Longest time (s) between manifest rewrites while tasks finish."""

FORMAT = "tipsim-ensemble/2"
"""Version of the folder layout: 2 has the partitioned ``parts/daily`` and ``parts/routes`` datasets and
self-checking parts (1 had ``parts/<scenario>/r00007.parquet`` with route flows in their metadata)."""

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


class EnsembleFailed(RuntimeError):
    """Tasks failed (the manifest records each with its error); running the same command again resumes.

    Raised from the first failed task's exception (``__cause__``).
    """

    def __init__(self, summaries: list[Summary]):
        self.summaries = summaries
        failed = [(label, err) for s in summaries for label, err in s.failed]
        label, err = failed[0]
        hint = ""
        if "BrokenProcessPool" in err:
            hint = (" (a worker process died: out of memory, killed, or, in a Python script, the script lacks the "
                    "`if __name__ == \"__main__\":` guard that process workers need; see docs/ensembles.md)")
        super().__init__(f"{len(failed)} task(s) failed, first {label}: {err}{hint}. Run the same command again "
                         "(same out_dir) to resume: finished tasks are kept.")


SHA_KEYS = {DAILY: "sha256", ROUTES: "routes_sha256"}
"""Manifest field of each part's SHA-256 in a task's entry."""

PATH_KEYS = {DAILY: "part", ROUTES: "routes"}
"""Manifest field of each part's path (relative to the folder) in a task's entry."""


class Book:
    """The manifest of one ensemble folder, kept in step with its parts."""

    def __init__(self, ensemble: Ensemble, provenance: dict):
        self.ensemble = ensemble
        self.provenance = provenance
        self.tasks = ensemble.tasks
        self.summary = Summary(ensemble.out_dir, len(self.tasks))
        self.previous = store.read_manifest(ensemble.out_dir) or {}
        old = {t["label"]: t for t in self.previous.get("tasks", []) if isinstance(t, dict) and "label" in t}
        self.entries: dict[str, dict] = {}
        self.first_error: BaseException | None = None
        for task in self.tasks:
            self.entries[task.label] = self._check(task, old.get(task.label, {}))
        self.flushed = 0.0
        # How progress lines name the folder: not at all for a lone comparison, "point_003: " for a point of a
        # `tipsim sweep`, "job 3: " for a job of a Hydra multirun (its numbered subfolder of hydra.sweep.dir).
        name = ensemble.out_dir.name
        self.where = "" if not ensemble.sweep else f"job {name}: " if name.isdigit() else f"{name}: "

    def _check(self, task: Task, recorded: dict) -> dict:
        """The manifest entry of a task after checking its parts on disk (deleting damaged ones)."""
        entry = {"label": task.label, "scenario": task.scenario, "replicate": task.replicate, "seed": task.cfg.seed,
                 **{PATH_KEYS[t]: str(task.path(t).relative_to(self.ensemble.out_dir)) for t in (DAILY, ROUTES)},
                 "status": "pending"}
        states, problems, digests = {}, [], {}
        for table in (DAILY, ROUTES):
            path = task.path(table)
            sha = recorded.get(SHA_KEYS[table]) if recorded.get("status") == "done" else None
            state, reason = store.check_part(path, task.identity, table, task.rows if table == DAILY else None,
                                             expected_columns(table), sha)
            if state == "foreign":
                raise ConfigError(f"{path}: {reason}; use a new out_dir (or the same settings to resume)")
            if state == "corrupt":
                path.unlink()
                problems.append(f"{table} part {reason}")
            states[table] = state
            digests[SHA_KEYS[table]] = sha or (store.sha256(path) if state == "ok" else None)
        if problems:
            reason = "; ".join(problems)
            entry["note"] = f"part was corrupt ({reason}); re-run"
            self.summary.corrupt.append((task.label, reason))
        elif all(s == "ok" for s in states.values()):
            keep = {k: v for k, v in recorded.items() if k not in entry and k not in ("error", "note")}
            entry = {**entry, **keep, "status": "done", **digests}
            self.summary.found_done += 1
        return entry

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
            if self.first_error is None:
                self.first_error = error
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
            **self.provenance,
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

    Raises:
        EnsembleFailed: some task failed (after every other task ran and the manifests were written).
        Interrupted: SIGINT or SIGTERM stopped the run (after its workers were stopped and the manifests written).
    """
    cfg = ensembles[0].cfg
    for e in ensembles:  # before any lock or file: refuse what cannot fit in memory
        for scenario_cfg in e.configs.values():
            check_memory(scenario_cfg, parallel_runs(cfg, len(e.tasks)), tasks=len(e.tasks))
    provenance = {"git_commit": git_commit(), "versions": package_versions()}  # once, not per task or manifest write
    books: list[Book] = []
    try:
        with stop_on_signals(), ExitStack() as stack:
            for e in ensembles:
                stack.enter_context(store.locked(e.out_dir))
            books += [Book(e, provenance) for e in ensembles]
            _run_books(books, cfg, task_fn, progress or default_mode())
    except Interrupted as exc:
        done = sum(b.summary.found_done + b.summary.ran for b in books)
        total = sum(len(e.tasks) for e in ensembles)
        raise Interrupted(exc.signum, f"stopped by {signal.Signals(exc.signum).name} with {done} of {total} tasks "
                          "done. Run the same command again (same out_dir) to resume: finished tasks are kept.") from None
    summaries = [b.summary for b in books]
    first = next((b.first_error for b in books if b.first_error is not None), None)
    if first is not None:
        raise EnsembleFailed(summaries) from first
    return summaries


def _run_books(books: list[Book], cfg, task_fn: Callable[[Task], dict], progress: str) -> None:
    """Run the pending tasks of every book in one executor, recording each; finish every started book whatever
    happens."""
    pending = [(b, t) for b in books for t in b.pending]
    total = sum(b.summary.total for b in books)
    executor = make_executor(cfg.executor, cfg.workers, len(pending)) if pending else None
    started: list[Book] = []
    try:
        # The executor is left (its workers stopped, after an error or a signal) before the books are finished.
        with executor or nullcontext(), Progress(total, progress, done=total - len(pending)) as bar:
            described = executor.describe() if executor else {"name": "none", "note": "all tasks were done"}
            for b in books:
                b.start(described)
                started.append(b)
            if executor is not None:
                for i, report, error in executor.map_unordered(task_fn, [t for _, t in pending]):
                    book, task = pending[i]
                    book.record(task, report, error)
                    detail = f" in {report['wall_s']:.1f} s" if error is None else f": {book.entries[task.label]['error']}"
                    bar.update(book.where + task.label, error is None, detail)
    finally:
        for b in started:
            b.finish()
