"""The runbook's escalation path as rules: who is told, when, and the reason given."""

from __future__ import annotations

from rollout.incident.escalation import (
    ACK_DELAY,
    Contacts,
    IncidentDetected,
    Role,
    RollbackFailed,
    RollbackInitiated,
    Unacknowledged,
    unacknowledged_escalations,
    who_to_notify,
)


def test_detection_notifies_the_incident_lead() -> None:
    """Rule: incident detected → notify the Incident Lead (step 1), with the alert."""
    notice = who_to_notify(IncidentDetected("error rate > 5%"))
    assert notice is not None
    assert (notice.role, notice.action, notice.step, notice.level) == \
        (Role.INCIDENT_LEAD, "notify", 1, 1)
    assert "error rate > 5%" in notice.reason


def test_rollback_initiated_notifies_the_devops_lead() -> None:
    """Rule: rollback initiated → notify the DevOps Lead (step 2), naming the path."""
    notice = who_to_notify(RollbackInitiated("vercel-rollback"))
    assert notice is not None
    assert (notice.role, notice.action, notice.step) == (Role.DEVOPS_LEAD, "notify", 2)
    assert "vercel-rollback" in notice.reason


def test_rollback_failed_escalates_to_the_cto_with_the_reason() -> None:
    """Rule: rollback failed → escalate to the CTO (step 3); the reason says where and why."""
    notice = who_to_notify(RollbackFailed("vercel rollback", "alias job failed"))
    assert notice is not None
    assert (notice.role, notice.action, notice.step, notice.level) == \
        (Role.CTO, "escalate", 3, 3)
    assert "vercel rollback" in notice.reason and "alias job failed" in notice.reason


def test_unacknowledged_page_goes_to_the_next_level_and_stops_at_the_cto() -> None:
    """Rule: an unacknowledged page goes one level up; after the CTO nobody is left."""
    up = who_to_notify(Unacknowledged(Role.INCIDENT_LEAD, 10.0, 300.0))
    assert up is not None and (up.role, up.action, up.at) == (Role.DEVOPS_LEAD, "escalate", 310)
    assert "5 min" in up.reason
    assert who_to_notify(Unacknowledged(Role.CTO, 0.0, 300.0)) is None


def test_nobody_acknowledges_devops_lead_then_cto_at_the_policy_delays() -> None:
    """Rule: with no acknowledgement, DevOps Lead at +delay, CTO at +2·delay, then no more."""
    pages = unacknowledged_escalations(100.0, None, now=10_000.0)
    assert [(p.role, p.at) for p in pages] == [(Role.DEVOPS_LEAD, 100 + ACK_DELAY),
                                               (Role.CTO, 100 + 2 * ACK_DELAY)]
    assert unacknowledged_escalations(100.0, None, now=100 + ACK_DELAY - 1) == []


def test_acknowledgement_stops_escalation_but_not_at_the_deadline() -> None:
    """Rule: an ack before the deadline stops escalation; an ack exactly at it is late."""
    assert unacknowledged_escalations(0.0, 299.0, now=1000.0) == []
    late = unacknowledged_escalations(0.0, 300.0, now=1000.0)
    assert [p.role for p in late] == [Role.DEVOPS_LEAD]


def test_contacts_name_each_role() -> None:
    """Rule: every role has a name to fill the runbook's [Name]."""
    people = Contacts("Ada", "Grace", "Linus")
    assert [people.name(r) for r in Role] == ["Ada", "Grace", "Linus"]
    assert Role.DEVOPS_LEAD.label == "DevOps Lead"
