"""Experiments: the registry, the READMEs that show its commands, and `tipsim experiment` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sim.ensemble.plan import known_scenarios
from sim.plots.experiments import (
    E2_SCENARIOS,
    EXPERIMENTS,
    default_out,
    merge_overrides,
    resolve,
)

ROOT = Path(__file__).resolve().parents[1]
TIPSIM = Path(sys.executable).with_name("tipsim")


def test_every_experiment_has_a_readme_with_its_commands():
    assert set(EXPERIMENTS) >= {"E1", "E2", "E3", "E4"}
    index = (ROOT / "experiments" / "README.md").read_text()
    for name, exp in EXPERIMENTS.items():
        readme = (ROOT / "experiments" / name / "README.md").read_text()
        assert readme.startswith(f"# {name} - {exp.title}")
        for heading in ("**Question.**", "**Command.**", "**Expected runtime.**", "**Figures**"):
            assert heading in readme, (name, heading)
        assert f"tipsim experiment out_dir={default_out(name)}" in readme
        for command in exp.shell(default_out(name)):
            assert command in readme, (name, command)  # README and code show the same commands
        assert f"[{name}]({name}/README.md)" in index


def test_e2_covers_every_single_intervention_scenario(monkeypatch):
    """E2 follows the registry, and every registered intervention has its single-intervention scenario."""
    from sim.interventions import REGISTRY

    monkeypatch.setattr("sim.cli.USER_CONFIG_DIRS", [])  # the repository's scenarios, not a test's --config-dir
    singles = set(known_scenarios()) - {"baseline", "no_policy", "combined"}
    assert E2_SCENARIOS[0] == "baseline" and list(E2_SCENARIOS[1:]) == list(REGISTRY)
    assert set(REGISTRY) == singles, "every intervention needs configs/scenario/<name>.yaml and vice versa"
    assert EXPERIMENTS["E2"].tasks == len(E2_SCENARIOS) * 200


def test_user_settings_replace_the_experiments_own():
    args = ["compare", "scenarios=[a,b]", "replicates=100", "out_dir=x"]
    assert merge_overrides(args, ["replicates=3", "workers=2"]) == ["compare", "scenarios=[a,b]", "replicates=3",
                                                                    "out_dir=x", "workers=2"]
    e3 = EXPERIMENTS["E3"].commands("r/E3", ["replicates=2"])
    assert e3[0][:2] == ["compare", "-m"] and "replicates=2" in e3[0] and "replicates=20" not in e3[0]
    assert e3[1] == ["collect", "out_dir=r/E3"] and e3[2] == ["figures", "out_dir=r/E3"]  # only run commands change


def test_out_dir_names_the_experiment():
    assert resolve("E2") == ("E2", "results/experiments/E2")
    assert resolve("/scratch/me/E2") == ("E2", "/scratch/me/E2")
    assert resolve("results/E9") == ("E9", "results/E9")


def test_tipsim_experiment_runs_a_small_e4_end_to_end(tmp_path):
    out = tmp_path / "E4"
    done = subprocess.run([str(TIPSIM), "experiment", f"out_dir={out}", "replicates=1", "start_date=2024-01-01",
                           "end_date=2024-01-20", "executor=serial"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "$ tipsim compare 'scenarios=[baseline,combined]' replicates=1" in done.stdout
    assert f"$ tipsim figures out_dir={out}" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replicates"] == 1
    assert (out / "figures" / "forest.pdf").exists() and (out / "figures" / "captions.md").exists()


def test_tipsim_experiment_lists_and_rejects_unknown_names(tmp_path):
    procs = [subprocess.Popen([str(TIPSIM), "experiment", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for args in ([], ["out_dir=results/E9"])]
    (rc, out, _), (bad_rc, _, bad_err) = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert rc == 0
    for name in EXPERIMENTS:
        assert f"\n{name}  " in out
    assert bad_rc == 2
    assert bad_err.strip() == ("tipsim: error: out_dir = results/E9: its last component names the experiment; known: "
                                  "E1, E2, E3, E4 (e.g. out_dir=results/experiments/E1)")
    assert list(tmp_path.iterdir()) == []


def test_overrides_are_matched_by_the_key_hydra_parses():
    """Prefixes (+, ++, ~) and deletions without a value name the same key as a plain override; a malformed
    override is one clear error."""
    import pytest

    from sim.config import ConfigError

    args = ["compare", "-m", "~interventions.extradition", "++interventions.joint_training.intensity=0,1",
            "scenarios=[baseline,combined]"]
    merged = merge_overrides(args, ["interventions.extradition=null", "interventions.joint_training.intensity=0.5",
                                    "+scenarios=[baseline,extradition]"])
    assert merged == ["compare", "-m", "interventions.extradition=null", "interventions.joint_training.intensity=0.5",
                      "+scenarios=[baseline,extradition]"]
    with pytest.raises(ConfigError, match=r"override 'scenarios=\[baseline': "):
        merge_overrides(args, ["scenarios=[baseline"])


def test_e3_levels_and_comma_lists_fill_the_sweep():
    """E3's own setting `levels` sets both swept intensities; a comma list for one intensity replaces that one."""
    e3 = EXPERIMENTS["E3"]
    default = e3.commands("r/E3")[0]
    assert "++interventions.departure_screening.intensity=0,0.25,0.5,0.75,1" in default
    small = e3.commands("r/E3", ["levels=0,1", "replicates=2"])[0]
    assert "++interventions.departure_screening.intensity=0,1" in small
    assert "++interventions.joint_training.intensity=0,1" in small
    assert "replicates=2" in small and not any(a.startswith("levels") for a in small)
    one = e3.commands("r/E3", ["++interventions.joint_training.intensity=0.5,1"])[0]
    assert "++interventions.joint_training.intensity=0.5,1" in one
    assert "++interventions.departure_screening.intensity=0,0.25,0.5,0.75,1" in one
    assert sum(a.startswith("++interventions.joint_training.intensity") for a in one) == 1


def test_tipsim_experiment_runs_a_scaled_down_e3(tmp_path):
    """Issue 13.6: `levels=0,1` (a comma list) goes through `tipsim experiment` to the sweep: 2 x 2 jobs, collected,
    heatmap drawn."""
    out = tmp_path / "E3"
    done = subprocess.run([str(TIPSIM), "experiment", f"out_dir={out}", "levels=0,1", "replicates=1",
                           "start_date=2024-01-01", "end_date=2024-01-10", "executor=serial"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Ambiguous" not in done.stderr
    jobs = sorted(p.name for p in out.iterdir() if (p / "manifest.json").exists())
    assert jobs == ["0", "1", "2", "3"]
    collected = pd.read_csv(out / "collected.csv")
    assert sorted(set(collected["interventions.departure_screening.intensity"])) == [0, 1]
    assert sorted(set(collected["interventions.joint_training.intensity"])) == [0, 1]
    assert (out / "figures" / "sweep_heatmap_combined.png").exists()
