"""The architecture's promises, checked on the code: rules share only the day's context, people are
written through the population's API, Mesa is used rather than mirrored."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sim import load_config
from sim.agents.compound import Compound
from sim.agents.recruiter import Recruiter
from sim.model import TraffickingModel

SIM = Path(__file__).resolve().parents[1] / "sim"
ROOT = SIM.parent


def test_rules_leave_no_attributes_on_the_model():
    """Everything a rule shares goes through the day's Today context: stepping adds no attribute to the model."""
    m = TraffickingModel(load_config(["start_date=2022-01-01", "end_date=2022-03-31"]))
    before = set(vars(m))
    while m.running:
        m.step()
    assert set(vars(m)) == before


def test_people_are_written_through_the_population_api():
    """No rule or agent writes a person's column directly (``pop.cols[...][rows] = ...``)."""
    direct = []
    for path in [*(SIM / "rules").glob("*.py"), *(SIM / "agents").glob("*.py"), *(SIM / "interventions").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
            for t in targets:
                text = ast.unparse(t)
                if re.search(r"(pop|population)\.cols\[", text):
                    direct.append(f"{path.relative_to(SIM)}:{node.lineno}: {text}")
    assert not direct, "\n".join(direct)


def test_agents_live_in_mesa_agent_sets_and_leave_them_when_they_go():
    m = TraffickingModel(load_config(["start_date=2022-01-01", "end_date=2022-06-30"]))
    while m.running:
        m.step()
    recruiters = m.agents_by_type[Recruiter]
    assert len(recruiters) == int(m.recruiters.active.sum()) == m.daily()["recruiters_active"].iloc[-1]
    assert {r.slot for r in recruiters} == set(m.recruiters.active_slots.tolist())
    assert len(m.agents_by_type[Compound]) == m.compounds.n
    assert not hasattr(m.recruiters, "by_slot") and not hasattr(m.compounds, "by_slot")
    assert m.days_done == m.n_days == int(m.time)  # Mesa's clock is the model's one clock


def test_nothing_mesa_4_removes_is_used():
    """``seed=`` (use ``rng=``), ``batch_run``, ``mesa.space`` and ``model.steps`` are gone in Mesa 4."""
    pattern = re.compile(r"\bbatch_run\b|mesa\.space|\b(model|engine|m)\.steps\b|super\(\)\.__init__\([^)]*\bseed=")
    found = [f"{p.relative_to(ROOT)}:{i}" for folder in ("sim", "benchmarks") for p in (ROOT / folder).rglob("*.py")
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line.split("#")[0])]
    assert not found, found


def test_model_py_is_the_schedule():
    """sim/model.py holds the schedule and the model's set-up: no exit engine, lever logic or recording."""
    source = (SIM / "model.py").read_text()
    functions = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
    assert functions <= {"__init__", "embassies", "destination_police", "days_done", "step", "run", "daily", "route_table"}
    assert len(source.splitlines()) < 150
