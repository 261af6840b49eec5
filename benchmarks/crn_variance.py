"""CRN payoff: variance of the estimated effect with paired seeds vs independent seeds.

For replicates r = 0..R-1 it runs the baseline with replicate r, each scenario with the
same replicate r (paired: common random numbers) and each scenario with replicate
r + OFFSET (independent: no random numbers shared with the baseline run it is compared
with). For every scenario and outcome it prints the variance across replicates of the
per-replicate effect (scenario minus baseline, summed over the comparison window) under
both designs, and their ratio: how many times more replicates independent seeds need for
the same precision. Both designs estimate the same mean effect.

Usage (full default horizon; about (1 + 2 x scenarios) x R runs of ~8-12 s each)::

    python benchmarks/crn_variance.py --replicates 20 --workers 2 \
        --scenarios departure_screening,joint_training,extradition [--out crn.csv] [key=value ...]

Extra ``key=value`` arguments are configuration overrides (as on the tipsim command line).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import pandas as pd

from sim.analysis.compare import OUTCOMES, daily_outcomes, window_totals
from sim.config import ExecutorConfig
from sim.ensemble.executors import make_executor
from sim.ensemble.plan import check_request, compose, scenario_config
from sim.run import simulate

OFFSET = 1_000_000
"""Replicate offset of the independent-seed runs (far from any paired replicate)."""


def window_run(item) -> dict:
    """Run one (label, config) and return its outcome totals over the comparison window."""
    label, cfg = item
    daily = simulate(cfg).daily.assign(scenario=label, replicate=cfg.replicate)
    totals = window_totals(daily_outcomes(daily), cfg.compare_start, cfg.end_date)
    return totals.iloc[0].to_dict()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--scenarios", default="departure_screening,joint_training,extradition",
                    help="comma-separated scenarios compared with the baseline")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", default=None, help="also write the table to this CSV file")
    ap.add_argument("overrides", nargs="*", help="configuration overrides key=value")
    args = ap.parse_args(argv)

    args.scenarios = args.scenarios.split(",")
    cfg = compose([*args.overrides, f"scenarios=[baseline,{','.join(args.scenarios)}]"])
    check_request(cfg)
    configs = {name: scenario_config(name, args.overrides) for name in cfg.scenarios}
    items = []
    for r in range(args.replicates):
        items.append(("baseline", dataclasses.replace(configs["baseline"], replicate=r)))
        for name in args.scenarios:
            items.append((name, dataclasses.replace(configs[name], replicate=r)))
            items.append((name, dataclasses.replace(configs[name], replicate=r + OFFSET)))
    t0 = time.perf_counter()
    rows = []
    with make_executor(ExecutorConfig("processes"), args.workers, len(items)) as ex:
        for _, row, error in ex.map_unordered(window_run, items):
            if error is not None:
                raise error
            rows.append(row)
            if len(rows) % 10 == 0 or len(rows) == len(items):
                print(f"{len(rows)}/{len(items)} runs, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    totals = pd.DataFrame(rows).set_index(["scenario", "replicate"]).sort_index()
    base = totals.loc["baseline"]
    table = []
    for name in args.scenarios:
        s = totals.loc[name]
        paired = s.loc[range(args.replicates)].to_numpy() - base.to_numpy()
        indep = s.loc[[r + OFFSET for r in range(args.replicates)]].to_numpy() - base.to_numpy()
        for j, outcome in enumerate(OUTCOMES):
            vp, vi = paired[:, j].var(ddof=1), indep[:, j].var(ddof=1)
            table.append({"scenario": name, "outcome": outcome, "effect_paired": paired[:, j].mean(),
                          "effect_independent": indep[:, j].mean(), "var_paired": vp, "var_independent": vi,
                          "variance_ratio": vi / vp if vp > 0 else (float("inf") if vi > 0 else float("nan"))})
    table = pd.DataFrame(table)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"\n{args.replicates} replicates, window {cfg.compare_start} .. {cfg.end_date}, seed {cfg.seed}; "
          f"{len(items)} runs in {time.perf_counter() - t0:.0f} s")
    victims = table[table["outcome"] == "victims"].set_index("scenario")["variance_ratio"]
    print("variance ratio (independent / paired) of the effect on victims: "
          + ", ".join(f"{k} {v:.1f}x" for k, v in victims.items()))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
