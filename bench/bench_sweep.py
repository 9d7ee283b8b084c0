"""Speed of Monte Carlo sweeps: the figure the sweep issue sets a target for.

A 1,000-run sweep of the critical-bug drill (20,000 users, 6 simulated hours) on all
cores, target < 60 s of wall time on a 2-core machine; printed beside the time of one
run and the same sweep on one worker, so the parallel efficiency shows:

    efficiency = (wall time on 1 worker) / (workers × wall time on N workers)

Sweeps stop each run once the incident is over (``full_horizon=False``: same metrics);
the single-run figures are given both ways. ``--runs`` and ``--jobs`` change the sweep,
``--skip-serial`` skips the 1-worker sweep (the efficiency is then estimated from the
single-run time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from sim.drills.run import run_drill
from sim.results.writer import summary
from sim.scenario.loader import load_default
from sim.sweeps.executors import PoolExecutor, SerialExecutor, cpu_count
from sim.sweeps.sweep import SweepPlan, collect, plan_sweep, sweep_document

SINGLE = 20


def single_run(scenario: object, full_horizon: bool) -> tuple[float, float]:
    """Median and mean wall time of one run plus its summary, over SINGLE seeds."""
    times = []
    for seed in range(SINGLE):
        t0 = time.perf_counter()
        summary(run_drill(scenario, seed, full_horizon=full_horizon))  # type: ignore[arg-type]
        times.append(time.perf_counter() - t0)
    return statistics.median(times), statistics.fmean(times)


def sweep(plan: SweepPlan, executor: object) -> tuple[float, str]:
    t0 = time.perf_counter()
    doc = sweep_document(plan, collect(plan, executor))
    return time.perf_counter() - t0, json.dumps(doc, sort_keys=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=cpu_count())
    parser.add_argument("--skip-serial", action="store_true")
    args = parser.parse_args()

    scenario = load_default(["population.users=20000", "horizon=6h"])
    run_drill(scenario)  # warm imports and caches once
    full, short = single_run(scenario, True), single_run(scenario, False)
    plan = plan_sweep(scenario, args.runs)
    print(f"critical-bug drill, 20,000 users, 6 h virtual; {cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} before the sweeps")
    print(f"one run to the horizon          : {full[0]:.3f} s median, {full[1]:.3f} s mean "
          f"(seeds 0–{SINGLE - 1})")
    print(f"one run, stopped once recovered : {short[0]:.3f} s median, {short[1]:.3f} s mean "
          f"(what sweeps run)")

    pool = PoolExecutor(args.jobs)
    try:
        parallel, doc_n = sweep(plan, pool)
    finally:
        pool.close()
    if args.skip_serial:
        serial, same = args.runs * short[1], "not compared"
        how = "estimated as runs × one run"
    else:
        serial, doc_1 = sweep(plan, SerialExecutor())
        same = "identical" if doc_1 == doc_n else "DIFFERENT"
        how = "measured"
    print(f"sweep, {args.runs:,} runs, 1 worker    : {serial:.1f} s ({how}; "
          f"{args.runs / serial:.1f} runs/s)")
    print(f"sweep, {args.runs:,} runs, {args.jobs} workers   : {parallel:.1f} s "
          f"({args.runs / parallel:.1f} runs/s)   target < 60 s")
    print(f"parallel efficiency             : {serial / (args.jobs * parallel):.0%} "
          f"(speed-up {serial / parallel:.2f}× on {args.jobs} workers)")
    print(f"aggregates, 1 vs {args.jobs} workers     : {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
