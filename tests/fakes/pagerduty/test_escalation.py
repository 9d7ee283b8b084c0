"""Escalation derived from the clock: who is paged, when, and what stops it.

The runbook's path (RUNBOOK_POLICY): Incident Lead, then DevOps Lead, then CTO, each
level having 300 s to acknowledge before the next is paged.
"""

from __future__ import annotations

import pytest

from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY
from fakes.pagerduty.errors import NotFound
from fakes.pagerduty.escalation import RUNBOOK_POLICY, EscalationLevel, EscalationPolicy
from fakes.pagerduty.lifecycle import IncidentStatus


def trigger(backend, dedup_key="contacts-errors"):
    return backend.enqueue({"routing_key": DEFAULT_ROUTING_KEY, "event_action": "trigger",
                            "dedup_key": dedup_key, "payload": {
                                "summary": "Contacts error rate high", "source": "sentry",
                                "severity": "critical"}})


def act(backend, action, dedup_key="contacts-errors"):
    backend.enqueue({"routing_key": DEFAULT_ROUTING_KEY, "event_action": action,
                     "dedup_key": dedup_key})


def pages(backend):
    return [(n.at, n.level, n.target, n.reason) for n in backend.notifications()]


def test_the_runbook_policy_is_the_default():
    """incident-lead → devops-lead → cto, 300 s apart, no loops."""
    assert [lvl.targets for lvl in RUNBOOK_POLICY.levels] == [
        ("incident-lead",), ("devops-lead",), ("cto",)]
    assert {lvl.escalation_delay for lvl in RUNBOOK_POLICY.levels} == {300.0}


def test_trigger_pages_level_one_at_once(backend, clock):
    """The incident lead is paged the moment the incident is triggered."""
    clock.set(42.0)
    trigger(backend)
    assert pages(backend) == [(42.0, 1, "incident-lead", "triggered")]
    assert backend.next_escalation_at() == 342.0


def test_unacknowledged_escalates_at_the_exact_deadlines_even_when_looked_at_late(
        backend, clock):
    """Nobody looks until t=1000: DevOps lead paged at 300, CTO at 600, then it stops."""
    trigger(backend)
    clock.set(1000.0)
    assert pages(backend) == [(0.0, 1, "incident-lead", "triggered"),
                              (300.0, 2, "devops-lead", "escalated"),
                              (600.0, 3, "cto", "escalated")]
    assert backend.next_escalation_at() is None
    assert backend.incident("contacts-errors").level == 3


def test_acknowledging_in_time_stops_escalation(backend, clock):
    """An acknowledgement before the deadline: nobody else is paged."""
    trigger(backend)
    clock.set(299.0)
    act(backend, "acknowledge")
    clock.set(5000.0)
    assert [p[2] for p in pages(backend)] == ["incident-lead"]
    assert backend.due_escalations() == []


def test_acknowledging_at_the_deadline_is_too_late(backend, clock):
    """Due when now >= deadline: an acknowledgement at exactly 300 s comes after the page."""
    trigger(backend)
    clock.set(300.0)
    act(backend, "acknowledge")
    incident = backend.incident("contacts-errors")
    assert [p[2] for p in pages(backend)] == ["incident-lead", "devops-lead"]
    assert incident.status is IncidentStatus.ACKNOWLEDGED and incident.acknowledged_at == 300.0


def test_resolving_stops_escalation(backend, clock):
    trigger(backend)
    clock.set(100.0)
    act(backend, "resolve")
    clock.set(5000.0)
    assert len(pages(backend)) == 1 and backend.next_escalation_at() is None


def test_due_escalations_since_a_time(backend, clock):
    """due_escalations(since) returns timed escalations with since < at <= now."""
    trigger(backend)
    clock.set(450.0)
    assert [(n.at, n.target) for n in backend.due_escalations()] == [(300.0, "devops-lead")]
    clock.set(700.0)
    assert [(n.at, n.target) for n in backend.due_escalations(since=450.0)] == [(600.0, "cto")]
    assert backend.due_escalations(since=700.0) == []


def test_manual_escalation_retriggers_and_restarts_the_clock(backend, clock):
    """"Rollback failed → escalate to CTO": an acknowledged incident is triggered again
    for the CTO, who has the CTO level's delay to acknowledge."""
    trigger(backend)
    clock.set(60.0)
    act(backend, "acknowledge")
    clock.set(200.0)
    sent = backend.escalate("contacts-errors", level=3)
    assert [(n.at, n.target, n.reason) for n in sent] == [(200.0, "cto", "manual")]
    incident = backend.incident("contacts-errors")
    assert incident.status is IncidentStatus.TRIGGERED
    assert [(t.at, t.status.value) for t in incident.transitions] == [
        (0.0, "triggered"), (60.0, "acknowledged"), (200.0, "triggered")]
    assert backend.next_escalation_at() is None  # the CTO is the last level


def test_manual_escalation_to_a_middle_level_restarts_its_deadline(backend, clock):
    """Escalated by hand to the DevOps lead at 200: the CTO is paged at 200 + 300."""
    trigger(backend)
    clock.set(200.0)
    backend.escalate("contacts-errors", level=2)
    assert backend.next_escalation_at() == 500.0
    clock.set(500.0)
    assert [(n.at, n.target) for n in backend.due_escalations()] == [(500.0, "cto")]


def test_manual_escalation_defaults_to_the_next_level(backend, clock):
    trigger(backend)
    assert [n.target for n in backend.escalate("contacts-errors")] == ["devops-lead"]
    assert backend.next_escalation_at() == 300.0


def test_manual_escalation_needs_an_open_incident_and_a_real_level(backend):
    with pytest.raises(NotFound):
        backend.escalate("nothing-open")
    trigger(backend)
    with pytest.raises(ValueError, match="level 4"):
        backend.escalate("contacts-errors", level=4)


def test_a_looping_policy_starts_over(backend, clock):
    """num_loops=1: after the last level the first is paged again, once."""
    backend.set_escalation_policy(EscalationPolicy.chain("two", ["a", "b"], 60.0, num_loops=1))
    trigger(backend)
    clock.set(1000.0)
    assert [(p[0], p[2]) for p in pages(backend)] == [
        (0.0, "a"), (60.0, "b"), (120.0, "a"), (180.0, "b")]


def test_levels_may_page_several_targets(backend, clock):
    policy = EscalationPolicy("pair", (EscalationLevel(("lead", "deputy"), 120.0),
                                       EscalationLevel(("cto",), 120.0)))
    backend.set_escalation_policy(policy)
    assert backend.escalation_policy() is policy
    trigger(backend)
    clock.set(120.0)
    assert [(p[0], p[2]) for p in pages(backend)] == [(0.0, "lead"), (0.0, "deputy"),
                                                      (120.0, "cto")]


def test_each_service_uses_its_own_policy_and_dedup_keys(backend, clock):
    """A second service has its own routing key, policy and dedup-key space."""
    service = backend.create_service(
        "pulse-sync", escalation_policy=EscalationPolicy.chain("p", ["data-lead"], 30.0))
    backend.enqueue({"routing_key": service.routing_key, "event_action": "trigger",
                     "dedup_key": "contacts-errors", "payload": {
                         "summary": "sync lag", "source": "pulse", "severity": "error"}})
    trigger(backend)
    assert len(backend.incidents()) == 2
    assert {(n.target, n.level) for n in backend.notifications()} == {
        ("data-lead", 1), ("incident-lead", 1)}


@pytest.mark.parametrize("build", [
    lambda: EscalationPolicy("empty", ()),
    lambda: EscalationLevel((), 60.0),
    lambda: EscalationLevel(("x",), 0.0),
    lambda: EscalationPolicy.chain("loops", ["x"], 60.0, num_loops=-1),
])
def test_invalid_policies_are_refused(build):
    with pytest.raises(ValueError):
        build()
