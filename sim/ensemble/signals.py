"""SIGINT (Ctrl-C) and SIGTERM during an ensemble run become one orderly stop: :class:`Interrupted`.

Within :func:`stop_on_signals` the first of these signals raises :class:`Interrupted` in the
main thread, where Python runs signal handlers; the run then stops its workers, writes its
manifests and removes its lock on the way out (:mod:`sim.ensemble.runner`). Later signals are
ignored, so they cannot cut that cleanup short. Within :func:`deferred` (starting or stopping
worker processes, where an exception would lose track of a process being started) the signal
is only noted, and :class:`Interrupted` is raised when the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received: list[int] = []
"""The signal that is stopping the run (at most one), while :func:`stop_on_signals` is active."""

_deferring = [0]
"""Depth of nested :func:`deferred` blocks."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM (``signum``): the finished tasks are kept, the same command resumes.

    A :class:`KeyboardInterrupt`, so that code which lets Ctrl-C through lets this through too.
    """

    def __init__(self, signum: int, message: str | None = None):
        self.signum = signum
        super().__init__(message or f"stopped by {signal.Signals(signum).name}")


def _stop(signum: int, frame) -> None:
    if _received:
        return  # already stopping
    _received.append(signum)
    if not _deferring[0]:
        raise Interrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` (once).

    A signal this process ignores (SIGINT of a background job) stays ignored; outside the main
    thread, where Python handles no signals, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _stop) for sig in SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN}
    _received.clear()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _received.clear()


@contextmanager
def deferred() -> Iterator[None]:
    """Within the block a stopping signal is only noted; :class:`Interrupted` is raised when the block ends."""
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1
    if _received and not _deferring[0]:
        raise Interrupted(_received[0])
