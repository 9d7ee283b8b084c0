"""The Events API v2 bodies, checked: alert events (trigger, acknowledge, resolve) and
change events, turned into frozen records or refused with every error at once.

Rules (PagerDuty's Events API v2): ``routing_key`` is 32 alphanumerics and goes in the
body; ``event_action`` is trigger, acknowledge or resolve; ``dedup_key`` (at most 255
characters) is required to acknowledge or resolve; a trigger needs ``payload.summary``,
``payload.source`` and ``payload.severity`` (critical, error, warning or info). A summary
longer than 1024 characters is cut, not refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes.pagerduty.errors import InvalidEvent

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_MAX = 1024
DEDUP_KEY_MAX = 255


@dataclass(frozen=True)
class AlertEvent:
    """An accepted alert event; ``payload`` and its details only for a trigger."""

    routing_key: str
    action: str
    dedup_key: str | None
    summary: str | None = None
    source: str | None = None
    severity: str | None = None
    timestamp: str | None = None
    component: str | None = None
    group: str | None = None
    event_class: str | None = None
    custom_details: Any = None
    links: list[Any] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)
    client: str | None = None
    client_url: str | None = None


@dataclass(frozen=True)
class ChangeEvent:
    """An accepted change event (a deploy, a flag flip); ``at`` is when it arrived."""

    routing_key: str
    at: float
    summary: str
    source: str | None = None
    timestamp: str | None = None
    custom_details: Any = None
    links: list[Any] = field(default_factory=list)


def routing_key_errors(key: Any) -> list[str]:
    """What is wrong with a routing key's form (not whether it exists)."""
    if not isinstance(key, str) or not key:
        return ["'routing_key' is missing or blank"]
    errors = []
    if len(key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    if not (key.isascii() and key.isalnum()):
        errors.append("'routing_key' cannot contain non-alphanumeric characters.")
    return errors


def parse_alert_event(body: Any) -> AlertEvent:
    """The event in ``body``; raises InvalidEvent listing every problem."""
    if not isinstance(body, dict):
        raise InvalidEvent("the event must be a JSON object")
    errors = routing_key_errors(body.get("routing_key"))
    action = body.get("event_action")
    errors += _action_errors(action) + _dedup_errors(action, body.get("dedup_key"))
    payload = body.get("payload")
    if action == "trigger":
        errors += _payload_errors(payload)
    errors += _list_errors(body, "links", "images")
    if errors:
        raise InvalidEvent(errors)
    return _alert_event(body, payload if action == "trigger" else None)


def parse_change_event(body: Any, at: float) -> ChangeEvent:
    """The change event in ``body``, arriving at ``at``; raises InvalidEvent."""
    if not isinstance(body, dict):
        raise InvalidEvent("the event must be a JSON object")
    errors = routing_key_errors(body.get("routing_key"))
    payload = body.get("payload")
    if not isinstance(payload, dict):
        errors.append("'payload' is missing or not an object")
    elif not _text(payload.get("summary")):
        errors.append("'payload.summary' is missing or blank")
    errors += _list_errors(body, "links")
    if errors:
        raise InvalidEvent(errors)
    assert isinstance(payload, dict)
    return ChangeEvent(body["routing_key"], at, payload["summary"][:SUMMARY_MAX],
                       payload.get("source"), payload.get("timestamp"),
                       payload.get("custom_details"), list(body.get("links") or []))


def _action_errors(action: Any) -> list[str]:
    if action is None or action == "":
        return ["'event_action' is missing or blank"]
    if action not in ACTIONS:
        return ["'event_action' is invalid (must be one of the following: 'trigger', "
                "'acknowledge' or 'resolve')"]
    return []


def _dedup_errors(action: Any, dedup_key: Any) -> list[str]:
    if dedup_key is None or dedup_key == "":
        if action in ("acknowledge", "resolve"):
            return [f"'dedup_key' is missing or blank (required to {action})"]
        return []
    if not isinstance(dedup_key, str):
        return ["'dedup_key' must be a string"]
    if len(dedup_key) > DEDUP_KEY_MAX:
        return [f"'dedup_key' is too long (maximum is {DEDUP_KEY_MAX} characters)"]
    return []


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = [f"'payload.{name}' is missing or blank"
              for name in ("summary", "source") if not _text(payload.get(name))]
    severity = payload.get("severity")
    if not _text(severity):
        errors.append("'payload.severity' is missing or blank")
    elif severity not in SEVERITIES:
        errors.append("'payload.severity' is invalid (must be one of the following: "
                      "'critical', 'warning', 'error' or 'info')")
    return errors


def _list_errors(body: dict[str, Any], *names: str) -> list[str]:
    return [f"'{n}' must be an array" for n in names
            if body.get(n) is not None and not isinstance(body[n], list)]


def _alert_event(body: dict[str, Any], payload: dict[str, Any] | None) -> AlertEvent:
    p = payload or {}
    return AlertEvent(
        routing_key=body["routing_key"], action=body["event_action"],
        dedup_key=body.get("dedup_key") or None,
        summary=p["summary"][:SUMMARY_MAX] if payload else None,
        source=p.get("source"), severity=p.get("severity"), timestamp=p.get("timestamp"),
        component=p.get("component"), group=p.get("group"), event_class=p.get("class"),
        custom_details=p.get("custom_details"), links=list(body.get("links") or []),
        images=list(body.get("images") or []), client=body.get("client"),
        client_url=body.get("client_url"))


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
