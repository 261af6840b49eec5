"""docs/cluster.md: the dask-jobqueue example renders a job script; the SLURM launcher config composes; an
``executor.address`` where no Dask scheduler (or no worker) answers is one clear error before any task runs."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import sim.cli  # noqa: F401  (registers the config schema)
from sim.cli import CONFIG_DIR
from sim.config import ConfigError
from sim.ensemble import run_compare, run_task
from sim.ensemble.store import MANIFEST
from tests.test_ensemble import ROOT, SHORT, assert_same_tables, reference  # noqa: F401  (reference: a fixture)

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


# --------------------------------------------------------------------------------------------
# executor.address: what answers there is checked before any task runs
# --------------------------------------------------------------------------------------------


def never(task):
    raise AssertionError("a task ran although the executor could not start")


@contextmanager
def tcp_listener(greeting: bytes | None):
    """A TCP server on 127.0.0.1 that accepts connections and sends ``greeting`` (None: says nothing)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed
                return
            accepted.append(conn)
            if greeting is not None:
                conn.sendall(greeting)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in accepted:
            conn.close()


@contextmanager
def closed_port():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    yield f"tcp://127.0.0.1:{port}"


SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n" * 4
"""What an SSH server says first; read as a Dask frame, its bytes ask for a 2.8 EiB buffer."""


def compare_on(address: str, out: Path, *extra: str, task_fn=never):
    return run_compare([*SHORT, "executor=dask", f"executor.address={address}", "executor.timeout_s=2", *extra],
                       out_dir=out, progress="quiet", task_fn=task_fn)


@pytest.mark.parametrize("server, reason", [
    (lambda: tcp_listener(SSH_BANNER), "a server that does not speak Dask's protocol"),
    (lambda: tcp_listener(None), "nothing that answered within executor.timeout_s = 2 s"),
    (closed_port, "nothing that answered within executor.timeout_s = 2 s"),
], ids=["other-protocol", "silent", "closed-port"])
def test_an_address_without_a_dask_scheduler_is_one_error_before_any_task(tmp_path, server, reason):
    out = tmp_path / "ens"
    t0 = time.monotonic()
    with server() as address, pytest.raises(ConfigError) as info:
        compare_on(address, out)
    assert str(info.value) == (f"executor.address = {address}: not a Dask scheduler ({reason}); give the address of a "
                               "running scheduler (`dask scheduler` prints it, e.g. tcp://10.0.0.1:8786)")
    assert time.monotonic() - t0 < 15
    assert not (out / MANIFEST).exists() and not list(out.glob("parts/*/*/*/part.parquet"))


@pytest.mark.parametrize("address, problem", [
    ("nonsense", "missing port number in address 'nonsense'"),
    ("http://127.0.0.1:8786", "unknown address scheme 'http'"),
])
def test_a_malformed_dask_address_is_one_error(tmp_path, address, problem):
    with pytest.raises(ConfigError, match=rf"^executor.address = {re.escape(address)}: not a Dask address \("
                                          rf"{re.escape(problem)}"):
        compare_on(address, tmp_path / "ens")


def test_cli_address_of_another_server_exits_2_with_one_line(tmp_path):
    """The case that used to end in `MemoryError: Unable to allocate 2.82 EiB`."""
    out = tmp_path / "ens"
    with tcp_listener(SSH_BANNER) as address:
        done = subprocess.run([sys.executable, "-m", "sim", "compare", *SHORT, "executor=dask",
                               f"executor.address={address}", "executor.timeout_s=2", f"out_dir={out}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"tipsim: error: executor.address = {address}: not a Dask scheduler (a server "
                                        "that does not speak Dask's protocol); give the address of a running "
                                        "scheduler (`dask scheduler` prints it, e.g. tcp://10.0.0.1:8786)"]
    assert not (out / MANIFEST).exists()


def test_a_scheduler_without_workers_times_out_with_a_message(tmp_path):
    from dask.distributed import LocalCluster

    out = tmp_path / "ens"
    with LocalCluster(n_workers=0, dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        t0 = time.monotonic()
        with pytest.raises(ConfigError) as info:
            compare_on(cluster.scheduler_address, out)
        waited = time.monotonic() - t0
    assert str(info.value) == (f"executor.address = {cluster.scheduler_address}: the Dask scheduler has no workers "
                               f"after executor.timeout_s = 2 s; start workers (dask worker {cluster.scheduler_address}) "
                               "or wait longer (a larger executor.timeout_s)")
    assert 2 <= waited < 15
    assert not (out / MANIFEST).exists()


def test_a_scheduler_address_runs_the_ensemble_and_a_worker_address_is_refused(reference, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        worker = next(iter(cluster.scheduler_info["workers"]))
        with pytest.raises(ConfigError, match=rf"^executor.address = {worker}: not a Dask scheduler \(a Dask Worker\)"):
            compare_on(worker, tmp_path / "refused")
        summary = compare_on(cluster.scheduler_address, tmp_path / "ens", task_fn=run_task)
    assert summary.complete and summary.ran == 4
    m = json.loads((tmp_path / "ens" / MANIFEST).read_text())
    assert m["executor"] == {"name": "dask", "workers": 1, "address": cluster.scheduler_address}
    assert_same_tables(reference, tmp_path / "ens")
