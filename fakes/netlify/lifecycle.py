"""The deploy and publish lifecycles, as transition tables, and their timer queue.

A deploy moves ``new → enqueued → building → ready | error``, or, when its files come
by digest, ``enqueued → uploading → processing → ready``; canceling an unfinished
deploy ends it in ``error`` ("Canceled build"), as Netlify reports it. A publish request
(restore or rollback) moves ``pending → published``, or to ``superseded`` when a later
request replaces it before it lands. Nothing here sleeps: the backend schedules each
transition at the virtual time it is due and ``Schedule`` hands the due ones back in
time order when the backend next looks.
"""

from __future__ import annotations

from enum import StrEnum

from fakes.common.schedule import Due, Schedule  # noqa: F401  (re-exported)
from fakes.netlify.errors import Unprocessable


class DeployState(StrEnum):
    """Netlify's deploy ``state`` values; ``uploading`` and ``processing`` are a
    file-digest deploy's (``file_deploys``), while it waits for its files and after."""

    NEW = "new"
    ENQUEUED = "enqueued"
    BUILDING = "building"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    READY = "ready"
    ERROR = "error"


class PublishStatus(StrEnum):
    """Where a restore or rollback request stands."""

    PENDING = "pending"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


#: (state, event) → next state. An event not listed for a state is not allowed there.
DEPLOY_TRANSITIONS: dict[tuple[DeployState, str], DeployState] = {
    (DeployState.NEW, "enqueue"): DeployState.ENQUEUED,
    (DeployState.ENQUEUED, "start_build"): DeployState.BUILDING,
    (DeployState.BUILDING, "finish_build"): DeployState.READY,
    (DeployState.BUILDING, "fail_build"): DeployState.ERROR,
    (DeployState.NEW, "cancel"): DeployState.ERROR,
    (DeployState.ENQUEUED, "cancel"): DeployState.ERROR,
    (DeployState.BUILDING, "cancel"): DeployState.ERROR,
    # A file-digest deploy (netlify deploy --dir): files instead of a build.
    (DeployState.NEW, "receive_digest"): DeployState.UPLOADING,
    (DeployState.ENQUEUED, "receive_digest"): DeployState.UPLOADING,
    (DeployState.UPLOADING, "finish_upload"): DeployState.PROCESSING,
    (DeployState.PROCESSING, "finish_processing"): DeployState.READY,
    (DeployState.UPLOADING, "cancel"): DeployState.ERROR,
    (DeployState.PROCESSING, "cancel"): DeployState.ERROR,
}

PUBLISH_TRANSITIONS: dict[tuple[PublishStatus, str], PublishStatus] = {
    (PublishStatus.PENDING, "publish"): PublishStatus.PUBLISHED,
    (PublishStatus.PENDING, "supersede"): PublishStatus.SUPERSEDED,
}

FINAL_STATES = frozenset({DeployState.READY, DeployState.ERROR})


def can_fire(state: DeployState, event: str) -> bool:
    """Whether ``event`` is a transition out of ``state``."""
    return (state, event) in DEPLOY_TRANSITIONS


def next_state(state: DeployState, event: str) -> DeployState:
    """The state ``event`` leads to; raises Unprocessable when the table does not allow it."""
    try:
        return DEPLOY_TRANSITIONS[(state, event)]
    except KeyError:
        raise Unprocessable(f"a deploy in state {state} cannot "
                            f"{event.replace('_', ' ')}") from None


def next_publish_status(status: PublishStatus, event: str) -> PublishStatus:
    """The status ``event`` leads a publish request to; KeyError when not allowed."""
    return PUBLISH_TRANSITIONS[(status, event)]
