"""Incident communications: the runbook's messages as pure functions.

The Slack "ROLLBACK INITIATED" notification exactly as the runbook's Rollback
Communication Template writes it, follow-up and escalation messages in the same style,
the Status Page texts of the "User-Facing Communication" template (investigating →
identified → monitoring → resolved), and PagerDuty Events API v2 bodies. What a rollback
path's notification says (``RollbackAction``) is given by the caller, one per path.

The clients that send them live in ``rollout.clients`` (``slack``, ``statuspage``,
``pagerduty``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rollout.incident.decision import Severity

FEATURE = "Contacts Redesign"

# ---- Slack (the runbook's Internal Team Notification) ---------------------------------


def rollback_slack_message(severity: str, time: datetime, affected_pct: float | str,
                           issue: str, actions_done: Sequence[tuple[bool, str]],
                           eta: str | float | None, status: str, incident_lead: str,
                           next_update_min: float | None = 15) -> str:
    """The runbook's Slack template filled in: ``actions_done`` are (done, text) lines
    (✅ done, ⏳ not yet), ``eta`` the closing ⏳ line (minutes, or text)."""
    lines = [f"🚨 ROLLBACK INITIATED - {FEATURE}", "",
             f"**Severity:** {severity}", f"**Time:** {utc_minute(time)}",
             f"**Affected Users:** {percent(affected_pct)}", "",
             "**Issue:**", issue, "",
             "**Action Taken:**", *_action_lines(actions_done, eta), "",
             f"**Status:** {status}", ""]
    return "\n".join(lines + _lead_lines(incident_lead, next_update_min))


def slack_update_message(time: datetime, update: str, status: str, incident_lead: str,
                         next_update_min: float | None = 15, title: str = "UPDATE") -> str:
    """A follow-up in the template's style (🔄 UPDATE, ✅ RESOLVED…); no ``Next Update``
    line when ``next_update_min`` is None."""
    icon = "✅" if status == "RESOLVED" else "🔄"
    lines = [f"{icon} {title} - {FEATURE}", "", f"**Time:** {utc_minute(time)}", "",
             "**Update:**", update, "", f"**Status:** {status}", ""]
    return "\n".join(lines + _lead_lines(incident_lead, next_update_min))


def slack_escalation_message(time: datetime, action: str, role_title: str, name: str,
                             reason: str) -> str:
    """Who was notified or escalated to, and why (``action``: "notify" | "escalate")."""
    head = "⚠️ ESCALATED" if action == "escalate" else "📣 NOTIFIED"
    verb = "Escalated to" if action == "escalate" else "Notified"
    return "\n".join([f"{head} - {FEATURE}", "", f"**Time:** {utc_minute(time)}",
                      f"**{verb}:** {role_title} ({name})", "", "**Reason:**", reason])


def slack_severity(severity: Severity | str) -> str:
    """The template's severity word for a decision's severity."""
    return "Critical" if severity == Severity.CRITICAL else "Medium"


@dataclass(frozen=True)
class RollbackAction:
    """How the Slack notification describes a rollback path: the "Action Taken" line and
    the runbook's time to rollback in minutes (Option A 2, B 5, C 10, database 20).

    Raises ValueError for an empty line or a time that is not > 0.
    """

    taken: str
    eta_minutes: float

    def __post_init__(self) -> None:
        if not self.taken.strip():
            raise ValueError("a rollback action says what was initiated")
        if not self.eta_minutes > 0:
            raise ValueError(f"a rollback's ETA is > 0 minutes (got {self.eta_minutes!r})")


def rollback_actions(action: RollbackAction) -> tuple[list[tuple[bool, str]], str]:
    """The "Action Taken" lines and the runbook's time to rollback, for the template."""
    return [(True, action.taken)], minutes_text(action.eta_minutes)


def _action_lines(actions: Sequence[tuple[bool, str]], eta: str | float | None) -> list[str]:
    lines = [("✅ " if done else "⏳ ") + text for done, text in actions]
    if eta is not None:
        lines.append(f"⏳ ETA: {eta if isinstance(eta, str) else minutes_text(eta)}")
    return lines


def _lead_lines(incident_lead: str, next_update_min: float | None) -> list[str]:
    lines = [f"**Incident Lead:** {incident_lead}"]
    if next_update_min is not None:
        lines.append(f"**Next Update:** {minutes_text(next_update_min)}")
    return lines


def utc_minute(time: datetime) -> str:
    """``2026-01-25 14:30 UTC``, the template's time format."""
    moment = time.astimezone(UTC) if time.tzinfo else time
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def percent(value: float | str) -> str:
    """``50%``, ``12.3%``: one decimal at most; text passes through."""
    return value if isinstance(value, str) else f"{round(float(value), 1):g}%"


def minutes_text(minutes: float) -> str:
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


# ---- Status Page (the runbook's User-Facing Communication) -----------------------------

STATUSPAGE_TITLE = "Contacts Feature Temporarily Unavailable"
_SAFE = "Your contact data is safe and accessible via the original interface."


def statuspage_body(status: str, timeframe: str = "1 week") -> str:
    """The public message for a status change; ``identified`` is the runbook's template
    text, posted once the rollback is under way."""
    bodies = {
        "investigating": "We're investigating a technical issue with the new Contacts "
                         "interface.\n\nYour contact data is safe.",
        "identified": "We've temporarily disabled the new Contacts interface while we "
                      f"investigate a technical issue.\n\n{_SAFE}\n\nWe apologize for any "
                      f"inconvenience and expect to restore the feature within {timeframe}.",
        "monitoring": "The original Contacts interface is back for everyone and we're "
                      f"monitoring the results.\n\n{_SAFE}",
        "resolved": "This incident has been resolved: the Contacts page works normally "
                    f"through the original interface.\n\n{_SAFE}\n\nWe expect to restore "
                    f"the new Contacts interface within {timeframe}.",
    }
    return bodies[status]


def statuspage_update_body(status: str) -> str:
    """A periodic update that keeps the status."""
    return {"investigating": "We are continuing to investigate this issue.",
            "identified": f"The rollback is still in progress. {_SAFE}",
            "monitoring": "We are continuing to monitor: the original Contacts interface "
                          "is working for everyone."}.get(status, "Update on this incident.")


def statuspage_incident(status: str, body: str, name: str | None = None,
                        impact_override: str | None = None,
                        components: dict[str, str] | None = None,
                        deliver_notifications: bool = True) -> dict[str, Any]:
    """The body of a create or update incident call (``{"incident": {…}}``)."""
    fields: dict[str, Any] = {"status": status, "body": body,
                              "deliver_notifications": deliver_notifications}
    optional = {"name": name, "impact_override": impact_override, "components": components}
    fields.update({k: v for k, v in optional.items() if v is not None})
    return {"incident": fields}
