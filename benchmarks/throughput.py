"""Ensemble throughput: tasks per minute on 1 and 2 workers, and the parallel speed-up.

Runs the same ensemble (baseline and departure_screening, the full default horizon unless
overridden) through the real ensemble runner (parts written, manifest kept) once per worker
count, each into a fresh temporary folder, and prints tasks/min, the speed-up over one
worker and the parallel efficiency (speed-up / workers). Timing covers everything a user
waits for: starting the workers, the runs, writing the parts and building the tables. The
load average is printed too: other processes on the machine slow the parallel run.

Usage::

    python benchmarks/throughput.py --tasks 8 --workers 1 2 [--executor processes|dask] [key=value ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from sim.ensemble import compose, plan, run_ensembles


def measure(overrides: list[str], out: Path) -> float:
    """Wall time (s) of one ensemble run."""
    cfg = compose(overrides)
    ensemble = plan(cfg, overrides, out)
    t0 = time.perf_counter()
    [summary] = run_ensembles([ensemble], progress="quiet")
    wall = time.perf_counter() - t0
    if not summary.complete:
        raise RuntimeError(f"ensemble failed: {summary.failed[:1]}")
    return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=8, help="tasks per measurement (even: two scenarios)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--executor", default="processes", choices=["processes", "dask"])
    ap.add_argument("overrides", nargs="*", help="configuration overrides key=value")
    args = ap.parse_args(argv)
    base = ["scenarios=[baseline,departure_screening]", f"replicates={args.tasks // 2}",
            f"executor={args.executor}", *args.overrides]
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workers:
            load = os.getloadavg()[0]
            wall = measure([*base, f"workers={w}"], Path(tmp) / f"w{w}")
            rates[w] = args.tasks / wall * 60
            print(f"{w} worker(s): {args.tasks} tasks in {wall:.1f} s = {rates[w]:.2f} tasks/min "
                  f"(load average before: {load:.2f})", flush=True)
    one = rates.get(1)
    if one:
        for w, rate in rates.items():
            if w > 1:
                print(f"speed-up on {w} workers: {rate / one:.2f}x (parallel efficiency {rate / one / w:.0%})")
    print(f"CPUs: {os.cpu_count()}; overrides: {' '.join(args.overrides) or '(none: full default horizon)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
