"""When a hosted build is queued, starts and ends: the timeline a new deploy is given.

Vercel and Netlify both take a build's queue time, build time and failure from samplers
the caller seeds, drawn once per new build in that order (queue, build, fails). A seeded
deploy (``ready_at`` given, usually <= 0) is already built and draws nothing, so seeding
a world leaves the samplers' streams alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

Seconds = float | Callable[[], float]  # a fixed duration, or a sampler drawn at each use


class BuildTimeline(NamedTuple):
    """Virtual times of a build's creation, start and end, and whether it fails."""

    created: float
    building: float
    ready: float
    fails: bool


def build_timeline(now: float, ready_at: float | None, queue_time: Callable[[], float],
                   build_time: Callable[[], float],
                   build_fails: Callable[[], bool]) -> BuildTimeline:
    """The timeline of a build started ``now``, or of a seeded one ready at ``ready_at``."""
    if ready_at is not None:  # seeded: no draws
        start = min(now, float(ready_at))
        return BuildTimeline(start, start, float(ready_at), False)
    # Samplers may be unbounded distributions; a negative duration means "instant".
    building = now + max(0.0, float(queue_time()))
    ready = building + max(0.0, float(build_time()))
    return BuildTimeline(now, building, ready, bool(build_fails()))


def seconds(value: Seconds) -> float:
    """The duration ``value`` gives now: itself, or a draw (negative means instant)."""
    return max(0.0, float(value() if callable(value) else value))
