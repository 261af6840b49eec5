"""docs/cluster.md: the dask-jobqueue example renders a job script; the SLURM launcher config composes."""

from __future__ import annotations

import re
from pathlib import Path

from hydra import compose, initialize_config_dir

import sim.cli  # noqa: F401  (registers the config schema)
from sim.cli import CONFIG_DIR

DOC = Path(__file__).resolve().parents[1] / "docs" / "cluster.md"


def doc_example() -> str:
    """The python block that follows the 'tested by tests/test_cluster.py' marker."""
    text = DOC.read_text()
    after = text.split("tested by tests/test_cluster.py", 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_jobqueue_example_renders_a_slurm_script(capsys):
    namespace: dict = {}
    exec(doc_example(), namespace)
    cluster = namespace["cluster"]
    try:
        script = namespace["script"]
        assert "#SBATCH -p standard" in script and "#SBATCH -A myproject" in script
        assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH -t 04:00:00" in script
        assert "--nworkers 8" in script and "--nthreads 1" in script
        assert cluster.scheduler_address in script
    finally:
        cluster.close()


def test_slurm_launcher_config_composes():
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["hydra/launcher=slurm", "hydra.launcher.partition=short"],
                      return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.partition == "short" and launcher.cpus_per_task == 8 and launcher.timeout_min == 180
