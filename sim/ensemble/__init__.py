"""Monte Carlo ensembles with common random numbers (docs/ensembles.md; docs/ODD.md, section 4.9).

A task is one replicate of one scenario; replicate r of every scenario shares its seed, so
scenario comparisons are paired. Tasks run on an executor (:mod:`.executors`: serial, local
processes, Dask), each writes its daily table and route flows as parts of two partitioned
Parquet datasets (:mod:`.store`; files and manifests: :mod:`.files`), and a killed ensemble
resumes where it stopped (:mod:`.runner`). Modules:

* :mod:`.plan` composes each scenario's configuration and checks the request;
* :mod:`.tasks` defines a task and runs it in a worker;
* :mod:`.executors`, :mod:`.progress`, :mod:`.files`, :mod:`.store`, :mod:`.runner`, :mod:`.tables`;
* :mod:`.commands` holds the ``tipsim compare|report|sweep|collect`` handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .plan import Ensemble, compose, plan
from .runner import EnsembleFailed, Summary, run_ensembles
from .store import read_daily, read_routes
from .tasks import Task, run_task

__all__ = [
    "Ensemble", "EnsembleFailed", "Summary", "Task", "compose", "plan", "read_daily", "read_routes", "run_compare", "run_ensembles", "run_task",
]


def run_compare(overrides: list[str], out_dir: str | Path | None = None, progress: str | None = None,
                task_fn: Callable[[Task], dict] = run_task) -> Summary:
    """``tipsim compare`` from Python: compose the configuration with ``overrides``, run, compare.

    Args:
        overrides: Hydra ``key=value`` strings, e.g. ``["scenarios=[baseline,extradition]", "replicates=50"]``.
        out_dir: ensemble folder (default: the configuration's ``out_dir``).
        progress: ``bar``, ``log`` or ``quiet`` (default: a bar on a terminal, log lines otherwise).
        task_fn: function that runs one task (default :func:`run_task`).

    Raises:
        EnsembleFailed: a task failed (from the first failure's exception); the finished
            tasks are kept, and calling again with the same ``out_dir`` resumes.

    With the ``processes`` executor (the default), a script that calls this must do so
    under ``if __name__ == "__main__":`` (worker processes import the script).
    """
    cfg = compose(list(overrides))
    ensemble = plan(cfg, list(overrides), out_dir if out_dir is not None else cfg.out_dir)
    return run_ensembles([ensemble], task_fn, progress)[0]
