"""The baseline reproduces the public record (issue 3): `tipsim targets` on a few seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import ConfigError, load_config
from sim.analysis.targets import TARGETS, Target, load_targets, target_table
from sim.cli import main


def test_targets_table_covers_the_required_figures_with_their_sources():
    table = load_targets()
    required = {
        "kbri_cases_2020", "kbri_cases_2024", "kbri_scam_share_2024", "wni_permits_2023", "wni_permits_2024",
        "wni_entries_2024_jan_sep", "kemlu_cum_2023_12", "kemlu_cum_2024_11", "tppo_share_2020_2023",
        "tppo_share_2020_2024_11", "soetta_stops_2024",
    }
    assert required <= {t.id for t in TARGETS}
    assert table["source"].notna().all() and set(table.columns) >= {"id", "value", "source", "reliability"}


def test_tolerance_bounds():
    t = Target("x", "c", "sum", "2020-01-01", "2020-12-31", ("factor", 2))
    assert t.bounds(100) == (50, 200)
    assert Target("x", "c", "sum", "2020-01-01", "2020-12-31", ("relative", 0.35)).bounds(100) == pytest.approx((65, 135))
    assert Target("x", "c", "share", "2020-01-01", "2020-12-31", ("absolute", 0.1)).bounds(0.4) == pytest.approx((0.3, 0.5))


def test_a_target_period_outside_the_horizon_is_a_clear_error():
    daily = pd.DataFrame({"date": pd.date_range("2022-01-01", "2022-12-31"), "embassy_cases_KH": 1})
    with pytest.raises(ConfigError, match="kbri_cases_2020.*outside the run horizon"):
        target_table([daily])


@pytest.mark.slow
def test_baseline_meets_every_target_on_a_few_seeds(capsys):
    main(["targets", "replicates=3"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"targets within tolerance: {len(TARGETS)}/{len(TARGETS)}", "\n".join(lines)


def test_default_params_file_matches_the_schema_defaults():
    cfg = load_config()
    from sim.config import ModelParams

    assert cfg.params == ModelParams()
