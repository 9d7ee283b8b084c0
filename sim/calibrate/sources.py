"""Reading a team's history from the vendors' APIs (or the same JSON saved to a file)
into samples of durations, one per timing input.

Each reader pages as the vendor's own clients page:

- **Vercel** ``GET /v6/deployments?projectId=&target=production&state=READY&limit=100``,
  then again with ``until=<pagination.next>`` until ``next`` is null (the CLI's ``vercel
  ls`` pages this way: vercel/vercel ``packages/cli/src/commands/list/index.ts``; the
  list's ``createdAt``/``buildingAt``/``ready`` are Unix ms, vercel.com/docs/rest-api/
  reference/endpoints/deployments/list-deployments). ``world.queue_time`` is
  ``buildingAt − createdAt``, ``world.build_time`` is ``ready − buildingAt``.
- **Netlify** ``GET /sites/{site_id}/deploys?page=N&per_page=100`` until a page comes
  back short (netlify/cli ``src/lib/api.ts`` pages ``listSites`` so: 100 a page, the
  next page while a page is full; docs.netlify.com/api/get-started/#pagination).
  ``world.build_time`` is a ready production deploy's ``deploy_time`` (whole seconds of
  build); Netlify's deploy has no build start, so its queue is not read.
- **PagerDuty** REST API v2 ``GET /incidents`` and ``GET /log_entries`` with
  ``since``/``until``, classic pagination (``limit=100``, ``offset`` advanced by the
  page's length while ``more``: PagerDuty/python-pagerduty
  ``pagerduty/rest_api_v2_base_client.py`` ``iter_all``). Classic pagination ends at the
  10,000th record (``offset + limit`` past it is a 400, that module's ``ITERATION_LIMIT``),
  so a window holding more (its ``total=true`` count says so on the first page) is read
  as its two halves, each halved again while needed.
  ``incident.ack_delay`` is an incident's first ``acknowledge_log_entry`` minus its
  ``created_at`` when no
  ``escalate_log_entry`` came first; ``incident.escalated_ack_delay`` is the
  acknowledgement minus the last escalation before it.

Tokens travel only in the ``Authorization`` header and are never logged or written;
an error names the vendor, the path and the status, never the header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field  # a Sample has a field named `field`
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from sim.errors import BadInput

PAGE = 100
MAX_PAGES = 1000  # 100,000 records: far past any team's history, a guard against a loop
PD_ITERATION_LIMIT = 10_000  # PagerDuty refuses offset + limit beyond it (classic paging)
PD_MIN_WINDOW = timedelta(seconds=2)  # since/until are whole seconds: no finer halves


@dataclass
class Sample:
    """Durations (seconds) of one timing input, when each happened, and the source."""

    field: str
    source: str
    values: list[float] = dc_field(default_factory=list)
    times: list[datetime] = dc_field(default_factory=list)
    dropped: int = 0  # non-positive or incomplete records left out

    def add(self, value: float, at: datetime) -> None:
        if value > 0:
            self.values.append(value)
            self.times.append(at)
        else:
            self.dropped += 1


@dataclass(frozen=True)
class Api:
    """One vendor API: base URL, the Authorization header value, and an HTTP client."""

    vendor: str
    base_url: str
    authorization: str
    client: httpx.Client

    def get(self, path: str, params: dict[str, Any]) -> Any:
        """GET ``path``'s JSON; raises BadInput naming the vendor, path and status on a
        refusal (never the token)."""
        return self.get_response(self.base_url.rstrip("/") + path, params).json()

    def get_response(self, url: str, params: dict[str, Any]) -> httpx.Response:
        """GET the absolute ``url`` (a next-page link); raises BadInput as ``get``."""
        path = httpx.URL(url).path
        try:
            # No params for a next-page link: an empty mapping would drop its query.
            r = self.client.get(url, params=params or None,
                                headers={"Authorization": self.authorization})
        except httpx.HTTPError as exc:
            raise BadInput(f"{self.vendor}: GET {path} failed ({type(exc).__name__})") from None
        if r.status_code != 200:
            raise BadInput(f"{self.vendor}: GET {path} answered {r.status_code}"
                           f"{_reason(r)}")
        return r


def _reason(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return f": {message}" if isinstance(message, str) else ""


# ---- Vercel ------------------------------------------------------------------------

def vercel_pages(api: Api, project: str, team: str | None,
                 since: datetime) -> Iterator[list[dict[str, Any]]]:
    """Pages of READY production deployments created after ``since``, newest first."""
    params: dict[str, Any] = {"projectId": project, "target": "production",
                              "state": "READY", "limit": PAGE, "since": _ms(since)}
    if team:
        params["teamId"] = team
    for _ in range(MAX_PAGES):
        body = api.get("/v6/deployments", params)
        yield list(body.get("deployments") or [])
        nxt = (body.get("pagination") or {}).get("next")
        if nxt is None:
            return
        params["until"] = nxt


def vercel_samples(pages: Iterator[list[dict[str, Any]]], source: str) -> list[Sample]:
    """``world.build_time`` and ``world.queue_time`` from Vercel deployment list items."""
    build = Sample("world.build_time", f"{source}: ready − buildingAt")
    queue = Sample("world.queue_time", f"{source}: buildingAt − createdAt")
    for page in pages:
        for d in page:
            created, building, ready = (d.get(k) for k in ("createdAt", "buildingAt", "ready"))
            if not (isinstance(created, int | float) and isinstance(building, int | float)
                    and isinstance(ready, int | float)):
                build.dropped += 1
                continue
            at = datetime.fromtimestamp(created / 1000, UTC)
            build.add((ready - building) / 1000, at)
            queue.add((building - created) / 1000, at)
    return [build, queue]


# ---- Netlify -----------------------------------------------------------------------

def netlify_pages(api: Api, site: str) -> Iterator[list[dict[str, Any]]]:
    """Pages of the site's deploys, newest first, until a short page."""
    for page in range(1, MAX_PAGES + 1):
        items = api.get(f"/sites/{site}/deploys", {"page": page, "per_page": PAGE})
        yield list(items)
        if len(items) < PAGE:
            return


def netlify_samples(pages: Iterator[list[dict[str, Any]]], source: str,
                    since: datetime | None = None) -> list[Sample]:
    """``world.build_time`` from ready production deploys' ``deploy_time``."""
    build = Sample("world.build_time", f"{source}: deploy_time")
    for page in pages:
        for d in page:
            if d.get("state") != "ready" or d.get("context") != "production":
                continue
            at, seconds = _iso(d.get("created_at")), d.get("deploy_time")
            if at is None or not isinstance(seconds, int | float):
                build.dropped += 1
            elif since is None or at >= since:
                build.add(float(seconds), at)
    return [build]


# ---- PagerDuty ---------------------------------------------------------------------

def pagerduty_all(api: Api, path: str, key: str, since: datetime,
                  until: datetime) -> list[dict[str, Any]]:
    """Every record of a classic-paginated REST API v2 index created in ``[since,
    until)``; a window past classic pagination's 10,000 records is read in halves (a
    record the halves both give is kept once, by id). Raises BadInput when one second
    holds more than 10,000."""
    records: list[dict[str, Any]] = []
    offset = 0
    for _ in range(MAX_PAGES):
        # the first page asks for the window's total: one past the limit is halved at
        # once, not after 100 pages it would throw away
        body = api.get(path, {"since": _pd_iso(since), "until": _pd_iso(until),
                              "limit": PAGE, "offset": offset,
                              "total": "true" if offset == 0 else "false"})
        if offset == 0 and isinstance(body.get("total"), int) \
                and body["total"] > PD_ITERATION_LIMIT:
            return _halves(api, path, key, since, until)
        page = list(body.get(key) or [])
        records += page
        offset += len(page)
        if not body.get("more") or not page:
            break
        if offset + PAGE > PD_ITERATION_LIMIT:  # no total given: found out by paging
            return _halves(api, path, key, since, until)
    return records


def _halves(api: Api, path: str, key: str, since: datetime,
            until: datetime) -> list[dict[str, Any]]:
    if until - since < PD_MIN_WINDOW:
        raise BadInput(f"pagerduty: GET {path} holds more than {PD_ITERATION_LIMIT:,} records "
                       f"from {_pd_iso(since)} to {_pd_iso(until)}; PagerDuty pages no further")
    middle = since + (until - since) / 2
    middle = middle.replace(microsecond=0)  # the API reads whole seconds
    both = (pagerduty_all(api, path, key, since, middle)
            + pagerduty_all(api, path, key, middle, until))
    seen: set[Any] = set()
    kept = []
    for record in both:
        rid = record.get("id")
        if rid is None or rid not in seen:
            seen.add(rid)
            kept.append(record)
    return kept


def pagerduty_samples(incidents: list[dict[str, Any]], entries: list[dict[str, Any]],
                      source: str) -> list[Sample]:
    """``incident.ack_delay`` and ``incident.escalated_ack_delay`` from the log."""
    first = Sample("incident.ack_delay",
                   f"{source}: first acknowledge_log_entry − incident created_at")
    later = Sample("incident.escalated_ack_delay",
                   f"{source}: acknowledge_log_entry − last escalate_log_entry")
    log = _log_by_incident(entries)
    for incident in incidents:
        created = _iso(incident.get("created_at"))
        acked, escalated = _ack_and_escalation(log.get(incident.get("id"), []))
        if created is None or acked is None:
            first.dropped += 1
        elif escalated is None:
            first.add((acked - created).total_seconds(), created)
        else:
            later.add((acked - escalated).total_seconds(), created)
    return [first, later]


def _log_by_incident(entries: list[dict[str, Any]]) -> dict[Any, list[tuple[datetime, str]]]:
    log: dict[Any, list[tuple[datetime, str]]] = {}
    for e in entries:
        at = _iso(e.get("created_at"))
        if at is not None:
            log.setdefault((e.get("incident") or {}).get("id"), []).append((at, e.get("type", "")))
    return log


def _ack_and_escalation(log: list[tuple[datetime, str]]
                        ) -> tuple[datetime | None, datetime | None]:
    escalated = None
    for at, kind in sorted(log):
        if kind == "escalate_log_entry":
            escalated = at
        elif kind == "acknowledge_log_entry":
            return at, escalated
    return None, escalated


# ---- export files ------------------------------------------------------------------

def read_export(path: Path) -> Any:
    """A JSON export: a saved API response (or a list of them, or the bare items)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such export file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{path}: not a JSON export ({exc})") from None


def export_items(data: Any, key: str) -> list[dict[str, Any]]:
    """The ``key`` items of an export: ``{key: [...]}``, a list of those, or a bare list."""
    if isinstance(data, dict):
        return list(data.get(key) or [])
    if isinstance(data, list) and data and all(isinstance(d, dict) and key in d for d in data):
        return [item for page in data for item in page[key]]
    return list(data) if isinstance(data, list) else []


# ---- helpers -----------------------------------------------------------------------

def window(days: float, now: Callable[[], datetime] = lambda: datetime.now(UTC)
           ) -> tuple[datetime, datetime]:
    """The ``days`` before now."""
    end = now()
    return end - timedelta(days=days), end


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def _pd_iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
