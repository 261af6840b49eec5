"""Shared fixtures: configurations composed from configs/ exactly as the CLI does."""

from __future__ import annotations

import pytest

from sim import load_config


@pytest.fixture(scope="session")
def base_cfg():
    """The default configuration (baseline scenario, full horizon)."""
    return load_config()


@pytest.fixture(scope="session")
def short_cfg():
    """The default configuration over 2022 only: fast, and with traffic after the Covid reopening."""
    return load_config(["start_date=2022-01-01", "end_date=2022-12-31"])


def run_main(argv: list[str], capsys) -> tuple[int | str | None, str, str]:
    """``sim.cli.main(argv)`` in this process: (exit code, stdout, stderr)."""
    from sim.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
