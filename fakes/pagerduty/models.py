"""The records the fake PagerDuty keeps: services, incidents, their transitions and log,
the notifications sent to people, and the accepted events.

Plain dataclasses owned and mutated by ``backend.py``; times are virtual seconds since
the clock's epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes.pagerduty.escalation import EscalationPolicy
from fakes.pagerduty.lifecycle import IncidentStatus


@dataclass
class Service:
    """A service with one Events API v2 integration (its routing key) and a policy."""

    name: str
    routing_key: str
    policy: EscalationPolicy


@dataclass
class Transition:
    at: float
    status: IncidentStatus


@dataclass
class Notification:
    """A page sent to ``target`` at ``at``: on trigger, on escalation, or by hand."""

    at: float
    incident_id: str
    dedup_key: str
    level: int
    target: str
    reason: str  # "triggered" | "escalated" | "manual"


@dataclass
class EventRecord:
    """An accepted Events API call and what it did ("created", "deduplicated",
    "acknowledged", "resolved", or "ignored" when it changed nothing)."""

    at: float
    routing_key: str
    action: str
    dedup_key: str
    outcome: str
    incident_id: str | None


@dataclass
class Incident:
    """One incident, keyed by its dedup_key while open; times are virtual seconds."""

    id: str
    number: int
    dedup_key: str
    routing_key: str
    service: str
    summary: str
    source: str
    severity: str
    triggered_at: float
    details: dict[str, Any] = field(default_factory=dict)
    status: IncidentStatus = IncidentStatus.TRIGGERED
    acknowledged_at: float | None = None
    resolved_at: float | None = None
    level: int = 1
    loops: int = 0
    escalation_due_at: float | None = None
    alert_count: int = 1
    transitions: list[Transition] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED
