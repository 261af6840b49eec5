"""Declared draws: one stream per decision, occasion layouts that refuse collisions, one weighted choice."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim import draws
from sim.rng import Streams, weighted_choice

SIM = Path(__file__).resolve().parents[1] / "sim"
DRAW_METHODS = {"uniform", "uniforms", "bits", "exponential", "normal", "poisson", "lognormal_days", "generator"}


def test_a_stream_name_cannot_be_declared_twice():
    with pytest.raises(ValueError, match="stream 'route' is declared twice"):
        draws.declare("route", draws.PERSON, draws.UNIFORM, "a second route choice")
    assert "route" in draws.REGISTRY and draws.REGISTRY["route"] is draws.ROUTE


def test_declarations_name_what_keys_them_and_at_most_16_columns():
    with pytest.raises(ValueError, match="keyed_by = 'ship'"):
        draws.declare("x_new_stream", "ship", draws.UNIFORM, "doc")
    with pytest.raises(ValueError, match="columns = 17; allowed: 1..16"):
        draws.declare("y_new_stream", draws.PERSON, draws.UNIFORM, "doc", columns=17)
    assert "x_new_stream" not in draws.REGISTRY and "y_new_stream" not in draws.REGISTRY


def test_layouts_compose_occasions_in_mixed_radix_and_refuse_overflow():
    legs = draws.LEG_TIME.layout
    assert legs.occasion(transition=3, leg=5) == 3 * 64 + 5
    np.testing.assert_array_equal(draws.CHECKS_DRAW.occasion(transition=np.array([[2]]), leg=np.array([[1]]), side=np.arange(2)),
                                  [[(2 * 64 + 1) * 2, (2 * 64 + 1) * 2 + 1]])
    with pytest.raises(draws.LayoutError, match="field 'leg' = 64: must be within \\[0, 64\\)"):
        legs.occasion(transition=0, leg=np.arange(65))
    with pytest.raises(draws.LayoutError, match="field 'compound' = 1048576"):
        draws.RECRUITER_LINK.occasion(draw=0, link=0, compound=np.array([2**20]))
    with pytest.raises(TypeError, match="needs fields transition, leg"):
        legs.occasion(transition=0)
    # distinct field values never share an occasion
    t, leg = np.meshgrid(np.arange(50), np.arange(64), indexing="ij")
    assert len(np.unique(legs.occasion(transition=t, leg=leg))) == t.size


def test_every_hazard_state_has_its_threshold_stream():
    from sim.exits import exit_kind
    from sim.lifecycle import EXITS, HAZARD

    assert set(draws.EXIT_THRESHOLDS) == {s for s in EXITS if exit_kind(s) == HAZARD}


def test_the_model_draws_only_through_declared_draws():
    """No simulation module passes a string literal as a stream name: every stream is declared in sim/draws.py."""
    literal = []
    for path in SIM.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DRAW_METHODS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                literal.append(f"{path.relative_to(SIM)}:{node.lineno}: {node.func.attr}({node.args[0].value!r})")
    assert not literal, "\n".join(literal)


def test_a_world_with_longer_itineraries_than_the_layout_is_refused():
    from sim.config import ConfigError, TipsimConfig, WorldConfig, validate

    with pytest.raises(ConfigError, match="world.max_legs = 65: must be within \\[1, 64\\]"):
        validate(TipsimConfig(world=WorldConfig(max_legs=65)))


def test_weighted_choice_picks_in_proportion_to_the_weights():
    u = Streams(3).uniform("test_choice", np.arange(200_000))
    w = np.array([0.0, 1.0, 3.0, 0.0, 6.0])
    picks = weighted_choice(w, u)
    counts = np.bincount(picks, minlength=len(w))
    assert counts[0] == 0 and counts[3] == 0, "a zero weight is never chosen"
    assert stats.chisquare(counts[[1, 2, 4]], 200_000 * w[[1, 2, 4]] / w.sum()).pvalue > 0.001
    # rows: each draw with its own weights, the same answer as the vector form
    rows = np.tile(w, (1000, 1))
    np.testing.assert_array_equal(weighted_choice(rows, u[:1000]), picks[:1000])
    # monotone in u, and never past the last index
    order = np.argsort(u[:5000])
    assert (np.diff(picks[:5000][order]) >= 0).all()
    assert weighted_choice(w, np.array([1 - 2**-53]))[0] == 4
