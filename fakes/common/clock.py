"""The one clock every backend and the simulation read time from.

A clock answers ``now()`` in seconds since its epoch (the scenario's start). Backends
never call ``time.time()``; they take a clock. In a drill the clock is SimPy's
``env.now`` (see ``sim.world.clock.SimClock``); under ``drill serve`` it is the wall clock or a
scaled wall clock. Lifecycles are derived from it: nothing in a backend sleeps.
What real clients stamp by their own (wall) clock is mapped onto it by
``from_client_time``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_EPOCH = datetime(2026, 1, 25, 14, 0, tzinfo=UTC)


class Clock(Protocol):
    """Seconds since ``epoch``; ``epoch`` maps virtual time onto calendar time."""

    epoch: datetime

    def now(self) -> float: ...


def to_datetime(clock: Clock, t: float | None = None) -> datetime:
    """Calendar time of virtual second ``t`` (default: now)."""
    return clock.epoch + timedelta(seconds=clock.now() if t is None else t)


def to_iso(clock: Clock, t: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, as the vendors write it."""
    return to_datetime(clock, t).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_ms(clock: Clock, t: float | None = None) -> int:
    """Unix milliseconds of virtual second ``t`` (default: now)."""
    return round(to_datetime(clock, t).timestamp() * 1000)


def from_iso(clock: Clock, text: str) -> float:
    """Virtual seconds of an ISO timestamp (inverse of ``to_iso``)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - clock.epoch).total_seconds()


class ManualClock:
    """A clock that moves only when told to; for tests and replays."""

    def __init__(self, start: float = 0.0, epoch: datetime = DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self.epoch = epoch

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move forward; raises ValueError on a negative step (time never runs back)."""
        if seconds < 0:
            raise ValueError("a clock cannot run backwards")
        self._now += seconds

    def set(self, t: float) -> None:
        """Jump to ``t``; raises ValueError when ``t`` is in the past."""
        self.advance(t - self._now)


class WallClock:
    """Real time, optionally scaled: ``speed=60`` runs an hour of virtual time per minute.

    Virtual second ``t`` is the instant ``t / speed`` wall seconds after the clock
    started; by default its epoch is that start, so virtual calendar time begins at the
    wall's and then runs ``speed`` times faster."""

    def __init__(self, speed: float = 1.0, epoch: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self.epoch = epoch or datetime.fromtimestamp(self._wall0, UTC)

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    def from_wall(self, unix_s: float) -> float:
        """Virtual seconds of the wall instant ``unix_s`` (Unix seconds): as ``now`` maps
        the wall, ``(unix_s - start) × speed``."""
        return (unix_s - self._wall0) * self.speed


def from_client_time(clock: Clock, unix_s: float) -> float:
    """Virtual seconds of a Unix timestamp a client stamped by its own clock. A real
    client beside a ``WallClock`` (``drill serve``) reads the wall, so its stamp is mapped
    as the clock maps the wall (``WallClock.from_wall``: at ``--speed 60`` a session
    started one wall minute in is one virtual hour in); in a drill the stand-in clients
    stamp the clock's own calendar time, so it is only moved to the epoch."""
    if isinstance(clock, WallClock):
        return clock.from_wall(unix_s)
    return unix_s - clock.epoch.timestamp()


def from_client_iso(clock: Clock, text: str) -> float:
    """``from_client_time`` of an ISO timestamp (no zone: UTC); raises ValueError."""
    if not isinstance(clock, WallClock):
        return from_iso(clock, text)  # the clock's own calendar: exactly its inverse
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return clock.from_wall(parsed.timestamp())
