"""The command line's error path: bad input fails fast, says what is wrong, and writes nothing.

The main cases run the ``tipsim`` console script in subprocesses, as a user runs it, each in
its own empty working directory; they are started together (module fixture) so the file
costs about one interpreter start-up. Failing runs are given a horizon of 980 years: if any
work started before the error the subprocess would time out instead of failing at once.
Further cases call ``sim.cli.main`` in-process (with sys.argv, the working directory and the
root logger's handlers restored afterwards, since Hydra changes all three).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import COMMANDS, main
from tests.conftest import run_main

TIPSIM = Path(sys.executable).with_name("tipsim")
LONG = "end_date=2999-12-31"  # validation must fail before a 980-year run could start
TIMEOUT = 120

SENTINELS = {"old.txt": "results of an earlier run\n", "daily.parquet": "not really parquet\n"}


def _start(workdir: Path, args: list[str]) -> subprocess.Popen:
    workdir.mkdir(parents=True)
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.Popen(
        [str(TIPSIM), *args], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Run the console-script cases concurrently; results[name] = (returncode, stdout, stderr)."""
    assert TIPSIM.exists(), f"console script not installed at {TIPSIM}"
    root = tmp_path_factory.mktemp("cli")
    existing = root / "existing_out"
    existing.mkdir()
    for name, text in SENTINELS.items():
        (existing / name).write_text(text)
    before = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in existing.iterdir()}
    cases = {
        "range": ["run", "params.compounds.close_prob=1.5", LONG, f"out_dir={root / 'range_out' / 'x'}"],
        "existing": ["run", "params.compounds.close_prob=1.5", LONG, f"out_dir={existing}"],
    }
    procs = {name: _start(root / f"cwd_{name}", args) for name, args in cases.items()}
    results = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"tipsim {' '.join(cases[name])} did not fail fast (still running after {TIMEOUT} s)")
        results[name] = (proc.returncode, out, err)
    return {"root": root, "existing": existing, "before": before, "results": results}


def _cwd_files(cli, name: str) -> list[str]:
    return sorted(p.name for p in (cli["root"] / f"cwd_{name}").iterdir())


def test_out_of_range_value_fails_with_one_line_naming_the_key(cli):
    rc, out, err = cli["results"]["range"]
    assert rc == 2
    assert out == ""  # no summary, no progress
    assert err.splitlines() == ["tipsim: error: params.compounds.close_prob = 1.5: must be within [0, 1] (probability)"]


def test_failed_run_writes_nothing_to_out_dir(cli):
    out_parent = cli["root"] / "range_out"
    assert not (out_parent / "x").exists()
    assert not out_parent.exists() or list(out_parent.iterdir()) == []  # no half-written temporary folder


def test_existing_out_dir_is_untouched_by_a_failed_validation(cli):
    rc, _, err = cli["results"]["existing"]
    assert rc == 2 and "params.compounds.close_prob" in err
    after = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in cli["existing"].iterdir()}
    assert after == cli["before"]
    assert [p.name for p in cli["existing"].parent.iterdir() if p.name.startswith(".existing_out.tmp")] == []


def test_failed_run_leaves_the_working_directory_empty(cli):
    for case in ("range", "existing"):
        assert _cwd_files(cli, case) == [], case


def test_unknown_command_lists_the_commands(capsys):
    assert main(["nosuchcommand", "seed=1"]) == 2  # the console script exits with main()'s value
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"tipsim: error: unknown command 'nosuchcommand'; known: {', '.join(COMMANDS)}"]
    assert set(COMMANDS) >= {"run", "targets", "docs"}


@pytest.mark.parametrize("argv", [[], ["--help"], ["help"]])
def test_main_in_process_usage_lists_the_commands(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tipsim <command> [key=value ...]")
    for name, command in COMMANDS.items():
        assert f"  {name:<10} {command.doc}" in out


# --------------------------------------------------------------------------------------------
# In-process: sim.cli.main
# --------------------------------------------------------------------------------------------


@pytest.fixture
def in_process(tmp_path, monkeypatch):
    """Run ``main(argv)`` in a scratch directory; return (exit code, stdout, stderr)."""
    handlers, level = logging.root.handlers[:], logging.root.level
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["pytest"])

    yield run_main
    for h in logging.root.handlers[:]:
        if h not in handlers:
            logging.root.removeHandler(h)
            h.close()
    logging.root.setLevel(level)


def test_end_before_start_fails_naming_both_dates(in_process, capsys, tmp_path):
    code, out, err = in_process(["run", "start_date=2021-01-01", "end_date=2020-12-31", f"out_dir={tmp_path / 'o'}"], capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == ["tipsim: error: end_date = 2020-12-31: must not be before start_date (2021-01-01)"]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "override, line",
    [
        ("params.compounds.close_prob=abc",
         "params.compounds.close_prob: Value 'abc' of type 'str' could not be converted to Float"),
        ("params.compounds.foo=1", "params.compounds.foo: unknown key; allowed: initial_count, capacity_mean, "),
        ("world.nope=1", "world.nope: unknown key; allowed: name, data_dir, locations, routes, closures, countries, max_legs"),
        ("scenario=nosuch", "scenario = nosuch: unknown scenario (no scenario/nosuch.yaml); allowed: asean_coordination, "),
    ],
)
def test_composition_errors_are_one_line_naming_the_key_and_write_nothing(in_process, capsys, tmp_path, override, line):
    """Hydra's composition errors (wrong type, unknown key, unknown group option) read like tipsim's own: exit 2."""
    code, out, err = in_process(["run", override, LONG, f"out_dir={tmp_path / 'o'}"], capsys)
    assert code == 2 and out == ""
    (got,) = err.splitlines()
    assert got.startswith(f"tipsim: error: {line}")
    assert list(tmp_path.iterdir()) == []  # composition fails before Hydra even sets up logging


def test_failure_after_validation_writes_nothing(in_process, capsys, tmp_path):
    """This config passes validation and fails while binding the intervention to the world."""
    code, out, err = in_process(
        ["run", "+interventions.departure_screening.hubs=[hub_nowhere]", "start_date=2022-01-01",
         "end_date=2022-01-03", f"out_dir={tmp_path / 'new_out'}"],
        capsys,
    )
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("tipsim: error: interventions.departure_screening.hubs = 'hub_nowhere': unknown location; allowed: ")
    assert "hub_cgk" in line
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temporary one


def test_run_refuses_a_non_empty_out_dir_before_work(in_process, capsys, tmp_path):
    existing = tmp_path / "existing_out"
    existing.mkdir()
    for name, text in SENTINELS.items():
        (existing / name).write_text(text)
    before = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in existing.iterdir()}
    code, out, err = in_process(["run", LONG, f"out_dir={existing}"], capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == [f"tipsim: error: out_dir = {existing}: not empty (holds 2 file(s) or folder(s) not made "
                                "by tipsim); tipsim does not overwrite or mix results: give a new or empty folder"]
    after = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in existing.iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["existing_out"]
