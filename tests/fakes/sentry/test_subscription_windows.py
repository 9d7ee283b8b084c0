"""Which data a metric alert's evaluation reads, and when it runs, as Snuba and Sentry do.

Every boundary here is read from the vendors' source (cited in
``fakes/sentry/subscriptions.py``): the update stamped ``T`` (a multiple of the
resolution) queries ``timestamp >= T - time_window AND timestamp < T`` (snuba
``snuba/subscriptions/data.py``, ``SnQLSubscriptionData.add_conditions``) and runs
``subscription_delay_seconds`` after ``T`` (30 s for errors, 60 s for the metrics dataset,
``snuba/datasets/configuration/*/storages/*.yaml``); crash-rate rules read metric buckets
of 10 s up to a 1-hour window and 1 h from 4 h on (sentry
``src/sentry/snuba/entity_subscription.py``, ``get_granularity``), a bucket counting when
its start is in the range.
"""

from __future__ import annotations

import pytest

from fakes.sentry.series import Series
from fakes.sentry.subscriptions import data_range, delay_s, due_updates

EPS = 0.001
CRASH_RATE = "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate"


def count_rule(minutes: int = 5) -> dict:
    return {"name": "errors", "aggregate": "count()", "dataset": "events",
            "query": "event.type:error", "timeWindow": minutes, "thresholdType": 0,
            "projects": ["contacts-web"], "thresholdPeriod": 1,
            "triggers": [{"label": "critical", "alertThreshold": 1e9, "actions": []}]}


def crash_rule(minutes: int) -> dict:
    return {"name": "crashes", "dataset": "metrics", "aggregate": CRASH_RATE, "query": "",
            "timeWindow": minutes, "thresholdType": 1,
            "triggers": [{"label": "critical", "alertThreshold": 1, "actions": []}]}


def test_error_update_counts_events_from_end_minus_window_inclusive_to_end_exclusive(
        backend, clock):
    """``timestamp >= T - window AND timestamp < T``: an event exactly at T - window, or
    ε after it, or ε before T counts; ε before T - window, or exactly at T, does not."""
    backend.create_alert_rule(count_rule(5))
    end = 600
    start = end - 300
    counted = {start: 1, start + EPS: 10, end - EPS: 100}
    left_out = {start - EPS: 1000, end: 10000}
    for t, n in {**counted, **left_out}.items():
        backend.record_error_events("web@2", "production", t, n)
    clock.set(end + delay_s("events"))
    by_end = {r["end"]: r["value"] for r in backend.evaluate_alert_rules()}
    assert by_end[end] == sum(counted.values())


def test_error_update_runs_thirty_seconds_after_its_timestamp(backend, clock):
    """The errors storage's subscription_delay_seconds is 30: the update stamped 600 has
    not run at 629.9 and has at 630."""
    backend.create_alert_rule(count_rule(5))
    clock.set(629.9)
    assert [r["end"] for r in backend.evaluate_alert_rules()][-1] == 540
    clock.set(630)
    assert [r["end"] for r in backend.evaluate_alert_rules()] == [600]


def test_crash_rate_updates_are_stamped_every_resolution_and_run_sixty_seconds_later(
        backend, clock):
    """A 30-minute crash-rate rule has a 2-minute resolution (get_alert_resolution): its
    updates are stamped on multiples of 120 s, and the metrics storage's delay is 60 s."""
    backend.create_alert_rule(crash_rule(30))
    backend.record_session_aggregates("web@2", "production", 0, exited=1)
    clock.set(239.9)
    assert [r["end"] for r in backend.evaluate_alert_rules()] == [0, 120]
    clock.set(300)
    assert [r["end"] for r in backend.evaluate_alert_rules()] == [240]


def test_a_late_host_evaluates_every_update_once_in_order(backend, clock):
    """Snuba runs a task for every multiple of the resolution and Sentry skips an update
    not after the last one: a host that looks in three minutes late gets all three."""
    backend.create_alert_rule(count_rule(5))
    clock.set(90)
    assert [r["end"] for r in backend.evaluate_alert_rules()] == [0, 60]
    clock.set(270)
    assert [r["end"] for r in backend.evaluate_alert_rules()] == [120, 180, 240]
    assert backend.evaluate_alert_rules() == []


def test_crash_rate_update_up_to_an_hour_reads_ten_second_buckets(backend, clock):
    """Window 30 min, granularity 10 s: sessions started from T - 1800 (inclusive) to T
    (exclusive) count; the 10-s bucket holding T - 1800 - ε starts before the range."""
    backend.create_alert_rule(crash_rule(30))
    end = 3600
    for started, crashed in ((end - 1800, 1), (end - EPS, 1), (end - 1800 - EPS, 0),
                             (end, 0)):
        backend.record_session_aggregates("web@2", "production", started,
                                          exited=1 - crashed, crashed=crashed)
    clock.set(end + delay_s("metrics"))
    by_end = {r["end"]: r["value"] for r in backend.evaluate_alert_rules()}
    assert by_end[end] == 0.0  # both sessions counted crashed: 0 % crash free


def test_crash_rate_update_over_12_hours_reads_whole_hour_buckets(backend, clock):
    """Window 12 h, granularity 1 h: a bucket counts when its start is in [T - 12 h, T),
    so the window's partial first hour is left out and the whole current hour is in —
    sessions started after T and received before the update runs included."""
    backend.create_alert_rule(crash_rule(720))
    end = 13 * 3600 + 1500  # a multiple of the 5-minute resolution, not of the hour
    backend.record_session_aggregates("web@2", "production", end - 12 * 3600 + 10, crashed=1)
    backend.record_session_aggregates("web@2", "production", 2 * 3600, exited=1)
    clock.set(end + 30)
    backend.record_session_aggregates("web@2", "production", end + 30, crashed=1)
    clock.set(end + delay_s("metrics"))
    by_end = {r["end"]: r["value"] for r in backend.evaluate_alert_rules()}
    assert by_end[end] == 50.0  # the healthy session and the one after T, not the first


@pytest.mark.parametrize("window_min, granularity", [(30, 10), (60, 10), (120, 60),
                                                      (240, 60), (720, 3600), (1440, 3600)])
def test_crash_rate_ranges_follow_the_metric_granularity(window_min, granularity):
    """get_granularity: ≤ 1 h → 10 s, ≤ 4 h → 60 s, ≤ 24 h → 1 h; the range's ends are the
    bucket starts at or after T - window and T."""
    end = 10 * 86400 + 1500
    lo, hi = data_range("metrics", end, window_min * 60)
    assert lo % granularity == 0 and hi % granularity == 0
    assert lo - granularity < end - window_min * 60 <= lo
    assert hi - granularity < end <= hi


def test_due_updates_starts_with_the_first_task_after_the_rule_exists():
    """The fake's first update: the first multiple of the resolution not before ``first``
    (the rule's creation less the delay: the first task Snuba runs after it exists)."""
    assert list(due_updates(now=200, resolution_s=60, delay=30, after=None, first=-31)) == \
        [0, 60, 120]
    assert list(due_updates(now=200, resolution_s=60, delay=30, after=60, first=-31)) == [120]


def test_series_sums_half_open_ranges_and_takes_late_data():
    """``totals(lo, hi)`` sums seconds in [lo, hi); a second added out of order shifts the
    running totals after it."""
    series = Series(2)
    for second, counts in ((10, (1, 0)), (20, (2, 1)), (30, (4, 0))):
        series.add(second, counts)
    series.add(15, (8, 0))
    series.add(20, (16, -1))
    assert series.totals(10, 30) == [1 + 8 + 2 + 16, 0]
    assert series.totals(11, 31) == [8 + 2 + 16 + 4, 0]
    assert series.totals(31, 40) == [0, 0]
