"""The project's baseline error rate, measured from Sentry's release health.

``GET /api/0/organizations/{org}/sessions/?field=sum(session)&groupBy=session.status``
over ``--days`` at a 1-day interval (docs.sentry.io/api/releases/retrieve-release-health-
session-statistics/), filtered to ``--sentry-project`` when it is given (``project=`` takes
the numeric id, read from ``GET /api/0/projects/{org}/{slug}/``, Sentry's "Retrieve a
Project"; without it the answer covers the projects the token can see): the share ``s`` of
sessions that did not end healthy (errored, crashed or abnormal) over all ``n`` sessions,
with its 95 % Wilson interval. The model's ``traffic.error_rate_old`` is per page view; a
session is taken as one visit of ``traffic.pageviews_per_visit`` page views failing
independently, so the per-view rate is ``1 - (1 - s) ** (1 / pageviews_per_visit)``.
Only ``error_rate_old`` is set: the history is the page as it runs before the redesign's
fault.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sim.calibrate.sentry import Copied
from sim.calibrate.sources import Api
from sim.errors import BadInput

FIELD = "traffic.error_rate_old"
Z95 = 1.959964


def project_id(api: Api, org: str, slug: str) -> str:
    """The numeric id of project ``slug`` (Sentry's sessions API filters by id only);
    raises BadInput when Sentry does not know it."""
    body = api.get(f"/api/0/projects/{org}/{slug}/", {})
    found = body.get("id") if isinstance(body, dict) else None
    if not isinstance(found, str | int) or not str(found).isdigit():
        raise BadInput(f"sentry: GET /api/0/projects/{org}/{slug}/ gave no numeric id")
    return str(found)


def session_counts(api: Api, org: str, days: float, environment: str | None,
                   project: str | None = None) -> tuple[dict[str, int], str, str]:
    """Sessions by status over the last ``days`` (of project id ``project`` only, when
    given), and the first and last day holding any (the answer's start and end when
    none do)."""
    params: dict[str, Any] = {"field": "sum(session)", "groupBy": "session.status",
                              "statsPeriod": f"{math.ceil(days)}d", "interval": "1d"}
    if environment:
        params["environment"] = environment
    if project:
        params["project"] = project
    body = api.get(f"/api/0/organizations/{org}/sessions/", params)
    counts = {str(g["by"].get("session.status")): int(g["totals"].get("sum(session)") or 0)
              for g in body.get("groups") or []}
    intervals = list(body.get("intervals") or [])
    held = sorted({i for g in body.get("groups") or []
                   for i, v in enumerate((g.get("series") or {}).get("sum(session)") or [])
                   if v and i < len(intervals)})
    if not held:
        return counts, str(body.get("start")), str(body.get("end"))
    return counts, str(intervals[held[0]]), str(intervals[held[-1]])


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a binomial share ``k / n``."""
    p, z2 = k / n, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def per_view(share: float, pageviews_per_visit: float) -> float:
    """The per-page-view rate giving a session error share ``share``."""
    return 1 - (1 - share) ** (1 / pageviews_per_visit)


def measured_rate(counts: dict[str, int], start: str, end: str, org: str,
                  pageviews_per_visit: float, min_samples: int,
                  project: str | None = None) -> Copied:
    """The ``traffic.error_rate_old`` override; raises BadInput with too few sessions."""
    n = sum(counts.values())
    if n < min_samples:
        raise BadInput(f"sentry: {n} session(s) in the period < --min-samples {min_samples}")
    k = n - counts.get("healthy", 0)
    low, high = wilson(k, n)
    rate = per_view(k / n, pageviews_per_visit)
    scope = f"project {project}" if project else "every project the token sees"
    source = (f"Sentry GET /api/0/organizations/{org}/sessions/ (sum(session) by "
              f"session.status, {scope}): {k} of {n} sessions not healthy, "
              f"per view at {pageviews_per_visit:g} views/visit")
    interval = (f"rate {per_view(low, pageviews_per_visit):.6g}–"
                f"{per_view(high, pageviews_per_visit):.6g}")
    return Copied(FIELD, [(FIELD, rate)], source, _at(end), n=n, first=_at(start),
                  family="binomial", interval=interval)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
