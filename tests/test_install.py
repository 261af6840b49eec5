"""A normal (non-editable) wheel install runs: ``configs/`` ships inside the package as ``sim/configs``.

The wheel is built from this checkout with pip (build isolation: setuptools comes from the
package index pip is configured with) and installed with ``--no-deps`` into a fresh virtual
environment whose dependencies come from the test interpreter's site-packages (a ``.pth``
line written after the install, so pip sees no tipsim there and the editable install of the
checkout is not activated). ``tipsim run`` then
runs from a directory outside the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_source_package_is_listed_in_pyproject():
    """The explicit package list (needed to map configs/ to sim.configs) misses no folder of Python modules."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "sim").rglob("*")
        if p.is_dir() and p.name != "__pycache__" and (any(p.glob("*.py")) or any(p.glob("*.csv")))
    }
    assert on_disk | {"sim", "sim.configs"} == listed


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          cwd=out, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0 and "Could not find a version that satisfies" in done.stderr:
        pytest.skip(f"cannot build a wheel offline: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("tipsim-*.whl")
    return path


@pytest.mark.slow
def test_wheel_holds_the_configs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"sim/configs/{p.relative_to(ROOT / 'configs').as_posix()}" for p in (ROOT / "configs").rglob("*.yaml")}
    assert shipped and shipped <= names
    assert {"sim/data/world/locations.csv", "sim/data/targets.csv"} <= names


@pytest.mark.slow
def test_wheel_install_runs_outside_the_repository(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=300, env=env)
    # the dependencies, added only now so that pip saw an environment without tipsim
    Path(purelib, "tipsim_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import sim.cli; print(sim.cli.__file__); print(sim.cli.CONFIG_DIR)"],
                           cwd=elsewhere, capture_output=True, text=True, env=env, check=True).stdout.split()
    assert where == [f"{purelib}/sim/cli.py", f"{purelib}/sim/configs"]  # the installed copy, not the checkout
    out = tmp_path / "out"
    done = subprocess.run([str(venv / "bin" / "tipsim"), "run", "end_date=2020-01-31", f"out_dir={out}"],
                          cwd=elsewhere, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"results written to {out}" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "daily.parquet", "manifest.json", "routes.parquet"]
    import pandas as pd

    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == 31 and daily["date"].iloc[-1] == pd.Timestamp("2020-01-31")
    assert list(elsewhere.iterdir()) == []
