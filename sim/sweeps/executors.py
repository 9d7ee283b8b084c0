"""Where a sweep's runs execute: this process, a process pool on all cores, or Dask.

Each executor takes chunks ``(point, scenario_json, seeds)`` and yields
``(point, rows)`` as chunks complete, in whatever order they finish (``sim.sweeps.sweep`` sorts);
``close()`` releases its workers; a pool interrupted (Ctrl-C, SIGTERM, a failed run)
terminates them at once, and its workers die with the drill (``sim.sweeps.workers``).
Workers receive the validated scenario as plain JSON data and return the small per-run
rows of ``sim.sweeps.sweep.run_chunk``: nothing large or unpicklable crosses a process boundary.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from sim.errors import BadInput
from sim.sweeps.sweep import Chunk, Row, run_chunk
from sim.sweeps.workers import init_worker

Done = Iterator[tuple[int, list[Row]]]
# Modules the pool's fork server imports once, so every worker starts warm.
PRELOAD = ["sim.sweeps.sweep", "sim.drills.incident", "sim.results.writer"]


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SerialExecutor:
    """Runs every chunk here, one after the other (``--jobs 1``)."""

    workers = 1
    name = "serial (1 worker)"

    def map_chunks(self, chunks: Sequence[Chunk], full_horizon: bool) -> Done:
        # one seed at a time, so a Ctrl-C keeps every run finished before it
        for point, scenario, seeds in chunks:
            for seed in seeds:
                yield point, run_chunk(scenario, [seed], full_horizon)

    def close(self) -> None:
        """Nothing to release."""


class PoolExecutor:
    """A process pool of ``jobs`` workers started from a preloaded fork server; the pool
    lives until ``close()``, so several sweeps (``drill check``) start it once."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self.name = f"process pool ({jobs} workers)"
        self._pool: ProcessPoolExecutor | None = None

    def map_chunks(self, chunks: Sequence[Chunk], full_horizon: bool) -> Done:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(),
                                             initializer=init_worker,
                                             initargs=(os.getpid(),))
        futures: dict[Future[list[Row]], int] = {
            self._pool.submit(run_chunk, scenario, seeds, full_horizon): point
            for point, scenario, seeds in chunks}
        try:
            for future in as_completed(futures):
                # popped: a future kept holds its rows, and the sweep keeps no rows
                yield futures.pop(future), future.result()
        except BaseException:  # Ctrl-C, SIGTERM (SystemExit), a failed run: stop now
            self.abort()
            raise

    def close(self) -> None:
        """Let the workers finish and exit."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop now: drop the queued chunks and terminate the workers (each removes its
        temporary folders on SIGTERM, ``sim.sweeps.workers``)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)


def _context() -> Any:
    # fork server, not fork: forking a process that already runs threads (a Dask client,
    # a progress bar) can deadlock; the server is started before any of them, preloaded.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class DaskExecutor:
    """The same chunks on a Dask cluster at ``address`` (or through an open ``client``)."""

    def __init__(self, address: str | None = None, client: Any = None) -> None:
        try:
            import distributed
        except ImportError:
            raise BadInput("--dask needs the 'distributed' package installed") from None
        self._own = client is None
        try:
            self.client = client or distributed.Client(address, set_as_default=False,
                                                       timeout="10s")
        except OSError as exc:
            raise BadInput(f"--dask {address}: cannot reach the scheduler ({exc})") from None
        self.workers = max(1, sum(self.client.nthreads().values()))
        where = getattr(self.client.scheduler, "address", address)
        self.name = f"Dask cluster {where} ({self.workers} threads)"

    def map_chunks(self, chunks: Sequence[Chunk], full_horizon: bool) -> Done:
        import distributed

        futures = {self.client.submit(run_chunk, scenario, seeds, full_horizon,
                                      pure=False): point
                   for point, scenario, seeds in chunks}
        try:
            for future in distributed.as_completed(list(futures), loop=self.client.loop):
                # popped: a future kept holds its rows here and on the cluster
                yield futures.pop(future), future.result()
        finally:
            self.client.cancel(list(futures))

    def close(self) -> None:
        if self._own:
            self.client.close()


def executor_for(jobs: int | None, dask: str | None) -> Any:
    """``--dask ADDRESS`` wins; else ``--jobs`` workers (default: all cores; 1 runs here)."""
    if dask:
        return DaskExecutor(dask)
    jobs = cpu_count() if jobs is None else jobs
    if jobs < 1:
        raise BadInput("--jobs: must be at least 1")
    return SerialExecutor() if jobs == 1 else PoolExecutor(jobs)
