"""The container lifecycle as a transition table, and the timer queue that drives it.

A container moves CREATED → STARTING (running, health check not yet passed) → HEALTHY
(running, first health check passed) → STOPPING (running, SIGTERM sent) → EXITED →
REMOVED; EXITED may start again. ``kill`` (a forced remove, or the stop timeout running
out) ends a running container at once. Nothing here sleeps: the backend schedules each
timed transition (``pass_health_check``, ``exit``, ``finish_pull``) at the virtual time
it is due and ``Schedule`` hands back the due ones in time order when the backend looks.
"""

from __future__ import annotations

import math
from enum import StrEnum

from fakes.common.schedule import Due, Schedule  # noqa: F401  (re-exported)


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


def first_health_check(ready: float, interval: float) -> float:
    """Seconds from a start to the first health check at or after the app is ready
    (``ready`` seconds in), with checks every ``interval`` from the start on."""
    if interval <= 0:
        return max(0.0, ready)
    return max(1, math.ceil(ready / interval - 1e-9)) * interval
