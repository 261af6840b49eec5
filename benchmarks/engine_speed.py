"""Engine speed: the vectorised engine against per-agent Mesa models (competent and naive), scaling, memory, full run.

Run from the repository root (``make benchmark`` does)::

    .venv/bin/python benchmarks/engine_speed.py            # the full benchmark (a few minutes)
    .venv/bin/python benchmarks/engine_speed.py --quick    # small sizes, a smoke test

What it measures (all in this one process, one core):

1. **Core migrant life cycle, engine vs per-agent Mesa**, at 10k and 100k migrants for 365
   days (:mod:`naive_mesa`: the cohort placed in compounds on 2024-01-01, everything but the
   destination-side life cycle switched off), against two per-agent Mesa 3.5 models of the
   same subset: the competent one (:mod:`competent_mesa`: one uniform per agent-day against
   exit probabilities set on entering a state, ``agents.do``) and the naive one
   (:class:`naive_mesa.NaiveModel`: exit-by-exit numpy draws with ``exp`` each day,
   ``shuffle_do``). *Agent-steps* = migrants alive in the subset (not yet home) at the start
   of each day, summed over the days; each side's rate is its own agent-steps / its own
   stepping time (model construction is timed separately and excluded). The engine is the
   real :class:`sim.TraffickingModel` with the subset configuration. Every side is timed as
   the best of ``--repeats`` runs (CPU time of this process).
2. **Peak memory per migrant** of the engine at 100k: the tracemalloc peak of building and
   running the model, divided by the people created; and the bytes held by the population
   columns and per-state pools at the end, divided by the people created.
3. **Scaling**: engine stepping time at 50k, 100k and 200k migrants, the ratios of
   successive times (2.0 would be proportional to people) and an affine fit
   ``time = fixed + per_person x N``.
4. **The full default run** ``sim.simulate(sim.load_config())`` (baseline scenario,
   2020-2025): wall time, and agent-days per second = person-days in the pipeline / wall time,
   where *in the pipeline* means not in an absorbing state (DECLINED, LEGAL) and not at HOME,
   counted from the end-of-day stocks of every state (a second, identical run stepped day by
   day reads them; it is not timed).

The last two lines are ``speedup_vs_naive_mesa: X`` and the headline
``speedup_vs_competent_mesa: Y`` (engine / Mesa agent-steps per second at 100k migrants).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import competent_mesa  # noqa: E402
import naive_mesa  # noqa: E402
import sim  # noqa: E402
from sim.lifecycle import ABSORBING, State  # noqa: E402
from sim.run import git_commit  # noqa: E402

HOME_FLOWS = ("left_compound", "self_returned", "repatriated", "deported")


def engine_agent_steps(daily, people: int) -> int:
    """Migrants not at home at the start of each day, summed over days (from the daily flows home)."""
    home = sum(daily[c].to_numpy() for c in HOME_FLOWS)
    at_home_before = np.concatenate([[0], np.cumsum(home)[:-1]])
    return int((people - at_home_before).sum())


class Clock:
    """CPU time of this process (the measure: robust to other jobs on the machine) and wall time."""

    def __enter__(self):
        gc.collect()
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu, self.wall = time.process_time() - self.cpu0, time.perf_counter() - self.wall0


def time_engine(cfg, repeats: int) -> dict:
    """Best-of-``repeats`` stepping time (CPU) of the engine on ``cfg``."""
    best = None
    for _ in range(repeats):
        with Clock() as build:
            model = sim.TraffickingModel(cfg)
        with Clock() as step:
            daily = model.run()
        run = {"build_s": build.cpu, "run_s": step.cpu, "wall_s": step.wall, "people": int(model.population.n),
               "agent_steps": engine_agent_steps(daily, int(model.population.n)), "days": model.n_days}
        if best is None or run["run_s"] < best["run_s"]:
            best = run
    best["rate"] = best["agent_steps"] / best["run_s"]
    return best


MESA_MODELS = {"competent": competent_mesa.CompetentModel, "naive": naive_mesa.NaiveModel}
"""The per-agent Mesa models the engine is compared with, by the name printed."""


def time_mesa(model_class, cfg, seed: int, repeats: int) -> dict:
    """Best-of-``repeats`` stepping time (CPU) of a per-agent Mesa model on the cohort of ``cfg``
    (build = the engine model the cohort is copied from plus the Mesa model)."""
    best = None
    for _ in range(repeats):
        with Clock() as build:
            model = model_class(sim.TraffickingModel(cfg), rng=seed)
        with Clock() as step:
            model.run()
        steps = int(model.alive_start.sum())
        run = {"build_s": build.cpu, "run_s": step.cpu, "wall_s": step.wall, "people": model.n_people, "agent_steps": steps}
        del model
        if best is None or run["run_s"] < best["run_s"]:
            best = run
    best["rate"] = best["agent_steps"] / best["run_s"]
    return best


def engine_memory(cfg) -> dict:
    """tracemalloc peak of building and running the engine, and the population's own bytes."""
    gc.collect()
    tracemalloc.start()
    model = sim.TraffickingModel(cfg)
    model.run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pop = model.population
    cols = sum(a.nbytes for a in pop.cols.values())
    pools = sum(p.rows.nbytes + p.targets.nbytes for p in pop.pools.values())
    row = sum(a.dtype.itemsize for a in pop.cols.values())
    return {"people": int(pop.n), "peak": peak, "cols": cols, "pools": pools, "row_bytes": row}


def pipeline_person_days(cfg) -> tuple[int, int, int]:
    """(person-days in the pipeline, days, people created) of ``cfg``, from end-of-day state stocks."""
    model = sim.TraffickingModel(cfg)
    outside = {int(s) for s in ABSORBING} | {int(State.HOME)}
    total = 0
    while model.running:
        model.step()
        total += sum(p.live for p in model.population.pools.values() if int(p.state) not in outside)
    return total, model.n_days, int(model.population.n)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (1k/5k, 5k/10k/20k); a smoke test, not a measurement")
    ap.add_argument("--seed", type=int, default=naive_mesa.SEED)
    ap.add_argument("--repeats", type=int, default=3, help="every timing: best of this many runs")
    args = ap.parse_args(argv)
    compare = (1_000, 5_000) if args.quick else (10_000, 100_000)
    scaling = (5_000, 10_000, 20_000) if args.quick else (50_000, 100_000, 200_000)

    print(f"tipsim engine benchmark  {dt.date.today().isoformat()}  python {platform.python_version()}  "
          f"numpy {np.__version__}  mesa {__import__('mesa').__version__}  {platform.machine()} "
          f"({os.cpu_count()} CPUs; one used)  commit {git_commit()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(f"1. core migrant life cycle, 365 days from {naive_mesa.START_DATE}, engine vs per-agent Mesa "
          f"(competent: competent_mesa.py, naive: naive_mesa.py; seed {args.seed})")
    print("   agent-steps = migrants not yet home at the start of each day, summed over days")
    print(f"   times are CPU seconds of this process, best of {args.repeats} (wall in brackets); "
          "build = model construction, not in the rate")
    print(f"   {'migrants':>9} {'side':<10} {'agent-steps':>12} {'build s':>8} {'run s':>8} {'(wall)':>8} {'agent-steps/s':>14}")
    speedups = {name: {} for name in MESA_MODELS}
    for n in compare:
        cfg = naive_mesa.subset_config(n, seed=args.seed)
        sides = {"engine": time_engine(cfg, args.repeats)}
        sides.update({name: time_mesa(cls, cfg, args.seed, args.repeats) for name, cls in MESA_MODELS.items()})
        assert len({r["people"] for r in sides.values()}) == 1, "engine and Mesa cohorts differ"
        for side, r in sides.items():
            print(f"   {r['people']:>9,} {side:<10} {r['agent_steps']:>12,} {r['build_s']:>8.2f} {r['run_s']:>8.2f} "
                  f"{'(%.2f)' % r['wall_s']:>8} {r['rate']:>14,.0f}")
        for name in MESA_MODELS:
            speedups[name][n] = sides["engine"]["rate"] / sides[name]["rate"]
        print(f"   {'':>9} speedup (engine / Mesa agent-steps per second): "
              + ", ".join(f"vs {name} {speedups[name][n]:.1f}x" for name in MESA_MODELS)
              + f"; competent vs naive {sides['competent']['rate'] / sides['naive']['rate']:.1f}x")

    print()
    cfg = naive_mesa.subset_config(compare[-1], seed=args.seed)
    mem = engine_memory(cfg)
    print(f"2. engine memory at {mem['people']:,} migrants (subset, 365 days)")
    print(f"   tracemalloc peak (build + run, incl. world and temporaries): {mem['peak'] / mem['people']:.0f} bytes/migrant "
          f"({mem['peak'] / 2**20:.1f} MiB)")
    print(f"   population columns {mem['row_bytes']} bytes/row; allocated columns + state pools at the end: "
          f"{(mem['cols'] + mem['pools']) / mem['people']:.0f} bytes/migrant "
          f"(columns {mem['cols'] / mem['people']:.0f}, pools {mem['pools'] / mem['people']:.0f})")

    print()
    print("3. engine scaling (subset, 365 days; stepping CPU time, best of repeats)")
    runs = []
    for n in scaling:
        r = time_engine(naive_mesa.subset_config(n, seed=args.seed), args.repeats)
        runs.append(r)
        print(f"   {r['people']:>9,} migrants: {r['run_s']:6.2f} s   {r['agent_steps'] / r['run_s']:>12,.0f} agent-steps/s   "
              f"{1e6 * r['run_s'] / r['people']:.1f} us/migrant")
    for a, b in zip(runs, runs[1:]):
        print(f"   {a['people']:,} -> {b['people']:,} migrants (x{b['people'] / a['people']:.2f}): time x{b['run_s'] / a['run_s']:.2f}")
    people = np.array([r["people"] for r in runs], dtype=float)
    secs = np.array([r["run_s"] for r in runs])
    slope, fixed = np.polyfit(people, secs, 1)
    print(f"   affine fit: time = {fixed:.2f} s + {1e6 * slope:.2f} us x migrants "
          f"(fixed = {1e3 * fixed / runs[0]['days']:.2f} ms/day; per migrant-day {1e9 * slope / runs[0]['days']:.1f} ns)")

    print()
    print("4. full default run: sim.simulate(sim.load_config()) - baseline scenario, 2020-01-01..2025-12-31")
    full = sim.load_config()
    best = None
    for _ in range(args.repeats):
        with Clock() as c:
            result = sim.simulate(full)
        if best is None or c.wall < best[0].wall:
            best = (c, result)
    c, result = best
    person_days, days, created = pipeline_person_days(full)
    assert created == result.manifest["people_created"], "the instrumented run differs from the timed one"
    print(f"   wall time {c.wall:.2f} s, CPU {c.cpu:.2f} s (best of {args.repeats}; {days} days, {created:,} people created, "
          f"peak RSS {result.manifest['peak_memory_mb']:.0f} MiB)")
    print(f"   person-days in the pipeline (not absorbing, not at home; end-of-day stocks): {person_days:,} "
          f"(mean {person_days / days:,.0f} people)")
    print(f"   agent-days per second: {person_days / c.wall:,.0f} per wall second, {person_days / c.cpu:,.0f} per CPU second")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(f"speedup_vs_naive_mesa: {speedups['naive'][compare[-1]]:.1f}")
    print(f"speedup_vs_competent_mesa: {speedups['competent'][compare[-1]]:.1f}")


if __name__ == "__main__":
    main()
