"""The runbook's decision tree: from an alert to a decision, with its reason.

Critical (data loss, app crash, security, error rate > 5 %) → immediate rollback by the
chosen path; non-critical → investigate. The journal keeps each decision and its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    CRITICAL = "critical"
    NON_CRITICAL = "non-critical"


@dataclass(frozen=True)
class Decision:
    """What to do about an alert, and why."""

    action: str  # "rollback" | "investigate"
    severity: Severity
    reason: str
    path: str | None = None


# The runbook's trigger lists: Scenario 1 (critical bug) and Scenario 2 (performance).
CRITICAL_TRIGGERS = frozenset({"app_crash", "data_corruption", "data_loss", "security",
                               "error_rate", "database_connection"})
NON_CRITICAL_TRIGGERS = frozenset({"page_load", "cpu_memory", "slow_queries",
                                   "user_complaints", "ui_bug"})


def severity_of_alert(payload: dict[str, Any]) -> Severity:
    """A page's severity: a Sentry alert's ``critical`` trigger, or a person's report of
    one of Scenario 1's triggers, is critical; Scenario 2's triggers are not."""
    report = payload.get("report")
    if report is not None:
        return Severity.CRITICAL if report.get("trigger") in CRITICAL_TRIGGERS \
            else Severity.NON_CRITICAL
    return Severity.CRITICAL if payload.get("action") == "critical" else Severity.NON_CRITICAL


def decide(payload: dict[str, Any], path: str) -> Decision:
    """Apply the decision tree to a metric-alert webhook payload."""
    severity = severity_of_alert(payload)
    alert = (payload.get("data") or {}).get("metric_alert") or {}
    report = payload.get("report") or {}
    title = report.get("text") or alert.get("title") or \
        (alert.get("alert_rule") or {}).get("name") or "alert"
    if severity is Severity.CRITICAL:
        return Decision("rollback", severity,
                        f"critical alert '{title}': immediate rollback (< 5 min) via {path}", path)
    return Decision("investigate", severity,
                    f"non-critical issue '{title}': reduce the rollout to 10 %, investigate "
                    "1-2 h, then hotfix and re-increase, or roll back")
