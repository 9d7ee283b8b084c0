"""The web API the rollout logic reads: sessions, issues, releases; its auth and errors."""

from __future__ import annotations

import pytest

TOKEN = {"Authorization": "Bearer sntrys_drill"}
ORG = "/api/0/organizations/logos-vision"


def test_sessions_api_crash_free_rate_per_release_is_0_to_1_or_null(backend, clock, http):
    backend.record_session_aggregates("web@1", "production", 0, exited=99, crashed=1)
    backend.record_session_aggregates("web@2", "production", 60, exited=90, errored=5,
                                      crashed=5)
    backend.record_session_aggregates("web@2", "staging", 60, crashed=50)
    clock.set(600)
    params = [("field", "crash_free_rate(session)"), ("field", "sum(session)"),
              ("project", "42"), ("environment", "production"), ("statsPeriod", "1h"),
              ("interval", "1h"), ("groupBy", "release")]
    body = http("GET", f"{ORG}/sessions/", params=params, headers=TOKEN).json()
    assert len(body["intervals"]) == 1
    by_release = {g["by"]["release"]: g["totals"] for g in body["groups"]}
    assert by_release == {
        "web@1": {"crash_free_rate(session)": 0.99, "sum(session)": 100},
        "web@2": {"crash_free_rate(session)": 0.95, "sum(session)": 100}}
    one = http("GET", f"{ORG}/sessions", headers=TOKEN, params=[
        ("field", "crash_free_rate(session)"), ("query", 'release:"web@3"'),
        ("statsPeriod", "30m"), ("interval", "10m")]).json()
    assert one["groups"] == [{"by": {}, "totals": {"crash_free_rate(session)": None},
                              "series": {"crash_free_rate(session)": [None, None, None]}}]


def test_sessions_api_series_follow_intervals_and_group_by_status(backend, clock):
    backend.record_session_aggregates("web@2", "production", 0, exited=8, errored=2)
    backend.record_session_aggregates("web@2", "production", 660, crashed=1)
    clock.set(700)
    body = backend.sessions_stats(["sum(session)"], stats_period_s=1200, interval_s=600,
                                  group_by=["session.status"])
    assert len(body["intervals"]) == 2  # the last interval holds now (600..1200)
    series = {g["by"]["session.status"]: g["series"]["sum(session)"] for g in body["groups"]}
    assert series == {"healthy": [8, 0], "errored": [2, 0], "crashed": [0, 1],
                      "abnormal": [0, 0]}


def test_sessions_api_period_ends_at_now_rounded_up_to_the_interval(backend, clock):
    """As in Sentry, ``statsPeriod=1h&interval=1h`` at 01:00:01 is the hour 01:00-02:00:
    the sessions of the previous 60 minutes are not in it."""
    backend.record_session_aggregates("web@2", "production", 3000, crashed=1)
    clock.set(3601)
    body = backend.sessions_stats(["sum(session)"], stats_period_s=3600, interval_s=3600)
    assert body["intervals"] == ["2026-01-25T15:00:00.000Z"]
    assert body["groups"][0]["totals"] == {"sum(session)": 0}


@pytest.mark.parametrize("params", [
    [("field", "avg(session.duration)")],
    [("field", "sum(session)"), ("interval", "10s")],
    [("field", "sum(session)"), ("statsPeriod", "forever")],
    [("field", "sum(session)"), ("query", "transaction:/contacts")],
])
def test_sessions_api_rejects_what_it_does_not_support(http, params):
    response = http("GET", f"{ORG}/sessions/", params=params, headers=TOKEN)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_issues_api_count_is_a_string_and_user_count_an_int(backend, clock, http):
    backend.record_error_events("web@2", "production", 30, 40, "TypeError",
                                "x is undefined", "contacts.js in render", users=12)
    backend.record_error_events("web@2", "production", 90, 2, "TypeError",
                                "x is undefined", "contacts.js in render", users=2)
    backend.record_error_events("web@1", "staging", 95, 1, "RangeError", culprit="b.js")
    clock.set(120)
    response = http("GET", f"{ORG}/issues/", headers=TOKEN, params={
        "query": "is:unresolved release:web@2", "environment": "production",
        "statsPeriod": "24h"})
    assert response.status_code == 200
    assert 'rel="next"; results="false"' in response.headers["Link"]
    [issue] = response.json()
    assert issue["count"] == "42"
    assert issue["userCount"] == 14
    assert issue["title"] == "TypeError: x is undefined"
    assert issue["project"] == {"id": "42", "slug": "contacts-web", "name": "contacts-web",
                                "platform": "javascript"}
    assert (issue["firstSeen"], issue["lastSeen"]) == ("2026-01-25T14:00:30.000Z",
                                                       "2026-01-25T14:01:30.000Z")
    assert isinstance(issue["id"], str) and issue["shortId"] == "CONTACTS-WEB-1"
    project_level = http("GET", "/api/0/projects/logos-vision/contacts-web/issues/",
                         headers=TOKEN).json()
    assert [i["title"] for i in project_level] == ["RangeError", "TypeError: x is undefined"]
    clock.set(120 + 3600)
    assert http("GET", f"{ORG}/issues/", params={"statsPeriod": "1h"},
                headers=TOKEN).json() == []


@pytest.mark.parametrize("headers, detail", [
    ({}, "Authentication credentials were not provided."),
    ({"Authorization": "Bearer wrong"}, "Invalid token"),
    ({"Authorization": "Token sntrys_drill"}, "Invalid token"),
])
def test_web_api_without_a_valid_token_is_401_with_a_detail(http, headers, detail):
    for method, path in [("GET", f"{ORG}/issues/"), ("GET", f"{ORG}/sessions/"),
                         ("POST", f"{ORG}/alert-rules/"), ("GET", f"{ORG}/releases/")]:
        response = http(method, path, headers=headers)
        assert (response.status_code, response.json()) == (401, {"detail": detail})


def test_unknown_org_project_or_release_is_404(http):
    for path in ["/api/0/organizations/other/issues/",
                 "/api/0/projects/logos-vision/other/issues/"]:
        response = http("GET", path, headers=TOKEN)
        assert (response.status_code, set(response.json())) == (404, {"detail"})
    deploy = http("POST", f"{ORG}/releases/nope@1/deploys/", json={"environment": "prod"},
                  headers=TOKEN)
    assert deploy.status_code == 404


def test_releases_and_deploys_as_sentry_cli_creates_them(backend, http):
    backend.record_session_aggregates("web@1", "production", 0, exited=1)  # seen in data
    payload = {"version": "web@2", "projects": ["contacts-web"],
               "dateStarted": "2026-01-25T14:00:00Z"}
    assert http("POST", f"{ORG}/releases/", json=payload, headers=TOKEN).status_code == 201
    assert http("POST", f"{ORG}/releases/", json=payload, headers=TOKEN).status_code == 208
    deploy = http("POST", f"{ORG}/releases/web@2/deploys/", headers=TOKEN,
                  json={"environment": "production", "name": "web@2 to prod"})
    assert deploy.status_code == 201
    assert deploy.json()["environment"] == "production"
    listed = http("GET", f"{ORG}/releases/", headers=TOKEN).json()
    assert {r["version"]: r["deployCount"] for r in listed} == {"web@1": 0, "web@2": 1}
    assert next(r for r in listed if r["version"] == "web@1")["projects"][0]["hasHealthData"]
    bad = http("POST", f"{ORG}/releases/", json={"projects": ["contacts-web"]}, headers=TOKEN)
    assert (bad.status_code, bad.json()) == (400, {"version": ["This field is required."]})


def test_reset_forgets_data_but_keeps_credentials(backend, http):
    backend.record_error_events("web@1", "production", 0, 3)
    backend.create_alert_rule({"name": "n", "aggregate": "count()", "timeWindow": 1,
                               "thresholdType": 0,
                               "triggers": [{"label": "critical", "alertThreshold": 1}]})
    assert http("POST", "/_fake/reset/").json() == {"ok": True}
    state = http("GET", "/_fake/state").json()
    assert (state["issues"], state["alert_rules"], state["releases"]) == ([], [], [])
    assert http("GET", f"{ORG}/issues/", headers=TOKEN).status_code == 200
