"""The Sentry client: the reads a person makes between looks (release health, issues)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from rollout.clients.errors import check_response


class SessionCounts(NamedTuple):
    """Release-health sessions in a window: the unhealthy ones (errored, crashed or
    abnormal) out of all."""

    unhealthy: int
    total: int


@dataclass
class SentryAPI:
    """The Sentry reads a person makes between looks (auth token, one organization)."""

    http: httpx.Client
    base_url: str
    token: str
    org: str

    def call(self, path: str, **params: Any) -> Any:
        response = self.http.get(f"{self.base_url.rstrip('/')}/api/0/organizations/{self.org}"
                                 f"{path}", params=params,
                                 headers={"Authorization": f"Bearer {self.token}"})
        return check_response("sentry", response)

    def session_counts(self, period_s: float, query: str = "",
                       environment: str | None = None) -> SessionCounts:
        """Sessions of the last ``period_s`` seconds: errored + crashed + abnormal out of all
        (release health, per-minute interval so the window is exactly the period)."""
        params: dict[str, Any] = {"field": "sum(session)", "groupBy": "session.status",
                                  "statsPeriod": f"{max(60, round(period_s))}s",
                                  "interval": "60s", "query": query}
        if environment:
            params["environment"] = environment
        body = self.call("/sessions/", **params)
        totals = {g["by"].get("session.status"): int(g["totals"]["sum(session)"] or 0)
                  for g in body["groups"]}
        total = sum(totals.values())
        return SessionCounts(total - totals.get("healthy", 0), total)

    def issues(self, query: str, period_s: float, sort: str = "freq") -> list[dict[str, Any]]:
        """Issues with events in the last ``period_s`` seconds matching ``query``."""
        return list(self.call("/issues/", query=query, sort=sort,
                              statsPeriod=f"{max(60, round(period_s))}s"))
