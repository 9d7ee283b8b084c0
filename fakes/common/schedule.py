"""Timed transitions for clock-driven lifecycles (deployments, publishes, containers).

A backend schedules each future transition when it becomes certain (a build that will be
READY at t + q + d) and, at the start of every call, applies those due by now in time
order: the lifecycle follows the clock exactly without anything sleeping or polling.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Due:
    """One scheduled transition: ``event`` on ``subject`` (an id), for its ``run``.

    ``run`` lets a transition scheduled for an earlier start of a subject (a health check
    due after a container was stopped and started again) be recognised as stale.
    """

    at: float
    seq: int
    event: str = field(compare=False)
    subject: str = field(compare=False)
    run: int = field(compare=False, default=0)


class Schedule:
    """Pending transitions, ordered by (time, scheduling order); O(1) to ask what is next."""

    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._seq = 0

    def add(self, at: float, event: str, subject: str, run: int = 0) -> int:
        """Schedule ``event``; returns its sequence number (unique, increasing)."""
        self._seq += 1
        heapq.heappush(self._heap, Due(at, self._seq, event, subject, run))
        return self._seq

    def next_at(self) -> float | None:
        return self._heap[0].at if self._heap else None

    def pop_due(self, now: float) -> Iterator[Due]:
        """Yield every transition due at or before ``now``, earliest first.

        Transitions added while iterating are yielded too when they are already due.
        """
        while self._heap and self._heap[0].at <= now:
            yield heapq.heappop(self._heap)

    def pending(self) -> list[Due]:
        return sorted(self._heap)

    def __len__(self) -> int:
        return len(self._heap)
