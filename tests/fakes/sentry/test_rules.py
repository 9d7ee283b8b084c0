"""The fake refuses the metric alert rules Sentry refuses, with Sentry's 400 body, accepts
the kinds Sentry accepts, and evaluates each on Sentry's schedule (its resolution)."""

from __future__ import annotations

import pytest

from fakes.sentry.rules import get_alert_resolution

TOKEN = {"Authorization": "Bearer sntrys_drill"}
RULES = "/api/0/organizations/logos-vision/alert-rules/"
CRASHED = "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate"


def rule(**overrides) -> dict:
    body = {"name": "Contacts", "query": "", "thresholdType": 0, "environment": "production",
            "projects": ["contacts-web"],
            "triggers": [{"label": "critical", "alertThreshold": 5, "actions": []}]}
    return {**body, **overrides}


def test_the_old_default_errored_session_rule_is_refused_with_sentrys_message(http):
    """Sentry has no errored-session alert: percentage(sessions_errored, sessions) over
    5 minutes (the drill's old default) answers 400, keyed nonFieldErrors."""
    old = rule(aggregate="percentage(sessions_errored, sessions)", dataset="metrics",
               timeWindow=5)
    response = http("POST", RULES, json=old, headers=TOKEN)
    assert response.status_code == 400
    assert response.json() == {"nonFieldErrors": [
        "Only crash free percentage queries are supported for crash rate alerts"]}
    assert http("GET", RULES, headers=TOKEN).json() == []


def test_a_crash_rate_alert_over_5_minutes_is_refused_with_sentrys_message(http):
    response = http("POST", RULES, json=rule(aggregate=CRASHED, dataset="metrics",
                                             thresholdType=1, timeWindow=5), headers=TOKEN)
    assert (response.status_code, response.json()) == (400, {"nonFieldErrors": [
        "Invalid Time Window: Allowed time windows for crash rate alerts are: "
        "30min, 1h, 2h, 4h, 12h and 24h"]})


@pytest.mark.parametrize("body", [
    {"aggregate": "count()", "dataset": "events", "query": "event.type:error", "timeWindow": 5},
    {"aggregate": "count()", "timeWindow": 1},  # dataset defaults to events, as in Sentry
    {"aggregate": "count_unique(user)", "dataset": "events", "timeWindow": 10},
    {"aggregate": CRASHED, "dataset": "metrics", "thresholdType": 1, "timeWindow": 30},
    {"aggregate": "percentage(users_crashed, users) AS _crash_rate_alert_aggregate",
     "dataset": "metrics", "thresholdType": 1, "timeWindow": 1440},
    {"aggregate": "failure_rate()", "dataset": "transactions", "timeWindow": 5},
])
def test_each_kind_sentry_accepts_is_created(http, body):
    response = http("POST", RULES, json=rule(**body), headers=TOKEN)
    assert response.status_code == 201, response.json()
    assert response.json()["resolution"] == float(get_alert_resolution(body["timeWindow"]))


@pytest.mark.parametrize("aggregate", [
    "percentage(sessions_errored, sessions)", "crash_free_rate(session)", "count(sessions)"])
def test_the_metrics_dataset_takes_crash_rates_only(http, aggregate):
    response = http("POST", RULES, json=rule(aggregate=aggregate, dataset="metrics",
                                             timeWindow=60), headers=TOKEN)
    assert response.status_code == 400
    assert response.json()["nonFieldErrors"][0].startswith("Only crash free percentage")


@pytest.mark.parametrize("window, minutes", [
    (1, 1), (5, 1), (29, 1), (30, 2), (59, 2), (60, 3), (120, 3), (240, 5), (720, 5),
    (1440, 15)])
def test_resolution_follows_sentrys_window_table(window, minutes):
    assert get_alert_resolution(window) == minutes


def test_a_crash_rate_rule_runs_every_2_minutes_and_an_error_count_rule_every_minute(
        backend, clock):
    """On a 60-second evaluation tick, a 30-minute crash-rate rule is due every other tick
    (resolution 2 min), a 5-minute count() rule on every tick (1 min)."""
    backend.create_alert_rule(rule(name="errors", aggregate="count()", timeWindow=5))
    backend.create_alert_rule(rule(name="crashes", aggregate=CRASHED, dataset="metrics",
                                   thresholdType=1, timeWindow=30))
    runs: dict[str, list[float]] = {"errors": [], "crashes": []}
    for minute in range(1, 7):
        clock.set(minute * 60.0)
        for result in backend.evaluate_alert_rules():
            runs[result["name"]].append(result["t"])
    assert runs == {"errors": [60, 120, 180, 240, 300, 360], "crashes": [60, 180, 300]}
