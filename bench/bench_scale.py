"""Speed at scale: the drill figures the speed issue (15) sets targets for.

- the critical-bug drill with 1,000,000 users over 6 simulated hours: ≤ 1 s of engine
  time (``run_drill``, imports warm) and ≤ 250 MB peak RSS for the whole process;
- the 3-week rollout drill (``scenarios/rollout-good.yaml``, horizon 21 d) at 100,000
  users: ≤ 0.5 s.

Each drill runs in a fresh child process (``--child``) so its peak RSS is its own: the
child warms imports on a 1,000-user run of the same scenario, then times the real one.
Beside each figure is a reference measured in the same run, on the same machine: the
**numpy floor** of the drill's traffic (``bench_drill.numpy_floor``: per tick the Poisson
visit count, picking the visitors by activity and marking them, on the drill's own
population and ticks), and the peak RSS of a child that only imports the engine and
builds the population.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CASES = {
    "1M users, 6 h": (None, ["population.users=1000000", "horizon=6h"], "≤ 1 s, ≤ 250 MB"),
    "rollout 3 weeks, 100k users": ("scenarios/rollout-good.yaml",
                                    ["population.users=100000", "horizon=21d"], "≤ 0.5 s"),
}


def child(case: str, floor_only: bool) -> dict[str, float]:
    """In the child: warm up, time the drill (or only its numpy floor), report RSS."""
    sys.path.insert(0, str(HERE))
    from bench_drill import numpy_floor

    from sim.drills.run import run_drill
    from sim.scenario.loader import load_default, load_scenario

    path, overrides, _ = CASES[case]

    def load(extra: list[str]) -> object:
        return load_scenario(ROOT / path, extra) if path else load_default(extra)

    warm = load([*overrides, "population.users=1000"])
    run_drill(warm)  # type: ignore[arg-type]
    scenario = load(overrides)
    t0 = time.perf_counter()
    if floor_only:
        numpy_floor(scenario)()  # type: ignore[arg-type]
    else:
        run_drill(scenario)  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    return {"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def spawn(case: str, floor_only: bool) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", case] + (["--floor"] if floor_only else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--floor", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.floor)))
        return 0
    for case, (_, _, target) in CASES.items():
        drill, floor = spawn(case, False), spawn(case, True)
        print(f"{case:28}: engine {drill['wall']:.3f} s, peak RSS {drill['rss_mb']:.0f} MB"
              f"   target {target}")
        print(f"{'':28}  numpy floor {floor['wall']:.3f} s (RSS {floor['rss_mb']:.0f} MB)"
              f" → drill = {drill['wall'] / floor['wall']:.1f} × floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
