"""What a metric alert rule measures: its aggregate over the rule's window
``(now - timeWindow, now]``, read from the stored per-minute buckets.

Error rules count the matching error events; session rules give the crash (or crash
free) rate in percent of the sessions started in the window. ``None`` means no data:
no sessions in the window, no matching error data ever, or a transactions rule (the fake
stores no transactions).
"""

from __future__ import annotations

import math
from typing import Any

from fakes.sentry import sessions
from fakes.sentry.alerts import AlertRule

Key = tuple[str, str]  # (release, environment)


def measure(rule: AlertRule, now: float, errors: dict[Key, dict[int, int]],
            session_buckets: sessions.Buckets) -> float | None:
    """The rule's aggregate at ``now``; None when there is no data."""
    lo = math.floor((now - rule.time_window * 60) / 60) + 1
    hi = math.floor(now / 60)
    if rule.agg.source == "transactions":
        return None  # the fake stores no transactions
    if rule.agg.source == "errors":
        keys = _rule_keys(rule, errors) if rule.search.matches_error_events() else []
        if not keys:
            return None
        return float(sum(_window_sum(errors[k], lo, hi) for k in keys))
    totals = [0, 0, 0, 0]
    for key in _rule_keys(rule, session_buckets):
        for col, n in enumerate(sessions.window_totals(session_buckets[key], lo, hi)):
            totals[col] += n
    total = sum(totals)
    if total == 0:
        return None
    bad = totals[sessions.CRASHED] if rule.agg.numerator == "crashed" \
        else total - totals[sessions.HEALTHY]
    percent = 100.0 * bad / total
    return round(100.0 - percent if rule.agg.free else percent, 3)


def _rule_keys(rule: AlertRule, store: dict[Key, Any]) -> list[Key]:
    return [k for k in store if (rule.environment is None or k[1] == rule.environment)
            and rule.search.match_key(*k)]


def _window_sum(minutes: dict[int, int], lo: int, hi: int) -> int:
    if hi - lo + 1 <= len(minutes):
        return sum(minutes.get(m, 0) for m in range(lo, hi + 1))
    return sum(n for m, n in minutes.items() if lo <= m <= hi)
