"""What a new user meets: progress when output is not a terminal, a partly stepped model's daily
table, and default folders of ensembles apart from run folders (issue list in the commit log)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_config
from sim.cli import DEFAULT_OUT_DIRS, default_out_dir
from sim.ensemble import progress as ensemble_progress
from sim.job_progress import BAR, LOG, QUIET, JobProgress, resolve_mode
from sim.model import TraffickingModel

ROOT = Path(__file__).resolve().parents[1]
SHORT = "end_date=2020-03-31"  # 91 days
LOG_LINE = re.compile(r"^tipsim: run: (\d+)/91 days \((\d+)%\), (\d{4}-\d{2}-\d{2}) simulated; elapsed \d\d:\d\d$")


def tipsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``tipsim ARGS`` with stdout and stderr captured (pipes, not a terminal)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return done


# --------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------


def test_run_writes_a_log_line_every_tenth_of_the_days_when_not_a_terminal(tmp_path):
    done = tipsim("run", SHORT, f"out_dir={tmp_path / 'run'}", cwd=tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.startswith("tipsim: run:")]
    parsed = [LOG_LINE.match(line) for line in lines]
    assert all(parsed), lines
    days = [int(m.group(1)) for m in parsed]
    assert days == [10, 19, 28, 37, 46, 55, 64, 73, 82, 91]  # the first day past each 10% of 91
    assert [int(m.group(2)) for m in parsed] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    dates = pd.date_range("2020-01-01", periods=91)
    assert [m.group(3) for m in parsed] == [f"{dates[d - 1]:%Y-%m-%d}" for d in days]
    assert "\r" not in done.stderr  # no bar redrawn in a log file
    assert "results written to" in done.stdout


def test_run_shows_a_bar_on_a_terminal(tmp_path):
    """With standard error on a (pseudo-)terminal, `tipsim run` draws a tqdm bar and writes no log lines."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", SHORT, f"out_dir={tmp_path / 'run'}"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=600) == 0
    proc.stdout.close()
    shown = b"".join(chunks).decode(errors="replace")
    assert re.search(r"run: 100%\|.*\| 91/91 ", shown), shown
    assert "tipsim: run:" not in shown


def test_targets_writes_one_line_per_replicate_when_not_a_terminal(tmp_path):
    done = tipsim("targets", "replicates=2", "executor=serial", cwd=tmp_path)  # the targets need the whole horizon
    lines = [line for line in done.stderr.splitlines() if re.match(r"tipsim: \[\d/2\] replicate \d done", line)]
    assert [line.split()[1] for line in lines] == ["[1/2]", "[2/2]"], done.stderr
    assert sorted(line.split()[3] for line in lines) == ["0", "1"]
    assert "targets within tolerance:" in done.stdout


def test_compare_writes_under_its_own_folder_and_figures_logs_each_figure(tmp_path):
    tipsim("compare", "scenarios=[baseline,departure_screening]", "replicates=2", "executor=serial",
           "compare_start=2020-01-01", SHORT, cwd=tmp_path)
    made = sorted((tmp_path / "results").iterdir())
    assert [p.name for p in made] == ["compare"]  # not results/baseline/<time>, where run folders go
    (folder,) = (tmp_path / "results" / "compare").iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", folder.name)
    assert (folder / "comparison.csv").is_file()

    done = tipsim("figures", str(folder), cwd=tmp_path)
    logged = re.findall(r"^tipsim: figures: figure (\d+), (\S+) drawn; elapsed \d\d:\d\d$", done.stderr, re.M)
    drawn = [line.split(":")[0] for line in done.stdout.splitlines() if line.endswith(".csv")]
    assert drawn, done.stdout
    assert logged == [(str(i), name) for i, name in enumerate(drawn, 1)]


def test_job_progress_log_lines(capsys):
    with JobProgress("run", 91, LOG, "day") as bar:
        for day in range(91):
            bar.update(f"day {day}")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 10 and err[-1].startswith("tipsim: run: 91/91 days (100%), day 90; elapsed")
    with JobProgress("run", 3, LOG, "day") as bar:  # fewer steps than lines: every step
        for _ in range(3):
            bar.update()
    assert [line.split(";")[0] for line in capsys.readouterr().err.splitlines()] == [
        "tipsim: run: 1/3 days (33%)", "tipsim: run: 2/3 days (66%)", "tipsim: run: 3/3 days (100%)"]
    with JobProgress("figures", None, LOG, "figure") as bar:
        bar.update("a drawn")
        bar.update("b drawn")
    assert [line.split(";")[0] for line in capsys.readouterr().err.splitlines()] == [
        "tipsim: figures: figure 1, a drawn", "tipsim: figures: figure 2, b drawn"]
    with JobProgress("run", 91, QUIET, "day") as bar:
        bar.update(lambda: pytest.fail("a label is made only for a line written"))
    assert capsys.readouterr().err == ""


def test_progress_modes():
    assert (BAR, LOG, QUIET) == (ensemble_progress.BAR, ensemble_progress.LOG, ensemble_progress.QUIET)
    assert resolve_mode(False) == QUIET and resolve_mode(LOG) == LOG and resolve_mode(BAR) == BAR
    assert resolve_mode(True) == (BAR if sys.stderr.isatty() else LOG)
    with pytest.raises(ValueError, match="progress = 'loud'"):
        resolve_mode("loud")


# --------------------------------------------------------------------------------------------
# model.daily() after partial stepping
# --------------------------------------------------------------------------------------------


def test_daily_after_partial_stepping_has_only_the_simulated_days():
    cfg = load_config([SHORT, "scenario=departure_screening", "interventions.departure_screening.start=2020-03-01"])
    full = TraffickingModel(cfg).run()
    model = TraffickingModel(cfg)
    before = model.daily()
    assert len(before) == 0 and list(before.columns) == list(full.columns)
    for _ in range(40):
        model.step()
    part = model.daily()
    assert len(part) == 40 and part["date"].iloc[-1] == pd.Timestamp("2020-02-09")
    pd.testing.assert_frame_equal(part, full.iloc[:40])  # the same numbers, and no rows for later days
    assert full["intervention_cost_usd"].iloc[40:].gt(0).any()  # later days' scheduled costs are not shown early
    for _ in range(model.n_days - 40):
        model.step()
    pd.testing.assert_frame_equal(model.daily(), full)
    assert np.array_equal(model.daily()["date"], pd.date_range("2020-01-01", "2020-03-31"))


# --------------------------------------------------------------------------------------------
# Default folders
# --------------------------------------------------------------------------------------------


def test_default_out_dirs_keep_runs_compare_and_sweep_apart():
    assert load_config().out_dir.startswith("results/baseline/")  # `make run`: results/baseline/<timestamp>
    assert load_config(["scenario=combined"]).out_dir.startswith("results/combined/")
    for name, folder in DEFAULT_OUT_DIRS.items():
        override = default_out_dir(name, ["replicates=2"], multirun=False)
        assert re.fullmatch(rf"out_dir={folder}/\d{{4}}-\d\d-\d\d_\d\d-\d\d-\d\d", override)
        assert default_out_dir(name, ["out_dir=mine"], multirun=False) is None
        assert default_out_dir(name, ["++out_dir=mine"], multirun=False) is None
    assert set(DEFAULT_OUT_DIRS) == {"compare", "sweep"}
    assert default_out_dir("compare", [], multirun=True) is None  # jobs of a sweep go into hydra.sweep.dir
    assert default_out_dir("run", [], multirun=False) is None
