"""PagerDuty's Events API v2 (httpx, synchronous): paging on-call.

The same code talks to PagerDuty or, in a drill, to the fake; a non-2xx answer raises
``VendorError``. The event bodies are built by ``rollout.incident.comms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from rollout.clients.errors import check_response
from rollout.incident.comms import pagerduty_acknowledge, pagerduty_resolve, pagerduty_trigger


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
        return self.send(pagerduty_trigger(self.routing_key, dedup_key, summary, source,
                                           severity, timestamp, **details))

    def acknowledge(self, dedup_key: str) -> str:
        return self.send(pagerduty_acknowledge(self.routing_key, dedup_key))

    def resolve(self, dedup_key: str) -> str:
        return self.send(pagerduty_resolve(self.routing_key, dedup_key))
