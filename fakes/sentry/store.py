"""The counts the fake Sentry keeps per (release, environment), in the shapes its readers
need: error events by Unix second and sessions by started Unix second for the alert rules
(``series.Series``: any ``[start, end)`` Snuba asks for, ``subscriptions``), and sessions
by minute for the sessions API and release health (``sessions.Buckets``, whose intervals
are whole minutes).

A session is counted once, in one column of ``[healthy, errored, crashed, abnormal]``
(``sessions``), at the time it started. Error events are counted in two columns,
``[events, unhandled]`` (``EVENTS``, ``UNHANDLED``): all of them, and those the SDK caught
in its global handler (``handled: false``), so an alert rule on ``error.unhandled:true``
counts the unhandled ones and one on ``error.unhandled:false`` the rest: Sentry turns
``error.unhandled:1`` into ``notHandled() = 1`` and ``:0`` into ``isHandled() = 1``
(github:getsentry/sentry ``src/sentry/search/events/datasets/discover.py``,
``_error_unhandled_filter_converter``; ``error.handled`` the inverse).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from fakes.common.clock import Clock
from fakes.sentry import sessions
from fakes.sentry.series import Series

Key = tuple[str, str]  # (release, environment)
EVENTS, UNHANDLED = 0, 1  # the columns of an error series


class CountStore:
    """Error events and sessions, recorded as they are received."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sessions: sessions.Buckets = {}  # by minute, for the sessions API
        self.session_series: dict[Key, Series] = {}  # by started second, for alerts
        self.errors: dict[Key, Series] = {}  # events by Unix second

    def second(self, t: float) -> int:
        """The Unix second of virtual time ``t`` (Snuba's timestamps are whole seconds)."""
        return math.floor(self.clock.epoch.timestamp() + t)

    def add_sessions(self, key: Key, started: float, counts: Sequence[int]) -> bool:
        """Add sessions started at ``started`` (virtual s), one count per column; True when
        ``key`` is new."""
        minutes = self.sessions.get(key)
        new = minutes is None
        if minutes is None:
            minutes = self.sessions[key] = {}
            self.session_series[key] = Series(4)
        self.session_series[key].add(self.second(started), counts)
        row = minutes.setdefault(int(started // 60), [0, 0, 0, 0])
        for col, n in enumerate(counts):
            row[col] += n
        return new

    def move_session(self, key: Key, started: float, old: int, new: int) -> None:
        """Move one session started at ``started`` from column ``old`` to ``new``."""
        row = self.sessions[key][int(started // 60)]
        row[old] -= 1
        row[new] += 1
        move = [0, 0, 0, 0]
        move[old], move[new] = -1, 1
        self.session_series[key].add(self.second(started), move)

    def add_errors(self, key: Key, timestamp: float, count: int,
                   unhandled: bool = False) -> bool:
        """Add ``count`` error events at ``timestamp`` (virtual s), all ``unhandled`` or all
        handled; True when ``key`` is new."""
        series = self.errors.get(key)
        new = series is None
        if series is None:
            series = self.errors[key] = Series(2)
        series.add(self.second(timestamp), (count, count if unhandled else 0))
        return new

    def error_total(self, key: Key) -> int:
        return self.errors[key].total(-math.inf, math.inf)
