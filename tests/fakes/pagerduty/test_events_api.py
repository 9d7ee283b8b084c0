"""The fake Events API v2 over HTTP: 202 bodies, dedup keys, the incident lifecycle
(each transition at its virtual time), change events, and the ``invalid event`` shape."""

from __future__ import annotations

import pytest

from fakes.common.clock import ManualClock
from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY, PagerDutyBackend
from fakes.pagerduty.lifecycle import IncidentStatus

KEY = DEFAULT_ROUTING_KEY
PAYLOAD = {"summary": "Contacts error rate 12% > 5%", "source": "sentry:contacts-web",
           "severity": "critical"}
INVALID = {"status": "invalid event", "message": "Event object is invalid"}


def event(action="trigger", **fields):
    body = {"routing_key": KEY, "event_action": action} | fields
    if action == "trigger":
        body.setdefault("payload", dict(PAYLOAD))
    return body


def test_trigger_answers_202_with_a_generated_deterministic_dedup_key(http, backend):
    """No dedup_key given: PagerDuty makes one (32 hex digits here, same in every run)."""
    response = http("POST", "/v2/enqueue", json=event())
    assert response.status_code == 202
    body = response.json()
    assert body.keys() == {"status", "message", "dedup_key"}
    assert (body["status"], body["message"]) == ("success", "Event processed")
    assert len(body["dedup_key"]) == 32 and int(body["dedup_key"], 16) >= 0
    fresh = PagerDutyBackend(ManualClock())
    assert fresh.enqueue(event()) == body["dedup_key"]
    [incident] = backend.incidents()
    assert (incident.dedup_key, incident.status) == (body["dedup_key"], IncidentStatus.TRIGGERED)
    assert (incident.summary, incident.source, incident.severity) == (
        PAYLOAD["summary"], PAYLOAD["source"], "critical")


def test_trigger_acknowledge_resolve_record_each_transition_time(http, backend, clock):
    """triggered → acknowledged → resolved, each stamped with the virtual time."""
    http("POST", "/v2/enqueue", json=event(dedup_key="contacts-errors"))
    clock.set(95.0)
    ack = http("POST", "/v2/enqueue", json=event("acknowledge", dedup_key="contacts-errors"))
    clock.set(400.0)
    res = http("POST", "/v2/enqueue", json=event("resolve", dedup_key="contacts-errors"))
    assert ack.status_code == res.status_code == 202
    assert res.json()["dedup_key"] == "contacts-errors"
    incident = backend.incident("contacts-errors")
    assert [(t.at, t.status.value) for t in incident.transitions] == [
        (0.0, "triggered"), (95.0, "acknowledged"), (400.0, "resolved")]
    assert (incident.acknowledged_at, incident.resolved_at) == (95.0, 400.0)


def test_trigger_fields_are_kept(http, backend):
    """component, group, class, custom_details, links, images, client, client_url."""
    extra = {"component": "contacts-page", "group": "web", "class": "error-rate",
             "custom_details": {"error_rate": 0.12, "phase": "50%"}}
    http("POST", "/v2/enqueue", json=event(
        payload=PAYLOAD | extra, links=[{"href": "https://sentry.test/i/1", "text": "Issue"}],
        images=[{"src": "https://grafana.test/p.png"}], client="Sentry",
        client_url="https://sentry.test"))
    details = backend.incidents()[0].details
    assert details["event_class"] == "error-rate" and details["component"] == "contacts-page"
    assert details["custom_details"] == {"error_rate": 0.12, "phase": "50%"}
    assert details["links"][0]["text"] == "Issue" and details["client"] == "Sentry"


def test_a_repeated_trigger_is_deduplicated_into_the_open_incident(http, backend):
    """Same dedup_key while open: one incident, alert_count grows; after resolve, a new one."""
    for _ in range(3):
        assert http("POST", "/v2/enqueue", json=event(dedup_key="k")).status_code == 202
    assert len(backend.incidents()) == 1 and backend.incident("k").alert_count == 3
    http("POST", "/v2/enqueue", json=event("resolve", dedup_key="k"))
    http("POST", "/v2/enqueue", json=event(dedup_key="k"))
    assert [i.status.value for i in backend.incidents()] == ["resolved", "triggered"]
    assert [e.outcome for e in backend.events()] == [
        "created", "deduplicated", "deduplicated", "resolved", "created"]


def test_events_that_change_nothing_are_accepted_and_ignored(http, backend):
    """Acknowledging an unknown key or a resolved incident: 202, nothing changes."""
    assert http("POST", "/v2/enqueue",
                json=event("acknowledge", dedup_key="unknown")).status_code == 202
    http("POST", "/v2/enqueue", json=event(dedup_key="k"))
    http("POST", "/v2/enqueue", json=event("resolve", dedup_key="k"))
    assert http("POST", "/v2/enqueue",
                json=event("acknowledge", dedup_key="k")).status_code == 202
    assert backend.incident("k").status is IncidentStatus.RESOLVED
    assert [e.outcome for e in backend.events()] == ["ignored", "created", "resolved",
                                                     "ignored"]


@pytest.mark.parametrize(("body", "errors"), [
    ({"event_action": "trigger", "payload": PAYLOAD}, ["'routing_key' is missing or blank"]),
    (event(routing_key="short-key!"), [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'routing_key' cannot contain non-alphanumeric characters."]),
    (event(routing_key="0" * 32), ["Invalid routing key"]),
    (event(payload=PAYLOAD | {"severity": "high"}), [
        "'payload.severity' is invalid (must be one of the following: 'critical', "
        "'warning', 'error' or 'info')"]),
    (event(payload={"severity": "info"}), ["'payload.summary' is missing or blank",
                                           "'payload.source' is missing or blank"]),
    (event(payload=None), ["'payload' is missing or not an object"]),
    (event("acknowledge"), ["'dedup_key' is missing or blank (required to acknowledge)"]),
    (event("resolve", dedup_key=""), ["'dedup_key' is missing or blank (required to resolve)"]),
    (event("snooze", dedup_key="k"), [
        "'event_action' is invalid (must be one of the following: 'trigger', "
        "'acknowledge' or 'resolve')"]),
    (event(dedup_key="x" * 256), ["'dedup_key' is too long (maximum is 255 characters)"]),
    (event(links={"href": "x"}), ["'links' must be an array"]),
    ([event()], ["the event must be a JSON object"]),
])
def test_bad_events_are_400_invalid_event_listing_every_error(http, backend, body, errors):
    """400 ``{"status": "invalid event", "message", "errors": [...]}``; nothing stored."""
    response = http("POST", "/v2/enqueue", json=body)
    assert response.status_code == 400
    assert response.json() == INVALID | {"errors": errors}
    assert backend.incidents() == [] and backend.events() == []


def test_app_keeps_serving_after_bad_input(http, backend):
    """Malformed JSON is a 400 ``invalid event``; the next good event is accepted."""
    bad = http("POST", "/v2/enqueue", content=b"{oops",
               headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["status"] == "invalid event"
    assert http("POST", "/v2/enqueue/", json=event()).status_code == 202
    assert len(backend.incidents()) == 1


def test_change_events_answer_202_and_are_kept(http, backend, clock):
    """POST /v2/change/enqueue → 202; summary required; kept with arrival time."""
    clock.set(30.0)
    change = {"routing_key": KEY, "payload": {
        "summary": "Rolled back to dpl_v1", "source": "vercel",
        "timestamp": "2026-01-25T14:00:30Z", "custom_details": {"by": "on-call"}}}
    ok = http("POST", "/v2/change/enqueue", json=change)
    assert ok.status_code == 202
    assert ok.json() == {"status": "success", "message": "Change event processed"}
    [kept] = backend.change_events()
    assert (kept.summary, kept.source, kept.at) == ("Rolled back to dpl_v1", "vercel", 30.0)
    bad = http("POST", "/v2/change/enqueue", json={"routing_key": KEY, "payload": {}})
    assert bad.status_code == 400
    assert bad.json()["errors"] == ["'payload.summary' is missing or blank"]


def test_control_plane_lists_escalates_and_resets(http, backend):
    """/_fake shows incidents and notifications, escalates by hand, and resets."""
    key = http("POST", "/v2/enqueue", json=event()).json()["dedup_key"]
    assert [i["status"] for i in http("GET", "/_fake/incidents").json()] == ["triggered"]
    assert http("GET", "/_fake/state").json()["next_escalation_at"] == 300.0
    sent = http("POST", f"/_fake/incidents/{key}/escalate", json={"level": 3}).json()
    assert [(n["target"], n["reason"]) for n in sent] == [("cto", "manual")]
    notified = http("GET", "/_fake/notifications", params={"dedup_key": key}).json()
    assert [n["target"] for n in notified] == ["incident-lead", "cto"]
    assert http("POST", "/_fake/incidents/nope/escalate").status_code == 404
    assert http("POST", f"/_fake/incidents/{key}/escalate",
                json={"level": 9}).status_code == 400
    assert http("GET", "/_fake/state").json()["next_escalation_at"] is None  # CTO is last
    assert http("POST", "/_fake/reset").json() == {"reset": True}
    assert backend.incidents() == []
