"""The records the fake Statuspage keeps: pages, components, incidents and their updates.

Plain dataclasses owned and mutated by ``backend.py``; times are virtual seconds since
the clock's epoch (``payloads.py`` turns them into ISO timestamps).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from fakes.statuspage.lifecycle import ComponentStatus, Impact, IncidentStatus

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass
class Component:
    id: str
    page_id: str
    name: str
    status: ComponentStatus
    position: int
    created: float
    updated: float
    description: str | None = None


@dataclass
class Page:
    id: str
    name: str
    subdomain: str
    domain: str | None
    created: float
    updated: float
    component_ids: list[str] = field(default_factory=list)
    incident_ids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{self.domain or self.subdomain + '.statuspage.io'}"


@dataclass
class IncidentUpdate:
    """One post on an incident's timeline: the status it set and its message."""

    id: str
    incident_id: str
    status: IncidentStatus
    body: str
    at: float
    deliver_notifications: bool
    #: component id → (status before, status after) for the components this update set
    affected_components: dict[str, tuple[ComponentStatus, ComponentStatus]] = field(
        default_factory=dict)


@dataclass
class Incident:
    """A realtime incident; ``updates`` oldest first (the API lists them newest first)."""

    id: str
    page_id: str
    name: str
    status: IncidentStatus
    impact_override: Impact | None
    shortlink: str
    created: float
    updated: float
    impact: Impact = Impact.NONE
    component_ids: list[str] = field(default_factory=list)
    updates: list[IncidentUpdate] = field(default_factory=list)
    monitoring_at: float | None = None
    resolved_at: float | None = None


def digest(text: str, length: int = 12) -> str:
    """``length`` base-36 characters derived from ``text`` (ids that look like Statuspage's)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rem = divmod(number, 36)
        chars.append(_BASE36[rem])
    return "".join(chars)
