"""Progress of an ensemble: a tqdm bar on a terminal, one plain log line per task otherwise."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

BAR, LOG, QUIET = "bar", "log", "quiet"


def default_mode() -> str:
    """A bar when standard error is a terminal, log lines when it is a file or pipe."""
    return BAR if sys.stderr.isatty() else LOG


class Progress:
    """Counts finished tasks and shows the count, the rate (tasks/min) and the time left."""

    def __init__(self, total: int, mode: str, desc: str = "tasks", done: int = 0):
        self.total, self.mode, self.done, self.desc = total, mode, done, desc
        self.failed = 0
        self.t0 = time.monotonic()
        self.counted = 0  # tasks finished in this session (the rate ignores those found done)
        self.bar = tqdm(total=total, initial=done, desc=desc, unit="task", file=sys.stderr) if mode == BAR else None
        if mode == LOG and done == total:
            self._print(f"all {total} {desc} already done; nothing to run")
        elif mode == LOG and done:
            self._print(f"{done}/{total} {desc} already done; running the other {total - done}")

    def update(self, label: str, ok: bool, detail: str = "") -> None:
        """Count one finished task (``ok``) or one failure."""
        self.done += ok
        self.failed += not ok
        self.counted += 1
        if self.bar is not None:
            self.bar.update(1)
            if self.failed:
                self.bar.set_postfix(failed=self.failed)
        elif self.mode == LOG:
            elapsed = time.monotonic() - self.t0
            rate = self.counted / elapsed * 60 if elapsed > 0 else 0.0
            left = self.total - self.done - self.failed
            eta = tqdm.format_interval(left / rate * 60) if rate > 0 else "?"
            status = "done" if ok else "FAILED"
            self._print(f"[{self.done + self.failed}/{self.total}] {label} {status}{detail}; "
                        f"{rate:.1f} {self.desc}/min, ETA {eta}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _print(text: str) -> None:
        print(f"tipsim: {text}", file=sys.stderr, flush=True)
