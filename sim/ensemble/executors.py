"""Where ensemble tasks run: in this process, in local worker processes, or on a Dask cluster.

All executors have one interface, :meth:`Executor.map_unordered`, which runs ``fn`` on
every item and yields ``(index, result, error)`` as items finish; a failing item yields its
exception instead of stopping the others. Results do not depend on the executor or the
number of workers, because each task carries its own seed (:mod:`sim.ensemble.tasks`).

* ``serial``: one item after another in this process (debugging, tiny ensembles).
* ``processes`` (default): a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers``
  processes (default: the CPU count), started by the ``forkserver`` method so workers do
  not inherit the parent's threads or memory.
* ``dask``: a ``dask.distributed`` client, connected to ``executor.address`` (a running
  scheduler, e.g. one started on a cluster with dask-jobqueue; ``docs/cluster.md``), or to a
  ``LocalCluster`` of ``workers`` single-threaded worker processes without a dashboard.
  Needs the ``cluster`` extra (``pip install tipsim[cluster]``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..config import EXECUTORS, ConfigError, ExecutorConfig

Outcome = tuple[int, Any, BaseException | None]
"""(index of the item, fn's result or None, the exception it raised or None)."""


class Executor:
    """Base class: a context manager that runs items and yields their outcomes as they finish."""

    name = ""

    def __init__(self, workers: int):
        self.workers = workers

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        """Release workers (subclasses that hold any override this)."""

    def map_unordered(self, fn: Callable, items: Sequence) -> Iterator[Outcome]:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> dict:
        """What the manifest records about the executor."""
        return {"name": self.name, "workers": self.workers}


class SerialExecutor(Executor):
    """Run items one after another in this process."""

    name = "serial"

    def map_unordered(self, fn: Callable, items: Sequence) -> Iterator[Outcome]:
        for i, item in enumerate(items):
            try:
                result = fn(item)
            except Exception as exc:  # reported per item; the caller decides what a failure means
                yield i, None, exc
            else:
                yield i, result, None


class ProcessExecutor(Executor):
    """Run items in a pool of local worker processes."""

    name = "processes"

    def __enter__(self) -> ProcessExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.ensemble.tasks"])  # workers start with the simulator imported
        self.pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        # On an error or Ctrl-C, drop queued items instead of running them to the end.
        self.pool.shutdown(wait=exc_type is None, cancel_futures=True)

    def map_unordered(self, fn: Callable, items: Sequence) -> Iterator[Outcome]:
        index = {self.pool.submit(fn, item): i for i, item in enumerate(items)}
        pending = set(index)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                exc = fut.exception()
                yield index.pop(fut), None if exc else fut.result(), exc


class DaskExecutor(Executor):
    """Run items on a Dask cluster (a running scheduler, or a LocalCluster started here)."""

    name = "dask"

    def __init__(self, workers: int, address: str | None):
        super().__init__(workers)
        self.address = address

    def __enter__(self) -> DaskExecutor:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("executor=dask needs the cluster extra: pip install 'tipsim[cluster]'") from None
        self.cluster = None
        if self.address:
            try:
                self.client = Client(self.address, timeout="30s")
            except OSError as exc:
                raise ConfigError(f"executor.address = {self.address}: cannot reach the Dask scheduler ({exc})") from None
            self.workers = len(self.client.scheduler_info().get("workers", {}))
        else:
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = self.cluster.get_client()
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def map_unordered(self, fn: Callable, items: Sequence) -> Iterator[Outcome]:
        from dask.distributed import as_completed

        run = uuid.uuid4().hex[:8]
        futures = [self.client.submit(fn, item, key=f"tipsim-{run}-{i}", pure=False) for i, item in enumerate(items)]
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            i = index[fut.key]
            if fut.status == "finished":
                yield i, fut.result(), None
            elif fut.status == "error":
                yield i, None, fut.exception()
            else:
                yield i, None, RuntimeError(f"dask task {fut.key} ended with status {fut.status!r}")
            fut.release()

    def describe(self) -> dict:
        return {**super().describe(), "address": self.address or "LocalCluster"}


def make_executor(spec: ExecutorConfig, workers: int | None, n_items: int) -> Executor:
    """The executor named by ``spec`` with ``workers`` workers (default: CPU count), at most one per item."""
    count = max(1, min(workers or os.cpu_count() or 1, n_items))
    if spec.name == "serial":
        return SerialExecutor(1)
    if spec.name == "processes":
        return ProcessExecutor(count)
    if spec.name == "dask":
        return DaskExecutor(count, spec.address)
    raise ConfigError(f"executor.name = {spec.name!r}: unknown executor; allowed: {', '.join(EXECUTORS)}")
