"""What the speed issue's 10 s sweep leaves for the engine once its random draws are paid.

The drill draws its traffic tick by tick, and the numbers every golden and
``results/baseline.json`` hold are those of that draw order: per tick, on the ``traffic``
stream, the visit count (Poisson), the visitors (uniforms searched in the activity cdf),
each visit's page views (Poisson), the errors of each variant (binomials), each variant's
p95 (a beta order statistic) and the failed visits (binomial); on the ``sessions`` stream
which visits erred; on the ``writes`` stream the contact writes. Keeping the numbers means
keeping those calls, one tick at a time: the kinds interleave on one stream and each
consumes a data-dependent number of the generator's words, so a stretch of ticks cannot
be drawn in fewer calls with the same numbers. This script makes exactly those calls — the
drill's own ``TrafficModel.rate``, ``sample_visitors`` and parameters, nothing else — over
one run of the critical-bug drill (20,000 users, 6 h), and prints:

- the **draw floor**: seconds a run spends in its draws alone, so a 1,000-run sweep on
  W workers spends at least ``1,000 × floor / W`` in them;
- beside it, in the same process, one real run (``run_drill``, to the horizon as sweeps
  run it), so the share of a run that is bookkeeping rather than drawing shows;
- the sweep each implies on 2 workers, beside the issue's 10 s.

Run: ``python bench/bench_draws.py``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time

import numpy as np
from bench_drill import floor_world  # the script's own folder: bench/

from sim.drills.run import run_drill
from sim.scenario.loader import load_default
from sim.scenario.model import Scenario

REPEAT = 7
RUNS, WORKERS, TARGET_S = 1000, 2, 10.0


def draw_floor(scenario: Scenario) -> float:
    """Seconds of one run's per-tick draws, made in the engine's order (median of REPEAT)."""
    tr = scenario.traffic
    population, model = floor_world(scenario)
    ticks = math.ceil(scenario.horizon / scenario.tick)

    def run() -> None:
        rng, sessions, writes = (np.random.default_rng(s) for s in (7, 8, 9))
        for i in range(ticks):
            count = int(rng.poisson(model.rate(i * scenario.tick) * scenario.tick))
            visitors = population.sample_visitors(rng, count)
            views = 1 + rng.poisson(tr.pageviews_per_visit - 1, size=visitors.size)
            half = int(views.sum()) // 2
            errors = [int(rng.binomial(n, rate)) if n else 0
                      for n, rate in ((half, tr.error_rate_new), (half, tr.error_rate_old))]
            for n in (half, half):  # each variant's p95, when it has page views
                if n:
                    k = max(1, math.ceil(0.95 * n))
                    rng.beta(k, n + 1 - k)
            rng.binomial(visitors.size, min(1.0, sum(errors) / max(1, 2 * half)))
            if sum(errors) and views.size:
                ends = np.cumsum(views)
                sessions.choice(int(ends[-1]), size=min(sum(errors), int(ends[-1])),
                                replace=False)
            writes.binomial(visitors.size, 0.1)

    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_run(scenario: Scenario) -> float:
    """Seconds of one real run to the horizon (median of REPEAT seeds)."""
    times = []
    for seed in range(REPEAT):
        t0 = time.perf_counter()
        run_drill(scenario, seed, full_horizon=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    scenario = load_default(["population.users=20000", "horizon=6h"])
    run_drill(scenario, 0, full_horizon=False)  # warm imports and caches
    floor, real = draw_floor(scenario), one_run(scenario)
    sweep = RUNS / WORKERS
    print(f"draw floor, one 20,000-user 6 h run : {floor * 1e3:7.1f} ms  → a {RUNS:,}-run "
          f"sweep on {WORKERS} workers ≥ {floor * sweep:5.1f} s in draws alone")
    print(f"one run (run_drill, same process)   : {real * 1e3:7.1f} ms  → the sweep ≈ "
          f"{real * sweep:5.1f} s   target ≤ {TARGET_S:g} s")
    left = TARGET_S / sweep - floor
    print(f"draws are {100 * floor / real:.0f} % of a run; " + (
        f"the target leaves {1e3 * left:.1f} ms a run for everything else (today "
        f"{1e3 * (real - floor):.1f} ms)" if left > 0 else
        f"the target is {1e3 * -left:.1f} ms a run below the draws alone: an engine making "
        "these draws one numpy call at a time cannot meet it"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
