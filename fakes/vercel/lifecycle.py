"""The deployment and alias-request lifecycles, as transition tables, and their timer queue.

A deployment moves QUEUED → BUILDING → READY | ERROR, or to CANCELED while unfinished;
an alias request (instant rollback or promote) moves in-progress → succeeded. Nothing
here sleeps: the backend schedules each transition at the virtual time it is due and
``Schedule`` hands the due ones back in time order when the backend next looks.
"""

from __future__ import annotations

from enum import StrEnum

from fakes.common.schedule import Due, Schedule  # noqa: F401  (re-exported)
from fakes.vercel.errors import BadRequest


class ReadyState(StrEnum):
    """Vercel's ``readyState`` values this fake produces."""

    QUEUED = "QUEUED"
    BUILDING = "BUILDING"
    READY = "READY"
    ERROR = "ERROR"
    CANCELED = "CANCELED"


class JobStatus(StrEnum):
    """``lastAliasRequest.jobStatus``; pending/failed/skipped exist but are never reached."""

    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


#: (state, event) → next state. An event not listed for a state is not allowed there.
DEPLOYMENT_TRANSITIONS: dict[tuple[ReadyState, str], ReadyState] = {
    (ReadyState.QUEUED, "start_build"): ReadyState.BUILDING,
    (ReadyState.BUILDING, "finish_build"): ReadyState.READY,
    (ReadyState.BUILDING, "fail_build"): ReadyState.ERROR,
    (ReadyState.QUEUED, "cancel"): ReadyState.CANCELED,
    (ReadyState.BUILDING, "cancel"): ReadyState.CANCELED,
}

ALIAS_TRANSITIONS: dict[tuple[JobStatus, str], JobStatus] = {
    (JobStatus.IN_PROGRESS, "swap_alias"): JobStatus.SUCCEEDED,
}


def can_fire(state: ReadyState, event: str) -> bool:
    """Whether ``event`` is a transition out of ``state``."""
    return (state, event) in DEPLOYMENT_TRANSITIONS


def next_state(state: ReadyState, event: str) -> ReadyState:
    """The state ``event`` leads to; raises BadRequest when the table does not allow it."""
    try:
        return DEPLOYMENT_TRANSITIONS[(state, event)]
    except KeyError:
        raise BadRequest(f"a {state} deployment cannot {event.replace('_', ' ')}") from None
