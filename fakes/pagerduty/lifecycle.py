"""The incident lifecycle as a transition table, and the queue of escalation deadlines.

An incident is triggered → acknowledged → resolved (or triggered → resolved). Events the
table does not list for a state change nothing: PagerDuty accepts them (202) and drops
them, e.g. acknowledging a resolved incident. ``escalate`` (manual escalation) puts an
acknowledged incident back to triggered, so its new level must acknowledge it again.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


#: (state, action) → next state. An action not listed for a state is a no-op.
INCIDENT_TRANSITIONS: dict[tuple[IncidentStatus, str], IncidentStatus] = {
    (IncidentStatus.TRIGGERED, "acknowledge"): IncidentStatus.ACKNOWLEDGED,
    (IncidentStatus.TRIGGERED, "resolve"): IncidentStatus.RESOLVED,
    (IncidentStatus.ACKNOWLEDGED, "resolve"): IncidentStatus.RESOLVED,
    (IncidentStatus.TRIGGERED, "escalate"): IncidentStatus.TRIGGERED,
    (IncidentStatus.ACKNOWLEDGED, "escalate"): IncidentStatus.TRIGGERED,
}


def next_status(state: IncidentStatus, action: str) -> IncidentStatus | None:
    """The state ``action`` leads to, or None when it changes nothing in ``state``."""
    return INCIDENT_TRANSITIONS.get((state, action))


@dataclass(frozen=True, order=True)
class Deadline:
    """Incident ``incident_id`` escalates at ``at`` unless acknowledged first."""

    at: float
    seq: int
    incident_id: str = field(compare=False)


class Deadlines:
    """Escalation deadlines in time order (then scheduling order)."""

    def __init__(self) -> None:
        self._heap: list[Deadline] = []
        self._seq = 0

    def add(self, at: float, incident_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Deadline(at, self._seq, incident_id))

    def next_at(self) -> float | None:
        return self._heap[0].at if self._heap else None

    def pop_due(self, now: float) -> Iterator[Deadline]:
        """Yield every deadline at or before ``now``, earliest first (added ones too)."""
        while self._heap and self._heap[0].at <= now:
            yield heapq.heappop(self._heap)

    def discard_stale(self, is_live: Callable[[Deadline], bool]) -> None:
        """Drop deadlines at the head that ``is_live(deadline)`` says no longer apply."""
        while self._heap and not is_live(self._heap[0]):
            heapq.heappop(self._heap)

    def pending(self) -> list[Deadline]:
        return sorted(self._heap)
