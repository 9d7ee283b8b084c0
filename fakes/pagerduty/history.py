"""A seeded incident history for the fake PagerDuty (``seed_history``).

Resolved incidents of the ``days`` before the clock's start on the default service:
each triggered, acknowledged a draw of ``ack_delay`` later by the first level, or, when
that draw exceeds ``escalation_timeout``, escalated then and acknowledged a draw of
``escalated_ack_delay`` after the escalation (as the runbook's policy escalates an
unacknowledged page), then resolved ``resolve_after`` later. The REST API
(``fakes.pagerduty.rest_api``) lists them with their log entries; ``drill calibrate``
is tested on them. Control plane: ``POST /_fake/history {seed, count, days?,
ack_delay?, escalated_ack_delay?, escalation_timeout?}``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from fastapi import APIRouter, Request

from fakes.common.app import read_json
from fakes.common.control import PREFIX
from fakes.common.history import Lognormal, creation_times, history_request
from fakes.pagerduty.backend import DEFAULT_ROUTING_KEY, PagerDutyBackend
from fakes.pagerduty.errors import PagerDutyError
from fakes.pagerduty.lifecycle import IncidentStatus
from fakes.pagerduty.models import Incident, Notification, Transition


def seed_history(backend: PagerDutyBackend, *, seed: int, count: int, ack_delay: Lognormal,
                 escalated_ack_delay: Lognormal | None = None,
                 escalation_timeout: float = 1800.0, resolve_after: float = 1800.0,
                 days: float = 180.0, end: float = 0.0) -> list[Incident]:
    """Add ``count`` past resolved incidents; returns them, oldest first."""
    rng = np.random.default_rng(seed)
    service = backend.services[DEFAULT_ROUTING_KEY]
    made = []
    for n, triggered in enumerate(creation_times(rng, count, days, end)):
        first = ack_delay.draw(rng)
        later = (escalated_ack_delay or ack_delay).draw(rng)
        key = hashlib.sha256(f"history-{seed}-{n}".encode()).hexdigest()
        incident = Incident("Q" + key[:13].upper(), 100_000 + n, key[:32], service.routing_key,
                            service.name, "Contacts errors > 5% of page views",
                            "sentry", "critical", triggered, status=IncidentStatus.RESOLVED)
        pages = [Notification(triggered, incident.id, incident.dedup_key, 1,
                              "Incident Lead", "triggered")]
        acked = triggered + first
        if first > escalation_timeout:
            escalated = triggered + escalation_timeout
            pages.append(Notification(escalated, incident.id, incident.dedup_key, 2,
                                      "DevOps Lead", "escalated"))
            acked = escalated + later
        _close(incident, acked, acked + resolve_after)
        backend.add_past_incident(incident, pages)
        made.append(incident)
    return made


def history_router(backend: PagerDutyBackend) -> APIRouter:
    """``POST /_fake/history``: seed incidents (default ack delay 120 s, sigma 0.5)."""
    router = APIRouter(prefix=PREFIX)

    @router.post("/history")
    async def seed(request: Request) -> dict[str, Any]:
        body = await read_json(request, PagerDutyError)
        try:
            args = history_request(body, "ack_delay", "escalated_ack_delay")
        except ValueError as exc:
            raise PagerDutyError(str(exc)) from None
        timeout = body.get("escalation_timeout", 1800.0)
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise PagerDutyError("escalation_timeout: seconds > 0")
        made = seed_history(backend, **{"ack_delay": Lognormal(120.0, 0.5), **args},
                            escalation_timeout=float(timeout))
        return {"seeded": len(made)}

    return router


def _close(incident: Incident, acked: float, resolved: float) -> None:
    incident.acknowledged_at, incident.resolved_at = acked, resolved
    incident.transitions += [Transition(incident.triggered_at, IncidentStatus.TRIGGERED),
                             Transition(acked, IncidentStatus.ACKNOWLEDGED),
                             Transition(resolved, IncidentStatus.RESOLVED)]
