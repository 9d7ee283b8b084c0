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


def severity_of_alert(payload: dict[str, Any]) -> Severity:
    """A Sentry metric-alert webhook's severity: its ``critical`` trigger is critical."""
    return Severity.CRITICAL if payload.get("action") == "critical" else Severity.NON_CRITICAL


def decide(payload: dict[str, Any], path: str) -> Decision:
    """Apply the decision tree to a metric-alert webhook payload."""
    severity = severity_of_alert(payload)
    alert = (payload.get("data") or {}).get("metric_alert") or {}
    title = alert.get("title") or (alert.get("alert_rule") or {}).get("name") or "alert"
    if severity is Severity.CRITICAL:
        return Decision("rollback", severity,
                        f"critical alert '{title}': immediate rollback (< 5 min) via {path}", path)
    return Decision("investigate", severity,
                    f"non-critical alert '{title}' ({payload.get('action')}): investigate 1-2 h")
