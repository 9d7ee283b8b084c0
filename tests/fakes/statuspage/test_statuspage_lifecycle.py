"""The incident status transition table and the impact rule, checked on the backend."""

from __future__ import annotations

import itertools

import pytest

from fakes.statuspage.errors import Unprocessable
from fakes.statuspage.lifecycle import (
    INCIDENT_TRANSITIONS,
    ComponentStatus,
    Impact,
    IncidentStatus,
    next_status,
    worst_impact,
)

S = IncidentStatus


@pytest.mark.parametrize(("current", "requested"), list(itertools.product(S, S)))
def test_only_a_resolved_incident_refuses_a_status(current, requested):
    """Open incidents may move to any status; a resolved one only stays resolved."""
    allowed = current is not S.RESOLVED or requested is S.RESOLVED
    assert (requested in INCIDENT_TRANSITIONS[current]) == allowed
    if allowed:
        assert next_status(current, requested) is requested
    else:
        with pytest.raises(Unprocessable):
            next_status(current, requested)


def test_impact_follows_the_worst_component():
    """degraded → minor, partial outage → major, major outage → critical; none otherwise."""
    C = ComponentStatus
    assert worst_impact([]) is Impact.NONE
    assert worst_impact([C.OPERATIONAL, C.UNDER_MAINTENANCE]) is Impact.NONE
    assert worst_impact([C.DEGRADED_PERFORMANCE]) is Impact.MINOR
    assert worst_impact([C.DEGRADED_PERFORMANCE, C.PARTIAL_OUTAGE]) is Impact.MAJOR
    assert worst_impact([C.MAJOR_OUTAGE, C.OPERATIONAL]) is Impact.CRITICAL


def test_body_only_update_posts_an_update_and_name_only_does_not(backend):
    """A body (or status) posts an incident update; renaming alone edits silently."""
    page = backend.default_page_id
    incident = backend.create_incident(page, "Contacts degraded", body="looking")
    backend.update_incident(page, incident.id, body="still looking")
    backend.update_incident(page, incident.id, name="Contacts unavailable")
    assert [u.body for u in incident.updates] == ["looking", "still looking"]
    assert incident.name == "Contacts unavailable"
    assert backend.status_indicator(page) is Impact.NONE
