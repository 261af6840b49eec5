"""Signals: SIGTERM or Ctrl-C stops `tipsim compare` and its workers; after kill -9 the workers exit by themselves.

Either way no worker process is left, no temporary file is left, and the same command then
resumes to the tables of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from sim.ensemble import run_compare
from sim.ensemble.executors import wait_for_exit
from sim.ensemble.signals import Interrupted, deferred, stop_on_signals
from sim.ensemble.store import LOCK, MANIFEST
from tests.test_ensemble import assert_same_tables

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["scenarios=[baseline,departure_screening]", "replicates=4", "end_date=2020-06-30", "compare_start=2020-04-01"]
"""8 tasks of a few seconds each."""


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("signals") / "uninterrupted"
    assert run_compare([*SMALL, "executor=serial"], out_dir=out, progress="quiet").complete
    return out


def compare_cmd(out: Path, executor: str) -> list[str]:
    return [sys.executable, "-m", "sim", "compare", *SMALL, f"executor={executor}", "workers=2", f"out_dir={out}"]


MIN_DESCENDANTS = {"processes": 3, "dask": 2}
"""Processes a running `compare` with 2 workers has at least: the forkserver and 2 workers, or 2 Dask workers."""


def start_and_wait_for_workers(cmd: list[str], out: Path, executor: str) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """Start ``cmd``; return it and its descendant processes once its workers run and a first part exists."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent, seen = psutil.Process(proc.pid), {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        seen.update((p.pid, p) for p in parent.children(recursive=True))
        if len(seen) >= MIN_DESCENDANTS[executor] and list(out.glob("parts/daily/*/*/part.parquet")):
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    assert len(seen) >= MIN_DESCENDANTS[executor], f"expected worker processes, found {len(seen)}"
    return proc, list(seen.values())


def still_running(processes: list[psutil.Process], within_s: float) -> list[int]:
    """Pids of ``processes`` still running (not counting zombies) after up to ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while True:
        alive = []
        for p in processes:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p.pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def assert_resumes_to(cmd: list[str], out: Path, uninterrupted: Path) -> None:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "paired comparison vs baseline" in done.stdout
    assert_same_tables(uninterrupted, out)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_compare_and_its_workers(uninterrupted, tmp_path, signum):
    out = tmp_path / "ens"
    cmd = compare_cmd(out, "processes")
    proc, workers = start_and_wait_for_workers(cmd, out, "processes")
    proc.send_signal(signum)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 15
    assert proc.returncode == 128 + signum
    name = signal.Signals(signum).name
    lines = [line for line in err.splitlines() if not line.startswith("tipsim: [")]  # progress lines aside
    assert len(lines) == 1 and lines[0].startswith(f"tipsim: stopped by {name} with "), err
    assert lines[0].endswith("of 8 tasks done. Run the same command again (same out_dir) to resume: finished tasks "
                             "are kept.")
    assert still_running(workers, within_s=5) == []
    assert not list(out.rglob(".*.tmp-*")) and not (out / LOCK).exists()
    assert json.loads((out / MANIFEST).read_text())["status"] == "incomplete"
    assert_resumes_to(cmd, out, uninterrupted)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_workers_exit_after_kill_9_of_the_main_process(uninterrupted, tmp_path, executor):
    out = tmp_path / "ens"
    cmd = compare_cmd(out, executor)
    proc, workers = start_and_wait_for_workers(cmd, out, executor)
    proc.kill()
    proc.communicate(timeout=30)
    assert still_running(workers, within_s=10) == []
    assert_resumes_to(cmd, out, uninterrupted)


# --------------------------------------------------------------------------------------------
# The pieces, in this process
# --------------------------------------------------------------------------------------------


def term_myself_at_second_task(task):
    """A task function that sends SIGTERM to its own process when it reaches the second task."""
    from sim.ensemble import run_task

    if task.label == "baseline/r1":
        os.kill(os.getpid(), signal.SIGTERM)
    return run_task(task)


def test_sigterm_in_process_stops_with_interrupted_and_resumes(tmp_path):
    from tests.test_ensemble import run

    out = tmp_path / "ens"
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted, match=r"^stopped by SIGTERM with 1 of 4 tasks done. Run the same command again"):
        run(out, task_fn=term_myself_at_second_task)
    assert signal.getsignal(signal.SIGTERM) == before  # the run's handler is removed again
    m = json.loads((out / MANIFEST).read_text())
    assert m["status"] == "incomplete" and m["counts"]["done"] == 1
    assert not list(out.rglob(".*.tmp-*")) and not (out / LOCK).exists()
    assert run(out).complete
    reference = tmp_path / "reference"
    run(reference)
    assert_same_tables(reference, out)


def term_main_at_second_task(task):
    """In a worker: note this worker's pid, send SIGTERM to the main process, then take a minute."""
    from sim.ensemble import run_task

    if task.label == "baseline/r1":
        (task.out_dir.parent / "worker.pid").write_text(str(os.getpid()))
        os.kill(int((task.out_dir.parent / "main.pid").read_text()), signal.SIGTERM)
        time.sleep(60)
    return run_task(task)


def test_sigterm_stops_a_running_worker_at_once(tmp_path):
    from tests.test_ensemble import run

    (tmp_path / "main.pid").write_text(str(os.getpid()))
    with pytest.raises(Interrupted, match=r"^stopped by SIGTERM with \d of 4 tasks done"):
        run(tmp_path / "ens", "workers=2", task_fn=term_main_at_second_task, executor="processes")
    try:
        worker = psutil.Process(int((tmp_path / "worker.pid").read_text()))
    except psutil.NoSuchProcess:  # already gone
        worker = None
    assert worker is None or still_running([worker], within_s=2) == []  # stopped, not left to finish its 60 s sleep
    assert not list((tmp_path / "ens").rglob(".*.tmp-*")) and not (tmp_path / "ens" / LOCK).exists()


def test_a_signal_within_deferred_is_raised_when_the_block_ends():
    steps = []
    with pytest.raises(Interrupted) as info, stop_on_signals():
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here, in the main thread
            steps.append("block finished")
        steps.append("never reached")
    assert steps == ["block finished"] and info.value.signum == signal.SIGTERM


def test_a_second_signal_does_not_interrupt_the_cleanup():
    steps = []
    with pytest.raises(Interrupted), stop_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            steps.append("cleanup finished")
    assert steps == ["cleanup finished"]


def test_wait_for_exit_returns_when_the_process_ends():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    waiter = threading.Thread(target=wait_for_exit, args=(child.pid,))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # still waiting while the process lives
    waiter.join(10)
    assert not waiter.is_alive()
    assert child.wait(1) == 0
    t0 = time.monotonic()
    wait_for_exit(child.pid)  # an ended (and reaped) process: at once
    assert time.monotonic() - t0 < 0.5
