"""The corpus of bad inputs (issues 12 and 13): each is refused with ONE line naming the field, exit 2, before any work.

"Before any work" is checked two ways: stepping the model and running an ensemble are replaced
by functions that fail the test if called, and the scratch folder (which holds the out_dir
and every folder a case sets up) must be exactly as it was before the command. Most cases
call :func:`sim.cli.main` in-process (sys.argv, the working directory and logging handlers are
restored afterwards); a few that concern the process itself (a planted Hydra callback, a
closed pipe, the cost of ``--help``) run the console script.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import cli
from sim.cli import COMMANDS, main
from tests.conftest import run_main

ROOT = Path(__file__).resolve().parents[1]
TIPSIM = Path(sys.executable).with_name("tipsim")
WORLD = ROOT / "sim" / "data" / "world"
LONG = "end_date=2999-12-31"  # if any work started, the test would notice (or take 980 simulated years)

PLANTED = """# @package _global_
# a shared scenario file that tries to run code through a Hydra callback
defaults:
  - baseline
scenario:
  name: shared
hydra:
  callbacks:
    pwn:
      _target_: pathlib.Path.write_text
      _args_:
        - {_target_: pathlib.Path, _args_: ["MARKER"]}
        - "ran"
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _manifest(folder: Path, data) -> None:
    _write(folder / "manifest.json", json.dumps(data))


def setup_folders(tmp: Path) -> None:
    """Folders and files the cases refer to as {tmp}/<name>."""
    _manifest(tmp / "run_folder", {"format": "tipsim-run/1", "scenario": "baseline", "seed": 1, "people_created": 5})
    _write(tmp / "run_folder" / "people.parquet", "old seed's people\n")
    _manifest(tmp / "old_run_folder", {"scenario": "baseline", "seed": 1, "people_created": 5})  # before the format tag
    _manifest(tmp / "compare_folder", {"format": "tipsim-ensemble/1", "status": "complete",
                                       "counts": {"done": 2, "tasks": 2}})
    _manifest(tmp / "list_manifest", [1, 2])
    _write(tmp / "broken_manifest" / "manifest.json", '{"format": "tipsim-ensem')
    _manifest(tmp / "no_counts", {"format": "tipsim-ensemble/1", "status": "complete"})
    _write(tmp / "home" / "notes.txt", "a researcher's own file\n")
    _write(tmp / "home" / ".bashrc.tmp-1", "a file named like a temporary\n")
    _write(tmp / "a_file", "not a folder\n")
    for name in ("locations", "routes", "closures"):
        world = tmp / f"world_empty_{name}"
        shutil.copytree(WORLD, world)
        (world / f"{name}.csv").write_text("")
    _write(tmp / "cd_callback" / "scenario" / "shared.yaml", PLANTED.replace("MARKER", str(tmp / "MARKER")))
    _write(tmp / "cd_target" / "world" / "w.yaml", "name: w\nextra:\n  obj:\n    _target_: os.system\n")
    _write(tmp / "cd_package" / "params" / "p.yaml", "# @package hydra.callbacks\nx: 1\n")
    _write(tmp / "cd_defaults" / "scenario" / "d.yaml", "# @package _global_\ndefaults:\n  - override /hydra/launcher: basic\n")
    _write(tmp / "cd_hydra_group" / "hydra" / "launcher" / "evil.yaml", "x: 1\n")
    _write(tmp / "cd_experiment" / "experiment" / "e.yaml", "# @package _global_\nhydra:\n  job:\n    chdir: true\n")
    _write(tmp / "cd_bad_yaml" / "scenario" / "y.yaml", "scenario: [unclosed\n")


# (id, argv with {tmp}, the line expected after "tipsim: error: " (its start))
CASES = [
    # 12.1: every job of a multirun needs its own folder (same out_dir twice: the second is refused; see below)
    # 12.6: no code from data files or overrides; nothing named by configuration is instantiated
    ("callback_in_scenario_file", ["run", "--config-dir", "{tmp}/cd_callback", "scenario=shared", LONG],
     "{tmp}/cd_callback/scenario/shared.yaml: key hydra is not allowed in a scenario file"),
    ("callback_file_in_compare", ["compare", "--config-dir", "{tmp}/cd_callback", "scenarios=[baseline,shared]", LONG],
     "{tmp}/cd_callback/scenario/shared.yaml: key hydra is not allowed in a scenario file"),
    ("target_in_world_file", ["run", "--config-dir", "{tmp}/cd_target", "world=w", LONG],
     "{tmp}/cd_target/world/w.yaml: key extra.obj._target_ is not allowed in a world file"),
    ("package_hydra_header", ["run", "--config-dir", "{tmp}/cd_package", "params=p", LONG],
     "{tmp}/cd_package/params/p.yaml: '# @package hydra.callbacks' is not allowed in a params file"),
    ("defaults_override_hydra", ["run", "--config-dir", "{tmp}/cd_defaults", "scenario=d", LONG],
     "{tmp}/cd_defaults/scenario/d.yaml: key defaults entry {{'override /hydra/launcher': 'basic'}} is not allowed"),
    ("hydra_group_in_config_dir", ["run", "--config-dir", "{tmp}/cd_hydra_group", LONG],
     "{tmp}/cd_hydra_group/hydra/launcher/evil.yaml: a hydra/ folder in --config-dir is not allowed"),
    ("hydra_in_experiment_file", ["run", "--config-dir", "{tmp}/cd_experiment", LONG],
     "{tmp}/cd_experiment/experiment/e.yaml: key hydra is not allowed in an experiment file"),
    ("malformed_yaml_in_config_dir", ["run", "--config-dir", "{tmp}/cd_bad_yaml", LONG],
     "{tmp}/cd_bad_yaml/scenario/y.yaml: not valid YAML at line 2"),
    ("missing_config_dir", ["run", "--config-dir", "{tmp}/nowhere", LONG], "--config-dir {tmp}/nowhere: no such folder"),
    ("plus_hydra_callbacks", ["run", "+hydra.callbacks.pwn._target_=pathlib.Path", LONG],
     "+hydra.callbacks.pwn._target_: '_target_'-style keys are not allowed"),
    ("hydra_callbacks", ["run", "hydra.callbacks.pwn=1", LONG],
     "hydra.callbacks.pwn: Hydra's own settings cannot be changed from tipsim; allowed: hydra/launcher="),
    ("plus_hydra_env", ["run", "+hydra.job.env_set.PYTHONSTARTUP=/x.py", LONG],
     "+hydra.job.env_set.PYTHONSTARTUP: Hydra's own settings cannot be changed"),
    ("hydra_chdir", ["run", "hydra.job.chdir=true", LONG], "hydra.job.chdir: Hydra's own settings cannot be changed"),
    ("delete_hydra_key", ["run", "~hydra.run", LONG], "~hydra.run: Hydra's own settings cannot be changed"),
    ("hydra_callbacks_group", ["run", "hydra/callbacks=x", LONG], "hydra/callbacks: Hydra's own settings cannot be changed"),
    ("unknown_launcher", ["compare", "-m", "hydra/launcher=evil", LONG], "hydra/launcher: Hydra's own settings cannot"),
    ("launcher_target", ["compare", "-m", "hydra.launcher._target_=builtins.print", "seed=1,2", LONG],
     "hydra.launcher._target_: '_target_'-style keys are not allowed"),
    ("launcher_setup", ["compare", "-m", "hydra.launcher.setup=[touch_x]", "seed=1,2", LONG],
     "hydra.launcher.setup: Hydra's own settings cannot be changed"),
    ("target_in_value", ["run", "params.compounds.close_prob={_target_:os.system}", LONG],
     "params.compounds.close_prob: '_target_'-style keys are not allowed"),
    ("target_in_interventions", ["run", "+interventions.x._target_=os.system", LONG],
     "+interventions.x._target_: '_target_'-style keys are not allowed"),
    ("config_name", ["run", "--config-name=evil", LONG], "option --config-name is not supported"),
    ("config_name_short", ["run", "-cn", "evil", LONG], "option -cn is not supported"),
    ("config_path", ["run", "--config-path", "{tmp}", LONG], "option --config-path is not supported"),
    ("experimental_rerun", ["run", "--experimental-rerun", "{tmp}/x.pickle"],
     "option --experimental-rerun is not supported: it loads a pickled configuration"),
    ("unknown_option", ["run", "--bogus", LONG], "unknown option '--bogus'; allowed: -m, --multirun"),
    ("not_an_override", ["run", "seed", LONG], "'seed': not a key=value override"),
    # 12.7: names used in paths; folders of another kind are not overwritten
    ("scenario_name_dotdot", ["run", "scenario.name=../../x", LONG], "scenario.name = '../../x': not a safe name"),
    ("scenario_name_slash", ["run", "scenario.name=a/b", LONG], "scenario.name = 'a/b': not a safe name"),
    ("world_name_dotdot", ["run", "world.name=..", LONG], "world.name = '..': not a safe name"),
    ("scenario_group_path", ["run", "scenario=../../etc/x", LONG], "scenario = ../../etc/x: not a config name"),
    ("compare_scenario_path", ["compare", "scenarios=[baseline,../x]", LONG], "scenarios: '../x' is not a scenario name"),
    ("run_into_run_folder", ["run", "out_dir={tmp}/run_folder", LONG],
     "out_dir = {tmp}/run_folder: not empty (holds a `tipsim run` folder); tipsim does not overwrite"),
    ("run_into_old_run_folder", ["run", "out_dir={tmp}/old_run_folder", LONG],
     "out_dir = {tmp}/old_run_folder: not empty (holds a `tipsim run` folder)"),
    ("run_into_compare_folder", ["run", "out_dir={tmp}/compare_folder", LONG],
     "out_dir = {tmp}/compare_folder: not empty (holds a `tipsim compare` folder)"),
    ("run_into_home", ["run", "out_dir={tmp}/home", LONG],
     "out_dir = {tmp}/home: not empty (holds 2 file(s) or folder(s) not made by tipsim)"),
    ("compare_into_run_folder", ["compare", "scenarios=[baseline,departure_screening]", "out_dir={tmp}/run_folder", LONG],
     "out_dir = {tmp}/run_folder: not empty (holds a `tipsim run` folder)"),
    ("compare_into_home", ["compare", "scenarios=[baseline,departure_screening]", "out_dir={tmp}/home", LONG],
     "out_dir = {tmp}/home: not empty (holds 2 file(s) or folder(s) not made by tipsim)"),
    ("sweep_into_home", ["sweep", "scenarios=[baseline,departure_screening]", "out_dir={tmp}/home", LONG],
     "out_dir = {tmp}/home: not empty (holds 2 file(s) or folder(s) not made by tipsim)"),
    # 12.8: out_dir checked for writability before the work
    ("run_out_dir_is_file", ["run", "out_dir={tmp}/a_file", LONG], "out_dir = {tmp}/a_file: exists and is not a folder"),
    ("run_out_dir_under_file", ["run", "out_dir={tmp}/a_file/sub", LONG],
     "out_dir = {tmp}/a_file/sub: {tmp}/a_file is a file, not a folder"),
    ("run_out_dir_dev_null", ["run", "out_dir=/dev/null", LONG], "out_dir = /dev/null: exists and is not a folder"),
    ("run_out_dir_proc", ["run", "out_dir=/proc/tipsim_results", LONG],
     "out_dir = /proc/tipsim_results: inside /proc, a system folder"),
    ("run_out_dir_sys", ["run", "out_dir=/sys/x/y", LONG], "out_dir = /sys/x/y: inside /sys, a system folder"),
    ("compare_out_dir_dev_null", ["compare", "scenarios=[baseline,departure_screening]", "out_dir=/dev/null", LONG],
     "out_dir = /dev/null: exists and is not a folder"),
    ("compare_out_dir_proc", ["compare", "scenarios=[baseline,departure_screening]", "out_dir=/proc/x", LONG],
     "out_dir = /proc/x: inside /proc, a system folder"),
    ("sweep_out_dir_file", ["sweep", "scenarios=[baseline,departure_screening]", "out_dir={tmp}/a_file", LONG],
     "out_dir = {tmp}/a_file: exists and is not a folder"),
    ("sweep_dir_under_file", ["run", "-m", "seed=1,2", "hydra.sweep.dir={tmp}/a_file/sweep", LONG],
     "hydra.sweep.dir = {tmp}/a_file/sweep: {tmp}/a_file is a file, not a folder"),
    ("sweep_dir_proc", ["compare", "-m", "seed=1,2", "hydra.sweep.dir=/proc/sweep", LONG],
     "hydra.sweep.dir = /proc/sweep: inside /proc, a system folder"),
    ("sweep_dir_not_a_sweep", ["run", "-m", "seed=1,2", "hydra.sweep.dir={tmp}/home", LONG],
     "hydra.sweep.dir = {tmp}/home: not empty (holds 2 file(s) or folder(s) not made by tipsim)"),
    # 12.9: extreme in-bound values; every parameter has a finite upper bound, memory is estimated first
    ("entry_speed_huge", ["run", "params.recruitment.entry_speed=1e308", LONG],
     "params.recruitment.entry_speed = 1e+308: must be within [0, 1] (1/day)"),
    ("background_entries_huge", ["run", "params.migration.background_entries_per_day.KH=1e308", LONG],
     "params.migration.background_entries_per_day.KH = 1e+308: must be within [0, 1e+06] (entries/day)"),
    ("deliberation_days_huge", ["run", "params.recruitment.deliberation_days=1e308", LONG],
     "params.recruitment.deliberation_days = 1e+308: must be > 0 and <= 3650 (days)"),
    ("reach_mean_huge", ["run", "params.recruitment.reach_mean=1e308", LONG],
     "params.recruitment.reach_mean = 1e+308: must be within [0.01, 1000] (responders/day)"),
    ("capacity_mean_huge", ["run", "params.compounds.capacity_mean=1e308", LONG],
     "params.compounds.capacity_mean = 1e+308: must be > 0 and <= 100000 (workers)"),
    ("initial_count_huge", ["run", "params.compounds.initial_count.KH=3e6", LONG],
     "params.compounds.initial_count.KH = 3000000.0: must be within [0, 10000] (compounds)"),
    ("replicates_huge", ["compare", "scenarios=[baseline,departure_screening]", "replicates=50000000", LONG],
     "replicates = 50000000: must be >= 1 and <= 10000"),
    ("profile_multiplier_ten", ["run", "scenario=departure_screening",
                                "+interventions.departure_screening.profile=[[2024-01-01,10]]", LONG],
     "interventions.departure_screening.profile[0] = ['2024-01-01', 10]: multiplier 10 x intensity 0.5 = 5; "
     "the delivered level must stay within [0, 1]"),
    ("run_beyond_memory", ["run", "params.compounds.initial_count.KH=10000", "params.compounds.capacity_mean=100000", LONG],
     "params.compounds.initial_count = {{'KH': 10000.0, 'MM': 4.0, 'LA': 3.0}}: needs an estimated"),
    # 12.10 and 13.8: tracebacks and Hydra's own errors become one line
    ("params_null", ["run", "params=null", LONG], "params = null: a config group needs a name; allowed: default"),
    ("remove_params_group", ["run", "~params", LONG], "params = (removed): a config group needs a name; allowed: default"),
    ("package_override", ["run", "params@hydra.callbacks=default", LONG],
     "params@hydra.callbacks: package overrides ('@') are not supported"),
    ("scenario_empty", ["run", "scenario=", LONG], "scenario = '': a config group needs a name; allowed: asean_coordination"),
    ("unknown_key", ["run", "params.compounds.foo=1", LONG],
     "params.compounds.foo: unknown key; allowed: initial_count, capacity_mean,"),
    ("unknown_top_key", ["run", "nope=1", LONG], "nope: unknown key; allowed: seed, replicate, start_date, end_date"),
    ("wrong_type", ["run", "seed=abc", LONG], "seed: Value 'abc' of type 'str' could not be converted to Integer"),
    ("unknown_scenario", ["run", "scenario=nosuch", LONG],
     "scenario = nosuch: unknown scenario (no scenario/nosuch.yaml); allowed: asean_coordination,"),
    ("unparsable_override", ["run", "seed=[1", LONG], "could not parse the overrides: "),
    ("comma_without_m", ["run", "seed=1,2", LONG], "Ambiguous value for argument 'seed=1,2': to sweep its values add -m"),
    ("shell_completion", ["run", "--shell-completion", "install=bash"], "option --shell-completion is not supported"),
    ("report_no_folder", ["report"], "give the results folder: tipsim report out_dir=DIR (or tipsim report DIR)"),
    ("collect_no_folder", ["collect"], "give the results folder: tipsim collect out_dir=DIR (or tipsim collect DIR)"),
    ("figures_no_folder", ["figures"], "give the results folder: tipsim figures out_dir=DIR (or tipsim figures DIR)"),
    ("report_missing_folder", ["report", "{tmp}/nowhere"], "out_dir = {tmp}/nowhere: no such folder"),
    ("report_run_folder", ["report", "{tmp}/run_folder"],
     "out_dir = {tmp}/run_folder: holds a `tipsim run` folder, not a comparison"),
    ("report_no_manifest", ["report", "{tmp}/home"], "out_dir = {tmp}/home: no manifest.json"),
    ("report_list_manifest", ["report", "{tmp}/list_manifest"],
     "{tmp}/list_manifest/manifest.json: not a tipsim manifest (a JSON list, not an object)"),
    ("report_broken_manifest", ["report", "{tmp}/broken_manifest"], "{tmp}/broken_manifest/manifest.json: truncated or corrupt"),
    ("report_no_counts", ["report", "{tmp}/no_counts"], "out_dir = {tmp}/no_counts: its manifest.json lacks the task counts"),
    ("report_no_window", ["report", "out_dir={tmp}/compare_folder"],
     "out_dir = {tmp}/compare_folder: its manifest.json lacks compare_window"),
]

DATES_AND_FILES = [
    # 12.10: dates are parsed once, at validation, in one format (date.fromisoformat also takes ISO week dates)
    ("compare_week_date", ["compare", "scenarios=[baseline,departure_screening]", "end_date=2020-W13-2"],
     "end_date = '2020-W13-2': not a date; use YYYY-MM-DD"),
    ("run_week_date", ["run", "end_date=2020-W13-2"], "end_date = '2020-W13-2': not a date; use YYYY-MM-DD"),
    # 12.10: a 0-byte world file (pandas EmptyDataError)
    *[(f"empty_{name}_csv", ["run", "world.data_dir={tmp}/world_empty_" + name, LONG],
       f"{{tmp}}/world_empty_{name}/{name}.csv: empty file") for name in ("locations", "routes", "closures")],
    # 13.8: an unknown key added with '+' lists the allowed keys too
    ("plus_unknown_key", ["run", "+nope=1", LONG], "nope: unknown key; allowed: seed, replicate"),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def _caller(tmp_path, monkeypatch, capsys, forbid_work: bool):
    """``call(argv)`` runs ``main`` in ``tmp_path/cwd``; returns (code, stdout, stderr)."""
    import sim.ensemble.commands
    import sim.model

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the input was refused")

    if forbid_work:
        monkeypatch.setattr(sim.model.TraffickingModel, "run", forbidden)
        monkeypatch.setattr(sim.ensemble.commands, "run_ensembles", forbidden)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["pytest"])

    return lambda argv: run_main(argv, capsys)


@pytest.fixture
def restore_logging():
    """Hydra adds handlers to the root logger; take them away again."""
    handlers, level = logging.root.handlers[:], logging.root.level
    yield
    for h in logging.root.handlers[:]:
        if h not in handlers:
            logging.root.removeHandler(h)
            h.close()
    logging.root.setLevel(level)


@pytest.fixture
def call(tmp_path, monkeypatch, capsys, restore_logging):
    """Run ``main`` with stepping the model and running ensembles forbidden."""
    return _caller(tmp_path, monkeypatch, capsys, forbid_work=True)


@pytest.fixture
def call_working(tmp_path, monkeypatch, capsys, restore_logging):
    """Run ``main`` for real (short horizons only)."""
    return _caller(tmp_path, monkeypatch, capsys, forbid_work=False)


def _refused(call, tmp_path, argv, line):
    setup_folders(tmp_path)
    before = _snapshot(tmp_path)
    tmp = str(tmp_path)
    code, out, err = call([a.replace("{tmp}", tmp) for a in argv])
    assert (code, out) == (2, ""), err
    (got,) = err.splitlines()  # one line
    assert got.startswith("tipsim: error: " + line.format(tmp=tmp)), got
    assert _snapshot(tmp_path) == before  # nothing written (not even an empty out_dir), nothing changed
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize("argv, line", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_one_line_before_work(call, tmp_path, argv, line):
    _refused(call, tmp_path, argv, line)


@pytest.mark.parametrize("argv, line", [c[1:] for c in DATES_AND_FILES], ids=[c[0] for c in DATES_AND_FILES])
def test_bad_dates_and_empty_world_files_are_refused_before_work(call, tmp_path, argv, line):
    _refused(call, tmp_path, argv, line)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_unwritable_out_dir_is_refused(call, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, out, err = call(["run", f"out_dir={locked}/x", LONG])
    finally:
        locked.chmod(0o700)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"tipsim: error: out_dir = {locked}/x: cannot write in {locked} (Permission denied)"]


def test_every_config_group_file_is_checked(tmp_path):
    """A scenario file dropped into configs/scenario is held to the same rule as one in --config-dir."""
    bad = _write(tmp_path / "scenario" / "s.yaml", PLANTED)
    with pytest.raises(cli.ConfigRefused, match=r"s\.yaml: key hydra is not allowed in a scenario file"):
        cli.check_config_file(bad, "scenario")
    for path in sorted((cli.CONFIG_DIR).glob("*/*.yaml")):  # the shipped data files pass
        if path.parent.name in cli.DATA_GROUPS:
            cli.check_config_file(path, path.parent.name)


# --------------------------------------------------------------------------------------------
# Accepted and correct
# --------------------------------------------------------------------------------------------


def test_multirun_jobs_each_get_their_own_folder(call_working, tmp_path):
    """12.1: `tipsim run -m seed=1,2` used to write both runs into one timestamped folder."""
    code, out, err = call_working(["run", "-m", "seed=1,2", "end_date=2020-01-05"])
    assert code == 0, err
    jobs = sorted((tmp_path / "cwd" / "multirun").glob("*/*/[0-9]"))
    assert [p.name for p in jobs] == ["0", "1"]
    seeds = [json.loads((p / "manifest.json").read_text())["seed"] for p in jobs]
    assert seeds == [1, 2]


def test_multirun_into_one_given_out_dir_keeps_the_first_job(call_working, tmp_path):
    out_dir = tmp_path / "same"
    code, out, err = call_working(["run", "-m", "seed=1,2", "end_date=2020-01-05", f"out_dir={out_dir}"])
    assert code == 2
    errors = [line for line in err.splitlines() if not line.startswith("tipsim: run: ")]  # not the progress lines
    assert errors == [f"tipsim: error: out_dir = {out_dir}: not empty (holds a `tipsim run` folder); tipsim "
                                "does not overwrite or mix results: give a new or empty folder"]
    assert json.loads((out_dir / "manifest.json").read_text())["seed"] == 1


def test_compare_lists_and_finds_scenarios_of_the_config_dir(call, tmp_path):
    """13.5: `compare` knows the scenarios of --config-dir (it used to say "unknown scenario")."""
    _write(tmp_path / "mine" / "scenario" / "my_screening.yaml",
           "# @package _global_\ndefaults:\n  - baseline\nscenario:\n  name: my_screening\n")
    code, out, err = call(["compare", "--config-dir", str(tmp_path / "mine"), "scenarios=[baseline,nope]", LONG])
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("tipsim: error: scenarios: unknown scenario 'nope'; known: ")
    assert "my_screening" in line.split("known: ")[1].split(", ")


@pytest.mark.slow
def test_compare_runs_a_scenario_of_the_config_dir(tmp_path):
    _write(tmp_path / "mine" / "scenario" / "my_screening.yaml",
           "# @package _global_\ndefaults:\n  - baseline\nscenario:\n  name: my_screening\ninterventions:\n"
           "  departure_screening: {start: '2020-01-02', intensity: 0.5}\n")
    out = tmp_path / "out"
    done = subprocess.run([str(TIPSIM), "compare", "--config-dir", str(tmp_path / "mine"),
                           "scenarios=[baseline,my_screening]", "replicates=1", "end_date=2020-01-10",
                           "compare_start=2020-01-01", "executor=serial", f"out_dir={out}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "parts" / "daily").iterdir()) == ["scenario=baseline", "scenario=my_screening"]
    import pandas as pd

    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"my_screening"}
    stops = table.loc[table["outcome"] == "false_positive_stops", "scenario_mean"].item()
    assert stops > 0  # the user's screening acted


# --------------------------------------------------------------------------------------------
# The process: a planted callback, help, pipes
# --------------------------------------------------------------------------------------------


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "HYDRA_FULL_ERROR": "0"}


def test_planted_callback_is_refused_and_never_runs(tmp_path):
    """12.6: the scenario file of the issue (it wrote a file through a Hydra callback) is refused as the user runs it."""
    marker = tmp_path / "MARKER"
    _write(tmp_path / "cd" / "scenario" / "shared.yaml", PLANTED.replace("MARKER", str(marker)))
    out = tmp_path / "out"
    done = subprocess.run([str(TIPSIM), "run", "--config-dir", str(tmp_path / "cd"), "scenario=shared",
                           "end_date=2020-01-03", f"out_dir={out}"], cwd=tmp_path, capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        f"tipsim: error: {tmp_path}/cd/scenario/shared.yaml: key hydra is not allowed in a scenario file: configuration "
        "files may not configure Hydra or name Python objects (_target_)"]
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_has_its_own_short_help(capsys, name):
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == f"usage: tipsim {name} [key=value ...]"
    assert COMMANDS[name].doc in lines and f"example:   {COMMANDS[name].example}" in lines
    assert len(lines) < 15 and "completion" not in text.lower()


def test_help_is_fast_and_does_not_import_the_model():
    code = ("import sys, time; t = time.process_time(); from sim.cli import main; main(['compare', '--help']); "
            "print(round(time.process_time() - t, 3), [m for m in ('sim.model', 'numba', 'pandas', 'mesa', 'matplotlib') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    seconds, imported = done.stdout.splitlines()[-1].split(" ", 1)
    assert imported == "[]"
    assert float(seconds) < 1.0  # CPU s (wall time varies on a shared machine); was 3.7 s with the whole model imported
    start = time.perf_counter()
    subprocess.run([str(TIPSIM), "run", "--help"], capture_output=True, env=_env(), check=True, timeout=60)
    assert time.perf_counter() - start < 2.5  # interpreter start included, on a shared machine


def test_usage_does_not_advertise_tab_completion(capsys):
    assert main(["--help"]) == 0
    assert "completion" not in capsys.readouterr().out.lower()


@pytest.mark.parametrize("argv", [["--help"], ["experiment"]])
def test_closed_pipe_gives_no_traceback(tmp_path, argv):
    """`tipsim ... | head`: the reader leaves before tipsim writes; no BrokenPipeError report."""
    proc = subprocess.Popen([str(TIPSIM), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env=_env())
    proc.stdout.close()  # before the interpreter has started, so every write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""
