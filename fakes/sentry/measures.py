"""What a metric alert rule measures: its aggregate in the subscription update stamped
``end`` (Unix seconds), over the data range Snuba's query covers (``subscriptions.
data_range``: timestamps in ``[end - timeWindow, end)``, to the metric bucket for
crash-rate rules), read from the per-second stores (``series.Series``).

Error rules count the matching error events (with ``error.unhandled:true`` the
unhandled ones, kept apart by ``store.CountStore``); crash-rate rules give the crash (or crash
free) rate in percent of the sessions started in the range (``init`` sessions, sentry
``src/sentry/snuba/entity_subscription.py``, ``MetricsCountersEntitySubscription``).
``None`` means no data: no sessions in the range, no matching error data ever, or a
transactions rule (the fake stores no transactions).
"""

from __future__ import annotations

from typing import Any

from fakes.sentry import sessions
from fakes.sentry.alerts import AlertRule
from fakes.sentry.series import Series
from fakes.sentry.store import EVENTS, UNHANDLED
from fakes.sentry.subscriptions import data_range

Key = tuple[str, str]  # (release, environment)


def measure(rule: AlertRule, end: int, errors: dict[Key, Series],
            session_series: dict[Key, Series]) -> float | None:
    """The rule's aggregate in the update stamped ``end``; None when there is no data."""
    if rule.agg.source == "transactions":
        return None  # the fake stores no transactions
    lo, hi = data_range(rule.dataset, end, rule.time_window * 60)
    if rule.agg.source == "errors":
        keys = _rule_keys(rule, errors) if rule.search.matches_error_events() else []
        if not keys:
            return None
        return float(sum(_errors(errors[k].totals(lo, hi), rule) for k in keys))
    totals = [0, 0, 0, 0]
    for key in _rule_keys(rule, session_series):
        for col, n in enumerate(session_series[key].totals(lo, hi)):
            totals[col] += n
    total = sum(totals)
    if total == 0:
        return None
    bad = totals[sessions.CRASHED] if rule.agg.numerator == "crashed" \
        else total - totals[sessions.HEALTHY]
    percent = 100.0 * bad / total
    return round(100.0 - percent if rule.agg.free else percent, 3)


def _errors(totals: list[int], rule: AlertRule) -> int:
    """The events of ``totals`` (``[events, unhandled]``) the rule's ``error.unhandled``
    / ``error.handled`` terms let through."""
    handled, unhandled = rule.search.error_kinds()
    return (totals[EVENTS] - totals[UNHANDLED]) * handled + totals[UNHANDLED] * unhandled


def _rule_keys(rule: AlertRule, store: dict[Key, Any]) -> list[Key]:
    return [k for k in store if (rule.environment is None or k[1] == rule.environment)
            and rule.search.match_key(*k)]
