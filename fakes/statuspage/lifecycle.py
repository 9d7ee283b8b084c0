"""The vocabularies of a status page and the incident lifecycle, as a transition table.

A realtime incident moves investigating → identified → monitoring → resolved. As on
Statuspage, an update may skip ahead (straight to resolved) or step back while the
incident is open (monitoring → investigating when a fix did not hold); once resolved it
stays resolved (a further update may only add a resolved note). Impact, unless
overridden, follows the worst status of the incident's components.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from fakes.statuspage.errors import Unprocessable


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


_ANY = frozenset({IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED,
                   IncidentStatus.MONITORING, IncidentStatus.RESOLVED})

#: status → the statuses an update may move it to.
INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.INVESTIGATING: _ANY,
    IncidentStatus.IDENTIFIED: _ANY,
    IncidentStatus.MONITORING: _ANY,
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.RESOLVED}),
}

#: The impact a component status implies (Statuspage's automatic impact).
COMPONENT_IMPACT: dict[ComponentStatus, Impact] = {
    ComponentStatus.OPERATIONAL: Impact.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Impact.NONE,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}

_IMPACT_ORDER = list(Impact)
E = TypeVar("E", bound=StrEnum)


def parse(kind: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``kind``; raises Unprocessable naming the allowed values."""
    if isinstance(value, str) and value in kind.__members__.values():
        return kind(value)
    allowed = ", ".join(m.value for m in kind)
    raise Unprocessable(f"{field} must be one of {allowed}, not {value!r}")


def next_status(current: IncidentStatus, requested: IncidentStatus) -> IncidentStatus:
    """The status after an update; raises Unprocessable when the table forbids it."""
    if requested not in INCIDENT_TRANSITIONS[current]:
        raise Unprocessable(f"Incident is {current} and cannot move back to {requested}")
    return requested


def worst_impact(statuses: Iterable[ComponentStatus]) -> Impact:
    """The impact of the worst of ``statuses`` (none for no components)."""
    impacts = [COMPONENT_IMPACT[s] for s in statuses]
    return max(impacts, key=_IMPACT_ORDER.index, default=Impact.NONE)


def is_open(status: IncidentStatus) -> bool:
    return status is not IncidentStatus.RESOLVED
