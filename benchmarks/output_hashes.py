"""Fingerprints of the model's outputs, to show that a refactoring leaves them bit-identical.

Runs the default horizon three times - ``baseline`` replicate 0, ``combined`` replicate 3 and
``no_policy`` replicate 1 - and prints one SHA-256 per table (daily, routes, people): each
table's columns in sorted order, every column's name, dtype and raw bytes. Two commits
whose lines agree produce the same outputs bit for bit.

    .venv/bin/python benchmarks/output_hashes.py            # all three runs (about 30 s)
    .venv/bin/python benchmarks/output_hashes.py --end 2021-12-31 --runs baseline:0
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np
import pandas as pd

from sim import load_config, simulate

RUNS = ("baseline:0", "combined:3", "no_policy:1")


def table_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a table: its columns in sorted order, each as name, dtype and raw values."""
    h = hashlib.sha256()
    for name in sorted(df.columns):
        col = df[name]
        values = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
        if values.dtype == object:
            values = np.array([str(v) for v in values])
        h.update(name.encode())
        h.update(str(values.dtype).encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:16]


def run_hashes(scenario: str, replicate: int, end_date: str | None = None) -> dict[str, str]:
    overrides = [f"scenario={scenario}", f"replicate={replicate}"] + ([f"end_date={end_date}"] if end_date else [])
    result = simulate(load_config(overrides), people=True)
    return {"daily": table_hash(result.daily), "routes": table_hash(result.routes), "people": table_hash(result.people)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--end", default=None, help="end_date (default: the configuration's)")
    ap.add_argument("--runs", nargs="*", default=list(RUNS), help="scenario:replicate pairs")
    args = ap.parse_args()
    for spec in args.runs:
        scenario, replicate = spec.split(":")
        hashes = run_hashes(scenario, int(replicate), args.end)
        print(f"{spec:14s} " + " ".join(f"{k}={v}" for k, v in hashes.items()), flush=True)


if __name__ == "__main__":
    main()
