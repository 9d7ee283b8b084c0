"""The documented limits of a scenario (README, "Limits"), checked before anything runs.

A drill's memory and time grow with its number of ticks (``horizon / tick``: the series,
the journal) and its users (the per-user arrays), and its work with both: a 365-day
horizon at the default tick ran 238 s in 582 MB. The estimate below is fitted to
``critical-bug-flag-disable`` measured on this harness (peak RSS: 150 MB at the defaults,
+15 MB for 14 days of 10 s ticks, +560 MB for 2 million users), so a refusal can say what
the run would have needed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

MAX_DEPTH = 64  # YAML nesting; a scenario needs about 5
MAX_VALUES = 100_000  # YAML values once aliases are expanded; a scenario has a few hundred
MAX_SEED = 2**63 - 1  # a seed; sweeps add the run index to it
MAX_NAME = 100  # characters of a scenario's name (a folder name under results/)
MAX_VERSION = 100  # characters of a release version (a git tag, a folder name)
MAX_SIGMA = 10.0  # a lognormal's sigma: exp(10 z) already spans e^±40 at 4 sigma
MAX_HORIZON_S = 366 * 86400.0
MAX_TICKS = 500_000  # about 58 days at the default 10 s tick
MAX_TICK_USERS = 2e10  # ticks × users: the work of one run (defaults: 4.3e7)
MAX_MEMORY = 2 * 1024**3  # bytes a run's estimate may reach
MAX_RUNS = 1_000_000  # seeds per grid point (gate.runs, --runs)
MAX_SWEEP_RUNS = 10_000_000  # runs in one sweep, over every grid point
MAX_JOBS = 256  # worker processes (--jobs)
EARLIEST_START = datetime(1970, 1, 2, tzinfo=UTC)  # seed data is stamped a day before start
LATEST_END = datetime(9000, 1, 1, tzinfo=UTC)  # well inside datetime's year 9999

_BASE_BYTES = 150 * 1024**2
_BYTES_PER_USER = 300
_BYTES_PER_TICK = 150


def ticks(horizon: float, tick: float) -> int:
    """How many ticks a run of ``horizon`` seconds at ``tick`` seconds takes."""
    return math.ceil(horizon / tick)


def memory_estimate(n_ticks: int, users: int) -> float:
    """Bytes a run of ``n_ticks`` ticks over ``users`` users needs, about (see above)."""
    return _BASE_BYTES + _BYTES_PER_USER * users + _BYTES_PER_TICK * n_ticks


def check_size(horizon: float, tick: float, users: int) -> None:
    """Raises ValueError naming the field when a run would exceed a limit."""
    if horizon > MAX_HORIZON_S:
        raise ValueError(f"horizon: at most {MAX_HORIZON_S / 86400:g} days "
                         f"(got {horizon / 86400:g} days)")
    n = ticks(horizon, tick)
    need = memory_estimate(n, users)
    cost = (f"{n:,} ticks × {users:,} users would need about {need / 1024**2:,.0f} MB "
            f"and {n * users:.1e} tick-users of work")
    if n > MAX_TICKS:
        raise ValueError(f"tick: at most {MAX_TICKS:,} ticks per run (horizon / tick); "
                         f"{cost}: use a longer tick or a shorter horizon")
    if n * users > MAX_TICK_USERS or need > MAX_MEMORY:
        raise ValueError(f"population.users: {cost}; the limits are {MAX_TICK_USERS:.0e} "
                         f"tick-users and {MAX_MEMORY / 1024**2:,.0f} MB: use fewer users, "
                         "a longer tick or a shorter horizon")


def check_dates(start: datetime, horizon: float) -> None:
    """Raises ValueError when the run's dates fall outside what its clocks can stamp."""
    if start < EARLIEST_START:
        raise ValueError(f"start: must be on or after {EARLIEST_START:%Y-%m-%d} (the fakes "
                         "stamp times as seconds since 1970)")
    latest = LATEST_END.timestamp() - horizon
    if start.timestamp() > latest:
        raise ValueError(f"start: start + horizon must be before {LATEST_END:%Y-%m-%d}")
