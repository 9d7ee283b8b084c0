"""The fake Statuspage over HTTP, driven with the documented payloads: incidents and
their public timeline, components, the key check, and the ``{"error": ...}`` shape."""

from __future__ import annotations

import pytest

from fakes.common.clock import ManualClock
from fakes.statuspage.backend import StatuspageBackend

TITLE = "Contacts Feature Temporarily Unavailable"
BODY = ("We've temporarily disabled the new Contacts interface while we investigate a "
        "technical issue. Your contact data is safe and accessible via the original interface.")
INCIDENT_FIELDS = {"id", "page_id", "name", "status", "impact", "shortlink", "created_at",
                   "updated_at", "resolved_at", "incident_updates", "components"}
UPDATE_FIELDS = {"id", "status", "body", "created_at"}


def incidents_url(page_id: str, incident_id: str = "") -> str:
    return f"/v1/pages/{page_id}/incidents" + (f"/{incident_id}" if incident_id else "")


def open_incident(http, page_id, ids, **fields):
    """POST the documented create-incident payload, ``fields`` overriding its defaults."""
    payload = {"name": TITLE, "status": "investigating", "impact_override": "major",
               "body": BODY, "component_ids": [ids["Contacts"]],
               "components": {ids["Contacts"]: "partial_outage"},
               "deliver_notifications": True} | fields
    return http("POST", incidents_url(page_id), json={"incident": payload})


def test_create_incident_answers_201_with_documented_fields(http, page_id, components, clock):
    """201 with id, impact, shortlink, times, one incident update, affected components."""
    clock.advance(300.0)
    response = open_incident(http, page_id, components)
    assert response.status_code == 201
    body = response.json()
    assert body.keys() >= INCIDENT_FIELDS
    assert (body["page_id"], body["name"], body["status"]) == (page_id, TITLE, "investigating")
    assert body["impact"] == "major" and body["shortlink"].startswith("https://stspg.io/")
    assert body["created_at"] == "2026-01-25T14:05:00.000Z" and body["resolved_at"] is None
    [update] = body["incident_updates"]
    assert update.keys() >= UPDATE_FIELDS
    assert (update["status"], update["body"], update["created_at"]) == (
        "investigating", BODY, "2026-01-25T14:05:00.000Z")
    assert [(c["name"], c["status"]) for c in body["components"]] == [
        ("Contacts", "partial_outage")]


def test_component_statuses_given_with_an_incident_change_the_components(
        http, backend, page_id, components):
    """``components: {id: status}`` sets the component itself, as on Statuspage."""
    open_incident(http, page_id, components, impact_override=None,
                  components={components["Contacts"]: "major_outage"})
    listed = http("GET", f"/v1/pages/{page_id}/components").json()
    assert {c["name"]: c["status"] for c in listed}["Contacts"] == "major_outage"
    [incident] = http("GET", incidents_url(page_id)).json()
    assert incident["impact"] == "critical"  # no override: the worst component decides


def test_the_runbook_timeline_is_recorded_with_virtual_times(http, page_id, components, clock):
    """Investigating → Identified → Monitoring → Resolved, each update at its virtual time,
    listed newest first; monitoring_at and resolved_at set; unresolved list empties."""
    incident_id = open_incident(http, page_id, components).json()["id"]
    for at, status in ((120.0, "identified"), (300.0, "monitoring"), (900.0, "resolved")):
        clock.set(at)
        response = http("PATCH", incidents_url(page_id, incident_id),
                        json={"incident": {"status": status, "body": f"now {status}"}})
        assert response.status_code == 200 and response.json()["status"] == status
    body = response.json()
    assert [(u["status"], u["created_at"][11:19]) for u in body["incident_updates"]] == [
        ("resolved", "14:15:00"), ("monitoring", "14:05:00"), ("identified", "14:02:00"),
        ("investigating", "14:00:00")]
    assert body["monitoring_at"] == "2026-01-25T14:05:00.000Z"
    assert body["resolved_at"] == "2026-01-25T14:15:00.000Z"
    assert http("GET", incidents_url(page_id) + "/unresolved").json() == []


def test_skipping_ahead_and_stepping_back_while_open_are_allowed(http, page_id, components):
    """As on Statuspage: investigating → resolved directly; monitoring → investigating
    when a fix did not hold."""
    first = open_incident(http, page_id, components).json()["id"]
    resolved = http("PATCH", incidents_url(page_id, first),
                    json={"incident": {"status": "resolved"}})
    assert resolved.json()["status"] == "resolved"
    second = open_incident(http, page_id, components, status="monitoring").json()["id"]
    back = http("PATCH", incidents_url(page_id, second),
                json={"incident": {"status": "investigating", "body": "fix did not hold"}})
    assert back.status_code == 200 and back.json()["status"] == "investigating"


def test_a_resolved_incident_cannot_reopen(http, page_id, components):
    """Resolved → anything else is 422 ``{"error": str}`` and leaves no update behind;
    a further resolved note is allowed."""
    incident_id = open_incident(http, page_id, components, status="resolved").json()["id"]
    refused = http("PATCH", incidents_url(page_id, incident_id),
                   json={"incident": {"status": "investigating", "name": "renamed"}})
    assert refused.status_code == 422
    assert isinstance(refused.json()["error"], str) and "resolved" in refused.json()["error"]
    current = http("GET", incidents_url(page_id, incident_id)).json()
    assert current["name"] == TITLE and len(current["incident_updates"]) == 1
    note = http("PATCH", incidents_url(page_id, incident_id),
                json={"incident": {"status": "resolved", "body": "postmortem to follow"}})
    assert note.status_code == 200 and len(note.json()["incident_updates"]) == 2


def test_listing_is_newest_first_and_searchable(http, page_id, components, clock):
    """GET incidents lists newest first; ``q`` matches names and update bodies."""
    open_incident(http, page_id, components, name="Pulse sync delayed", body="sync lag")
    clock.advance(60.0)
    open_incident(http, page_id, components)
    names = [i["name"] for i in http("GET", incidents_url(page_id)).json()]
    assert names == [TITLE, "Pulse sync delayed"]
    found = http("GET", incidents_url(page_id), params={"q": "SYNC LAG"}).json()
    assert [i["name"] for i in found] == ["Pulse sync delayed"]
    assert len(http("GET", incidents_url(page_id), params={"limit": 1}).json()) == 1


def test_patch_component_status(http, page_id, components):
    """PATCH /components/{id} with ``{"component": {"status"}}`` changes it."""
    url = f"/v1/pages/{page_id}/components/{components['Pulse Sync']}"
    response = http("PATCH", url, json={"component": {"status": "degraded_performance"}})
    assert response.status_code == 200
    assert response.json()["status"] == "degraded_performance"
    assert http("GET", url).json()["status"] == "degraded_performance"


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "OAuth wrong"}, {"Authorization": "Bearer drill_statuspage_key"}])
def test_a_bad_key_is_401_could_not_authenticate(http, page_id, headers):
    """No key, a wrong key or the wrong scheme: 401 ``{"error": "Could not authenticate"}``."""
    response = http("GET", incidents_url(page_id), headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Could not authenticate"}


def test_api_key_query_parameter_is_accepted(http, page_id):
    """``?api_key=`` authenticates too (Statuspage accepts it)."""
    response = http("GET", incidents_url(page_id), headers={},
                    params={"api_key": "drill_statuspage_key"})
    assert response.status_code == 200


@pytest.mark.parametrize(("fields", "status", "needle"), [
    (None, 400, "incident is missing"),
    ({"name": ""}, 422, "name"),
    ({"status": "scheduled"}, 422, "status"),
    ({"impact_override": "catastrophic"}, 422, "impact_override"),
    ({"components": {"nope": "major_outage"}}, 422, "nope"),
    ({"component_ids": ["nope"]}, 422, "nope"),
])
def test_bad_incident_fields(http, page_id, components, fields, status, needle):
    """A missing wrapper is 400; a bad field value is 422; the body is ``{"error": str}``."""
    payload = {"name": TITLE} if fields is None else {"incident": {"name": TITLE} | fields}
    response = http("POST", incidents_url(page_id), json=payload)
    assert response.status_code == status
    assert needle in response.json()["error"]
    assert http("GET", incidents_url(page_id)).json() == []


def test_unknown_things_are_404_in_statuspage_shape(http, page_id):
    """Unknown page, incident or route: 404 ``{"error": ...}``."""
    for url in ("/v1/pages/nope/incidents", incidents_url(page_id, "nope"), "/v1/nothing"):
        response = http("GET", url)
        assert response.status_code == 404 and "error" in response.json(), url


def test_json_suffix_and_trailing_slash_route_like_the_plain_path(http, page_id):
    """``…/incidents.json`` and ``…/incidents/`` are the same resource."""
    for url in (incidents_url(page_id) + ".json", incidents_url(page_id) + "/"):
        assert http("GET", url).status_code == 200, url


def test_app_keeps_serving_after_bad_input(http, page_id, components):
    """Malformed JSON is a 400 in Statuspage's shape; the next request is served."""
    bad = http("POST", incidents_url(page_id), content=b"{nope",
               headers={"Authorization": "OAuth drill_statuspage_key",
                        "Content-Type": "application/json"})
    assert bad.status_code == 400 and "error" in bad.json()
    assert open_incident(http, page_id, components).status_code == 201


def test_control_plane_state_and_reset(http, backend, page_id, components):
    """/_fake/state shows incidents; /_fake/reset forgets them and keeps the same ids."""
    open_incident(http, page_id, components)
    assert len(http("GET", "/_fake/state", headers={}).json()["incidents"]) == 1
    reset = http("POST", "/_fake/reset", headers={})
    assert reset.json() == {"reset": True, "default_page_id": page_id}
    assert http("GET", incidents_url(page_id)).json() == []


def test_ids_are_deterministic():
    """Fresh backends mint the same page, component and incident ids."""
    a, b = StatuspageBackend(ManualClock()), StatuspageBackend(ManualClock())
    assert a.default_page_id == b.default_page_id
    ia = a.create_incident(a.default_page_id, "x")
    ib = b.create_incident(b.default_page_id, "x")
    assert (ia.id, ia.shortlink) == (ib.id, ib.shortlink)
