"""Ensembles: identical results on every executor, resume after failures, corrupt parts, bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.config import ConfigError
from sim.ensemble import EnsembleFailed, read_daily, run_compare, run_task
from sim.ensemble.store import LOCK, MANIFEST, read_parts
from sim.ensemble.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["start_date=2024-01-01", "end_date=2024-01-31", "scenarios=[baseline,departure_screening]", "replicates=2"]
"""A 31-day horizon from the interventions' start: 4 tasks of about a second each."""


def run(out: Path, *extra: str, task_fn=run_task, executor: str = "serial"):
    return run_compare([*SHORT, f"executor={executor}", *extra], out_dir=out, progress="quiet", task_fn=task_fn)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    """The combined tables and the daily dataset of an ensemble folder."""
    frames = {name: pd.read_csv(out / name) if name.endswith(".csv") else pd.read_parquet(out / name) for name in TABLES}
    frames["daily"] = read_daily(out)
    return frames


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted serial run: the tables every other run must reproduce."""
    out = tmp_path_factory.mktemp("ens") / "reference"
    summary = run(out)
    assert summary.complete and summary.ran == 4 and not summary.failed
    return out


# --------------------------------------------------------------------------------------------
# Layout and contents
# --------------------------------------------------------------------------------------------


def test_folder_layout_and_manifest(reference):
    m = json.loads((reference / MANIFEST).read_text())
    assert m["status"] == "complete" and m["reference"] == "baseline"
    assert m["counts"] == {"tasks": 4, "done": 4, "failed": 0}
    assert m["seeds"]["seed"] == 20200101 and m["seeds"]["replicates"] == [0, 1]
    assert {t["label"] for t in m["tasks"]} == {"baseline/r0", "baseline/r1", "departure_screening/r0", "departure_screening/r1"}
    assert all(t["status"] == "done" and t["wall_s"] > 0 for t in m["tasks"])
    assert m["versions"]["pandas"] == pd.__version__ and "git_commit" in m and len(m["code_version"]) == 16
    assert m["executor"]["name"] == "serial"
    assert m["compare_window"] == ["2024-01-01", "2024-01-31"]
    assert (reference / "config" / "departure_screening.yaml").read_text().count("departure_screening") >= 2
    for table in ("daily", "routes"):
        assert sorted(p.relative_to(reference / "parts" / table).as_posix() for p in (reference / "parts" / table).rglob("*.parquet")) == [
            f"scenario={s}/replicate={r}/part.parquet" for s in ("baseline", "departure_screening") for r in (0, 1)]
    assert {t["part"] for t in m["tasks"]} == {f"parts/daily/scenario={s}/replicate={r}/part.parquet"
                                               for s in ("baseline", "departure_screening") for r in (0, 1)}
    assert not list(reference.rglob(".*.tmp-*")) and not (reference / LOCK).exists()


def test_parts_are_keyed_and_paired(reference):
    daily = read_daily(reference)
    assert list(daily.columns[:4]) == ["scenario", "replicate", "seed", "date"]
    assert not daily.duplicated(["scenario", "replicate", "date"]).any()
    assert len(daily) == 4 * 31 and set(daily["seed"]) == {20200101}
    # Common random numbers: before screening has any effect the paired runs coincide
    # (recruitment on day 1 does not depend on screening at the hubs).
    first = daily[daily["date"] == "2024-01-01"].set_index(["replicate", "scenario"])["contacts"].unstack()
    assert (first["baseline"] == first["departure_screening"]).all()


def test_comparison_table(reference):
    comp = pd.read_csv(reference / "comparison.csv")
    assert set(comp["scenario"]) == {"departure_screening"}
    assert list(comp["outcome"]) == ["victims", "person_days_exploited", "embassy_cases", "rescued", "repatriated",
                                     "recruiters_arrested", "false_positive_stops", "displacement", "cost_usd",
                                     "cost_per_victim_averted"]
    fp = comp.set_index("outcome").loc["false_positive_stops"]
    assert fp.effect_mean > 0 and fp.ci_low <= fp.effect_mean <= fp.ci_high  # screening stops legitimate travellers
    cost = comp.set_index("outcome").loc["cost_usd"]
    assert cost.effect_mean == pytest.approx(2e6 * 0.5 * 31 / 365)  # USD 2M/year at intensity 0.5, for 31 days
    totals = pd.read_parquet(reference / "totals.parquet")
    assert len(totals) == 4 and not totals.duplicated(["scenario", "replicate"]).any()


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_executors_give_identical_tables(reference, tmp_path, executor):
    summary = run(tmp_path / executor, "workers=2", executor=executor)
    assert summary.complete and summary.ran == 4
    assert_same_tables(reference, tmp_path / executor)
    m = json.loads((tmp_path / executor / MANIFEST).read_text())
    assert m["executor"]["name"] == executor and m["executor"]["workers"] == 2


def test_run_replicates_is_independent_of_executor(short_cfg):
    import dataclasses

    from sim.config import ExecutorConfig
    from sim.run import run_replicates

    cfg = dataclasses.replace(short_cfg, start_date="2022-01-01", end_date="2022-01-20")
    serial = run_replicates(dataclasses.replace(cfg, executor=ExecutorConfig("serial")), 2)
    parallel = run_replicates(cfg, 2, workers=2)
    for a, b in zip(serial, parallel, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_worker_memory_does_not_grow_across_tasks(tmp_path):
    """Twenty tasks in one worker process: peak memory after the 5th and the 20th is the same."""
    summary = run_compare(["start_date=2024-01-01", "end_date=2024-01-10", "scenarios=[baseline,departure_screening]",
                           "replicates=10", "executor=processes", "workers=1"], out_dir=tmp_path, progress="quiet")
    assert summary.complete
    tasks = sorted(json.loads((tmp_path / MANIFEST).read_text())["tasks"], key=lambda t: t["finished_utc"])
    assert len({t["pid"] for t in tasks}) == 1
    peaks = [t["peak_memory_mb"] for t in tasks]
    assert peaks[-1] - peaks[4] < 10, peaks


def test_progress_lines_name_the_point_or_job_of_a_sweep(tmp_path, capsys):
    """Log lines of a sweep say which point (point_000) or multirun job (its numbered folder) a task belongs to."""
    from sim.ensemble import compose, plan, run_ensembles

    overrides = ["start_date=2024-01-01", "end_date=2024-01-05", "scenarios=[baseline,departure_screening]",
                 "replicates=1", "executor=serial"]
    cfg = compose(overrides)
    ensembles = [plan(cfg, overrides, tmp_path / "point_000", sweep={"x": 0.25}),
                 plan(cfg, overrides, tmp_path / "3", sweep={"x": 0.75}),
                 plan(cfg, overrides, tmp_path / "lone")]
    run_ensembles(ensembles, progress="log")
    labels = sorted(re.fullmatch(r"tipsim: \[\d/6\] (.+) done in .*", line).group(1)
                    for line in capsys.readouterr().err.splitlines())
    assert labels == ["baseline/r0", "departure_screening/r0", "job 3: baseline/r0", "job 3: departure_screening/r0",
                      "point_000: baseline/r0", "point_000: departure_screening/r0"]


@pytest.mark.parametrize("done, first_line", [
    (0, None),
    (3, "tipsim: 3/8 tasks already done; running the other 5"),
    (8, "tipsim: all 8 tasks already done; nothing to run"),
])
def test_progress_says_truthfully_what_resumes(capsys, done, first_line):
    from sim.ensemble.progress import LOG, Progress

    with Progress(8, LOG, done=done):
        pass
    assert capsys.readouterr().err.splitlines() == ([first_line] if first_line else [])


# --------------------------------------------------------------------------------------------
# Resume
# --------------------------------------------------------------------------------------------


def raise_once(task):
    """A task function whose departure_screening/r1 fails the first time."""
    marker = task.out_dir / "failed-once"
    if task.label == "departure_screening/r1" and not marker.exists():
        marker.touch()
        raise RuntimeError("simulated failure")
    return run_task(task)


def kill_worker_once(task):
    """A task function that kills its worker process the first time it meets baseline/r1."""
    marker = task.out_dir / "killed-once"
    if task.label == "baseline/r1" and not marker.exists():
        marker.touch()
        os._exit(1)
    return run_task(task)


def test_resume_after_a_task_raised(reference, tmp_path):
    out = tmp_path / "ens"
    with pytest.raises(EnsembleFailed, match=r"1 task\(s\) failed, first departure_screening/r1: RuntimeError: "
                                             "simulated failure. Run the same command again") as info:
        run(out, task_fn=raise_once)
    assert str(info.value.__cause__) == "simulated failure"  # raised from the task's own error
    (first,) = info.value.summaries
    assert not first.complete and first.ran == 3
    assert first.failed == [("departure_screening/r1", "RuntimeError: simulated failure")]
    m = json.loads((out / MANIFEST).read_text())
    assert m["status"] == "incomplete" and m["counts"]["failed"] == 1
    assert not (out / "comparison.csv").exists() and not (out / LOCK).exists()
    second = run(out, task_fn=raise_once)
    assert second.complete and second.found_done == 3 and second.ran == 1
    assert_same_tables(reference, out)
    assert len(json.loads((out / MANIFEST).read_text())["sessions"]) == 2


def test_resume_after_a_worker_was_killed(reference, tmp_path):
    out = tmp_path / "ens"
    with pytest.raises(EnsembleFailed, match="BrokenProcessPool") as info:
        run(out, "workers=2", task_fn=kill_worker_once, executor="processes")
    (first,) = info.value.summaries
    assert not first.complete and first.failed
    assert any("BrokenProcessPool" in err for _, err in first.failed)
    second = run(out, "workers=2", executor="processes")
    assert second.complete and second.found_done + second.ran == 4 and 1 <= second.ran <= len(first.failed)
    assert_same_tables(reference, out)


def test_killed_cli_run_resumes_without_duplicates(reference, tmp_path):
    """SIGKILL a `tipsim compare` process mid-run; the same command then finishes with the same tables."""
    out = tmp_path / "ens"
    cmd = [sys.executable, "-m", "sim", "compare", *SHORT, "executor=serial", f"out_dir={out}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob("parts/daily/*/*/part.parquet"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "comparison.csv").exists()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "paired comparison vs baseline" in done.stdout
    # stderr is a pipe here: plain log lines (no tqdm bar), the first saying truthfully what resumes
    lines = done.stderr.splitlines()
    assert "\r" not in done.stderr and lines, done.stderr
    found = int(re.fullmatch(r"tipsim: (\d)/4 tasks already done; running the other (\d)", lines[0]).group(1))
    assert lines[0].endswith(f"running the other {4 - found}") and len(lines) == 1 + 4 - found
    assert all(re.fullmatch(r"tipsim: \[\d/4\] \w+/r\d done in [\d.]+ s; [\d.]+ tasks/min, ETA \S+", line)
               for line in lines[1:]), lines
    assert_same_tables(reference, out)
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr.splitlines() == ["tipsim: all 4 tasks already done; nothing to run"]


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_corrupt_part_is_detected_and_rerun(reference, tmp_path, damage):
    out = tmp_path / "ens"
    shutil.copytree(reference, out)
    part = out / "parts" / "daily" / "scenario=departure_screening" / "replicate=1" / "part.parquet"
    data = bytearray(part.read_bytes())
    if damage == "truncate":
        part.write_bytes(data[: len(data) // 2])
    else:
        mid = len(data) // 2
        data[mid : mid + 64] = bytes(64)
        part.write_bytes(bytes(data))
    (out / "comparison.csv").unlink()
    summary = run(out)
    assert summary.complete and summary.ran == 1 and summary.found_done == 3
    assert [label for label, _ in summary.corrupt] == ["departure_screening/r1"]
    assert_same_tables(reference, out)


def test_files_that_look_temporary_are_never_deleted(reference, tmp_path):
    """Only temporaries this process created are cleaned up: a file that looks like a leftover is left alone."""
    out = tmp_path / "ens"
    shutil.copytree(reference, out)
    junk = out / "parts" / "daily" / "scenario=baseline" / "replicate=0" / ".part.parquet.tmp-abc"
    theirs = out / ".notes.tmp-1"
    for f in (junk, theirs):
        f.write_bytes(b"not ours")
    summary = run(out)
    assert summary.complete and summary.ran == 0
    assert junk.read_bytes() == theirs.read_bytes() == b"not ours"
    assert_same_tables(reference, out)


def test_more_replicates_extend_an_ensemble(reference, tmp_path):
    out = tmp_path / "ens"
    shutil.copytree(reference, out)
    summary = run(out, "replicates=3")
    assert summary.complete and summary.found_done == 4 and summary.ran == 2
    assert len(pd.read_parquet(out / "totals.parquet")) == 6


def test_another_configuration_is_refused(reference, tmp_path):
    out = tmp_path / "ens"
    shutil.copytree(reference, out)
    with pytest.raises(ConfigError, match="another configuration"):
        run(out, "seed=7")
    (out / MANIFEST).unlink()  # without the manifest, the parts' own identity still protects them
    with pytest.raises(ConfigError, match="another task or configuration"):
        run(out, "seed=7")
    parts = sorted(out.glob("parts/daily/*/*/part.parquet"))
    assert len(parts) == 4
    pd.testing.assert_frame_equal(read_parts(parts), read_parts(sorted(reference.glob("parts/daily/*/*/part.parquet"))))


# --------------------------------------------------------------------------------------------
# Bad input: one clear error, before any task runs or anything is written
# --------------------------------------------------------------------------------------------


def never(task):
    raise AssertionError("a task ran despite bad input")


@pytest.mark.parametrize("overrides, message", [
    (["scenarios=[baseline,nonsense]"], r"unknown scenario 'nonsense'; known: .*departure_screening"),
    (["replicates=0"], r"replicates = 0: must be >= 1"),
    (["executor=nonsense"], r"(?s)Could not find 'executor/nonsense'.*serial"),
    (["executor.name=nonsense"], r"unknown executor; allowed: serial, processes, dask"),
    (["scenarios=[baseline]"], r"at least one other scenario"),
    (["scenarios=[baseline,baseline]"], r"listed twice"),
    (["compare_start=2030-01-01"], r"compare_start = 2030-01-01: must lie within the horizon"),
    (["executor.timeout_s=0"], r"executor.timeout_s = 0.0: must be within \(0, 86400\] seconds"),
])
def test_bad_input_fails_before_anything_runs(tmp_path, overrides, message):
    out = tmp_path / "never"
    with pytest.raises(ConfigError, match=message):
        run_compare([*SHORT, *overrides], out_dir=out, progress="quiet", task_fn=never)
    assert not out.exists()


def test_cli_bad_input_is_one_clear_error(tmp_path):
    out = tmp_path / "never"
    done = subprocess.run([sys.executable, "-m", "sim", "compare", "scenarios=[baseline,nonsense]", f"out_dir={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("tipsim: error: scenarios: unknown scenario 'nonsense'; known:")
    assert "Traceback" not in done.stderr and not out.exists()


def test_cli_report_reprints_the_comparison(reference):
    done = subprocess.run([sys.executable, "-m", "sim", "report", f"out_dir={reference}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "paired comparison vs baseline" in done.stdout
    assert "false_positive_stops" in done.stdout and "cost_per_victim_averted" in done.stdout


def test_route_flows_of_every_task_are_kept_with_its_part(tmp_path):
    """Each task writes its run's route flows as a part of the routes dataset; read_routes returns them keyed like
    the daily tables."""
    from sim.ensemble import read_daily, read_routes, run_compare

    out = tmp_path / "routes"
    run_compare(["scenarios=[baseline,departure_screening]", "replicates=2", "start_date=2024-01-01",
                 "end_date=2024-01-31", "executor=serial"], out_dir=out, progress="quiet")
    routes = read_routes(out)
    daily = read_daily(out, columns=["scenario", "replicate", "departures"])
    assert set(map(tuple, routes[["scenario", "replicate"]].drop_duplicates().to_numpy())) == {
        ("baseline", 0), ("baseline", 1), ("departure_screening", 0), ("departure_screening", 1)}
    assert {"year", "from", "to", "mode", "travellers"} <= set(routes.columns)
    first_legs = routes[routes["from"].str.startswith("id_")].groupby(["scenario", "replicate"])["travellers"].sum()
    departures = daily.groupby(["scenario", "replicate"])["departures"].sum()
    assert (first_legs.sort_index() == departures.sort_index()).all()


def test_cli_compare_with_a_failed_task_exits_non_zero_with_its_error(tmp_path):
    """A task that cannot write its part (a file stands where its folder should be): exit 1, the task's error, no lock."""
    out = tmp_path / "ens"
    blocker = out / "parts" / "daily" / "scenario=baseline" / "replicate=0"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    done = subprocess.run([sys.executable, "-m", "sim", "compare", *SHORT, "executor=serial", f"out_dir={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("tipsim: error: 1 task(s) failed, first baseline/r0: FileExistsError")
    assert "Run the same command again (same out_dir) to resume" in done.stderr and "Traceback" not in done.stderr
    assert not (out / LOCK).exists() and not (out / "comparison.csv").exists()
    m = json.loads((out / MANIFEST).read_text())
    assert m["status"] == "incomplete" and m["counts"] == {"tasks": 4, "done": 3, "failed": 1}


def test_cli_report_on_a_run_folder_is_one_clear_error(tmp_path, short_cfg):
    import dataclasses

    from sim.run import simulate, write_run

    cfg = dataclasses.replace(short_cfg, start_date="2020-01-01", end_date="2020-01-05")
    folder = write_run(simulate(cfg), cfg, tmp_path / "run")
    done = subprocess.run([sys.executable, "-m", "sim", "report", f"out_dir={folder}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"tipsim: error: out_dir = {folder}: holds a `tipsim run` folder, not a "
                                        "comparison; give the out_dir of a `tipsim compare` run"]
