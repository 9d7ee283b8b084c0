"""The runbook's escalation path as code: who is told about an incident, when, and why.

Emergency Contacts → Escalation Path:

1. Incident detected → notify the Incident Lead
2. Rollback initiated → notify the DevOps Lead
3. Rollback failed → escalate to the CTO

and the on-call rule behind "On-Call: PagerDuty rotation": a page nobody acknowledges
within the policy's delay goes to the next person in the chain (Incident Lead → DevOps
Lead → CTO). Pure functions over small frozen records; every answer carries its reason
as text, so a journal can say why each person was told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The people of the runbook's Emergency Contacts (PagerDuty target names)."""

    INCIDENT_LEAD = "incident-lead"
    DEVOPS_LEAD = "devops-lead"
    CTO = "cto"

    @property
    def label(self) -> str:
        """How the runbook names the role ("DevOps Lead")."""
        return _LABELS[self]


_LABELS = {Role.INCIDENT_LEAD: "Incident Lead", Role.DEVOPS_LEAD: "DevOps Lead",
           Role.CTO: "CTO"}

#: The escalation chain, in PagerDuty level order (level 1 is the Incident Lead).
CHAIN: tuple[Role, ...] = (Role.INCIDENT_LEAD, Role.DEVOPS_LEAD, Role.CTO)
#: Seconds a level has to acknowledge before the next is paged (the fake PagerDuty's
#: default policy; a drill's scenario states its own ``incident.escalation_timeout``).
ACK_DELAY = 300.0


def level_of(role: Role) -> int:
    """The 1-based escalation level of ``role`` in ``CHAIN``."""
    return CHAIN.index(role) + 1


@dataclass(frozen=True)
class Contacts:
    """Who holds each role (the runbook leaves ``[Name]`` to fill in)."""

    incident_lead: str = "Incident Lead"
    devops_lead: str = "DevOps Lead"
    cto: str = "CTO"

    def name(self, role: Role) -> str:
        return {Role.INCIDENT_LEAD: self.incident_lead, Role.DEVOPS_LEAD: self.devops_lead,
                Role.CTO: self.cto}[role]


@dataclass(frozen=True)
class Notify:
    """Tell ``role`` (``action``: "notify", or "escalate" when it hands the incident up),
    at ``at`` when the rule fixes a time, and why."""

    role: Role
    action: str
    reason: str
    step: int | None = None  # the Escalation Path step, None for an unacknowledged page
    at: float | None = None

    @property
    def level(self) -> int:
        return level_of(self.role)


# ---- what can happen -----------------------------------------------------------------

@dataclass(frozen=True)
class IncidentDetected:
    title: str


@dataclass(frozen=True)
class RollbackInitiated:
    path: str


@dataclass(frozen=True)
class RollbackFailed:
    where: str
    error: str


@dataclass(frozen=True)
class Unacknowledged:
    """``role`` was paged at ``paged_at`` and nobody acknowledged for ``waited`` seconds."""

    role: Role
    paged_at: float
    waited: float


Event = IncidentDetected | RollbackInitiated | RollbackFailed | Unacknowledged


def who_to_notify(event: Event) -> Notify | None:
    """The escalation rule for ``event``: whom to tell and why; None when nobody is left
    (an unacknowledged page to the last person in the chain)."""
    if isinstance(event, IncidentDetected):
        return Notify(Role.INCIDENT_LEAD, "notify", f"incident detected ({event.title}): "
                      "escalation path step 1, notify the Incident Lead", step=1)
    if isinstance(event, RollbackInitiated):
        return Notify(Role.DEVOPS_LEAD, "notify", f"rollback initiated via {event.path}: "
                      "escalation path step 2, notify the DevOps Lead", step=2)
    if isinstance(event, RollbackFailed):
        return Notify(Role.CTO, "escalate", f"rollback failed at {event.where}: "
                      f"{event.error}: escalation path step 3, escalate to the CTO", step=3)
    return _next_in_chain(event)


def _next_in_chain(event: Unacknowledged) -> Notify | None:
    level = level_of(event.role)
    if level >= len(CHAIN):
        return None
    return Notify(CHAIN[level], "escalate",
                  f"nobody acknowledged the page to the {event.role.label} within "
                  f"{event.waited / 60:g} min: on-call policy, page the next level",
                  at=event.paged_at + event.waited)


def unacknowledged_escalations(paged_at: float, acked_at: float | None, now: float,
                               delay: float = ACK_DELAY) -> list[Notify]:
    """The pages the on-call policy sends by ``now`` after a first page at ``paged_at``.

    Level k+1 is paged ``delay`` after level k unless someone acknowledged before that
    deadline; an acknowledgement at exactly the deadline is too late (as on PagerDuty).
    """
    sent: list[Notify] = []
    role, at = CHAIN[0], paged_at
    while True:
        deadline = at + delay
        if deadline > now or (acked_at is not None and acked_at < deadline):
            return sent
        page = who_to_notify(Unacknowledged(role, at, delay))
        if page is None:
            return sent
        sent.append(page)
        role, at = page.role, deadline


@dataclass(frozen=True)
class Acknowledgement:
    """Who acknowledged the page (``role``, at escalation ``level``), when that level was
    paged, and when they acknowledged."""

    role: Role
    paged_at: float
    at: float

    @property
    def level(self) -> int:
        return level_of(self.role)


def first_acknowledgement(paged_at: float, ack_delay: Callable[[int], float | None],
                          timeout: float = ACK_DELAY) -> Acknowledgement | None:
    """Who acknowledges a page first sent at ``paged_at``, and when.

    Each level of ``CHAIN`` is paged ``timeout`` after the previous one unless that one
    acknowledged strictly before its deadline (at the deadline is too late, as on
    PagerDuty); ``ack_delay(level)`` is how long the level takes to acknowledge once paged
    (None: never), asked only of the levels actually paged. The last level has no one to
    escalate to, so its acknowledgement stands however late. None: nobody acknowledges.
    """
    at = paged_at
    for level, role in enumerate(CHAIN, start=1):
        delay = ack_delay(level)
        if delay is not None and (level == len(CHAIN) or delay < timeout):
            return Acknowledgement(role, at, at + delay)
        at += timeout
    return None
