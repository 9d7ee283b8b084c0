"""Speed of the drill engine: prints the figures the drill-engine issue sets targets for.

- the critical-bug drill with 100,000 users over 6 simulated hours (target < 1 s wall);
- building a 1,000,000-user population (target < 2 s wall).

Each figure is the median of REPEAT runs (time.perf_counter) in this one process, with
the min and max beside it, so a noisy machine shows as spread.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from sim.drills.run import run_drill
from sim.rng import Streams
from sim.scenario.loader import load_default
from sim.world.population import build_population

REPEAT = 5


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def main() -> int:
    scenario = load_default(["population.users=100000", "horizon=6h"])
    run_drill(scenario)  # warm imports and caches once
    drill = timed(lambda: run_drill(scenario))
    population = timed(lambda: build_population(Streams(1).get("population"), 1_000_000, 25, 1.0))
    small = timed(lambda: run_drill(load_default(["population.users=20000"])))
    print(f"drill, 100,000 users, 6 h virtual : median {drill[0]:.3f} s "
          f"(min {drill[1]:.3f}, max {drill[2]:.3f})   target < 1 s")
    print(f"drill,  20,000 users, 6 h virtual : median {small[0]:.3f} s "
          f"(min {small[1]:.3f}, max {small[2]:.3f})")
    print(f"population, 1,000,000 users       : median {population[0]:.3f} s "
          f"(min {population[1]:.3f}, max {population[2]:.3f})   target < 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
