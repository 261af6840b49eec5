"""Generated documentation is current: `tipsim docs` would not change the committed files."""

from __future__ import annotations

from pathlib import Path

from sim import load_config
from sim.docs import write_docs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_generated_docs_are_up_to_date(tmp_path):
    for path in write_docs(load_config(), tmp_path):
        committed = DOCS / path.name
        assert committed.exists(), f"docs/{path.name} is missing: run `tipsim docs`"
        assert committed.read_text() == path.read_text(), f"docs/{path.name} is stale: run `tipsim docs`"


def test_every_parameter_has_unit_range_and_source():
    from sim.params import iter_params

    cfg = load_config()
    for name, _, meta in iter_params(cfg.params):
        assert meta["unit"] and meta["doc"] and meta["source"], name
        lo, hi = meta["plausible"]
        assert lo <= hi, name
