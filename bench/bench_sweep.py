"""Speed of Monte Carlo sweeps: the figures the sweep and speed issues set targets for.

A 1,000-run sweep of the critical-bug drill (20,000 users, 6 simulated hours) on all
cores, target ≤ 10 s of wall time on a 2-core machine (the speed issue, 15; < 60 s
before it), aggregates byte-identical to the serial run; printed beside the time of one
run and the same sweep on one worker, so the parallel efficiency shows:

    efficiency = (wall time on 1 worker) / (workers × wall time on N workers)

Sweeps stop each run once the incident is over (``full_horizon=False``: same metrics);
the single-run figures are given both ways. ``--runs`` and ``--jobs`` change the sweep,
``--skip-serial`` skips the 1-worker sweep (the efficiency is then estimated from the
single-run time).

``--linear K``: instead, the sweep of ``--runs`` and of ``K ×`` as many runs, each in a
fresh process, with wall time and peak RSS (the sweep's process and its largest worker):
the speed issue's "a 100,000-run sweep takes ≈ 100 × the 1,000-run sweep (within 10 %),
peak RSS within 10 %" is ``--runs 1000 --linear 100``; a smaller ``K`` shows the trend.
``--set KEY=VALUE`` (repeatable) changes the drill after the defaults above, e.g. a
cheap one for the linearity check (``--set population.users=200 --set horizon=1h --set
faults.0.at=10m``: ≈ 0.03 s a run); ``--dask`` runs the sweeps on a local Dask cluster
of ``--jobs`` single-threaded worker processes instead of the process pool. The
workers are started and warmed (``WARM`` runs each, of seeds far from the sweep's) before the
clock starts, so the wall time is the sweep's own, not the pool's start-up; the CPU
seconds (this process and the workers, from ``/proc``) are printed beside it, as they
depend less than wall time on what else the machine runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from sim.drills.run import run_drill
from sim.results.writer import summary
from sim.scenario.loader import load_default
from sim.sweeps.executors import DaskExecutor, PoolExecutor, SerialExecutor, cpu_count
from sim.sweeps.sweep import SweepPlan, collect, plan_sweep, sweep_document

SINGLE = 20
WARM = 8  # runs per worker before a measured sweep: a worker's first runs are slower
DRILL = ["population.users=20000", "horizon=6h"]


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


def measured_sweep(runs: int, jobs: int, overrides: list[str], dask: bool
                   ) -> dict[str, float]:
    """Wall time and peak RSS of a ``runs``-run sweep in a fresh process (``--child``)."""
    args = [sys.executable, __file__, "--child", "--runs", str(runs), "--jobs", str(jobs),
            *(f"--set={o}" for o in overrides), *(["--dask"] if dask else [])]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(runs: int, jobs: int, overrides: list[str], dask: bool) -> None:
    """In the fresh process: one sweep; prints wall, own and largest worker's peak RSS, and
    the document's digest."""
    scenario = load_default([*DRILL, *overrides])
    plan, warm = plan_sweep(scenario, runs), plan_sweep(scenario, WARM * jobs, base_seed=10**6)
    if dask:
        wall, cpu, doc, workers = dask_sweep(plan, warm, jobs)
    else:
        pool = PoolExecutor(jobs)
        try:
            sweep(warm, pool)
            before = cpu_s(pool_pids(pool))
            wall, doc = sweep(plan, pool)
            cpu = cpu_s(pool_pids(pool)) - before
            workers = max(peak_rss_mb(pid) for pid in pool_pids(pool))
        finally:
            pool.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": own, "worker_rss_mb": workers,
                      "sha256": hashlib.sha256(doc.encode()).hexdigest()[:16]}))


def cpu_s(pids: Iterable[int]) -> float:
    """CPU seconds (user + system) used so far by this process and the live ``pids``."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # proc(5)
    return total


def dask_sweep(plan: SweepPlan, warm: SweepPlan, jobs: int
               ) -> tuple[float, float, str, float]:
    """The sweep on a local Dask cluster of ``jobs`` worker processes (started, and warmed
    by the sweep ``warm``, before the clock): wall, CPU seconds, document, the largest
    worker's peak RSS."""
    import distributed

    with distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        try:
            sweep(warm, executor)
            pids = list(executor.client.run(os.getpid).values())
            before = cpu_s(pids)
            wall, doc = sweep(plan, executor)
            return wall, cpu_s(pids) - before, doc, max(peak_rss_mb(pid) for pid in pids)
        finally:
            executor.close()


def pool_pids(pool: PoolExecutor) -> list[int]:
    """The pool's worker processes (children of its fork server: not reaped here, so
    RUSAGE_CHILDREN does not see them)."""
    inner = pool._pool  # a benchmark's peek at the live workers
    return [] if inner is None else list(inner._processes)


def peak_rss_mb(pid: int) -> float:
    """A live process's peak RSS (``VmHWM``), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def linear(runs: int, scale: int, jobs: int, overrides: list[str], dask: bool) -> int:
    small = measured_sweep(runs, jobs, overrides, dask)
    large = measured_sweep(runs * scale, jobs, overrides, dask)
    where = "Dask workers" if dask else "workers"
    print(f"drill: {' '.join([*DRILL, *overrides])}")
    for n, m in ((runs, small), (runs * scale, large)):
        print(f"sweep, {n:>7,} runs, {jobs} {where}: {m['wall']:.1f} s wall, "
              f"{m['cpu']:.1f} s CPU, peak RSS "
              f"{m['rss_mb']:.1f} MB (largest worker {m['worker_rss_mb']:.1f} MB), "
              f"sweep.json sha256 {m['sha256']}")
    print(f"CPU ratio {large['cpu'] / small['cpu']:.2f}, "
          f"wall ratio {large['wall'] / small['wall']:.2f} (linear: {scale}; target within "
          f"10 %), peak RSS ratio {large['rss_mb'] / small['rss_mb']:.2f} "
          f"(workers {large['worker_rss_mb'] / small['worker_rss_mb']:.2f}; flat: 1.00)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=cpu_count())
    parser.add_argument("--skip-serial", action="store_true")
    parser.add_argument("--linear", type=int, metavar="K")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="Change the drill (after the defaults).")
    parser.add_argument("--dask", action="store_true",
                        help="--linear on a local Dask cluster of --jobs workers.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.runs, args.jobs, args.overrides, args.dask)
        return 0
    if args.linear:
        return linear(args.runs, args.linear, args.jobs, args.overrides, args.dask)

    scenario = load_default([*DRILL, *args.overrides])
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
          f"({args.runs / parallel:.1f} runs/s)   target ≤ 10 s (issue 15)")
    print(f"parallel efficiency             : {serial / (args.jobs * parallel):.0%} "
          f"(speed-up {serial / parallel:.2f}× on {args.jobs} workers)")
    print(f"aggregates, 1 vs {args.jobs} workers     : {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
