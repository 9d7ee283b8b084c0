"""Speed of the drill engine: prints the figures the drill-engine issue sets targets for.

- the critical-bug drill with 100,000 users over 6 simulated hours (target < 1 s wall);
- building a 1,000,000-user population (target < 2 s wall).

Each figure is the median of REPEAT runs (time.perf_counter) in this one process, with
the min and max beside it, so a noisy machine shows as spread. Beside each drill figure
is a reference measured in the same run: the **numpy floor** of its traffic — per tick,
the Poisson draw of the visit count, picking the visitors by activity and marking them,
on the drill's own population — the least any tick-by-tick engine must do, so the ratio
(drill ÷ floor) is comparable across machines and runs.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from sim.drills.run import run_drill
from sim.rng import Streams
from sim.scenario.loader import load_default
from sim.scenario.model import Scenario
from sim.world.population import Population, build_population
from sim.world.traffic import TrafficModel

REPEAT = 5


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def floor_world(scenario: Scenario) -> tuple[Population, TrafficModel]:
    """The scenario's population and traffic model (its rates), for the floors."""
    population = build_population(Streams(7).get("population"), scenario.population.users,
                                  scenario.population.internal_users,
                                  scenario.population.activity_sigma)
    return population, TrafficModel(scenario, population, np.random.default_rng(0),
                                    np.random.default_rng(1))


def numpy_floor(scenario: Scenario) -> Callable[[], object]:
    """The reference: the scenario's traffic reduced to its per-tick numpy minimum."""
    population, rates = floor_world(scenario)

    def run() -> None:
        rng, seen = np.random.default_rng(7), np.zeros(population.size, dtype=bool)
        for i in range(math.ceil(scenario.horizon / scenario.tick)):
            t = i * scenario.tick
            visitors = population.sample_visitors(rng, int(rng.poisson(rates.rate(t) *
                                                                       scenario.tick)))
            seen[visitors] = True
    return run


def report(label: str, drill: tuple[float, float, float], floor: tuple[float, float, float],
           target: str) -> None:
    print(f"{label} : median {drill[0]:.3f} s (min {drill[1]:.3f}, max {drill[2]:.3f})"
          f"{target}\n{'':34}   numpy floor {floor[0]:.3f} s → drill = "
          f"{drill[0] / floor[0]:.1f} × floor")


def main() -> int:
    scenario = load_default(["population.users=100000", "horizon=6h"])
    small_scenario = load_default(["population.users=20000"])
    run_drill(scenario)  # warm imports and caches once
    drill, floor = timed(lambda: run_drill(scenario)), timed(numpy_floor(scenario))
    population = timed(lambda: build_population(Streams(1).get("population"), 1_000_000, 25, 1.0))
    small = timed(lambda: run_drill(small_scenario))
    small_floor = timed(numpy_floor(small_scenario))
    report("drill, 100,000 users, 6 h virtual", drill, floor, "   target < 1 s")
    report("drill,  20,000 users, 6 h virtual", small, small_floor, "")
    print(f"population, 1,000,000 users       : median {population[0]:.3f} s "
          f"(min {population[1]:.3f}, max {population[2]:.3f})   target < 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
