"""Speed of the app's own flag module in Node (``flag.module``), beside the Python port.

- one state change: 100,000 users through the runbook's remote-form ``featureFlags.ts``
  in Node, under each PostHog answer a browser can hold (3 × 100,000 calls, one request;
  target: well under a second), beside the port's ``evaluate_population`` for the same;
- starting the module: spawning node, bundling with esbuild, handing it 100,000 ids;
- the 100,000-user 6 h critical-bug drill with the module (it changes state at most a
  handful of times; target < 1 s), beside the same drill on the port.

Run: ``python bench/bench_flag_module.py`` (needs node; installs esbuild into
``DRILL_NODE_TOOLS`` on first use). Each figure is the median of REPEAT runs
(time.perf_counter) in this one process, min and max beside it; the reference beside each
is measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rollout.release.flags import FlagEnv, FlagMode, evaluate_population
from sim.drills.run import run_drill
from sim.nodetools import ensure_esbuild
from sim.rng import Streams
from sim.scenario.loader import load_default, resolve_flag_module
from sim.world.flag_eval import VITE_BUILTINS
from sim.world.node_module import NodeFlagModule
from sim.world.population import build_population

REPEAT = 5
USERS = 100_000
ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "examples" / "flags" / "remote" / "featureFlags.ts"
ENV = {"VITE_FEATURE_CONTACTS_REDESIGN": "true", "VITE_ROLLOUT_PERCENTAGE": "10"}


def timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def line(label: str, t: tuple[float, float, float], note: str = "") -> None:
    ms = [x * 1000 for x in t]
    print(f"{label:<46} median {ms[0]:7.1f} ms (min {ms[1]:.1f}, max {ms[2]:.1f}){note}")


def main() -> None:
    ensure_esbuild("bench")
    pop = build_population(Streams(7).get("population"), USERS, 25, 1.0)
    node = NodeFlagModule(str(MODULE), "shouldShowNewContacts", "contacts_redesign", pop.ids,
                          "bench")
    env = {**ENV, **VITE_BUILTINS}
    flag_env = FlagEnv.from_mapping(ENV)
    answers = [np.full(USERS, code, dtype=np.int8) for code in (-1, 0, 1)]
    print(f"{USERS:,} users; esbuild {node.esbuild_version}; median of {REPEAT}")
    line("one state change, Node (3 x 100k calls)",
         timed(lambda: node.evaluate(env, [None, False, True])), "   target well under 1 s")
    line("  same state on the port (reference)",
         timed(lambda: [evaluate_population(FlagMode.REMOTE, pop.buckets, pop.is_internal,
                                            flag_env, a) for a in answers]))
    node.close()
    line("starting the module (node, esbuild, 100k ids)",
         timed(lambda: NodeFlagModule(str(MODULE), "shouldShowNewContacts",
                                      "contacts_redesign", pop.ids, "bench").close()))
    base = load_default([f"population.users={USERS}", "horizon=6h"])
    with_module = resolve_flag_module(load_default([f"population.users={USERS}", "horizon=6h",
                                                    f"flag.module={MODULE}"]), ROOT, "bench")
    states = run_drill(with_module, 7).flag_module
    assert states is not None
    line("100k-user 6 h drill, module in Node", timed(lambda: run_drill(with_module, 7)),
         f"   target < 1 s; {states['states_evaluated']} states evaluated")
    line("  same drill on the port (reference)", timed(lambda: run_drill(base, 7)))


if __name__ == "__main__":
    main()
