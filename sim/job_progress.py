"""Progress of one job (the days of a run, the figures of a folder): a tqdm bar on a terminal,
plain log lines on standard error otherwise, or nothing.

Ensembles count tasks with :class:`sim.ensemble.progress.Progress`; this counts the steps inside
one job. The modes are the same (:data:`~sim.ensemble.progress.BAR`, ``LOG``, ``QUIET``), and
``True`` means the default: a bar when standard error is a terminal, log lines when it is a file
or a pipe (a batch job's log, ``2> run.log``, a notebook's captured output).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from tqdm import tqdm

BAR, LOG, QUIET = "bar", "log", "quiet"
"""The modes of :class:`sim.ensemble.progress.Progress` (not imported from there at import time:
:mod:`sim.ensemble` imports :mod:`sim.run`, which imports this module)."""


def resolve_mode(progress: bool | str) -> str:
    """``True``: :func:`~sim.ensemble.progress.default_mode`; ``False``: quiet; a mode name: itself."""
    if progress is True:
        from .ensemble.progress import default_mode

        return default_mode()
    if progress is False or progress is None:
        return QUIET
    if progress not in (BAR, LOG, QUIET):
        raise ValueError(f"progress = {progress!r}: allowed True, False, {BAR!r}, {LOG!r}, {QUIET!r}")
    return progress


class JobProgress:
    """Counts the steps of one job.

    Args:
        what: the job, first word of each log line (``run``, ``figures``).
        total: the number of steps, or None when unknown (then every step is logged).
        progress: a mode (:func:`resolve_mode`).
        unit: the name of one step (``day``, ``figure``).
        lines: with a known total, log a line each time another ``1/lines`` of it is done
            (10: every 10%), and after the last step.
    """

    def __init__(self, what: str, total: int | None, progress: bool | str, unit: str, lines: int = 10):
        self.what, self.total, self.unit, self.lines = what, total, unit, lines
        self.mode = resolve_mode(progress)
        self.done = 0
        self.t0 = time.monotonic()
        self._next_line = 1  # the next tenth (for lines=10) to log
        self.bar = (tqdm(total=total, desc=what, unit=unit, file=sys.stderr, mininterval=0.5)
                    if self.mode == BAR else None)

    def update(self, label: str | Callable[[], str] = "") -> None:
        """Count one finished step; ``label`` says which (a date, a figure's name), or is a function
        giving it, called only when a line is written (a run's days are many)."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.mode == LOG and self._due():
            elapsed = tqdm.format_interval(time.monotonic() - self.t0)
            count = f"{self.done}/{self.total} {self.unit}s ({100 * self.done // self.total}%)" if self.total \
                else f"{self.unit} {self.done}"
            text = label() if callable(label) else label
            where = f", {text}" if text else ""
            print(f"tipsim: {self.what}: {count}{where}; elapsed {elapsed}", file=sys.stderr, flush=True)

    def _due(self) -> bool:
        if not self.total:
            return True
        if self.done * self.lines >= self._next_line * self.total or self.done == self.total:
            self._next_line = self.done * self.lines // self.total + 1
            return True
        return False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> JobProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
