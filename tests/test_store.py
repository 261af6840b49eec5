"""The ensemble results store: self-checking parts, manifests, file modes, temporaries, failures, provenance.

One small ensemble (2 scenarios x 2 replicates over January 2020) is built once; every other
test damages a copy of it and checks what resuming or reading does.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from sim.config import ConfigError
from sim.ensemble import EnsembleFailed, files, read_daily, read_routes, run_compare, run_task, store
from sim.ensemble.store import LOCK, MANIFEST
from sim.ensemble.tables import TABLES

ROOT = Path(__file__).resolve().parents[1]
TINY = ["start_date=2020-01-01", "end_date=2020-01-31", "compare_start=2020-01-01",
        "scenarios=[baseline,departure_screening]", "replicates=2", "executor=serial"]
LABELS = ["baseline/r0", "baseline/r1", "departure_screening/r0", "departure_screening/r1"]


def run(out: Path, *extra: str, task_fn=run_task):
    return run_compare([*TINY, *extra], out_dir=out, progress="quiet", task_fn=task_fn)


def part(out: Path, scenario: str = "baseline", replicate: int = 1, table: str = "daily") -> Path:
    return out / "parts" / table / f"scenario={scenario}" / f"replicate={replicate}" / "part.parquet"


def everything(out: Path) -> dict[str, pd.DataFrame]:
    frames = {n: pd.read_csv(out / n) if n.endswith(".csv") else pd.read_parquet(out / n) for n in TABLES}
    return {**frames, "daily": read_daily(out), "routes": read_routes(out)}


def assert_same(a: Path, b: Path) -> None:
    ta, tb = everything(a), everything(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("store") / "reference"
    summary = run(out)
    assert summary.complete and summary.ran == 4
    return out


@pytest.fixture
def copy(reference, tmp_path) -> Path:
    out = tmp_path / "ens"
    shutil.copytree(reference, out)
    return out


# --------------------------------------------------------------------------------------------
# Layout: two partitioned datasets
# --------------------------------------------------------------------------------------------


def test_parts_are_hive_partitioned_datasets_any_arrow_tool_reads(reference):
    daily = read_daily(reference)
    direct = ds.dataset(reference / "parts" / "daily", format="parquet", partitioning="hive").to_table().to_pandas()
    assert len(direct) == len(daily) == 4 * 31
    key = ["scenario", "replicate", "date"]
    mine = daily.sort_values(key).reset_index(drop=True)
    theirs = direct.sort_values(key).reset_index(drop=True)
    for column in ("replicate", "seed", "new_victims", "contacts"):
        np.testing.assert_array_equal(mine[column], theirs[column])
    assert (mine["scenario"] == theirs["scenario"].astype(str)).all()
    assert list(daily.columns[:4]) == ["scenario", "replicate", "seed", "date"]
    assert list(pq.read_schema(part(reference)).names[:2]) == ["seed", "date"]  # keys in the path, not the file
    routes = read_routes(reference)
    assert list(routes.columns) == ["scenario", "replicate", "seed", "year", "from", "to", "mode", "travellers"]
    assert set(map(tuple, routes[["scenario", "replicate"]].drop_duplicates().to_numpy())) == {
        ("baseline", 0), ("baseline", 1), ("departure_screening", 0), ("departure_screening", 1)}
    # no route flows hidden in the daily parts' metadata any more
    assert not [k for k in pq.read_schema(part(reference)).metadata if b"route" in k]


def test_read_parts_fills_columns_a_part_lacks(reference):
    """Another scenario's cost column is null in this scenario's rows, as a union of the parts' schemas."""
    paths = [part(reference, s, 0) for s in ("baseline", "departure_screening")]
    cost = "cost_departure_screening"
    assert cost not in pq.read_schema(paths[0]).names and cost in pq.read_schema(paths[1]).names
    both = store.read_parts(paths, ["scenario", "replicate", "date", cost])
    assert list(both.columns) == ["scenario", "replicate", "date", cost]
    assert both.loc[both["scenario"] == "baseline", cost].isna().all()
    assert both.loc[both["scenario"] == "departure_screening", cost].notna().all()


# --------------------------------------------------------------------------------------------
# Self-checking parts (issue 12.4)
# --------------------------------------------------------------------------------------------


def flip(path: Path, offset: int, bit: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def renaming_offset(path: Path) -> int:
    """Offset of a byte whose flipped lowest bit makes the part read back with ``new_wictims`` for ``new_victims``."""
    data = path.read_bytes()
    for m in re.finditer(b"new_victims", data):
        damaged = bytearray(data)
        damaged[m.start() + 4] ^= 1  # v -> w
        try:
            names = pq.read_table(io.BytesIO(bytes(damaged))).schema.names
        except Exception:  # noqa: BLE001 - a flip that makes the file unreadable is not the case wanted here
            continue
        if "new_wictims" in names:
            return m.start() + 4
    raise AssertionError("no single bit flip renames new_victims")


@pytest.mark.parametrize("manifest", ["lost", "not_recorded"])
def test_renamed_column_in_an_unrecorded_part_is_rejected_and_rerun(reference, copy, manifest):
    """The issue's case: one flipped bit renames new_victims in a part the manifest has no digest for."""
    target = part(copy, "baseline", 1)
    flip(target, renaming_offset(target), 0)
    assert "new_wictims" in pq.read_table(target).schema.names
    if manifest == "lost":
        (copy / MANIFEST).unlink()
    else:  # written in the seconds before a kill: the manifest still lists the task as pending
        m = json.loads((copy / MANIFEST).read_text())
        for t in m["tasks"]:
            if t["label"] == "baseline/r1":
                t["status"] = "pending"
                del t["sha256"], t["routes_sha256"]
        (copy / MANIFEST).write_text(json.dumps(m))
    summary = run(copy)
    assert [label for label, _ in summary.corrupt] == ["baseline/r1"]
    assert "new_wictims" in summary.corrupt[0][1]
    assert summary.found_done == 3 and summary.ran == 1 and summary.complete
    assert_same(reference, copy)


def read_back(path: Path) -> tuple[pd.DataFrame, dict]:
    table = pq.read_table(path)
    return table.to_pandas(), dict(table.schema.metadata)


def test_single_bit_flips_anywhere_are_rejected_or_harmless(reference, tmp_path):
    """300 random single-bit flips in a daily part and 150 in a route part: each is either refused by the check
    (re-run) or reads back exactly as written (same columns, types, values and metadata)."""
    from sim.ensemble.tasks import expected_columns

    identity = json.loads(pq.read_schema(part(reference)).metadata[store.PART_KEY])["task"]
    rng = np.random.default_rng(12)
    rejected = 0
    for table, n, rows in (("daily", 300, 31), ("routes", 150, None)):
        original = part(reference, table=table)
        want_frame, want_meta = read_back(original)
        size = original.stat().st_size
        for offset, bit in zip(rng.integers(0, size, n), rng.integers(0, 8, n), strict=True):
            damaged = tmp_path / "part.parquet"
            shutil.copy(original, damaged)
            flip(damaged, int(offset), int(bit))
            state, reason = store.check_part(damaged, identity, table, rows, expected_columns(table))
            assert state in ("ok", "corrupt"), (offset, bit, state, reason)
            if state == "corrupt":
                rejected += 1
                continue
            frame, meta = read_back(damaged)
            pd.testing.assert_frame_equal(frame, want_frame, check_exact=True)
            assert meta == want_meta, (offset, bit)
    assert rejected > 100  # most flips land in data pages, caught by page checksums and the content digest


def test_part_of_another_task_is_refused_not_rerun(reference, copy):
    shutil.copy(part(copy, "baseline", 0), part(copy, "baseline", 1))
    (copy / MANIFEST).unlink()
    with pytest.raises(ConfigError, match=r"replicate=1/part.parquet: made by another task or configuration "
                                          r"\(differs in replicate\)"):
        run(copy)


def test_missing_route_part_reruns_its_task(reference, copy):
    part(copy, "departure_screening", 0, "routes").unlink()
    summary = run(copy)
    assert summary.ran == 1 and summary.found_done == 3 and not summary.corrupt
    assert_same(reference, copy)


# --------------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "not_an_object"])
def test_damaged_manifest_says_deleting_it_is_safe_and_it_is(reference, copy, damage):
    path = copy / MANIFEST
    path.write_bytes(path.read_bytes()[:500] if damage == "truncate" else b"[1, 2]")
    with pytest.raises(ConfigError) as info:
        run(copy)
    message = str(info.value)
    assert "\n" not in message
    assert ("truncated or corrupt" if damage == "truncate" else "not a tipsim manifest (a JSON list") in message
    assert "deleting it is safe" in message
    from sim.plots.results import load_ensemble

    with pytest.raises(ConfigError, match="deleting it is safe"):
        load_ensemble(copy)
    path.unlink()  # as the message says
    summary = run(copy)
    assert summary.found_done == 4 and summary.ran == 0 and summary.complete
    assert_same(reference, copy)


def test_damaged_manifest_outside_an_ensemble_folder_is_not_called_safe_to_delete(tmp_path):
    (tmp_path / MANIFEST).write_text('{"seed": ')
    with pytest.raises(ConfigError, match="cannot tell whether deleting it is safe"):
        files.read_manifest(tmp_path)


# --------------------------------------------------------------------------------------------
# Permissions, temporaries, the lock
# --------------------------------------------------------------------------------------------


def test_importing_and_writing_never_change_the_umask(tmp_path):
    """The process umask is neither read by setting it nor changed; new files and folders get the usual modes."""
    script = (
        "import os, sys\n"
        "os.umask(0o027)\n"
        "def refuse(*a): raise AssertionError('os.umask called')\n"
        "os.umask = refuse\n"
        "import sim.ensemble.store, sim.plots.commands\n"
        "from pathlib import Path\n"
        "from sim.ensemble import files\n"
        "out = Path(sys.argv[1])\n"
        "files.write_text(out / 'a.txt', 'x')\n"
        "folder = files.temporary_folder(out, 'figures')\n"
        "print(oct((out / 'a.txt').stat().st_mode & 0o777), oct(folder.stat().st_mode & 0o777))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0o640", "0o750"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".figures")]  # removed at exit: not released


def test_a_failed_write_leaves_nothing_and_cleanup_touches_only_own_temporaries(tmp_path):
    theirs = tmp_path / ".part.parquet.tmp-4242-deadbeef"
    theirs.write_text("another process's")

    def fail(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.atomic_write(tmp_path / "part.parquet", fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == [theirs.name]
    mine = files.temporary_folder(tmp_path, "figures-partial")
    assert files.remove_own_temporaries() == 1
    assert not mine.exists() and theirs.read_text() == "another process's"


def test_lock_refuses_a_second_runner_and_is_removed(tmp_path):
    with store.locked(tmp_path):
        assert (tmp_path / LOCK).exists()
        with pytest.raises(ConfigError, match="another tipsim run is using this folder"):
            with store.locked(tmp_path):
                pass
    assert not (tmp_path / LOCK).exists()
    with store.locked(tmp_path):  # free again
        pass


# --------------------------------------------------------------------------------------------
# A failed ensemble raises (issue 12.2)
# --------------------------------------------------------------------------------------------


def fail_departure_screening(task):
    if task.scenario == "departure_screening":
        raise ValueError(f"broken {task.label}")
    return run_task(task)


def test_failed_ensemble_raises_the_first_error_and_leaves_no_lock(tmp_path):
    out = tmp_path / "ens"
    with pytest.raises(EnsembleFailed) as info:
        run(out, task_fn=fail_departure_screening)
    assert str(info.value).startswith("2 task(s) failed, first departure_screening/r0: ValueError: broken "
                                      "departure_screening/r0. Run the same command again")
    assert isinstance(info.value.__cause__, ValueError)
    (summary,) = info.value.summaries
    assert summary.ran == 2 and summary.comparison is None
    assert json.loads((out / MANIFEST).read_text())["status"] == "incomplete"
    assert not (out / LOCK).exists() and not (out / "comparison.csv").exists()


def python_example() -> str:
    text = (ROOT / "docs" / "ensembles.md").read_text()
    section = text.split("## From Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_docs_python_example_runs_as_a_script_and_without_its_guard_fails_loudly(tmp_path):
    example = python_example()
    assert 'if __name__ == "__main__":' in example
    small = ('"replicates=1", "workers=1", "start_date=2020-01-01", "end_date=2020-01-10", '
             '"compare_start=2020-01-01"')
    script = example.replace('"replicates=50", "workers=2"', small).replace("results/ext50", str(tmp_path / "ok"))
    assert small in script and str(tmp_path) in script
    lines = script.splitlines()
    guard = lines.index('if __name__ == "__main__":  # needed in a script: worker processes import it')
    unguarded = "\n".join(lines[:guard] + [line.removeprefix("    ") for line in lines[guard + 1:]])
    unguarded = unguarded.replace(str(tmp_path / "ok"), str(tmp_path / "bad"))
    for name, text in (("ok.py", script), ("bad.py", unguarded)):
        (tmp_path / name).write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, name], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for name in ("ok.py", "bad.py")]
    (ok_rc, ok_out, ok_err), (bad_rc, _, bad_err) = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read())
                                                     for p in procs]
    assert ok_rc == 0, ok_err[-3000:]
    assert "extradition" in ok_out and (tmp_path / "ok" / "comparison.csv").exists()
    assert bad_rc != 0
    assert "EnsembleFailed: 2 task(s) failed" in bad_err and "lacks the `if __name__" in bad_err
    assert not (tmp_path / "bad" / LOCK).exists() and not (tmp_path / "bad" / "comparison.csv").exists()


# --------------------------------------------------------------------------------------------
# Provenance: git once per command, not per task
# --------------------------------------------------------------------------------------------


def test_tasks_do_not_run_git_and_the_ensemble_asks_once(tmp_path, monkeypatch):
    import sim.ensemble.runner as runner
    import sim.run as sim_run

    def no_git():
        raise AssertionError("a task ran git")

    calls = []
    monkeypatch.setattr(sim_run, "git_commit", no_git)
    monkeypatch.setattr(runner, "git_commit", lambda: calls.append(1) or "abc123")
    summary = run(tmp_path / "ens")
    assert summary.complete and calls == [1]
    assert json.loads((tmp_path / "ens" / MANIFEST).read_text())["git_commit"] == "abc123"


def test_a_single_run_still_records_its_git_commit(monkeypatch, short_cfg):
    import dataclasses

    import sim.run as sim_run

    monkeypatch.setattr(sim_run, "git_commit", lambda: "abc123")
    cfg = dataclasses.replace(short_cfg, start_date="2020-01-01", end_date="2020-01-05")
    result = sim_run.simulate(cfg)
    assert result.manifest["git_commit"] == "abc123" and result.manifest["versions"]["pandas"] == pd.__version__
    assert "git_commit" not in sim_run.simulate(cfg, provenance=False).manifest


# --------------------------------------------------------------------------------------------
# Folders of the previous layout (tipsim-ensemble/1) still give their figures
# --------------------------------------------------------------------------------------------


def test_figures_read_a_folder_of_the_previous_layout(reference, copy):
    """tipsim-ensemble/1: parts/<scenario>/r00007.parquet holding their key columns, no route-flow parts."""
    from sim.plots.labels import series
    from sim.plots.results import load_ensemble

    m = json.loads((copy / MANIFEST).read_text())
    daily = read_daily(copy)
    for t in m["tasks"]:
        old = Path("parts") / t["scenario"] / f"r{t['replicate']:05d}.parquet"
        rows = daily[(daily["scenario"] == t["scenario"]) & (daily["replicate"] == t["replicate"])]
        (copy / old).parent.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(copy / old, index=False)
        t["part"] = str(old)
        t["sha256"] = files.sha256(copy / old)
        del t["routes"], t["routes_sha256"]
    shutil.rmtree(copy / "parts" / "daily")
    shutil.rmtree(copy / "parts" / "routes")
    (copy / MANIFEST).write_text(json.dumps({**m, "format": "tipsim-ensemble/1"}))
    specs = [series("new_victims"), series("exploited")]
    old, new = load_ensemble(copy), load_ensemble(reference)
    pd.testing.assert_frame_equal(old.series(specs), new.series(specs), check_exact=True)
    pd.testing.assert_frame_equal(read_daily(copy), read_daily(reference), check_exact=True)
    assert old.routes() is None
