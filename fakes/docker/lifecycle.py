"""The container lifecycle as a transition table, and the timer queue that drives it.

A container moves CREATED → STARTING (running, health check not yet passed) → HEALTHY
(running, first health check passed) → STOPPING (running, SIGTERM sent) → EXITED →
REMOVED; EXITED may start again. ``kill`` (a forced remove, or the stop timeout running
out) ends a running container at once. Nothing here sleeps: the backend schedules each
timed transition (``pass_health_check``, ``exit``, ``finish_pull``) at the virtual time
it is due and ``Schedule`` hands back the due ones in time order when the backend looks.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Phase(StrEnum):
    """Where a container is in its life; ``status`` and ``health`` map it onto Docker's."""

    CREATED = "created"
    STARTING = "starting"
    HEALTHY = "healthy"
    STOPPING = "stopping"
    EXITED = "exited"
    REMOVED = "removed"

    @property
    def status(self) -> str:
        """Docker's ``State.Status``."""
        return "running" if self in RUNNING else self.value

    @property
    def running(self) -> bool:
        return self in RUNNING


RUNNING = frozenset({Phase.STARTING, Phase.HEALTHY, Phase.STOPPING})

#: (phase, event) → next phase. An event not listed for a phase is not allowed there.
TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    (Phase.CREATED, "start"): Phase.STARTING,
    (Phase.EXITED, "start"): Phase.STARTING,
    (Phase.STARTING, "pass_health_check"): Phase.HEALTHY,
    (Phase.STARTING, "stop"): Phase.STOPPING,
    (Phase.HEALTHY, "stop"): Phase.STOPPING,
    (Phase.STOPPING, "exit"): Phase.EXITED,
    (Phase.STARTING, "kill"): Phase.EXITED,
    (Phase.HEALTHY, "kill"): Phase.EXITED,
    (Phase.STOPPING, "kill"): Phase.EXITED,
    (Phase.CREATED, "remove"): Phase.REMOVED,
    (Phase.EXITED, "remove"): Phase.REMOVED,
}


def can_fire(phase: Phase, event: str) -> bool:
    """Whether ``event`` is a transition out of ``phase``."""
    return (phase, event) in TRANSITIONS


def next_phase(phase: Phase, event: str) -> Phase:
    """The phase ``event`` leads to; raises KeyError when the table does not allow it."""
    return TRANSITIONS[(phase, event)]


@dataclass(frozen=True, order=True)
class Due:
    """One scheduled transition: ``event`` on ``subject`` during its ``run`` (start count).

    ``run`` lets a transition scheduled for an earlier start of a container (a health
    check due after it was stopped and started again) be recognised as stale.
    """

    at: float
    seq: int
    event: str = field(compare=False)
    subject: str = field(compare=False)
    run: int = field(compare=False, default=0)


class Schedule:
    """Pending transitions ordered by (time, scheduling order); O(1) to ask what is next."""

    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._seq = 0

    def add(self, at: float, event: str, subject: str, run: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Due(at, self._seq, event, subject, run))

    def next_at(self) -> float | None:
        return self._heap[0].at if self._heap else None

    def pop_due(self, now: float) -> Iterator[Due]:
        """Yield every transition due at or before ``now``, earliest first (also those
        added while iterating, when already due)."""
        while self._heap and self._heap[0].at <= now:
            yield heapq.heappop(self._heap)

    def pending(self) -> list[Due]:
        return sorted(self._heap)

    def __len__(self) -> int:
        return len(self._heap)
