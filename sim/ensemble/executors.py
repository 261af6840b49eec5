"""Where ensemble tasks run: in this process, in local worker processes, or on a Dask cluster.

All executors have one interface, :meth:`Executor.map_unordered`, which runs ``fn`` on
every item and yields ``(index, result, error)`` as items finish; a failing item yields its
exception instead of stopping the others. Results do not depend on the executor or the
number of workers, because each task carries its own seed (:mod:`sim.ensemble.tasks`).

* ``serial``: one item after another in this process (debugging, tiny ensembles).
* ``processes`` (default): a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers``
  processes (default: the CPU count), started by the ``forkserver`` method so workers do
  not inherit the parent's threads or memory. Workers never outlive the run: when it ends
  by an error or a signal (SIGINT, SIGTERM; :mod:`sim.ensemble.runner`) they are stopped,
  and when the parent process dies without stopping them (``kill -9``) each worker notices
  and exits (:func:`worker_setup`). Either way a stopped worker removes its temporary files
  first, so no half-written file is left behind.
* ``dask``: a ``dask.distributed`` client, connected to ``executor.address`` (a running
  scheduler, e.g. one started on a cluster with dask-jobqueue; ``docs/cluster.md``), or to a
  ``LocalCluster`` of ``workers`` single-threaded worker processes without a dashboard.
  An address where no Dask scheduler answers, or a scheduler that has no worker within
  ``executor.timeout_s`` seconds, is one :class:`~sim.config.ConfigError` before any task
  runs. Needs the ``cluster`` extra (``pip install tipsim[cluster]``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack
from typing import Any

from ..config import EXECUTORS, ConfigError, ExecutorConfig
from . import files
from .signals import deferred

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


STOP_GRACE_S = 5.0
"""Time (s) that stopped worker processes get to exit by themselves before they are killed."""

PARENT_POLL_S = 1.0
"""Interval (s) at which a worker checks that its parent lives, where the system cannot notify it (not Linux)."""


def worker_setup(parent: int) -> None:
    """Initializer of every local worker process: tie the worker's life to the ``parent`` process.

    * SIGINT is ignored: on Ctrl-C (sent to the whole terminal process group) the parent
      decides, and stops the workers itself.
    * SIGTERM (how the parent stops them, :meth:`ProcessExecutor.stop`) exits at once.
    * A daemon thread waits for the parent to end and then exits, so that workers of a parent
      killed with SIGKILL (which cannot stop them) do not compute on forever.

    Each way out first removes the temporary files this worker was writing
    (:func:`sim.ensemble.files.remove_own_temporaries`): a task cut short leaves no file.
    """
    from tqdm import tqdm

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: _exit(128 + signum))
    tqdm.set_lock(threading.RLock())  # workers draw no bars; tqdm's default semaphore would outlive a stopped worker
    threading.Thread(target=_exit_after, args=(parent,), name="tipsim-parent-watch", daemon=True).start()


def _exit(code: int) -> None:
    files.remove_own_temporaries()
    os._exit(code)


def _exit_after(parent: int) -> None:
    """Wait until process ``parent`` has ended, then exit this process."""
    wait_for_exit(parent)
    _exit(1)


def wait_for_exit(pid: int) -> None:
    """Return once process ``pid`` has ended (at once if there is none).

    On Linux a pidfd (:func:`os.pidfd_open`) becomes readable when the process ends, even
    before its parent reaps it, and cannot be fooled by a reused pid; elsewhere the pid is
    polled every :data:`PARENT_POLL_S` seconds.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # not Linux (or a kernel before 5.3)
        while _exists(pid):
            time.sleep(PARENT_POLL_S)
        return
    select.select([fd], [], [])
    os.close(fd)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProcessExecutor(Executor):
    """Run items in a pool of local worker processes (stopped with the run, see :func:`worker_setup`)."""

    name = "processes"

    def __enter__(self) -> ProcessExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.ensemble.tasks"])  # workers start with the simulator imported
        self.pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=worker_setup,
                                        initargs=(os.getpid(),))
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.pool.shutdown(wait=True)
        else:  # an error, Ctrl-C or SIGTERM: stop at once instead of running the items to the end
            self.stop()

    def stop(self) -> None:
        """Drop queued items and stop the workers: SIGTERM, then SIGKILL after :data:`STOP_GRACE_S` seconds."""
        with deferred():
            workers = list((self.pool._processes or {}).values())  # Python 3.12 has no public handle (3.14: terminate_workers)
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for process in workers:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()
                    process.join()
            self.pool.shutdown(wait=True)

    def map_unordered(self, fn: Callable, items: Sequence) -> Iterator[Outcome]:
        with deferred():  # the first submit starts the worker processes
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

    def __init__(self, workers: int, address: str | None, timeout_s: float):
        super().__init__(workers)
        self.address = address
        self.timeout_s = timeout_s

    def __enter__(self) -> DaskExecutor:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("executor=dask needs the cluster extra: pip install 'tipsim[cluster]'") from None
        with ExitStack() as stack:  # closed again if starting is cut short (an error, Ctrl-C)
            if self.address:
                self.client = stack.enter_context(self._connect(Client))
                self.workers = len(self.client.scheduler_info()["workers"])
            else:
                cluster = stack.enter_context(LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                                           processes=True, dashboard_address=None,
                                                           silence_logs=logging.ERROR))
                self.client = stack.enter_context(cluster.get_client())
            self.resources = stack.pop_all()
        return self

    def _connect(self, Client):
        """A client of the scheduler at ``address`` that has at least one worker, or one ConfigError."""
        from distributed.comm.addressing import get_address_host_port, parse_address

        where = f"executor.address = {self.address}"
        try:
            if parse_address(self.address)[0] != "inproc":  # inproc:// (a scheduler in this process) has no port
                get_address_host_port(self.address)
        except ValueError as exc:
            raise ConfigError(f"{where}: not a Dask address ({exc}); e.g. tcp://10.0.0.1:8786") from None
        try:
            kind = _server_type(self.address, self.timeout_s)
        except TimeoutError:  # (an OSError: caught first)
            kind = f"nothing that answered within executor.timeout_s = {self.timeout_s:g} s"
        except OSError as exc:
            kind = f"unreachable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        except Exception:  # another protocol's bytes read as Dask's: a huge frame length, a bad header, ...
            kind = "a server that does not speak Dask's protocol"
        else:
            kind = f"a Dask {kind}"
        if kind != "a Dask Scheduler":
            raise ConfigError(f"{where}: not a Dask scheduler ({kind}); give the address of a running scheduler "
                              "(`dask scheduler` prints it, e.g. tcp://10.0.0.1:8786)")
        client = Client(self.address, timeout=self.timeout_s)
        try:
            client.wait_for_workers(1, timeout=self.timeout_s)
        except TimeoutError:
            client.close()
            raise ConfigError(f"{where}: the Dask scheduler has no workers after executor.timeout_s = "
                              f"{self.timeout_s:g} s; start workers (dask worker {self.address}) or wait longer "
                              "(a larger executor.timeout_s)") from None
        return client

    def __exit__(self, *exc) -> None:
        self.resources.close()  # the client, then the LocalCluster (if one was started)

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


def _server_type(address: str, timeout_s: float) -> str:
    """What kind of Dask server listens at ``address`` (``Scheduler``, ``Worker``, ...), asked with dask's own comm.

    Dask's client waits without end for the handshake of a server that accepts connections
    but never answers, and reads another protocol's bytes as a frame length ("Unable to
    allocate 3 EiB"), so the address is probed first, under one overall timeout: connect,
    handshake and the ``identity`` call. Runs in a thread of its own, so it also works where
    an event loop is already running (a notebook).
    """
    from distributed.core import rpc

    async def identity() -> str:
        async with rpc(address, timeout=timeout_s) as server:
            return (await server.identity())["type"]

    answer: dict = {}

    def ask() -> None:
        try:
            answer["type"] = asyncio.run(asyncio.wait_for(identity(), timeout_s))
        except BaseException as exc:  # handed to the caller's thread
            answer["error"] = exc

    thread = threading.Thread(target=ask, name="tipsim-dask-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in answer:
        raise answer["error"]
    return answer["type"]


def make_executor(spec: ExecutorConfig, workers: int | None, n_items: int) -> Executor:
    """The executor named by ``spec`` with ``workers`` workers (default: CPU count), at most one per item."""
    count = max(1, min(workers or os.cpu_count() or 1, n_items))
    if spec.name == "serial":
        return SerialExecutor(1)
    if spec.name == "processes":
        return ProcessExecutor(count)
    if spec.name == "dask":
        return DaskExecutor(count, spec.address, spec.timeout_s)
    raise ConfigError(f"executor.name = {spec.name!r}: unknown executor; allowed: {', '.join(EXECUTORS)}")
