"""The read side of PagerDuty's REST API v2 over ``PagerDutyBackend``: what
``drill calibrate`` (and the ``pagerduty`` package's ``RestApiV2Client``) reads.

- ``GET /incidents?since=&until=&limit=&offset=`` → ``{incidents, limit, offset, more,
  total}``, oldest first;
- ``GET /log_entries?since=&until=&limit=&offset=`` → ``{log_entries, …}``, the
  incidents' ``trigger_log_entry``, ``escalate_log_entry``, ``acknowledge_log_entry``
  and ``resolve_log_entry`` records, oldest first.

Pagination is PagerDuty's "classic" one: ``limit`` (at most 100), ``offset``, and
``more`` telling whether another page follows (developer.pagerduty.com/docs/
rest-api-v2/pagination/; the vendor's client follows ``more`` and advances ``offset``
by the page's length: PagerDuty/python-pagerduty ``pagerduty/rest_api_v2_base_client.py``,
``iter_all``; ``total`` is null unless ``total=true`` asks for it), which ends at the
10,000th record: ``offset + limit`` past it is a 400
(that module's ``ITERATION_LIMIT``, "enforced server-side"). ``since``/``until`` are
ISO-8601 and bound the creation time. The REST
API authenticates with ``Authorization: Token token=<key>``; the fake's key is
``REST_API_KEY``. A bad key is ``401``, a bad parameter ``400``, both in the REST API's
error shape ``{"error": {"message", "code", "errors"?}}`` (codes 2006 and 2001,
developer.pagerduty.com/docs/rest-api-v2/errors/).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from fakes.common.clock import Clock, to_datetime
from fakes.common.errors import FakeError
from fakes.pagerduty.backend import PagerDutyBackend
from fakes.pagerduty.lifecycle import IncidentStatus
from fakes.pagerduty.models import Incident

REST_API_KEY = "drill_pagerduty_rest_key"
MAX_LIMIT = 100
ITERATION_LIMIT = 10_000  # offset + limit may not pass it: the 10,000th record is the last
_ENTRY_TYPES = {IncidentStatus.ACKNOWLEDGED: "acknowledge_log_entry",
                IncidentStatus.RESOLVED: "resolve_log_entry"}


class RestApiError(FakeError):
    """A REST API v2 refusal: ``{"error": {"message", "code", "errors"}}``."""

    status = 400
    error_code = 2001

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    def body(self) -> Any:
        error: dict[str, Any] = {"message": self.message, "code": self.error_code}
        if self.errors:
            error["errors"] = self.errors
        return {"error": error}


class AuthenticationFailed(RestApiError):
    status = 401
    error_code = 2006


def rest_api_router(backend: PagerDutyBackend) -> APIRouter:
    """``GET /incidents`` and ``GET /log_entries``, behind the REST API's token."""
    def check_token(request: Request) -> None:
        if request.headers.get("authorization", "") != f"Token token={REST_API_KEY}":
            raise AuthenticationFailed("Authentication failed")

    api = APIRouter(dependencies=[Depends(check_token)])

    @api.get("/incidents")
    async def list_incidents(since: str | None = None, until: str | None = None,
                             limit: str = "25", offset: str = "0",
                             total: str = "false") -> dict[str, Any]:
        window = _window(backend.clock, since, until)
        found = [i for i in backend.incidents() if _within(i.triggered_at, window)]
        page = _page("incidents", found, limit, offset, total)  # only the page is serialized
        page["incidents"] = [_incident(backend.clock, i) for i in page["incidents"]]
        return page

    @api.get("/log_entries")
    async def list_log_entries(since: str | None = None, until: str | None = None,
                               limit: str = "25", offset: str = "0",
                               total: str = "false") -> dict[str, Any]:
        window = _window(backend.clock, since, until)
        entries = [(at, n, kind, i) for i in backend.incidents()
                   for n, (at, kind) in enumerate(_log(backend, i)) if _within(at, window)]
        entries.sort(key=lambda e: e[0])
        page = _page("log_entries", entries, limit, offset, total)  # only the page is serialized
        page["log_entries"] = [_entry(backend, *e) for e in page["log_entries"]]
        return page

    return api


def _page(name: str, items: list[Any], limit_text: str, offset_text: str,
          total: str = "false") -> dict[str, Any]:
    """One page; ``limit``/``offset`` parsed here so a bad one is refused in the REST
    API's shape (400, code 2001), not by the framework's validation."""
    try:
        limit, offset = int(limit_text), int(offset_text)
    except ValueError:
        limit = offset = -1
    if limit < 1 or offset < 0:
        raise RestApiError("Invalid Input Provided",
                           ["limit must be an integer >= 1 and offset an integer >= 0"])
    limit = min(limit, MAX_LIMIT)
    if offset + limit > ITERATION_LIMIT:  # classic pagination's end (python-pagerduty
        raise RestApiError("Invalid Input Provided",  # ITERATION_LIMIT: a 400 past it)
                           [f"offset + limit must not exceed {ITERATION_LIMIT}"])
    shown = items[offset:offset + limit]
    return {name: shown, "limit": limit, "offset": offset,
            "more": offset + len(shown) < len(items),
            "total": len(items) if total == "true" else None}


def _window(clock: Clock, since: str | None, until: str | None) -> tuple[float, float]:
    """``since``/``until`` as the clock's seconds (unbounded when absent)."""
    lo, hi = _parse(since, "since"), _parse(until, "until")
    return ((lo - clock.epoch).total_seconds() if lo is not None else -math.inf,
            (hi - clock.epoch).total_seconds() if hi is not None else math.inf)


def _parse(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RestApiError("Invalid Input Provided",
                           [f"{name} is not an ISO-8601 date"]) from None
    # a date, or a time without a zone (?since=2025-01-01): UTC, never a naive comparison
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _within(t: float, window: tuple[float, float]) -> bool:
    return window[0] <= t < window[1]


def _iso(clock: Clock, t: float) -> str:
    """PagerDuty's timestamps: ISO-8601 UTC to the second, with a ``Z``."""
    return to_datetime(clock, t).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "type": "incident_reference",
            "summary": f"[#{incident.number}] {incident.summary}"}


def _incident(clock: Clock, i: Incident) -> dict[str, Any]:
    last = i.transitions[-1].at if i.transitions else i.triggered_at
    return {"id": i.id, "type": "incident", "incident_number": i.number,
            "title": i.summary, "summary": f"[#{i.number}] {i.summary}",
            "status": i.status.value, "urgency": "high", "incident_key": i.dedup_key,
            "created_at": _iso(clock, i.triggered_at),
            "last_status_change_at": _iso(clock, last),
            "service": {"id": i.routing_key[:7].upper(), "type": "service_reference",
                        "summary": i.service},
            "html_url": f"https://drill.pagerduty.com/incidents/{i.id}"}


def _log(backend: PagerDutyBackend, i: Incident) -> list[tuple[float, str]]:
    """The incident's log, oldest first: its trigger, each escalation, its
    acknowledgement, its resolve, as (time, entry type)."""
    made = [(i.triggered_at, "trigger_log_entry")]
    made += [(n.at, "escalate_log_entry") for n in backend.notifications(i.dedup_key)
             if n.incident_id == i.id and n.reason == "escalated"]
    made += [(t.at, _ENTRY_TYPES[t.status]) for t in i.transitions if t.status in _ENTRY_TYPES]
    return sorted(made, key=lambda m: m[0])


def _entry(backend: PagerDutyBackend, at: float, n: int, kind: str,
           i: Incident) -> dict[str, Any]:
    """The ``n``-th entry of ``i``'s log as the REST API gives it."""
    return {"id": f"R{i.id[1:8]}{n:03d}", "type": kind,
            "summary": kind.removesuffix("_log_entry").capitalize(),
            "created_at": _iso(backend.clock, at), "incident": _ref(i)}
