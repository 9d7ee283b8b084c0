"""PagerDuty's Events API v2 (httpx, synchronous): paging on-call.

The same code talks to PagerDuty or, in a drill, to the fake; a non-2xx answer raises
``VendorError``. The event bodies are built here, as the Events API v2 defines them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from rollout.clients.errors import check_response

SEVERITIES = ("critical", "error", "warning", "info")  # what the Events API v2 accepts


@dataclass
class PagerDutyEvents:
    """PagerDuty's Events API v2: ``POST /v2/enqueue``, the routing key in the body."""

    http: httpx.Client
    base_url: str
    routing_key: str

    def send(self, event: dict[str, Any]) -> str:
        """Send an event; returns its dedup_key; raises VendorError."""
        response = self.http.post(self.base_url.rstrip("/") + "/v2/enqueue", json=event)
        body = check_response("pagerduty", response)
        return str((body or {}).get("dedup_key") or event.get("dedup_key") or "")

    def trigger(self, dedup_key: str, summary: str, source: str, severity: str,
                timestamp: datetime | str, **details: Any) -> str:
        return self.send(trigger_event(self.routing_key, dedup_key, summary, source,
                                           severity, timestamp, **details))

    def acknowledge(self, dedup_key: str) -> str:
        return self.send(acknowledge_event(self.routing_key, dedup_key))

    def resolve(self, dedup_key: str) -> str:
        return self.send(resolve_event(self.routing_key, dedup_key))


def trigger_event(routing_key: str, dedup_key: str, summary: str, source: str,
                      severity: str, timestamp: datetime | str, *,
                      component: str | None = None, group: str | None = None,
                      event_class: str | None = None,
                      custom_details: dict[str, Any] | None = None,
                      client: str = "rollout-drill") -> dict[str, Any]:
    """A complete trigger event, always with ``payload.timestamp``; raises ValueError
    for a severity the API refuses."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    stamp = timestamp if isinstance(timestamp, str) else iso_utc(timestamp)
    payload: dict[str, Any] = {"summary": summary[:1024], "source": source,
                               "severity": severity, "timestamp": stamp}
    extra = {"component": component, "group": group, "class": event_class,
             "custom_details": custom_details}
    payload.update({k: v for k, v in extra.items() if v is not None})
    return {"routing_key": routing_key, "event_action": "trigger", "dedup_key": dedup_key,
            "payload": payload, "client": client}


def acknowledge_event(routing_key: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "acknowledge", "dedup_key": dedup_key}


def resolve_event(routing_key: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}


def iso_utc(time: datetime) -> str:
    moment = time.astimezone(UTC) if time.tzinfo else time.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
