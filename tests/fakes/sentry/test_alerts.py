"""Metric alerts: windows, consecutive breaches, no-data, incidents and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from fakes.common.clock import to_iso
from fakes.sentry.alerts import verify_signature
from fakes.sentry.errors import ValidationError

HOOK_URL = "http://responder.test/hooks/sentry"  # as in conftest.py

TOKEN = {"Authorization": "Bearer sntrys_drill"}
RULES = "/api/0/organizations/logos-vision/alert-rules/"


def error_rate_rule(**overrides) -> dict:
    """An error-count rule (events dataset): Sentry has no errored-session alert."""
    rule = {"name": "Contacts error rate", "aggregate": "count()", "dataset": "events",
            "query": "event.type:error", "timeWindow": 5, "thresholdType": 0,
            "resolveThreshold": 10, "environment": "production", "projects": ["contacts-web"],
            "thresholdPeriod": 2,
            "triggers": [{"label": "critical", "alertThreshold": 20, "actions": []}]}
    return {**rule, **overrides}


def run_minutes(backend, clock, minutes, faulty):
    """Each minute m: one background error event and ``faulty(m)`` more, stamped m*60+5,
    arrive at m*60+30; the host evaluates at (m+1)*60, when Snuba has run the update
    stamped m*60 (errors run 30 s after their timestamp, ``fakes.sentry.subscriptions``),
    which counts events stamped in [m*60 - 300, m*60): minutes m-5 .. m-1."""
    log = []
    for m in minutes:
        clock.set(m * 60 + 30)
        backend.record_error_events("web@2", "production", m * 60 + 5, 1 + faulty(m))
        clock.set((m + 1) * 60)
        log.extend(backend.evaluate_alert_rules())
    return log


def test_error_rate_alert_fires_after_threshold_period_breaches_in_window_then_resolves(
        backend, clock):
    """Faulty minutes 10-12 (30 more errors each). The first update whose window
    [end - 300, end) takes in one (end=660: minutes 6-10 → 35 events, run at t=720) only
    counts a breach; the next (end=720) fires. Once the window holds no faulty minute
    (end=1080, 5 events) two updates under the resolve threshold resolve it (end=1140).
    The incident is dated from the update's timestamp, as Sentry dates it:
    date_detected = end, date_started = end - window - resolution × (thresholdPeriod - 1)."""
    backend.create_alert_rule(error_rate_rule())
    log = run_minutes(backend, clock, range(21), lambda m: 30 if 10 <= m <= 12 else 0)
    by_end = {r["end"]: r for r in log}
    assert all(r["t"] == r["end"] + 60 for r in log)  # the host's tick after end + 30 s
    assert {r["status"] for end, r in by_end.items() if end < 660} == {"ok"}
    assert (by_end[660]["status"], by_end[660]["value"]) == ("pending", 35.0)
    assert (by_end[720]["status"], by_end[720]["action"]) == ("critical", "critical")
    assert (by_end[1020]["value"], by_end[1020]["status"]) == (35.0, "critical")  # minute 12
    assert (by_end[1080]["value"], by_end[1080]["status"]) == (5.0, "critical")
    assert (by_end[1140]["status"], by_end[1140]["action"]) == ("resolved", "resolved")
    assert by_end[1200]["status"] == "ok"

    [incident] = backend.alert_incidents()
    assert incident["date_detected"] == 720
    assert incident["date_started"] == 720 - 300 - 60
    assert incident["date_closed"] == 1140 - 300 - 60
    assert incident["status_name"] == "closed"
    assert incident["dateDetected"] == to_iso(clock, 720)


def test_webhooks_are_signed_metric_alert_payloads(backend, clock):
    """One delivery per change of status, HMAC-SHA256 of the raw body keyed by the secret."""
    backend.create_alert_rule(error_rate_rule())
    run_minutes(backend, clock, range(20), lambda m: 30 if 10 <= m <= 12 else 0)
    fired, resolved = backend.drain_webhooks()
    assert backend.drain_webhooks() == []
    assert fired.url == HOOK_URL
    assert fired.headers["Sentry-Hook-Resource"] == "metric_alert"
    assert fired.headers["Content-Type"] == "application/json"
    expected = hmac.new(b"drill-webhook-secret", fired.body, hashlib.sha256).hexdigest()
    assert fired.headers["Sentry-Hook-Signature"] == expected
    assert verify_signature(fired.body, expected, "drill-webhook-secret")
    assert not verify_signature(fired.body + b" ", expected, "drill-webhook-secret")
    assert fired.headers["Request-ID"] != resolved.headers["Request-ID"]
    epoch = int(clock.epoch.timestamp())
    assert fired.headers["Sentry-Hook-Timestamp"] == str(epoch + 780)  # sent when run
    body = json.loads(fired.body)
    assert body["action"] == "critical"
    assert body["actor"] == {"id": "sentry", "name": "Sentry", "type": "application"}
    assert body["installation"]["uuid"]
    alert = body["data"]["metric_alert"]
    assert alert["date_detected"] == to_iso(clock, 720)
    assert alert["date_closed"] is None
    assert alert["alert_rule"]["aggregate"] == "count()"
    assert alert["alert_rule"]["time_window"] == 5
    assert alert["alert_rule"]["triggers"][0]["alert_threshold"] == 20
    assert body["data"]["description_title"] == "Critical: Contacts error rate"
    assert json.loads(resolved.body)["action"] == "resolved"


def test_no_webhook_is_queued_without_a_url_but_an_action_url_is_used(backend, clock):
    backend.webhook_url = None
    backend.create_alert_rule(error_rate_rule())
    rule = error_rate_rule(name="with action", triggers=[{
        "label": "critical", "alertThreshold": 20,
        "actions": [{"type": "sentry_app", "targetIdentifier": "http://hooks.test/a"}]}])
    backend.create_alert_rule(rule)
    run_minutes(backend, clock, range(14), lambda m: 30 if m >= 10 else 0)
    assert [d.url for d in backend.drain_webhooks()] == ["http://hooks.test/a"]
    assert len(backend.alert_incidents()) == 2


def test_rule_matching_no_data_stays_silent_and_logs_no_data(backend, clock):
    """A typo'd release never matches: every update is no_data, nothing fires; an update
    already evaluated is not evaluated again (Sentry skips an update not after the last)."""
    typo = backend.create_alert_rule(error_rate_rule(query="release:web@2.0.O"))
    count = backend.create_alert_rule(error_rate_rule(
        name="events", query="release:typo", resolveThreshold=None, thresholdPeriod=1))
    run_minutes(backend, clock, range(15), lambda m: 90)
    backend.record_error_events("web@2", "production", clock.now(), 500)
    assert backend.evaluate_alert_rules() == []  # same instant: nothing new has run
    clock.advance(60)
    backend.evaluate_alert_rules()
    for rule in (typo, count):
        log = backend.rule_evaluations(rule["id"])
        assert [e.end for e in log] == [60.0 * m for m in range(16)]
        assert {(e.value, e.status) for e in log} == {(None, "no_data")}
    assert backend.alert_incidents() == []
    assert backend.drain_webhooks() == []


def test_no_data_neither_breaches_nor_resets_the_consecutive_count(backend, clock):
    """A crash-rate rule with no sessions in its window sees no data (Sentry skips the
    update); the breach before it still counts toward ``thresholdPeriod``. Crash-rate
    updates are stamped every 2 minutes (a 30-minute window) and run 60 s later."""
    backend.create_alert_rule(crash_rate_rule(thresholdPeriod=2))
    backend.record_session_aggregates("web@2", "production", -1700, exited=50, crashed=50)
    clock.set(60)  # the update stamped 0 has run: sessions started in [-1800, 0)
    assert [(r["end"], r["status"]) for r in backend.evaluate_alert_rules()] == [(0, "pending")]
    clock.set(180)  # stamped 120: [-1680, 120) holds no session
    assert backend.evaluate_alert_rules()[0]["status"] == "no_data"
    backend.record_session_aggregates("web@2", "production", 130, exited=50, crashed=50)
    clock.set(300)  # the next update, one resolution later, breaches again: fires
    assert backend.evaluate_alert_rules()[0]["action"] == "critical"


def crash_rate_rule(**overrides) -> dict:
    rule = {"name": "crash free", "dataset": "metrics", "timeWindow": 30, "thresholdType": 1,
            "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
            "query": "", "triggers": [{"label": "critical", "alertThreshold": 95, "actions": []}]}
    return {**rule, **overrides}


def test_crash_rate_alert_measures_crash_free_percentage_as_sentry_does(backend, clock):
    """``AS _crash_rate_alert_aggregate``: the value is 100 - crash rate, so 'crash free
    below 99 %' is thresholdType 1; a warning trigger escalates to critical."""
    backend.create_alert_rule({
        "name": "crash free", "dataset": "metrics", "timeWindow": 30, "thresholdType": 1,
        "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
        "triggers": [{"label": "critical", "alertThreshold": 95, "actions": []},
                     {"label": "warning", "alertThreshold": 99, "actions": []}]})
    backend.record_session_aggregates("web@2", "production", 10, exited=98, crashed=2)
    clock.set(180)  # update stamped 120 (every 2 minutes), run 60 s later
    assert backend.evaluate_alert_rules()[-1] | {"rule_id": None} == {
        "rule_id": None, "name": "crash free", "t": 180, "end": 120, "value": 98.0,
        "status": "warning", "action": "warning"}
    backend.record_session_aggregates("web@2", "production", 130, exited=80, crashed=20)
    clock.set(240)  # the update stamped 240 runs at 300
    assert backend.evaluate_alert_rules() == []
    clock.set(300)
    assert backend.evaluate_alert_rules()[0]["action"] == "critical"  # 89 % crash free
    actions = [json.loads(d.body)["action"] for d in backend.drain_webhooks()]
    assert actions == ["warning", "critical"]
    assert backend.alert_incidents()[0]["status"] == 20


def test_count_alert_counts_error_events_in_the_window_only(backend, clock):
    rule = backend.create_alert_rule(error_rate_rule(
        query="release:web@2", timeWindow=1,
        thresholdPeriod=1, resolveThreshold=None,
        triggers=[{"label": "critical", "alertThreshold": 9, "actions": []}]))
    backend.record_error_events("web@2", "production", 30, 10, "TypeError", culprit="a.js")
    backend.record_error_events("web@1", "production", 30, 99, "TypeError", culprit="a.js")
    clock.set(90)  # the update stamped 60: [0, 60)
    assert backend.evaluate_alert_rules()[-1]["value"] == 10.0
    clock.set(150)  # stamped 120: [60, 120), second 30 has left the 1-minute window
    assert backend.evaluate_alert_rules()[0]["value"] == 0.0
    assert [e.status for e in backend.rule_evaluations(rule["id"])] == \
        ["ok", "critical", "resolved"]


def test_periodic_jobs_declare_the_evaluation_schedule(backend):
    backend.evaluation_interval = 30.0
    [(name, period, job)] = backend.periodic_jobs()
    assert (name, period, job) == ("evaluate_alert_rules", 30.0, backend.evaluate_alert_rules)


@pytest.mark.parametrize("field, change", [
    ("nonFieldErrors", {"aggregate": "p95(transaction.duration)"}),
    ("aggregate", {"aggregate": "not a function"}),
    ("nonFieldErrors", {"triggers": []}),
    ("nonFieldErrors", {"resolveThreshold": 30}),
    ("query", {"query": "release:latest"}),
    ("query", {"query": "TypeError"}),  # free text: the fake keeps no messages
    ("timeWindow", {"timeWindow": 1441}),
    ("thresholdType", {"thresholdType": 5}),
    ("dataset", {"dataset": "nope"}),
])
def test_invalid_rules_are_rejected_with_field_errors(backend, field, change):
    """Sentry's body: the field's name (or nonFieldErrors) → a list of messages."""
    with pytest.raises(ValidationError) as info:
        backend.create_alert_rule(error_rate_rule(**change))
    assert info.value.status == 400
    assert list(info.value.body()) == [field]


def test_alert_rule_api_create_get_list_delete(http):
    created = http("POST", RULES, json=error_rate_rule(), headers=TOKEN)
    assert created.status_code == 201
    rule_id = created.json()["id"]
    assert created.json()["timeWindow"] == 5.0
    assert http("GET", f"{RULES}{rule_id}/", headers=TOKEN).json()["name"] == \
        "Contacts error rate"
    assert [r["id"] for r in http("GET", RULES.rstrip("/"), headers=TOKEN).json()] == [rule_id]
    bad = http("POST", RULES, json=error_rate_rule(aggregate="nope"), headers=TOKEN)
    assert bad.status_code == 400
    assert "aggregate" in bad.json()
    assert http("DELETE", f"{RULES}{rule_id}/", headers=TOKEN).status_code == 204
    missing = http("GET", f"{RULES}{rule_id}/", headers=TOKEN)
    assert (missing.status_code, set(missing.json())) == (404, {"detail"})


def test_fake_evaluate_runs_the_rules_now(backend, clock, http):
    """``/_fake/evaluate`` runs what Snuba has run by now; ``catch_up=true`` also runs each
    rule's next update at once (stamped at the next minute, so it sees everything)."""
    backend.create_alert_rule(error_rate_rule(thresholdPeriod=1))
    backend.record_error_events("web@2", "production", 0, 25)
    clock.set(30)
    assert http("POST", "/_fake/evaluate").json()[0]["value"] == 0.0  # stamped 0: [-300, 0)
    [result] = http("POST", "/_fake/evaluate", params={"catch_up": "true"}).json()
    assert (result["end"], result["value"], result["action"]) == (60, 25.0, "critical")
    hooks = http("POST", "/_fake/drain_webhooks").json()
    assert json.loads(hooks[0]["body"])["action"] == "critical"
    assert http("GET", "/_fake/state").json()["incidents"][0]["status_name"] == "critical"


def _error_value(backend, clock, query: str) -> float | None:
    """The value of a fresh error-count rule on ``query`` over minutes 0-4 holding 7
    handled and 3 unhandled events (the update stamped 300, run at 330)."""
    rule = backend.create_alert_rule(error_rate_rule(query=query, thresholdPeriod=1))
    backend.record_error_events("web@2", "production", 65, 7, exc_type="KeyError")
    backend.record_error_events("web@2", "production", 125, 3, exc_type="TypeError",
                                unhandled=True)
    clock.set(330)
    evaluations = backend.evaluate_alert_rules()
    backend.delete_alert_rule(rule["id"])
    return next(e["value"] for e in evaluations if e["rule_id"] == rule["id"]
                and e["end"] == 300)


@pytest.mark.parametrize(("query", "expected"), [
    ("error.unhandled:true", 3.0), ("error.unhandled:1", 3.0), ("error.handled:false", 3.0),
    ("error.unhandled:false", 7.0), ("error.handled:true", 7.0), ("event.type:error", 10.0),
    ("error.unhandled:true error.handled:true", 0.0)])
def test_an_error_rule_on_error_unhandled_counts_the_unhandled_errors(backend, clock, query,
                                                                       expected):
    """Rule (Sentry's discover dataset: ``error.unhandled:1`` is ``notHandled() = 1``,
    ``:0`` is ``isHandled() = 1``; terms AND): the store keeps unhandled errors apart,
    so an alert rule on ``error.unhandled:true`` counts them (no longer no data), one on
    ``:false`` counts the handled ones, and contradicting terms count none."""
    assert _error_value(backend, clock, query) == expected


def test_an_unhandled_rule_fires_on_a_crash_fault_and_not_on_handled_errors(backend, clock):
    """Rule: 30 handled errors a minute never breach ``error.unhandled:true`` > 20, while
    30 unhandled ones a minute do (thresholdPeriod 2: the second breaching update)."""
    backend.create_alert_rule(error_rate_rule(query="error.unhandled:true"))
    for m in range(12):
        clock.set(m * 60 + 30)
        backend.record_error_events("web@2", "production", m * 60 + 5, 30,
                                    unhandled=m >= 6)
        clock.set((m + 1) * 60)
        log = backend.evaluate_alert_rules()
        if m < 6:
            assert all(r["status"] in ("ok", "no_data") for r in log), (m, log)
    incidents = backend.alert_incidents()
    assert len(incidents) == 1 and incidents[0]["status_name"] == "critical"
